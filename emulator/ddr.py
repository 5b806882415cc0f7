"""Synapse memory: request sizes and times from the measured bandwidth-versus-size table.

A spike's local synapse list (``n`` synapses of ``synapse_bytes``) is fetched as one request
of ``ceil(n * synapse_bytes / fetch_bytes) * fetch_bytes`` bytes (rows aligned to the fetch
granularity: an assumption). The table gives the usable bandwidth of one request on its own,
so a request of a table size ``b`` takes ``service(b) = b / bandwidth(b)``, latency included;
between two sizes of the table the time is interpolated linearly in ``b`` (so a larger
request never takes less time: interpolating the bandwidth in log size made 128 B and 192 B
faster than 64 B), beyond them it follows the nearest size's bandwidth.
Requests are served in order of arrival, one at a time. Without prefetch the memory is busy
for ``service(b)``; with prefetch the next request's access latency overlaps the current
transfer, so the memory is busy ``max(service(b) - latency, b / peak)`` while the data of the
request is complete ``service(b)`` after it starts. All times are whole femtoseconds.
"""

from __future__ import annotations

import numpy as np
from neuroaix.emulator.clock import ns_to_fs
from neuroaix.emulator.config import MemoryConfig

from neuroaix import timing
from neuroaix.checks import check_int

__all__ = ["MemoryModel"]


class MemoryModel:
    """Request sizes and service times of one node's synapse memory.

    Parameters
    ----------
    config : MemoryConfig
        Bandwidth table, latency, granularity, prefetch.
    """

    def __init__(self, config: MemoryConfig):
        if not isinstance(config, MemoryConfig):
            raise TypeError(f"config must be a MemoryConfig, not {config!r}")
        self.config = config
        self._sizes = np.array([r[0] for r in config.efficiency], np.float64)
        scale = config.peak_bandwidth_gbps / config.efficiency_peak_gbps
        self._gbps = np.array([r[1] for r in config.efficiency], np.float64) * scale
        self._times_ns = self._sizes / self._gbps  # measured time of each table size
        self.latency_fs = ns_to_fs(config.latency_ns)

    def request_bytes(self, n_synapses):
        """Return the bytes fetched for rows of ``n_synapses`` synapses (0 for empty rows)."""
        c = self.config
        n = np.asarray(n_synapses, np.int64)
        if n.size and n.min() < 0:
            raise ValueError(f"n_synapses must be >= 0, not {int(n.min())!r}")
        words = -(-(n * c.synapse_bytes) // c.fetch_bytes)
        return words * c.fetch_bytes

    def bandwidth_gbps(self, request_bytes):
        """Return the usable bandwidth (GB/s) of requests of ``request_bytes`` bytes."""
        b = np.asarray(request_bytes, np.float64)
        if b.size and b.min() <= 0:
            raise ValueError("request_bytes must be > 0")
        return b / self._time_ns(b)

    def _time_ns(self, b):
        """Time of one request of ``b`` bytes (ns): the table's times, linear in between."""
        s, t = self._sizes, self._times_ns
        inside = np.interp(b, s, t)
        return np.where(b < s[0], b / self._gbps[0],
                        np.where(b > s[-1], b / self._gbps[-1], inside))

    def service_fs(self, request_bytes):
        """Return the time of one request on its own (latency included), femtoseconds."""
        b = np.asarray(request_bytes, np.int64)
        out = np.zeros(b.shape, np.int64)
        nz = b > 0
        out[nz] = np.floor(self._time_ns(b[nz].astype(np.float64)) * 1e6 + 0.5).astype(np.int64)
        return out

    def occupancy_fs(self, request_bytes):
        """Return how long one request keeps the memory from starting the next, femtoseconds."""
        service = self.service_fs(request_bytes)
        if not self.config.prefetch:
            return service
        return np.maximum(service - self.latency_fs, self.streaming_fs(request_bytes))

    def tables(self, max_words: int) -> tuple[np.ndarray, np.ndarray]:
        """Return (service_fs, occupancy_fs) indexed by request size in fetch words.

        Parameters
        ----------
        max_words : int
            Largest request, in fetch words; entry 0 (no request) is 0.
        """
        max_words = check_int("max_words", max_words, low=0)
        b = np.arange(max_words + 1, dtype=np.int64) * self.config.fetch_bytes
        return self.service_fs(b), self.occupancy_fs(b)

    def memory_timing(self, max_words: int, period_fs: int) -> timing.MemoryTiming:
        """Return the memory's timing for a cycle rule, in a clock of ``period_fs``.

        The tables of :meth:`tables`, and the first word of a request ``latency_ns`` plus
        one fetch word at peak bandwidth after the request's start (``first_word_fs``): the
        one translation of the ``[memory]`` table into ``neuroaix.timing.MemoryTiming``, for
        the cluster emulator and the RTL node's testbench memory alike.

        Parameters
        ----------
        max_words : int
            Largest request, in fetch words (the pipeline's ``max_burst``).
        period_fs : int
            Clock period of the pipeline that makes the requests (fs).
        """
        period_fs = check_int("period_fs", period_fs, low=1)
        service, occupancy = self.tables(max_words)
        word_fs = int(self.streaming_fs(self.config.fetch_bytes))
        return timing.MemoryTiming(latency=0, service_fs=service, occupancy_fs=occupancy,
                                   first_word_fs=self.latency_fs + word_fs,
                                   period_fs=period_fs)

    def streaming_fs(self, request_bytes):
        """Return the transfer time of ``request_bytes`` at peak bandwidth, femtoseconds."""
        b = np.asarray(request_bytes, np.int64)
        return np.floor(b / self.config.peak_bandwidth_gbps * 1e6 + 0.5).astype(np.int64)

    def describe(self) -> str:
        """Return a one-line summary."""
        c = self.config
        return (f"{c.channels} channel(s), {c.peak_bandwidth_gbps} GB/s peak, latency "
                f"{c.latency_ns} ns, prefetch {'on' if c.prefetch else 'off'}, "
                f"{c.fetch_bytes} B granularity")


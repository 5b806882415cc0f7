"""The built network: per-partition packed synapses and the tables every consumer reads.

``Network.build`` (through ``neuroaix.construction.build_network``) returns a
``BuiltNetwork``; the engines, the reference, the RTL node and the emulator read it and
nothing else of the network (docs/architecture.md, "The built network"). Its synapse hash is
the pinned identity of a construction: equal for every number of partitions and threads.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from neuroaix import formats
from neuroaix.neuron import MODEL_KINDS

__all__ = ["BuiltNetwork", "Partition"]


@dataclass(eq=False)
class Partition:
    """The synapses stored on one partition (hardware node), target side.

    The synapses of global source ``s`` onto this partition's neurons are
    ``words[row_ptr[s]:row_ptr[s + 1]]`` (``neuroaix.formats`` layout; ``target`` is the
    local index ``gid // P``), in construction order.
    """

    index: int
    n_parts: int
    n_neurons: int
    row_ptr: np.ndarray  #: int64, length n_neurons + 1, by global source id
    words: np.ndarray  #: uint64 packed synapse words

    @property
    def n_local(self) -> int:
        """Number of neurons this partition owns."""
        return len(range(self.index, self.n_neurons, self.n_parts))

    @property
    def gids(self) -> np.ndarray:
        """Global ids of the owned neurons, by local index."""
        return np.arange(self.index, self.n_neurons, self.n_parts, dtype=np.int64)

    @property
    def n_synapses(self) -> int:
        """Number of synapses stored here."""
        return int(self.words.shape[0])


@dataclass(eq=False)
class BuiltNetwork:
    """A network generated and packed for ``P`` partitions (docs/architecture.md).

    Neuron ``gid`` lives on partition ``gid % P`` at local index ``gid // P``.
    """

    n_neurons: int
    dt: float
    seed: int
    populations: list  #: (name, start, stop) per population
    pop_of: np.ndarray  #: int32 population index per neuron
    v0: np.ndarray  #: int32 initial potential (V format, relative to E_L)
    coefficients: np.ndarray  #: int64 [n_pop, 10], LIFCoefficients field order
    poisson_table: np.ndarray  #: int64 [n_pop, POISSON_TABLE_LEN]
    poisson_weight: np.ndarray  #: int64 I format, 0 without background input
    has_poisson: np.ndarray  #: bool per population
    max_delay: int  #: largest delay (steps)
    ring_depth: int  #: smallest power of two > max_delay
    partitions: list  #: Partition per partition
    threads: int = 1
    build_seconds: float = 0.0
    #: Partitions whose synapses are stored (``build(only=...)``); None: all of them.
    owned: tuple | None = None
    #: float64 E_L per population (mV): the potentials of the tables are relative to it.
    e_l: np.ndarray | None = None
    #: Model of each population, int8: an index of ``neuron.MODEL_KINDS`` (0 iaf_psc_exp).
    model_kind: np.ndarray | None = None
    #: int64 [n_pop, 4]: a21ex, a21in, a31ex, a31in of iaf_psc_alpha populations (else 0).
    alpha_coefficients: np.ndarray | None = None
    #: Step currents: the schedule of each neuron, int32 (n,), -1 for none; schedule c
    #: changes at ``stim_step[stim_ptr[c]:stim_ptr[c + 1]]`` (int64, ascending) to
    #: ``stim_value`` (int64, I format: the sum of the neuron's step currents).
    stim_of: np.ndarray | None = None
    stim_ptr: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int64))
    stim_step: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    stim_value: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    #: Spike sources: emission step and global id of every source spike, int64, sorted by
    #: step, then id.
    source_step: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    source_gid: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    def __post_init__(self):
        n_pop = len(self.populations)
        if self.model_kind is None:
            self.model_kind = np.zeros(n_pop, np.int8)
        if self.alpha_coefficients is None:
            self.alpha_coefficients = np.zeros((n_pop, 4), np.int64)
        if self.stim_of is None:
            self.stim_of = np.full(self.n_neurons, -1, np.int32)

    @property
    def has_stim(self) -> np.ndarray:
        """Whether any neuron of each population has a step current, bool (n_pop,)."""
        out = np.zeros(len(self.populations), bool)
        for k, (_, a, b) in enumerate(self.populations):
            out[k] = bool((self.stim_of[a:b] >= 0).any())
        return out

    def engine_only(self) -> list[str]:
        """Return what of this network only the engines (cpu, reference, MPI) run.

        Empty for networks of ``iaf_psc_exp`` populations with Poisson or DC input (what the
        GPU backend, the RTL node and the emulator's node model implement).
        """
        out = []
        for k, (name, _, _) in enumerate(self.populations):
            kind = MODEL_KINDS[int(self.model_kind[k])]
            if kind != "iaf_psc_exp":
                out.append(f"population {name!r} is {kind}")
        if (self.stim_of >= 0).any():
            out.append("step currents")
        return out

    def require_exp_only(self, who: str) -> None:
        """Raise ``ValueError`` naming ``who`` if the network uses ``engine_only`` features.

        Raises
        ------
        ValueError
            One line: what the network has, and what ``who`` supports.
        """
        extra = self.engine_only()
        if extra:
            raise ValueError(
                f"{who} runs only iaf_psc_exp populations with Poisson or DC input, but "
                f"{', '.join(extra)}; run this network on the cpu or reference backend "
                "(neuroaix.Simulator) or with MPISimulator")

    @property
    def n_partitions(self) -> int:
        """Number of partitions P."""
        return len(self.partitions)

    @property
    def n_synapses(self) -> int:
        """Total number of synapses over all partitions."""
        return sum(p.n_synapses for p in self.partitions)

    def partition_of(self, gid):
        """Return the partition of neuron ``gid`` (int or array): ``gid % P``."""
        return np.asarray(gid) % self.n_partitions if np.ndim(gid) else \
            int(gid) % self.n_partitions

    def local_index(self, gid):
        """Return the local index of neuron ``gid`` on its partition: ``gid // P``."""
        return np.asarray(gid) // self.n_partitions if np.ndim(gid) else \
            int(gid) // self.n_partitions

    def gids_of(self, p: int) -> np.ndarray:
        """Return the global ids owned by partition ``p``, by local index."""
        return self.partitions[p].gids

    def synapses(self, sources=None):
        """Return the synapses as global arrays ``(source, target, weight, delay)``.

        Sorted by source, then partition, then row order; meant for tests and analysis of
        small networks (int64 source and target, int32 weight and delay).
        """
        src_l, tgt_l, w_l, d_l = [], [], [], []
        n = self.n_neurons
        lo, hi = (0, n) if sources is None else sources
        for part in self.partitions:
            a, b = part.row_ptr[lo], part.row_ptr[hi]
            t, w, d = formats.unpack_synapses(part.words[a:b])
            src_l.append(np.repeat(np.arange(lo, hi, dtype=np.int64),
                                   np.diff(part.row_ptr[lo:hi + 1])))
            tgt_l.append(t.astype(np.int64) * self.n_partitions + part.index)
            w_l.append(w)
            d_l.append(d)
        src = np.concatenate(src_l)
        order = np.argsort(src, kind="stable")
        return (src[order], np.concatenate(tgt_l)[order], np.concatenate(w_l)[order],
                np.concatenate(d_l)[order])

    def synapse_hash(self) -> str:
        """Return a sha256 hex digest of the synapse set, equal for every P and T.

        Canonical order: by source, then global target, then delay, then weight; each
        synapse contributes its source and target (int64) and weight and delay (int32).
        """
        h = hashlib.sha256()
        n = self.n_neurons
        total = max(self.n_synapses, 1)
        step = max(1, int(n * min(1.0, 4_000_000 / total)))
        for lo in range(0, n, step):
            hi = min(n, lo + step)
            src, tgt, w, d = self.synapses((lo, hi))
            order = np.lexsort((w, d, tgt, src))
            for arr in (src[order], tgt[order], w[order], d[order]):
                h.update(np.ascontiguousarray(arr).tobytes())
        return h.hexdigest()

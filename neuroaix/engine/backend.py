"""The backend seam: what a simulator backend implements, and the registry of backends.

``Simulator`` (neuroaix.engine.simulator) is the one front end: it validates arguments,
splits a run into chunks, handles interrupts and progress, turns counts into the public
dictionaries and reads and writes checkpoints. It holds a ``Backend`` (composition, as
Brian2's ``Device``/``RuntimeDevice``), which owns the state and runs steps. A new backend
(e.g. a GPU one) subclasses ``Backend``, implements its abstract methods and is registered
in ``BACKENDS``; every test parametrised over backends then runs it against the reference.

All state crossing the seam is in global neuron order and the dtypes of the number contract
(docs/numerics.md): ``v``, ``i_ex``, ``i_in``, ``ref`` int32 (n,), ``rng`` uint64 (n,),
``ring`` int32 (D, 2, n), ``d_ex``, ``d_in`` int32 (n,) (the iaf_psc_alpha neurons' scaled
current derivatives, 0 for the other models), counters int64 in the order of
``state.COUNTERS``.
"""

from __future__ import annotations

import abc

import numpy as np

from neuroaix.engine.state import PartitionLayout

__all__ = ["BACKENDS", "STATE_KEYS", "Backend", "register_backend"]

#: Keys of the neuron state a backend exchanges with the front end (global order).
STATE_KEYS = ("v", "i_ex", "i_in", "ref", "rng", "ring", "d_ex", "d_in")


class Backend(abc.ABC):
    """One way of running a built network: its state, and steps run on it.

    Parameters
    ----------
    network : BuiltNetwork
        The built network (checked by the front end).
    threads : int
        Worker threads (checked by the front end; a backend may use fewer).
    probe_ids : numpy.ndarray
        Global ids (int64, checked) whose V, I_ex, I_in are sampled at the end of recorded
        steps.
    """

    #: Name under which ``Simulator(backend=...)`` finds it.
    name = ""
    #: Steps per chunk: the front end checks for interrupts and draws progress between
    #: chunks.
    chunk_steps = 500

    def __init__(self, network, *, threads: int, probe_ids: np.ndarray):
        self.network = network
        self.threads = threads
        self.probe_ids = probe_ids
        #: Partition layout of the network (neuron ``gid`` on partition ``gid % P``).
        self.layout = PartitionLayout(int(network.n_neurons), len(network.partitions),
                                      int(network.ring_depth))

    @property
    def n_synapses(self) -> int:
        """Synapses of the whole network (in a checkpoint's fingerprint)."""
        return int(self.network.n_synapses)

    @abc.abstractmethod
    def advance(self, t0: int, n_steps: int, record: bool) -> np.ndarray | None:
        """Run steps ``t0 .. t0 + n_steps - 1`` in the schedule of docs/architecture.md.

        With ``record``, append the spikes to the raster and return the probe samples
        (int32 ``(n_probe, 3, n_steps)``: V, I_ex, I_in), or None without probes.
        """

    @abc.abstractmethod
    def raster(self, *, everywhere: bool = True) -> tuple[np.ndarray, np.ndarray] | None:
        """Return the recorded raster ``(senders int32, steps int64)`` by step then sender.

        Distributed backends return it on every rank (``everywhere``) or on the root only
        (None elsewhere).
        """

    @abc.abstractmethod
    def counts(self) -> np.ndarray:
        """Return the cumulative counters, int64 in the order of ``state.COUNTERS``."""

    @abc.abstractmethod
    def state(self, *, everywhere: bool = True) -> dict[str, np.ndarray] | None:
        """Return the state of ``STATE_KEYS`` in global order (see ``raster`` for
        ``everywhere``)."""

    @abc.abstractmethod
    def ring_buffer(self, p: int) -> np.ndarray:
        """Return a copy of partition ``p``'s ring buffers, ``(D, 2, n_local)`` int32."""

    @abc.abstractmethod
    def load(self, data: dict[str, np.ndarray]) -> None:
        """Replace the state, counters and raster by ``data`` (a checkpoint's arrays:
        ``STATE_KEYS`` in global order, ``counters``, ``senders``, ``steps``)."""

    def set_source_spikes(self, steps: np.ndarray, gids: np.ndarray) -> None:
        """Replace the spike sources' table (int64 emission steps and global ids, sorted by
        step then id) for the steps still to run."""
        raise NotImplementedError(f"the {self.name} backend cannot change spike times")

    # Collective hooks: trivial in one process, collectives of a distributed backend.

    @property
    def is_root(self) -> bool:
        """Whether this process writes files (rank 0)."""
        return True

    def any(self, flag: bool) -> bool:
        """Return whether ``flag`` is set on any process."""
        return bool(flag)

    def collectively(self, fn):
        """Return ``fn()``; a distributed backend raises on every rank if it fails on one."""
        return fn()


#: Backends by name; ``Simulator(backend=name)`` creates ``BACKENDS[name](...)``.
BACKENDS: dict[str, type[Backend]] = {}


def register_backend(cls: type[Backend]) -> type[Backend]:
    """Add a ``Backend`` subclass to ``BACKENDS`` under its ``name`` (a class decorator).

    Raises
    ------
    ValueError
        If the name is empty or already taken.
    """
    if not cls.name or cls.name in BACKENDS:
        raise ValueError(f"backend name must be new and non-empty, not {cls.name!r}")
    BACKENDS[cls.name] = cls
    return cls

"""One node's neuron-update phase: cycles per step and the time each neuron's spike leaves.

Local neuron ``l`` (the ``l``-th neuron the mapping puts on the node) is updated by core
``l % cores`` in slot ``l // cores``; cores start one neuron per neuron-clock cycle (II=1) and
a neuron leaves its core ``depth`` cycles after it entered. So the spike of local neuron ``l``
is out at the end of cycle ``l // cores + depth`` (counting from 0 at the step start), and the
phase lasts ``ceil(n_local / cores) + depth`` cycles (0 for a node without neurons). The
spike dispatcher then takes ``dispatcher_spikes_per_cycle`` spikes per spike-clock cycle, in
the order the spikes leave the cores, at the first spike-clock edge after they are out.
"""

from __future__ import annotations

import numpy as np
from neuroaix.emulator.clock import Clock
from neuroaix.emulator.config import NodeConfig

from neuroaix.checks import check_int

__all__ = ["NodeModel"]


class NodeModel:
    """Neuron-update timing of a node holding ``n_local`` neurons.

    Parameters
    ----------
    config : NodeConfig
        Cores, clocks and depths.
    n_local : int
        Neurons on the node.
    """

    def __init__(self, config: NodeConfig, n_local: int):
        if not isinstance(config, NodeConfig):
            raise TypeError(f"config must be a NodeConfig, not {config!r}")
        self.config = config
        self.n_local = check_int("n_local", n_local, low=0)
        self.neuron_clock = Clock("neuron", config.neuron_clock_mhz)
        self.spike_clock = Clock("spike", config.spike_clock_mhz)

    @property
    def update_cycles(self) -> int:
        """Neuron-clock cycles of the update phase."""
        if self.n_local == 0:
            return 0
        c = self.config
        return -(-self.n_local // c.neuron_cores) + c.neuron_pipeline_depth

    @property
    def update_fs(self) -> int:
        """Duration of the update phase in femtoseconds."""
        return self.neuron_clock.cycles_to_fs(self.update_cycles)

    def emit_fs(self, local_index):
        """Return the time (fs from the step start) the spikes of local neurons are out."""
        li = np.asarray(local_index, np.int64)
        if li.size and (li.min() < 0 or li.max() >= self.n_local):
            raise ValueError(f"local_index must lie in [0, {self.n_local})")
        cycles = li // self.config.neuron_cores + self.config.neuron_pipeline_depth + 1
        return cycles * self.neuron_clock.period_fs

    def dispatch_cycles(self, local_index) -> np.ndarray:
        """Return the spike-clock cycle in which the dispatcher takes each spike.

        ``local_index`` must be in increasing order (the order the spikes leave the cores).
        """
        emit = self.emit_fs(local_index)
        per = self.config.dispatcher_spikes_per_cycle
        sp = self.spike_clock.period_fs
        out = np.empty(len(emit), np.int64)
        for k, t in enumerate(emit):
            c = -(-int(t) // sp)
            if k >= per:
                c = max(c, int(out[k - per]) + 1)
            out[k] = c
        return out

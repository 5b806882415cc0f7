"""cocotb testbench of the generated ``node_sim``: host loader, injector, spike monitor, checker.

Started through :func:`neuroaix.rtl.harness.node_verilator.run` (by ``tests/rtl/test_node_verilog.py``
and ``neuroaix rtl run``); it lives in the package so that the command works without the
tests. Imported only inside the simulator. ``NEUROAIX_PARAM_NODE`` names a JSON file with the load
image (``neuroaix.rtl.harness.node_sim.image_to_json``), the steps, the other partitions' spikes per
step (``external``, or null for a single node) and the engine's raster of this partition
(``expected``). Each run loads the image through the host ports, runs all steps with one
``i_run`` command, injects the external spikes, and compares the node's raster with the
engine's step by step; the cycles of every step are written to ``<json>.<pattern>.cycles.json``.
Each run is made with back-to-back streams and with idle cycles on ``i_ext`` plus
backpressure on ``o_spikes``.
"""

import itertools
import json
import logging
import os
import pathlib

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly

from neuroaix.rtl.hw.synapse_memory import memory_load_layout
from neuroaix.rtl.hw.node import ExternalSpike, neuron_write_layout, population_write_layout
from neuroaix.rtl.harness.node_image import image_from_json
from neuroaix.rtl.hw.synapse_pipeline import row_write_layout

__all__ = ["PATTERNS", "Host", "Injector", "SpikeMonitor", "Testbench", "run_node"]

PERIOD_NS = 10
PATTERNS = {
    "streaming": ((1,), (1,)),
    "idle_backpressure": ((1, 1, 0), (1, 0, 1)),
}
_PATH = os.environ.get("NEUROAIX_PARAM_NODE")
_DOC = {}
if _PATH:
    with open(_PATH) as _fh:
        _DOC = json.load(_fh)
SELECTED = _DOC.get("patterns", list(PATTERNS))


def _bits(layout, value):
    return layout.const(value).as_bits()


class Host:
    """Loads an image through the node's host ports (rows, memory, populations, neurons)."""

    def __init__(self, tb):
        self.dut, self.log = tb.dut, logging.getLogger(f"cocotb.{tb.name}.host")

    async def write(self, port, items):
        valid = getattr(self.dut, f"{port}__valid")
        payload = getattr(self.dut, f"{port}__payload")
        valid.value = 1
        for item in items:
            payload.value = item
            await FallingEdge(self.dut.clk)
        valid.value = 0

    async def load(self, image):
        c = image.config
        dut = self.dut
        dut.i_n_local.value = image.n_local
        dut.i_gid_base.value = image.gid_base
        dut.i_gid_stride.value = image.gid_stride
        rows = row_write_layout(c.n_sources, c.memory_words)
        await self.write("i_rows", (
            _bits(rows, {"source": s, "start": int(image.row_start[s]),
                         "length": int(image.row_length[s])}) for s in range(c.n_sources)))
        mem = memory_load_layout(c.memory_words)
        await self.write("i_load", (_bits(mem, {"addr": a, "data": w})
                                    for a, w in enumerate(image.memory)))
        pops = population_write_layout(c.n_populations)
        await self.write("i_population", (_bits(pops, {"index": k, "params": q})
                                          for k, q in enumerate(image.populations)))
        neurons = neuron_write_layout(c.n_neurons, c.n_populations)
        m32 = 0xFFFFFFFF
        await self.write("i_neuron", (
            _bits(neurons, {"index": n, "pop": pop, "state": {
                "v": v & m32, "i_ex": iex & m32, "i_in": iin & m32, "ref": ref, "rng": rng}})
            for n, (v, iex, iin, ref, rng, pop) in enumerate(image.neurons)))
        self.log.info("loaded %d neurons, %d rows, %d memory words", image.n_local,
                      c.n_sources, len(image.memory))


class Injector:
    """Offers the other partitions' spikes on ``i_ext``, each step closed by ``last``."""

    def __init__(self, tb, external, pattern):
        self.dut, self.gate, self.offered = tb.dut, itertools.cycle(pattern), False
        self.items = []
        for spikes in external or []:
            self.items += [_bits(ExternalSpike, {"source": s, "last": 0}) for s in spikes]
            self.items.append(_bits(ExternalSpike, {"source": 0, "last": 1}))
        self.items.reverse()

    def drive(self):
        self.offered = bool(self.items) and bool(next(self.gate))
        if self.offered:
            self.dut.i_ext__payload.value = self.items[-1]
        self.dut.i_ext__valid.value = int(self.offered)

    def sample(self):
        if self.offered and int(self.dut.i_ext__ready.value):
            self.items.pop()


class SpikeMonitor:
    """Collects ``o_spikes`` per step, deasserting ready where the pattern says 0."""

    def __init__(self, tb, n_steps, pattern):
        self.dut, self.gate, self.ready = tb.dut, itertools.cycle(pattern), 1
        self.spikes = [[] for _ in range(n_steps)]
        self.constant = tuple(pattern) == (1,)

    def drive(self):
        if not self.constant:
            self.ready = next(self.gate)
            self.dut.o_spikes__ready.value = self.ready

    def sample(self):
        if self.ready and int(self.dut.o_spikes__valid.value):
            v = int(self.dut.o_spikes__payload.value)
            self.spikes[v >> 32].append(v & 0xFFFFFFFF)


class Testbench:
    """Host, injector, spike monitor and the checker against the engine's raster."""

    def __init__(self, dut, pattern):
        self.dut, self.name, self.pattern = dut, f"tb.node.{pattern}", pattern
        self.log = logging.getLogger(f"cocotb.{self.name}")
        spike_ready, ext_valid = PATTERNS[pattern]
        self.image = image_from_json(_DOC["image"])
        self.n_steps = _DOC["n_steps"]
        self.host = Host(self)
        self.injector = Injector(self, _DOC["external"], ext_valid)
        self.monitor = SpikeMonitor(self, self.n_steps, spike_ready)

    async def reset(self):
        Clock(self.dut.clk, PERIOD_NS, unit="ns").start()
        for name in ("i_rows", "i_load", "i_population", "i_neuron", "i_run", "i_clear_rings",
                     "i_ext"):
            getattr(self.dut, f"{name}__valid").value = 0
        self.dut.i_external.value = int(_DOC["external"] is not None)
        self.dut.o_spikes__ready.value = 1
        self.dut.rst.value = 1
        for _ in range(3):
            await FallingEdge(self.dut.clk)
        self.dut.rst.value = 0

    async def run(self):
        await self.reset()
        await self.host.load(self.image)
        dut = self.dut
        # Block RAM keeps the previous run's ring contents over a reset.
        dut.i_clear_rings__valid.value = 1
        await FallingEdge(dut.clk)
        dut.i_clear_rings__valid.value = 0
        while True:
            await ReadOnly()
            if not int(dut.o_busy.value):
                break
            await FallingEdge(dut.clk)
        await FallingEdge(dut.clk)
        dut.i_run__payload.value = self.n_steps
        dut.i_run__valid.value = 1
        await FallingEdge(dut.clk)
        dut.i_run__valid.value = 0
        cycles = [0] * self.n_steps
        parts = (self.injector, self.monitor)
        while True:
            for p in parts:
                p.drive()
            await ReadOnly()
            if not int(dut.o_running.value):
                break
            cycles[int(dut.o_step.value)] += 1
            for p in parts:
                p.sample()
            await FallingEdge(dut.clk)
        # Drain the spike FIFO.
        await FallingEdge(dut.clk)
        dut.o_spikes__ready.value = 1
        self.monitor.ready, self.monitor.constant = 1, True
        for _ in range(2 * self.image.config.spike_fifo):
            await ReadOnly()
            self.monitor.sample()
            await FallingEdge(dut.clk)
        assert not self.injector.items, f"{self.name}: external spikes left over"
        pathlib.Path(f"{_PATH}.{self.pattern}.out.json").write_text(
            json.dumps({"cycles": cycles, "spikes": self.monitor.spikes}))
        if _DOC.get("expected") is not None:
            for t, (got, want) in enumerate(zip(self.monitor.spikes, _DOC["expected"])):
                assert got == want, f"{self.name}: step {t}: node {got} != engine {want}"
        self.log.info("%d steps, %d spikes equal the engine's; %d cycles", self.n_steps,
                      sum(map(len, self.monitor.spikes)), sum(cycles))


@cocotb.test(timeout_time=2000, timeout_unit="ms")
@cocotb.parametrize(pattern=SELECTED)
async def run_node(dut, pattern):
    """Load, run every step, check the raster against the engine's and record cycles."""
    await Testbench(dut, pattern).run()

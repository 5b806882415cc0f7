"""cocotb testbench of the generated ``synapse_pipeline_sim`` (driver, monitor, model, checker).

Started by ``test_synapse_pipeline_verilog.py`` through ``_runner``. The workloads come from
the JSON file named by ``NEUROAIX_PARAM_WORKLOADS``; each runs with back-to-back streams and
with idle cycles on ``i_spikes`` plus backpressure on ``o_cleared``. Every value read out of
the ring buffers, the counters and every spike's cycles are checked against
:mod:`neuroaix.rtl.model`.
"""

import itertools
import json
import logging
import os

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly

from neuroaix.rtl.hw.synapse_memory import memory_load_layout
from neuroaix.rtl.model import RingReference, spike_timing
from neuroaix.rtl.params import PipelineConfig
from neuroaix.rtl.hw.synapse_pipeline import clear_request_layout, row_write_layout

PERIOD_NS = 10
PATTERNS = {
    "streaming": ((1,), (1,)),
    "idle_backpressure": ((1, 1, 1, 0), (1, 0, 1, 1, 0)),
}
with open(os.environ["NEUROAIX_PARAM_WORKLOADS"]) as _fh:
    _DOC = json.load(_fh)
CONFIG = PipelineConfig(**_DOC["config"])
WORKLOADS = _DOC["workloads"]


def _pack(layout, **fields):
    value = 0
    for name, v in fields.items():
        f = layout[name]
        value |= (int(v) & ((1 << f.width) - 1)) << f.offset
    return value


def _int32(v):
    return v - (1 << 32) if v & (1 << 31) else v


class SpikeDriver:
    """Offers one step's spikes on ``i_spikes``, idle where the pattern says 0."""

    def __init__(self, tb, pattern):
        self.dut, self.log = tb.dut, logging.getLogger(f"cocotb.{tb.name}.spike_driver")
        self.gate = itertools.cycle(pattern)
        self.queue, self.offered, self.valid, self.accept = [], False, [], []

    def start(self, sources, step):
        self.queue = [s | (step << 32) for s in sources]
        self.valid, self.accept, self.offered = [], [], False

    def drive(self, cycle):
        if self.queue and not self.offered and next(self.gate):
            self.offered = True
            self.valid.append(cycle)
            self.dut.i_spikes__payload.value = self.queue[0]
            self.dut.i_spikes__valid.value = 1

    def sample(self, cycle):
        if self.offered and int(self.dut.i_spikes__ready.value):
            self.accept.append(cycle)
            self.queue.pop(0)
            self.offered = False
            return True
        return False

    def after(self):
        if not self.offered:
            self.dut.i_spikes__valid.value = 0

    @property
    def done(self):
        return not self.queue


class ClearDriver:
    """Sends read-and-clear requests ``(slot, neuron)``."""

    def __init__(self, tb):
        self.dut, self.queue, self.layout = tb.dut, [], tb.clear_layout

    def drive(self, cycle):
        if self.queue:
            slot, n = self.queue[0]
            self.dut.i_clear__payload.value = _pack(self.layout, slot=slot, neuron=n)
        self.dut.i_clear__valid.value = 1 if self.queue else 0

    def sample(self, cycle):
        if self.queue and int(self.dut.i_clear__ready.value):
            self.queue.pop(0)


class ClearMonitor:
    """Collects ``o_cleared`` values, deasserting ready where the pattern says 0."""

    def __init__(self, tb, pattern):
        self.dut, self.gate, self.got, self.ready = tb.dut, itertools.cycle(pattern), [], 0

    def drive(self, cycle):
        self.ready = next(self.gate)
        self.dut.o_cleared__ready.value = self.ready

    def sample(self, cycle):
        if self.ready and int(self.dut.o_cleared__valid.value):
            v = int(self.dut.o_cleared__payload.value)
            self.got.append((_int32(v & 0xFFFFFFFF), _int32(v >> 32)))


class Testbench:
    """Driver, monitors, reference model and in-order checker around the DUT."""

    def __init__(self, dut, workload, pattern):
        self.dut, self.name = dut, f"tb.{workload['name']}.{pattern}"
        self.log = logging.getLogger(f"cocotb.{self.name}")
        self.w = workload
        self.clear_layout = clear_request_layout(CONFIG.n_neurons, CONFIG.ring_depth)
        spike_pattern, ready_pattern = PATTERNS[pattern]
        self.spikes = SpikeDriver(self, spike_pattern)
        self.clears = ClearDriver(self)
        self.cleared = ClearMonitor(self, ready_pattern)
        self.model = RingReference(CONFIG.n_neurons, CONFIG.ring_depth)
        self.words = np.array([int(x, 16) for x in workload["synapse_words"]], dtype=np.uint64)
        self.starts = np.array(workload["row_start"], dtype=np.int64)
        self.lengths = np.array(workload["row_length"], dtype=np.int64)

    def cycle(self):
        return int(cocotb.utils.get_sim_time("ns")) // PERIOD_NS

    async def reset(self):
        self.log.debug("reset")
        Clock(self.dut.clk, PERIOD_NS, unit="ns").start()
        for name in ("i_spikes", "i_rows", "i_clear", "i_load"):
            getattr(self.dut, f"{name}__valid").value = 0
        self.dut.o_cleared__ready.value = 0
        self.dut.rst.value = 1
        for _ in range(3):
            await FallingEdge(self.dut.clk)
        self.dut.rst.value = 0

    async def load(self):
        self.log.debug("loading")
        rows = row_write_layout(CONFIG.n_sources, CONFIG.memory_words)
        mem = memory_load_layout(CONFIG.memory_words)
        self.dut.i_rows__valid.value = 1
        for s in range(CONFIG.n_sources):
            self.dut.i_rows__payload.value = _pack(
                rows, source=s, start=self.starts[s], length=self.lengths[s])
            await FallingEdge(self.dut.clk)
        self.dut.i_rows__valid.value = 0
        self.dut.i_load__valid.value = 1
        for addr in range(0, len(self.words), 8):
            value = 0
            for k, syn in enumerate(self.words[addr:addr + 8]):
                value |= int(syn) << (64 * k)
            self.dut.i_load__payload.value = _pack(mem, addr=addr // 8, data=value)
            await FallingEdge(self.dut.clk)
        self.dut.i_load__valid.value = 0

    async def run_cycles(self, parts, until):
        while not until():
            for p in parts:
                p.drive(self.cycle())
            await ReadOnly()
            for p in parts:
                p.sample(self.cycle())
            await FallingEdge(self.dut.clk)

    async def read_slots(self, slots):
        self.clears.queue = [(s, n) for s in slots for n in range(CONFIG.n_neurons)]
        self.cleared.got = []
        want = len(self.clears.queue)
        await self.run_cycles([self.clears, self.cleared], lambda: len(self.cleared.got) == want)
        self.dut.i_clear__valid.value = 0
        self.dut.o_cleared__ready.value = 0
        return np.array(self.cleared.got, dtype=np.int64).reshape(len(slots), -1, 2)

    async def deliver(self, step, sources):
        """Run one delivery phase; return (valid, accept, cycles) relative to its start."""
        t0 = self.cycle()
        self.spikes.start(sources, step)
        while not self.spikes.done:
            self.spikes.drive(self.cycle())
            await ReadOnly()
            self.spikes.sample(self.cycle())
            await FallingEdge(self.dut.clk)
            self.spikes.after()
        while sources:
            await ReadOnly()
            if int(self.dut.o_idle.value):
                break
            await FallingEdge(self.dut.clk)
        end = self.cycle() if sources else t0
        if sources:
            await FallingEdge(self.dut.clk)
        rel = [v - t0 for v in self.spikes.valid], [a - t0 for a in self.spikes.accept]
        return rel[0], rel[1], end - t0

    async def run(self):
        await self.reset()
        await self.load()
        mask = CONFIG.ring_depth - 1
        self.log.debug("loaded %d rows, %d synapses", CONFIG.n_sources, len(self.words))
        for step, sources in enumerate(self.w["spikes"]):
            self.log.debug("step %d: %d spikes", step, len(sources))
            got = (await self.read_slots([step & mask]))[0]
            np.testing.assert_array_equal(got, self.model.read_and_clear(step & mask),
                                          err_msg=f"{self.name}: slot before step {step}")
            if "engine" in self.w:
                np.testing.assert_array_equal(
                    got, np.array(self.w["engine"]["slots"][step]),
                    err_msg=f"{self.name}: slot before step {step} differs from the engine's")
            valid, accept, cycles = await self.deliver(step, sources)
            self.model.deliver(step, sources, self.starts, self.lengths, self.words)
            n = CONFIG.n_sources
            expect = spike_timing(
                CONFIG, [int(self.starts[s]) if s < n else 0 for s in sources],
                [int(self.lengths[s]) if s < n else 0 for s in sources], valid=valid)
            assert accept == expect.accept, f"{self.name}: accept cycles of step {step}"
            assert cycles == expect.cycles, f"{self.name}: cycles of step {step}"
        final = await self.read_slots(range(CONFIG.ring_depth))
        want = np.stack([self.model.read_and_clear(s) for s in range(CONFIG.ring_depth)])
        np.testing.assert_array_equal(final, want, err_msg=f"{self.name}: final ring")
        if "engine" in self.w:
            np.testing.assert_array_equal(final, np.array(self.w["engine"]["final"]),
                                          err_msg=f"{self.name}: final ring vs the engine's")
        await ReadOnly()
        assert int(self.dut.o_events.value) == self.model.events
        assert int(self.dut.o_saturations.value) == self.model.saturations
        self.log.info("%d steps, %d events, %d saturations checked", len(self.w["spikes"]),
                      self.model.events, self.model.saturations)


@cocotb.test(timeout_time=20, timeout_unit="ms")
@cocotb.parametrize(workload=list(WORKLOADS), pattern=list(PATTERNS))
async def run_workload(dut, workload, pattern):
    """Run one workload with one stream pattern and check everything against the model."""
    await Testbench(dut, {"name": workload, **WORKLOADS[workload]}, pattern).run()

"""cocotb testbench of the generated ``synapse_pipeline_sim`` (driver, monitor, model, checker).

Started by ``test_synapse_pipeline_verilog.py`` through ``_runner``; built from the kit of
:mod:`neuroaix.rtl.harness.cocotb_kit` (stream drivers on ``i_spikes``, ``i_clear``, ``i_rows``
and ``i_load``, a monitor on ``o_cleared``, an in-order scoreboard). The workloads come from
the JSON file named by ``NEUROAIX_PARAM_WORKLOADS``; each runs with back-to-back streams and
with idle cycles on ``i_spikes`` plus backpressure on ``o_cleared``. Every value read out of
the ring buffers, the counters and every spike's cycles are checked against
:mod:`neuroaix.rtl.model`.
"""

import json
import logging
import os

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge

from neuroaix.rtl.harness.cocotb_kit import (PATTERNS, Scoreboard, StreamDriver, StreamMonitor,
                                             cycle, reset, start_clock, wait_until)
from neuroaix.rtl.hw.synapse_memory import memory_load_layout
from neuroaix.rtl.hw.synapse_pipeline import clear_request_layout, row_write_layout
from neuroaix.rtl.model import RingReference, spike_timing
from neuroaix.rtl.params import PipelineConfig

_PATH = os.environ.get("NEUROAIX_PARAM_WORKLOADS")
_DOC = {"config": None, "workloads": {}}
if _PATH:
    with open(_PATH) as _fh:
        _DOC = json.load(_fh)
CONFIG = PipelineConfig(**_DOC["config"]) if _DOC["config"] else None
WORKLOADS = _DOC["workloads"]


def _pack(layout, **fields):
    value = 0
    for name, v in fields.items():
        f = layout[name]
        value |= (int(v) & ((1 << f.width) - 1)) << f.offset
    return value


def _int32(v):
    return v - (1 << 32) if v & (1 << 31) else v


def _ring_values(v):
    return _int32(v & 0xFFFFFFFF), _int32(v >> 32)


class Testbench:
    """Drivers, monitor, reference model and in-order scoreboard around the DUT.

    The spike driver's accepted spikes feed the model (:class:`RingReference`), which queues
    the values each read-and-clear must return on the scoreboard; the ``o_cleared`` monitor
    feeds the scoreboard. The driver's offer cycles give :func:`spike_timing` the arrivals,
    whose accept and done cycles the bench compares with the design's.
    """

    def __init__(self, dut, workload, pattern):
        self.dut, self.name = dut, f"tb.{workload['name']}.{pattern}"
        self.log = logging.getLogger(f"cocotb.{self.name}")
        self.w = workload
        self.clear_layout = clear_request_layout(CONFIG.n_neurons, CONFIG.ring_depth)
        spike_pattern, ready_pattern = PATTERNS[pattern]
        self.words = np.array([int(x, 16) for x in workload["synapse_words"]], dtype=np.uint64)
        self.starts = np.array(workload["row_start"], dtype=np.int64)
        self.lengths = np.array(workload["row_length"], dtype=np.int64)
        self.model = RingReference(CONFIG.n_neurons, CONFIG.ring_depth)
        self.scoreboard = Scoreboard(self.name)
        self.step = 0
        self.spikes = StreamDriver(dut, "i_spikes", pattern=spike_pattern,
                                   on_accept=self._delivered, log=f"{self.name}.spike_driver")
        self.clears = StreamDriver(dut, "i_clear", log=f"{self.name}.clear_driver")
        self.cleared = StreamMonitor(dut, "o_cleared", pattern=ready_pattern,
                                     on_item=lambda v: self.scoreboard.compare(_ring_values(v)),
                                     log=f"{self.name}.cleared_monitor")
        self.rows = StreamDriver(dut, "i_rows", log=f"{self.name}.rows")
        self.memory = StreamDriver(dut, "i_load", log=f"{self.name}.memory")

    def _delivered(self, payload):
        """Input side: each spike the design takes goes to the model, in acceptance order."""
        self.model.deliver(payload >> 32, [payload & 0xFFFFFFFF], self.starts, self.lengths,
                           self.words)

    async def reset(self):
        self.log.debug("reset")
        start_clock(self.dut.clk)
        for name in ("i_spikes", "i_rows", "i_clear", "i_load"):
            getattr(self.dut, f"{name}__valid").value = 0
        self.dut.o_cleared__ready.value = 0
        await reset(self.dut)
        for part in (self.rows, self.memory, self.spikes, self.clears, self.cleared):
            part.start()

    async def load(self):
        self.log.debug("loading")
        rows = row_write_layout(CONFIG.n_sources, CONFIG.memory_words)
        mem = memory_load_layout(CONFIG.memory_words)
        self.rows.send(_pack(rows, source=s, start=self.starts[s], length=self.lengths[s])
                       for s in range(CONFIG.n_sources))
        await self.rows.wait_idle()
        words = []
        for addr in range(0, len(self.words), 8):
            value = 0
            for k, syn in enumerate(self.words[addr:addr + 8]):
                value |= int(syn) << (64 * k)
            words.append(_pack(mem, addr=addr // 8, data=value))
        self.memory.send(words)
        await self.memory.wait_idle()

    async def read_slots(self, slots, what):
        """Read and clear ``slots`` of every neuron; the scoreboard checks each value."""
        requests = [(s, n) for s in slots for n in range(CONFIG.n_neurons)]
        for s in slots:
            self.scoreboard.expect([tuple(int(x) for x in v)
                                    for v in self.model.read_and_clear(s)], what)
        want = len(self.cleared.items) + len(requests)
        self.clears.send(_pack(self.clear_layout, slot=s, neuron=n) for s, n in requests)
        while len(self.cleared.items) < want:
            await FallingEdge(self.dut.clk)
        return np.array([_ring_values(v) for v in self.cleared.items[-len(requests):]],
                        dtype=np.int64).reshape(len(slots), -1, 2)

    async def deliver(self, step, sources):
        """Run one delivery phase; return (offer, accept, cycles) relative to its start."""
        t0 = cycle()
        if not sources:
            return [], [], 0
        first = len(self.spikes.offers)
        self.spikes.send(s | (step << 32) for s in sources)
        await self.spikes.wait_idle()
        end = await wait_until(self.dut, self.dut.o_idle)
        await FallingEdge(self.dut.clk)
        offers = [c - t0 for c in self.spikes.offers[first:]]
        accepts = [c - t0 for c in self.spikes.accepts[first:]]
        return offers, accepts, end - t0

    async def run(self):
        await self.reset()
        await self.load()
        mask = CONFIG.ring_depth - 1
        self.log.debug("loaded %d rows, %d synapses", CONFIG.n_sources, len(self.words))
        for step, sources in enumerate(self.w["spikes"]):
            self.log.debug("step %d: %d spikes", step, len(sources))
            got = (await self.read_slots([step & mask], f"slot before step {step}"))[0]
            if "engine" in self.w:
                np.testing.assert_array_equal(
                    got, np.array(self.w["engine"]["slots"][step]),
                    err_msg=f"{self.name}: slot before step {step} differs from the engine's")
            offers, accepts, cycles = await self.deliver(step, sources)
            n = CONFIG.n_sources
            expect = spike_timing(
                CONFIG, [int(self.starts[s]) if s < n else 0 for s in sources],
                [int(self.lengths[s]) if s < n else 0 for s in sources], valid=offers)
            assert accepts == expect.accept, f"{self.name}: accept cycles of step {step}"
            assert cycles == expect.cycles, f"{self.name}: cycles of step {step}"
        final = await self.read_slots(range(CONFIG.ring_depth), "final ring")
        self.scoreboard.check()
        if "engine" in self.w:
            np.testing.assert_array_equal(final, np.array(self.w["engine"]["final"]),
                                          err_msg=f"{self.name}: final ring vs the engine's")
        await wait_until(self.dut, self.dut.o_idle)
        assert int(self.dut.o_events.value) == self.model.events
        self.log.info("%d steps, %d events, %d channels read at their bound, %d values "
                      "checked", len(self.w["spikes"]), self.model.events,
                      self.model.saturations, self.scoreboard.matched)


@cocotb.test(timeout_time=20, timeout_unit="ms")
@cocotb.parametrize(workload=list(WORKLOADS), pattern=list(PATTERNS))
async def run_workload(dut, workload, pattern):
    """Run one workload with one stream pattern and check everything against the model."""
    await Testbench(dut, {"name": workload, **WORKLOADS[workload]}, pattern).run()

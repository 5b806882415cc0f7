"""cocotb testbench of the generated ``node``: host loader, memory, injector, monitor, checker.

Started through :func:`neuroaix.rtl.harness.node_verilator.run` (by
``tests/rtl/test_node_verilog.py`` and ``neuroaix rtl run``); it lives in the package so that
the command works without the tests, and is built from the kit of
:mod:`neuroaix.rtl.harness.cocotb_kit` (stream drivers for the host ports and the injector on
``i_ext``, a monitor on ``o_spikes``, an in-order scoreboard, and the
:class:`~neuroaix.rtl.harness.cocotb_kit.MemoryResponder` that answers ``o_mem_req`` on
``i_mem_resp`` with the testbench memory of :mod:`neuroaix.rtl.harness.memory_model`).
``NEUROAIX_PARAM_NODE`` names a JSON file with the load image
(``neuroaix.rtl.harness.node_image.image_to_json``), the steps, the other partitions' spikes
per step (``external``, or null for a single node), optionally per step the first cycle of
the step each external item and ``last`` may be offered (``offers``, as
``node_sim.simulate(..., offers=)``; null: streaming), the memory's timing (``memory``,
``memory_model.timing_to_json``) and the
engine's raster of this partition (``expected``). Each run loads the image through the host
ports, runs all steps with one ``i_run`` command, injects the external spikes, and compares
the node's raster with the engine's in order; the spikes and the cycles of every step are
written to ``<json>.<pattern>.out.json``. Each run is made with back-to-back streams and with
idle cycles on ``i_ext`` plus backpressure on ``o_spikes``.
"""

import json
import logging
import os
import pathlib

import cocotb
from cocotb.triggers import FallingEdge, ReadOnly

from neuroaix.rtl.harness.cocotb_kit import (PATTERNS, MemoryResponder, Scoreboard, StreamDriver,
                                             StreamMonitor, reset, start_clock, wait_until)
from neuroaix.rtl.harness.memory_model import TimedMemory, timing_from_json
from neuroaix.rtl.harness.node_image import image_from_json
from neuroaix.rtl.hw.node import (
    COUNTERS, ExternalSpike, neuron_write_layout, population_write_layout,
)
from neuroaix.rtl.hw.synapse_pipeline import mem_request_layout, row_write_layout

__all__ = ["Host", "Testbench", "run_node"]

_PATH = os.environ.get("NEUROAIX_PARAM_NODE")
_DOC = {}
if _PATH:
    with open(_PATH) as _fh:
        _DOC = json.load(_fh)
SELECTED = _DOC.get("patterns", list(PATTERNS))


def _bits(layout, value):
    return layout.const(value).as_bits()


class Host:
    """Loads an image through the node's host ports (rows, populations, neurons).

    Parameters
    ----------
    tb : Testbench
        The bench (its ``dut`` and ``name``).
    """

    PORTS = ("i_rows", "i_population", "i_neuron", "i_run", "i_clear_rings")

    def __init__(self, tb):
        self.dut, self.log = tb.dut, logging.getLogger(f"cocotb.{tb.name}.host")
        self.drivers = {port: StreamDriver(tb.dut, port, log=f"{tb.name}.host.{port}")
                        for port in self.PORTS}

    def start(self):
        """Start the host's stream drivers."""
        for driver in self.drivers.values():
            driver.start()

    async def write(self, port, items):
        """Send ``items`` on ``port`` and wait until the node has taken them all."""
        self.drivers[port].send(items)
        await self.drivers[port].wait_idle()

    async def load(self, image):
        """Write the node parameters, row pointers, populations and neurons."""
        c = image.config
        dut = self.dut
        dut.i_n_local.value = image.n_local
        dut.i_gid_base.value = image.gid_base
        dut.i_gid_stride.value = image.gid_stride
        rows = row_write_layout(c.n_sources, c.memory_words)
        await self.write("i_rows", (
            _bits(rows, {"source": s, "start": int(image.row_start[s]),
                         "length": int(image.row_length[s])}) for s in range(c.n_sources)))
        pops = population_write_layout(c.n_populations)
        await self.write("i_population", (_bits(pops, {"index": k, "params": q})
                                          for k, q in enumerate(image.populations)))
        neurons = neuron_write_layout(c.n_neurons, c.n_populations)
        m32 = 0xFFFFFFFF
        await self.write("i_neuron", (
            _bits(neurons, {"index": n, "pop": pop, "state": {
                "v": v & m32, "i_ex": iex & m32, "i_in": iin & m32, "ref": ref, "rng": rng}})
            for n, (v, iex, iin, ref, rng, pop) in enumerate(image.neurons)))
        self.log.info("loaded %d neurons, %d rows", image.n_local, c.n_sources)


def _external_items(external, offers):
    """Return the ``i_ext`` payloads and, per payload, ``(step, first cycle of the step)``."""
    items, when = [], []
    for t, spikes in enumerate(external or []):
        items += [_bits(ExternalSpike, {"source": s, "last": 0}) for s in spikes]
        items.append(_bits(ExternalSpike, {"source": 0, "last": 1}))
        first = offers[t] if offers is not None else [0] * (len(spikes) + 1)
        when += [(t, int(c)) for c in first]
    return items, when


class Testbench:
    """Host, memory, spike injector (a driver on ``i_ext``), spike monitor and scoreboard.

    The monitor on ``o_spikes`` records the node's raster per step and feeds the scoreboard,
    which holds the engine's raster (``expected``) in order, ``(step, global id)``.

    Parameters
    ----------
    dut : cocotb handle
        The ``node`` top.
    pattern : str
        A stream pattern of :data:`~neuroaix.rtl.harness.cocotb_kit.PATTERNS`: idle cycles on
        ``i_ext``, backpressure on ``o_spikes``.
    """

    def __init__(self, dut, pattern):
        self.dut, self.name, self.pattern = dut, f"tb.node.{pattern}", pattern
        self.log = logging.getLogger(f"cocotb.{self.name}")
        ext_valid, spike_ready = PATTERNS[pattern]
        self.image = image_from_json(_DOC["image"])
        self.n_steps = _DOC["n_steps"]
        self.spikes = [[] for _ in range(self.n_steps)]
        self.scoreboard = Scoreboard(self.name)
        if _DOC.get("expected") is not None:
            for t, want in enumerate(_DOC["expected"]):
                self.scoreboard.expect([(t, s) for s in want], f"spike of step {t}")
        self.host = Host(self)
        c = self.image.config
        request = mem_request_layout(c.memory_words, c.max_burst)

        def decode(value):
            req = request.from_bits(value)
            return req.addr, req.count

        self.memory = MemoryResponder(
            dut, TimedMemory(self.image.memory, timing_from_json(_DOC["memory"]), c.fifo_words),
            decode, log=f"{self.name}.memory")
        items, self._when = _external_items(_DOC["external"], _DOC.get("offers"))
        self._taken = 0
        #: Cycles of every step so far (counted by :meth:`run`).
        self.cycles = [0] * self.n_steps
        self.injector = StreamDriver(dut, "i_ext", pattern=ext_valid,
                                     on_accept=self._ext_taken,
                                     hold=self._hold if _DOC.get("offers") is not None else None,
                                     log=f"{self.name}.injector")
        self.injector.send(items)
        self.monitor = StreamMonitor(dut, "o_spikes", pattern=spike_ready,
                                     on_item=self._spike, log=f"{self.name}.spike_monitor")

    def _ext_taken(self, _item):
        self._taken += 1

    def _hold(self):
        """Whether the next ``i_ext`` item must wait: it is offered only in its own step and
        from its offer cycle, counted from the step's first cycle (0) as :meth:`run` counts."""
        step, first = self._when[self._taken]
        if not int(self.dut.o_running.value) or int(self.dut.o_step.value) != step:
            return True
        return self.cycles[step] < first

    def _spike(self, value):
        step, source = value >> 32, value & 0xFFFFFFFF
        self.spikes[step].append(source)
        if _DOC.get("expected") is not None:
            self.scoreboard.compare((step, source))

    async def reset(self):
        start_clock(self.dut.clk)
        for name in Host.PORTS + ("i_ext", "i_mem_resp"):
            getattr(self.dut, f"{name}__valid").value = 0
        self.dut.o_mem_req__ready.value = 0
        self.dut.i_external.value = int(_DOC["external"] is not None)
        self.dut.o_spikes__ready.value = 1
        await reset(self.dut)
        self.host.start()
        self.memory.start()

    async def run(self):
        await self.reset()
        await self.host.load(self.image)
        dut = self.dut
        # Block RAM keeps the previous run's ring contents over a reset.
        await self.host.write("i_clear_rings", [0])
        await wait_until(dut, dut.o_busy, 0)
        await FallingEdge(dut.clk)
        await self.host.write("i_run", [self.n_steps])
        # The injector and the monitor start with the run's first cycle.
        self.injector.start()
        self.monitor.start()
        cycles = self.cycles
        while True:
            await ReadOnly()
            if not int(dut.o_running.value):
                break
            step = int(dut.o_step.value)
            if not cycles[step] and step and step % 10 == 0:  # progress of long runs
                self.log.info("step %d of %d", step, self.n_steps)
            cycles[step] += 1
            await FallingEdge(dut.clk)
        # Drain the spike FIFO.
        await FallingEdge(dut.clk)
        self.monitor.set_pattern((1,))
        for _ in range(2 * self.image.config.spike_fifo):
            await FallingEdge(dut.clk)
        assert self.injector.idle, f"{self.name}: external spikes left over"
        counters = {name: int(getattr(dut, f"o_{name}").value) for name in COUNTERS}
        pathlib.Path(f"{_PATH}.{self.pattern}.out.json").write_text(
            json.dumps({"cycles": cycles, "spikes": self.spikes, "counters": counters}))
        if _DOC.get("expected") is not None:
            self.scoreboard.check()
        self.log.info("%d steps, %d spikes equal the engine's; %d cycles", self.n_steps,
                      sum(map(len, self.spikes)), sum(cycles))


@cocotb.test(timeout_time=2000, timeout_unit="ms")
@cocotb.parametrize(pattern=SELECTED)
async def run_node(dut, pattern):
    """Load, run every step, check the raster against the engine's and record cycles."""
    await Testbench(dut, pattern).run()

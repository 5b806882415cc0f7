"""The cocotb kit of the RTL benches: a stream driver, a stream monitor and a scoreboard.

Shaped as cocotb's own examples (matrix_multiplier: a driver and a monitor running as
coroutines started with :func:`cocotb.start_soon`, the input side feeding the model, an
in-order checker on the output side) and addressing Amaranth's ``lib.stream`` ports by their
``__`` joined names (``i_spikes__valid``, ``i_spikes__ready``, ``i_spikes__payload``).

- :class:`StreamDriver` offers queued payloads on an input stream, holding ``valid`` and the
  payload until the handshake and inserting idle cycles where its pattern says 0 (or while
  its ``hold`` says the head may not be offered yet: late offers); it records the cycle of
  every offer and every acceptance and calls ``on_accept`` with each item taken.
- :class:`StreamMonitor` takes the payloads of an output stream, deasserting ``ready`` where
  its pattern says 0 (backpressure), and calls ``on_item`` with each.
- :class:`Scoreboard` compares what a monitor saw with what the model expects, in order.
- :class:`MemoryResponder` is the memory behind a request/response port pair: it clocks a
  :class:`~neuroaix.rtl.harness.memory_model.TimedMemory` (the timing of
  ``neuroaix.timing``, as the amaranth.sim bench does), taking requests and offering words.

:data:`PATTERNS` names the two stream patterns every bench runs, on Verilator and in the
amaranth.sim tests alike (STYLE.md: with and without idle cycles and backpressure, as
verilog-axi's ``itertools.cycle([1, 1, 1, 0])``). Both sides
act at the falling clock edge and look at the handshake in the read-only phase before the
rising edge, so an item offered at the falling edge of cycle ``c`` and seen ready there is
taken in cycle ``c``. Cycles are counted as simulation time over the clock period.
"""

from __future__ import annotations

import collections
import itertools
import logging

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly
from cocotb.utils import get_sim_time

__all__ = [
    "PERIOD_NS",
    "PATTERNS",
    "StreamDriver",
    "StreamMonitor",
    "Scoreboard",
    "MemoryResponder",
    "cycle",
    "start_clock",
    "reset",
    "wait_until",
]

#: Clock period of every bench.
PERIOD_NS = 10

#: Stream patterns: name -> (driver pattern, monitor pattern), each cycled per clock; a 0
#: withholds ``valid`` (driver) or ``ready`` (monitor) for that cycle.
PATTERNS = {
    "streaming": ((1,), (1,)),
    "idle_backpressure": ((1, 1, 1, 0), (1, 0, 1, 1, 0)),
}


def cycle() -> int:
    """Return the current clock cycle (simulation time over :data:`PERIOD_NS`)."""
    return int(get_sim_time("ns")) // PERIOD_NS


def start_clock(clk) -> None:
    """Start the bench clock of :data:`PERIOD_NS` on ``clk``."""
    Clock(clk, PERIOD_NS, unit="ns").start()


async def reset(dut, *, cycles: int = 3) -> None:
    """Hold ``dut.rst`` high for ``cycles`` falling edges of ``dut.clk``, then release it."""
    dut.rst.value = 1
    for _ in range(cycles):
        await FallingEdge(dut.clk)
    dut.rst.value = 0


async def wait_until(dut, signal, value: int = 1) -> int:
    """Wait, falling edge by falling edge, until ``signal`` reads ``value``; return the cycle.

    The signal is sampled in the read-only phase of each cycle, starting with the current
    one; on return the bench is in that read-only phase.
    """
    while True:
        await ReadOnly()
        if int(signal.value) == value:
            return cycle()
        await FallingEdge(dut.clk)


class _StreamEnd:
    """One end of the stream ``<name>`` of ``dut``: its handles, its pattern, its coroutine."""

    def __init__(self, dut, name: str, pattern, log: str):
        self._clk = dut.clk
        self._valid = getattr(dut, f"{name}__valid")
        self._ready = getattr(dut, f"{name}__ready")
        self._payload = getattr(dut, f"{name}__payload")
        self._gate = itertools.cycle(pattern)
        self._task = None
        self.log = logging.getLogger(f"cocotb.{log}")

    def start(self) -> None:
        """Start the coroutine: it acts from the current cycle on."""
        if self._task is None:
            self._task = cocotb.start_soon(self._run())

    def _cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _run(self):
        raise NotImplementedError


class StreamDriver(_StreamEnd):
    """Offer payloads on the input stream ``<name>`` of ``dut`` (cocotb's DataValidDriver).

    Parameters
    ----------
    dut : cocotb handle
        The top.
    name : str
        Stream port name (``i_spikes``): its ``__valid``, ``__ready`` and ``__payload``.
    pattern : sequence of int
        Cycled each cycle the driver is free to offer: 0 leaves ``valid`` low (idle).
    on_accept : callable, optional
        Called with each item when the design takes it.
    hold : callable, optional
        Called without arguments at the falling edge of every cycle in which an item waits
        and none is offered; while it returns true the head is not offered (``valid`` low,
        the pattern not advanced): the head's offer cycle is not reached yet.
    log : str
        Logger name.

    Notes
    -----
    Once offered, an item and ``valid`` are held until ``ready`` (the stream rule); the
    pattern is advanced only on cycles where an item waits, none is offered and ``hold``
    does not keep it back.
    """

    def __init__(self, dut, name: str, *, pattern=(1,), on_accept=None, hold=None,
                 log: str = "driver"):
        super().__init__(dut, name, pattern, log)
        self._queue = collections.deque()
        self._offered = False
        self.on_accept = on_accept
        self.hold = hold
        #: Cycle of every first offer of an item.
        self.offers: list[int] = []
        #: Cycle of every handshake.
        self.accepts: list[int] = []

    def send(self, items) -> None:
        """Queue ``items`` (payload values) to be offered in order."""
        self._queue.extend(items)

    @property
    def idle(self) -> bool:
        """True when nothing waits and nothing is offered."""
        return not self._queue and not self._offered

    def stop(self) -> None:
        """Stop driving and leave ``valid`` low (call at a falling edge)."""
        self._cancel()
        self._valid.value = 0
        self._offered = False

    async def _run(self):
        while True:
            if not self._offered:
                if (self._queue and (self.hold is None or not self.hold())
                        and next(self._gate)):
                    self._payload.value = self._queue[0]
                    self._valid.value = 1
                    self._offered = True
                    self.offers.append(cycle())
                else:
                    self._valid.value = 0
            await ReadOnly()
            if self._offered and int(self._ready.value):
                self.accepts.append(cycle())
                item = self._queue.popleft()
                self._offered = False
                if self.on_accept is not None:
                    self.on_accept(item)
            await FallingEdge(self._clk)

    async def wait_idle(self) -> None:
        """Wait until every queued item has been taken; return at the next falling edge."""
        while not self.idle:
            await FallingEdge(self._clk)


class StreamMonitor(_StreamEnd):
    """Take the payloads of the output stream ``<name>`` of ``dut`` (DataValidMonitor).

    Parameters
    ----------
    dut : cocotb handle
        The top.
    name : str
        Stream port name (``o_cleared``).
    pattern : sequence of int
        Cycled per cycle: 0 deasserts ``ready`` (backpressure).
    on_item : callable, optional
        Called with each payload (an ``int``) taken.
    log : str
        Logger name.
    """

    def __init__(self, dut, name: str, *, pattern=(1,), on_item=None, log: str = "monitor"):
        super().__init__(dut, name, pattern, log)
        self.on_item = on_item
        #: Payloads taken, in order.
        self.items: list[int] = []

    def stop(self, *, ready: int = 0) -> None:
        """Stop taking items and leave ``ready`` at ``ready`` (call at a falling edge)."""
        self._cancel()
        self._ready.value = ready

    def set_pattern(self, pattern) -> None:
        """Follow ``pattern`` from the next cycle on (e.g. ``(1,)`` to drain)."""
        self._gate = itertools.cycle(pattern)

    async def _run(self):
        while True:
            ready = next(self._gate)
            self._ready.value = ready
            await ReadOnly()
            if ready and int(self._valid.value):
                item = int(self._payload.value)
                self.items.append(item)
                if self.on_item is not None:
                    self.on_item(item)
            await FallingEdge(self._clk)


class Scoreboard:
    """Compare observed items with expected ones, in order (cocotb's in-order checker).

    Parameters
    ----------
    name : str
        Bench name, used in messages and as the logger's parent.
    """

    def __init__(self, name: str):
        self.name = name
        self.log = logging.getLogger(f"cocotb.{name}.scoreboard")
        self._expected = collections.deque()
        #: Mismatches as ``(what, got, expected)``.
        self.errors: list[tuple] = []
        #: Items compared.
        self.matched = 0

    def expect(self, items, what: str = "") -> None:
        """Queue expected ``items``, each labelled ``what`` in messages."""
        self._expected.extend((what, item) for item in items)

    def compare(self, got) -> None:
        """Compare one observed item with the next expected one; record a mismatch."""
        if not self._expected:
            self.errors.append(("unexpected item", got, None))
            self.log.error("%s: unexpected item %r", self.name, got)
            return
        what, want = self._expected.popleft()
        if got != want:
            self.errors.append((what, got, want))
            self.log.error("%s: %s: got %r, expected %r", self.name, what, got, want)
        else:
            self.matched += 1

    @property
    def pending(self) -> int:
        """Expected items not yet observed."""
        return len(self._expected)

    def check(self) -> None:
        """Assert that every expected item was observed and equal.

        Raises
        ------
        AssertionError
            Naming the first mismatch, or the count of items never observed.
        """
        if self.errors:
            what, got, want = self.errors[0]
            raise AssertionError(f"{self.name}: {len(self.errors)} mismatch(es); first, "
                                 f"{what}: got {got!r}, expected {want!r}")
        if self._expected:
            what, want = self._expected[0]
            raise AssertionError(f"{self.name}: {len(self._expected)} expected item(s) never "
                                 f"seen; first, {what}: {want!r}")


class MemoryResponder:
    """Answer the memory requests of ``dut`` with a clocked memory model.

    Every cycle, at the falling edge, it drives the request stream's ``ready`` and the
    response stream's ``valid`` and payload from the model; in the read-only phase it reads
    the handshake of a request and the response's ``ready`` and clocks the model with them
    (:meth:`~neuroaix.rtl.harness.memory_model.TimedMemory.clock`).

    Parameters
    ----------
    dut : cocotb handle
        The top.
    memory : TimedMemory
        The memory model (its ``req_ready``, ``resp_valid``, ``resp_word`` and ``clock``).
    decode : callable
        Turns a request payload (``int``) into ``(addr, count)``.
    request, response : str
        The request (output) and response (input) stream ports of ``dut``.
    log : str
        Logger name.
    """

    def __init__(self, dut, memory, decode, *, request: str = "o_mem_req",
                 response: str = "i_mem_resp", log: str = "memory"):
        self._clk = dut.clk
        self._req_valid = getattr(dut, f"{request}__valid")
        self._req_ready = getattr(dut, f"{request}__ready")
        self._req_payload = getattr(dut, f"{request}__payload")
        self._resp_valid = getattr(dut, f"{response}__valid")
        self._resp_ready = getattr(dut, f"{response}__ready")
        self._resp_payload = getattr(dut, f"{response}__payload")
        self.memory = memory
        self._decode = decode
        self._task = None
        self.log = logging.getLogger(f"cocotb.{log}")

    def start(self) -> None:
        """Start answering from the current cycle on (call at a falling edge)."""
        if self._task is None:
            self._task = cocotb.start_soon(self._run())

    async def _run(self):
        m = self.memory
        while True:
            ready = m.req_ready
            self._req_ready.value = int(ready)
            self._resp_valid.value = int(m.resp_valid)
            self._resp_payload.value = m.resp_word
            await ReadOnly()
            request = None
            if ready and int(self._req_valid.value):
                request = self._decode(int(self._req_payload.value))
            m.clock(cycle(), request, bool(int(self._resp_ready.value)))
            await FallingEdge(self._clk)

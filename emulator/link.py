"""Link timing: latencies of a hop in femtoseconds, and one link carrying one flit at a time.

A packet at a node's router at time ``t`` leaves over a link:

* leaving its source (or, with ``topology.turn = "full-hop"``, turning into the next
  dimension at a relay node): it departs at ``max(t + router + cdc, free)`` and arrives at
  the next router ``serialisation + transceiver + cable`` later;
* relayed (a ring step continuing the dimension and direction it came in; with
  ``topology.turn = "extra-hop"`` also a turn): it departs at ``max(t, free)`` and arrives
  ``extra_hop`` later.

Either way the link is busy for the packet's serialisation time (its flits at the link's
payload bandwidth) from the departure, so packets queue first come, first served. A packet
meant for a node reaches that node's fetch queue ``router`` after arriving at its router.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from neuroaix.emulator.clock import ns_to_fs
from neuroaix.emulator.config import LinkConfig

__all__ = ["Link", "LinkTiming"]


class LinkTiming(NamedTuple):
    """Hop latencies in femtoseconds, derived from a ``LinkConfig``."""

    #: Time a packet occupies a link (all its flits).
    serialisation_fs: int
    #: Router plus clock-domain crossing, paid before a hop that enters a dimension.
    enter_fs: int
    #: Departure to arrival of a hop that enters a dimension (serialisation, transceiver, cable).
    enter_flight_fs: int
    #: Departure to arrival of a relayed hop (a ring step through a node, or a turn).
    pass_flight_fs: int
    #: Router latency from arrival to the local fetch queue.
    deliver_fs: int

    @classmethod
    def from_config(cls, link: LinkConfig) -> LinkTiming:
        """Return the timing of ``link`` in femtoseconds."""
        if not isinstance(link, LinkConfig):
            raise TypeError(f"link must be a LinkConfig, not {link!r}")
        flit_fs = math.floor(link.flit_bits * 1e6 / link.bandwidth_gbps + 0.5)
        ser = link.flits_per_packet * flit_fs
        return cls(
            serialisation_fs=ser,
            enter_fs=ns_to_fs(link.router_ns) + ns_to_fs(link.cdc_ns),
            enter_flight_fs=ser + ns_to_fs(link.transceiver_ns) + ns_to_fs(link.cable_ns),
            pass_flight_fs=max(ser, ns_to_fs(link.extra_hop_ns)),
            deliver_fs=ns_to_fs(link.router_ns),
        )


class Link:
    """One directed link: first come, first served, one packet's flits at a time.

    Parameters
    ----------
    timing : LinkTiming
        Latencies of the hop.

    Attributes
    ----------
    free_fs : int
        Time the link finishes its last accepted packet.
    packets : int
        Packets carried so far.
    busy_fs : int
        Total time the link was occupied.
    """

    def __init__(self, timing: LinkTiming):
        if not isinstance(timing, LinkTiming):
            raise TypeError(f"timing must be a LinkTiming, not {timing!r}")
        self.timing = timing
        self.free_fs = 0
        self.packets = 0
        self.busy_fs = 0

    def send(self, at_router_fs: int, *, passthrough: bool = False) -> tuple[int, int]:
        """Send a packet that is at the sending router at ``at_router_fs``.

        Parameters
        ----------
        at_router_fs : int
            Time the packet is at the router (or the pass-through input) of the sender.
        passthrough : bool
            True for a relayed hop (a ring step continuing the packet's dimension and
            direction, or with ``topology.turn = "extra-hop"`` a turn).

        Returns
        -------
        (depart_fs, arrive_fs)
            Departure from this node and arrival at the next node's router.
        """
        t = self.timing
        ready = at_router_fs if passthrough else at_router_fs + t.enter_fs
        depart = max(ready, self.free_fs)
        self.free_fs = depart + t.serialisation_fs
        self.packets += 1
        self.busy_fs += t.serialisation_fs
        flight = t.pass_flight_fs if passthrough else t.enter_flight_fs
        return depart, depart + flight

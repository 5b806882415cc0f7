import pytest
from neuroaix.emulator.config import LinkConfig
from neuroaix.emulator.link import Link, LinkTiming


def test_timing_of_the_paper_link():
    t = LinkTiming.from_config(LinkConfig())
    # one 128-bit flit at 5.82 Gbit/s: 21.993 ns
    assert t.serialisation_fs == 21_993_127
    assert t.enter_fs == 103_000_000
    assert t.enter_flight_fs == 21_993_127 + 617_000_000
    assert t.pass_flight_fs == 309_000_000
    assert t.deliver_fs == 43_000_000


def test_two_flit_packets():
    t = LinkTiming.from_config(LinkConfig(packet_bits=129, flit_bits=128))
    assert t.serialisation_fs == 2 * 21_993_127


def test_link_serialises_packets_first_come_first_served():
    t = LinkTiming.from_config(LinkConfig())
    link = Link(t)
    d0, a0 = link.send(0)
    assert (d0, a0) == (t.enter_fs, t.enter_fs + t.enter_flight_fs)
    d1, a1 = link.send(1_000_000)       # 1 ns later: waits for the first packet's flit
    assert d1 == d0 + t.serialisation_fs
    assert a1 == d1 + t.enter_flight_fs
    d2, a2 = link.send(10 * t.serialisation_fs, passthrough=True)
    assert d2 == max(10 * t.serialisation_fs, d1 + t.serialisation_fs)
    assert a2 == d2 + t.pass_flight_fs
    assert link.packets == 3 and link.busy_fs == 3 * t.serialisation_fs


def test_bad_arguments():
    with pytest.raises(TypeError, match=r"^timing must be a LinkTiming, not None$"):
        Link(None)
    with pytest.raises(TypeError, match=r"^link must be a LinkConfig, not 1$"):
        LinkTiming.from_config(1)

import pytest
from neuroaix.emulator.clock import FS_PER_NS, Clock, fs_to_ns, ns_to_fs


def test_period_is_rounded_to_whole_femtoseconds():
    assert Clock("neuron", 189.393).period_fs == 5_280_026
    assert Clock("spike", 92.0).period_fs == 10_869_565
    assert Clock("x", 100).period_fs == 10 * FS_PER_NS


def test_cycles_and_edges():
    c = Clock("x", 100.0)
    assert c.cycles_to_fs(3) == 30_000_000
    assert c.fs_to_cycles(30_000_000) == 3
    assert c.fs_to_cycles(30_000_001) == 4
    assert c.next_edge(0) == 0
    assert c.next_edge(1) == 10_000_000


def test_ns_conversion():
    assert ns_to_fs(880) == 880_000_000
    assert ns_to_fs(0.0000004) == 0
    assert ns_to_fs(0.0000005) == 1
    assert fs_to_ns(1_500_000) == 1.5


def test_bad_values():
    with pytest.raises(ValueError, match=r"^clock 'x': mhz must be > 0, not -1; use e.g. "
                                         r"100.0$"):
        Clock("x", -1)
    with pytest.raises(TypeError, match=r"^clock 'x': mhz must be a number, not '9'$"):
        Clock("x", "9")
    with pytest.raises(ValueError, match=r"^latency must be >= 0 ns, not -1.0$"):
        ns_to_fs(-1.0)

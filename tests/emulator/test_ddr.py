import numpy as np
import pytest
from neuroaix.emulator.config import MemoryConfig
from neuroaix.emulator.ddr import MemoryModel


def test_request_bytes_round_up_to_the_fetch_granularity():
    m = MemoryModel(MemoryConfig())
    np.testing.assert_array_equal(m.request_bytes([0, 1, 8, 9, 111]), [0, 64, 64, 128, 896])


def test_service_time_at_table_points_is_size_over_bandwidth():
    m = MemoryModel(MemoryConfig())
    # 64 B at 0.648 GB/s: 98.765 ns; 768 B at 4.98 GB/s: 154.217 ns
    np.testing.assert_array_equal(m.service_fs([64, 768, 0]), [98_765_432, 154_216_867, 0])
    assert m.bandwidth_gbps(100_000) == pytest.approx(10.88)   # the last point's bandwidth
    assert m.bandwidth_gbps(32) == pytest.approx(0.648)        # the first point's
    # between two sizes the time is linear in the size: 224 B is halfway from 64 B to 384 B
    half = (64 / 0.648 + 384 / 3.08) / 2
    assert m.service_fs([224])[0] == round(half * 1e6)


def test_a_larger_request_never_takes_less_time():
    m = MemoryModel(MemoryConfig())
    service = m.service_fs(np.arange(1, 1101) * 64)
    assert np.all(np.diff(service) > 0)
    assert service[1] > service[0] == 98_765_432  # 128 B after 64 B (80.6 ns in log size)


def test_bandwidth_scales_with_the_peak():
    half = MemoryModel(MemoryConfig(peak_bandwidth_gbps=6.06))
    full = MemoryModel(MemoryConfig())
    assert half.bandwidth_gbps(768) == pytest.approx(full.bandwidth_gbps(768) / 2)


def test_prefetch_hides_the_latency_but_not_the_transfer():
    on = MemoryModel(MemoryConfig(prefetch=True, latency_ns=90.0))
    off = MemoryModel(MemoryConfig(prefetch=False, latency_ns=90.0))
    b = np.array([64, 896, 64000])
    np.testing.assert_array_equal(off.occupancy_fs(b), off.service_fs(b))
    occ = on.occupancy_fs(b)
    stream = np.floor(b / 12.12 * 1e6 + 0.5).astype(np.int64)
    np.testing.assert_array_equal(occ, np.maximum(on.service_fs(b) - 90_000_000, stream))
    assert occ[0] == 98_765_432 - 90_000_000   # 64 B: the measured time less the latency


def test_tables_are_indexed_by_words():
    m = MemoryModel(MemoryConfig())
    service, occ = m.tables(3)
    np.testing.assert_array_equal(service, m.service_fs([0, 64, 128, 192]))
    np.testing.assert_array_equal(occ, m.occupancy_fs([0, 64, 128, 192]))


def test_bad_arguments():
    with pytest.raises(TypeError, match=r"^config must be a MemoryConfig, not 'x'$"):
        MemoryModel("x")
    with pytest.raises(ValueError, match=r"^n_synapses must be >= 0, not -1$"):
        MemoryModel(MemoryConfig()).request_bytes([-1])
    with pytest.raises(ValueError, match=r"^max_words must be >= 0, not -2$"):
        MemoryModel(MemoryConfig()).tables(-2)

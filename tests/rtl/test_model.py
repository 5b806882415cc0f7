"""The reference model: configuration checks, the ring reference and closed forms of the rule."""

import numpy as np
import pytest

from neuroaix import formats
from neuroaix.rtl.model import RingReference, spike_timing
from neuroaix.timing import row_words
from neuroaix.rtl.params import PipelineConfig

BIG = PipelineConfig(n_neurons=4, ring_depth=4, n_sources=4, memory_words=64, max_burst=8,
                     fifo_words=64, latency=30)


@pytest.mark.parametrize("start, length, words", [
    (0, 0, 0), (5, 0, 0), (0, 1, 1), (7, 1, 1), (7, 2, 2), (0, 8, 1), (1, 8, 2), (8, 16, 2),
])
def test_row_words(start, length, words):
    assert row_words(start, length) == words


@pytest.mark.parametrize("length", [1, 7, 8, 9, 100, 1000])
def test_one_long_row_streams_at_one_event_per_cycle(length):
    """Unbounded by the credit, a row of S synapses takes S + L + 5 cycles."""
    t = spike_timing(BIG, [0], [length])
    assert t.accept == [0]
    assert t.done == [length + BIG.latency + 4]
    assert t.cycles == length + BIG.latency + 5


def test_rows_without_synapses_cost_one_lookup_cycle_each():
    t = spike_timing(BIG, [0] * 5, [0] * 5)
    assert t == ([0, 1, 2, 3, 4], [-1] * 5, 6)
    assert spike_timing(BIG, [], []) == ([], [], 0)


def test_back_to_back_rows_have_no_gap():
    t = spike_timing(BIG, [0, 100, 300], [100, 200, 50])
    assert np.diff(t.done).tolist() == [200, 50]


def test_credit_bounds_short_rows():
    """One synapse per word, C = 1 word: every word waits for the previous one's pop."""
    cfg = PipelineConfig(n_neurons=4, ring_depth=4, n_sources=4, memory_words=64, max_burst=1,
                         fifo_words=1, latency=5)
    t = spike_timing(cfg, [0, 8, 16, 24], [1, 1, 1, 1])
    # Request r_k = P_(k-1) + 1, word at r_k + L, synapse one cycle later: L + 2 apart.
    assert np.diff(t.done).tolist() == [cfg.latency + 2] * 3


def test_valid_cycles_delay_acceptance():
    t = spike_timing(BIG, [0, 0], [0, 0], valid=[3, 10])
    assert t.accept == [3, 10]
    assert t.cycles == 12


def test_spike_timing_rejects_mismatched_lists():
    with pytest.raises(ValueError, match=r"^starts, lengths and valid must have one entry "
                       r"per spike$"):
        spike_timing(BIG, [0, 1], [1])


@pytest.mark.parametrize("kwargs, err, msg", [
    ({"ring_depth": 6}, ValueError,
     r"^ring_depth must be a power of two in \[2, 256\], not 6$"),
    ({"latency": 1}, ValueError, r"^latency must be >= 2, not 1$"),
    ({"fifo_words": 2, "max_burst": 3}, ValueError,
     r"^fifo_words must be >= max_burst=3, not 2; the response FIFO must hold one burst$"),
    ({"n_neurons": "8"}, TypeError, r"^n_neurons must be an integer, not '8'$"),
    ({"memory_words": 0}, ValueError, r"^memory_words must be >= 1, not 0$"),
])
def test_config_errors(kwargs, err, msg):
    args = dict(n_neurons=4, ring_depth=4, n_sources=4, memory_words=4)
    args.update(kwargs)
    with pytest.raises(err, match=msg):
        PipelineConfig(**args)


def test_ring_reference_saturates_and_counts_at_the_read():
    words = formats.pack_synapses([1, 1, 1, 2], [(1 << 31) - 1, 5, -3, -(1 << 31)], [1, 1, 1, 2])
    ref = RingReference(4, 4)
    ref.deliver(0, [0, 0], [0], [4], words)
    assert ref.events == 8
    # Clamps are not counted; a channel read at its bound is, once per read.
    assert ref.saturations == 0
    slot1 = ref.read_and_clear(1)
    assert slot1[1].tolist() == [(1 << 31) - 1, -6]
    assert ref.saturations == 1
    assert ref.read_and_clear(2)[2].tolist() == [0, -(1 << 31)]
    assert ref.saturations == 2
    assert not ref.read_and_clear(1).any()
    assert ref.saturations == 2

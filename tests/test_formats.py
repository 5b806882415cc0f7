"""The synapse word's layout: pack, unpack and the field lookup (neuroaix.formats)."""

import numpy as np
import pytest

from neuroaix import formats


def test_fields_tile_the_word_without_overlap():
    bits = np.zeros(64, dtype=int)
    for field in formats.SYNAPSE_FIELDS:
        bits[field.lsb:field.lsb + field.width] += 1
    assert bits.tolist() == [1] * 64
    assert formats.SYNAPSES_PER_WORD * formats.SYNAPSE_BYTES == formats.MEMORY_WORD_BYTES


def test_pack_places_each_field_at_its_bits_and_unpack_inverts_it():
    rng = np.random.default_rng(3)
    n = 10_000
    target = np.concatenate([[0, formats.MAX_LOCAL_TARGETS - 1],
                             rng.integers(0, formats.MAX_LOCAL_TARGETS, n)])
    weight = np.concatenate([[-(1 << 31), (1 << 31) - 1], rng.integers(-(1 << 31), 1 << 31, n)])
    delay = np.concatenate([[1, formats.MAX_DELAY_STEPS],
                            rng.integers(1, formats.MAX_DELAY_STEPS + 1, n)])
    words = formats.pack_synapses(target, weight, delay)
    assert words.dtype == np.uint64
    expected = [(int(w) & 0xFFFFFFFF) | (int(t) << 32) | (int(d) << 56)
                for t, w, d in zip(target[:50], weight[:50], delay[:50])]
    assert [int(x) for x in words[:50]] == expected
    t2, w2, d2 = formats.unpack_synapses(words)
    np.testing.assert_array_equal(t2, target)
    np.testing.assert_array_equal(w2, weight)
    np.testing.assert_array_equal(d2, delay)
    assert (t2.dtype, w2.dtype, d2.dtype) == (np.int32, np.int32, np.int32)


@pytest.mark.parametrize("target, weight, delay, match", [
    ([formats.MAX_LOCAL_TARGETS], [0], [1], "local target"),
    ([-1], [0], [1], "local target"),
    ([0], [1 << 31], [1], "weight"),
    ([0], [-(1 << 31) - 1], [1], "weight"),
    ([0], [0], [0], "delay"),
    ([0], [0], [formats.MAX_DELAY_STEPS + 1], "delay"),
])
def test_pack_refuses_values_that_do_not_fit(target, weight, delay, match):
    with pytest.raises(ValueError, match=match):
        formats.pack_synapses(target, weight, delay)


def test_synapse_field_names_the_fields_it_has():
    assert formats.synapse_field("delay").lsb == 56
    with pytest.raises(ValueError, match=r"no field 'dly'.*'weight', 'target', 'delay'"):
        formats.synapse_field("dly")

"""The Amaranth layouts follow neuroaix.formats field for field."""

import numpy as np
import pytest
from amaranth.hdl import Const

from neuroaix import formats
from neuroaix.rtl.hw.layouts import (MEMORY_WORD_BITS, MemoryWord, SpikeEvent, SynapseWord,
                                  struct_from_fields)
from neuroaix.rtl.hw.synapse_memory import words_to_memory


def test_synapse_word_fields_match_formats():
    layout = SynapseWord.as_shape()
    for f in formats.SYNAPSE_FIELDS:
        assert layout[f.name].offset == f.lsb
        assert layout[f.name].shape.width == f.width
        assert layout[f.name].shape.signed == f.signed
    assert layout.size == 8 * formats.SYNAPSE_BYTES


def test_spike_event_fields_match_formats():
    layout = SpikeEvent.as_shape()
    assert [(n, layout[n].offset, layout[n].shape.width) for n, _ in layout] == \
        [(f.name, f.lsb, f.width) for f in formats.SPIKE_FIELDS]


def test_packed_words_read_back_through_the_layouts():
    target = np.array([0, 5, (1 << 24) - 1, 77, 3, 2, 1, 9, 4])
    weight = np.array([-(1 << 31), -1, (1 << 31) - 1, 0, 12345, -777, 1, 2, 3])
    delay = np.array([1, 255, 17, 2, 3, 4, 5, 6, 7])
    words = formats.pack_synapses(target, weight, delay)
    memory = words_to_memory(words)
    assert len(memory) == 2 and MemoryWord.size == MEMORY_WORD_BITS
    for k in range(len(words)):
        # Through the memory-word layout, as the unpacker indexes it.
        word = MemoryWord.from_bits(memory[k // 8])
        syn = word[k % 8]
        assert (syn.target, syn.weight, syn.delay) == (target[k], weight[k], delay[k])
        assert Const.cast(SynapseWord.as_shape().from_bits(int(words[k]))).value == \
            int(words[k])


def test_struct_from_fields_rejects_gaps():
    fields = (formats.Field("a", 0, 4, False), formats.Field("b", 5, 3, False))
    with pytest.raises(ValueError, match=r"^field 'b' starts at bit 5, expected 4; "
                       r"fields must be contiguous, least significant first$"):
        struct_from_fields("Gappy", fields)

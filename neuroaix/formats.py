"""Bit layouts of the words that cross module boundaries, each field width defined once.

The engine's synapse storage, the RTL's ``data.Struct`` layouts (``neuroaix.rtl.hw.layouts``) and
the emulator's memory model are all built from the ``Field`` tuples below.

Synapse word (64 bits, little-endian in memory, 8 per 64-byte memory word)::

    63        56 55                      32 31                               0
    +-----------+--------------------------+----------------------------------+
    |  delay    |      local target        |        weight (int32, I format)   |
    |  8 bits   |        24 bits           |  sign selects the channel         |
    +-----------+--------------------------+----------------------------------+

Spike event (64 bits)::

    63                               32 31                               0
    +----------------------------------+----------------------------------+
    |          step (uint32)           |     source (global id, uint32)   |
    +----------------------------------+----------------------------------+
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = [
    "Field",
    "SYNAPSE_FIELDS",
    "SPIKE_FIELDS",
    "SYNAPSE_BYTES",
    "MEMORY_WORD_BYTES",
    "SYNAPSES_PER_WORD",
    "MAX_DELAY_STEPS",
    "MAX_LOCAL_TARGETS",
    "pack_synapses",
    "unpack_synapses",
    "channel_of",
]


class Field(NamedTuple):
    """One bit field of a packed word: name, least significant bit, width, signedness."""

    name: str
    lsb: int
    width: int
    signed: bool


#: Synapse word, least significant field first.
SYNAPSE_FIELDS = (
    Field("weight", 0, 32, True),
    Field("target", 32, 24, False),
    Field("delay", 56, 8, False),
)
#: Spike event, least significant field first.
SPIKE_FIELDS = (
    Field("source", 0, 32, False),
    Field("step", 32, 32, False),
)

SYNAPSE_BYTES = 8
MEMORY_WORD_BYTES = 64
SYNAPSES_PER_WORD = MEMORY_WORD_BYTES // SYNAPSE_BYTES
#: Largest delay a synapse word holds, in steps.
MAX_DELAY_STEPS = (1 << SYNAPSE_FIELDS[2].width) - 1
#: Neurons a partition (hardware node) can address.
MAX_LOCAL_TARGETS = 1 << SYNAPSE_FIELDS[1].width


def pack_synapses(target, weight, delay) -> np.ndarray:
    """Pack arrays of local target, weight (I format) and delay (steps) into uint64 words.

    Raises
    ------
    ValueError
        If a field does not fit its width (the message names the field and the bound).
    """
    target = np.asarray(target, dtype=np.int64)
    weight = np.asarray(weight, dtype=np.int64)
    delay = np.asarray(delay, dtype=np.int64)
    if target.size and (target.min() < 0 or target.max() >= MAX_LOCAL_TARGETS):
        raise ValueError(f"local target must lie in [0, {MAX_LOCAL_TARGETS}); split the node")
    if weight.size and (weight.min() < -(1 << 31) or weight.max() >= (1 << 31)):
        raise ValueError("weight does not fit int32 in the I format")
    if delay.size and (delay.min() < 1 or delay.max() > MAX_DELAY_STEPS):
        raise ValueError(f"delay must lie in [1, {MAX_DELAY_STEPS}] steps")
    word = (
        (weight & 0xFFFFFFFF).astype(np.uint64)
        | (target.astype(np.uint64) << np.uint64(32))
        | (delay.astype(np.uint64) << np.uint64(56))
    )
    return word


def unpack_synapses(words) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unpack uint64 synapse words into (target int32, weight int32, delay int32) arrays."""
    w = np.asarray(words, dtype=np.uint64)
    weight = (w & np.uint64(0xFFFFFFFF)).astype(np.uint32).view(np.int32)
    target = ((w >> np.uint64(32)) & np.uint64(0xFFFFFF)).astype(np.int32)
    delay = (w >> np.uint64(56)).astype(np.int32)
    return target, weight, delay


def channel_of(weight):
    """Return the ring-buffer channel of a weight: 0 excitatory (>= 0), 1 inhibitory (< 0)."""
    return (np.asarray(weight) < 0).astype(np.int8)

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
    "synapse_field",
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
MAX_DELAY_STEPS = (1 << next(f.width for f in SYNAPSE_FIELDS if f.name == "delay")) - 1
#: Neurons a partition (hardware node) can address.
MAX_LOCAL_TARGETS = 1 << next(f.width for f in SYNAPSE_FIELDS if f.name == "target")


def synapse_field(name: str) -> Field:
    """Return the field ``name`` (``"weight"``, ``"target"`` or ``"delay"``) of the synapse word.

    Raises
    ------
    ValueError
        If the synapse word has no such field.
    """
    for field in SYNAPSE_FIELDS:
        if field.name == name:
            return field
    raise ValueError(f"the synapse word has no field {name!r}; its fields are "
                     f"{[f.name for f in SYNAPSE_FIELDS]}")


def _field_mask(field: Field) -> int:
    return (1 << field.width) - 1


def pack_synapses(target, weight, delay) -> np.ndarray:
    """Pack arrays of local target, weight (I format) and delay (steps) into uint64 words.

    Raises
    ------
    ValueError
        If a field does not fit its width (the message names the field and the bound).
    """
    f_weight, f_target, f_delay = (synapse_field(n) for n in ("weight", "target", "delay"))
    target = np.asarray(target, dtype=np.int64)
    weight = np.asarray(weight, dtype=np.int64)
    delay = np.asarray(delay, dtype=np.int64)
    w_low, w_high = -(1 << (f_weight.width - 1)), 1 << (f_weight.width - 1)
    if target.size and (target.min() < 0 or target.max() >= MAX_LOCAL_TARGETS):
        raise ValueError(f"local target must lie in [0, {MAX_LOCAL_TARGETS}); split the node")
    if weight.size and (weight.min() < w_low or weight.max() >= w_high):
        raise ValueError(f"weight does not fit int{f_weight.width} in the I format")
    if delay.size and (delay.min() < 1 or delay.max() > MAX_DELAY_STEPS):
        raise ValueError(f"delay must lie in [1, {MAX_DELAY_STEPS}] steps")
    word = (
        ((weight & _field_mask(f_weight)).astype(np.uint64) << np.uint64(f_weight.lsb))
        | (target.astype(np.uint64) << np.uint64(f_target.lsb))
        | (delay.astype(np.uint64) << np.uint64(f_delay.lsb))
    )
    return word


def unpack_synapses(words) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unpack uint64 synapse words into (target int32, weight int32, delay int32) arrays."""
    f_weight, f_target, f_delay = (synapse_field(n) for n in ("weight", "target", "delay"))
    w = np.asarray(words, dtype=np.uint64)
    raw = ((w >> np.uint64(f_weight.lsb)) & np.uint64(_field_mask(f_weight))).astype(np.int64)
    weight = np.where(raw >= 1 << (f_weight.width - 1), raw - (1 << f_weight.width),
                      raw).astype(np.int32)
    target = ((w >> np.uint64(f_target.lsb)) & np.uint64(_field_mask(f_target))).astype(np.int32)
    delay = ((w >> np.uint64(f_delay.lsb)) & np.uint64(_field_mask(f_delay))).astype(np.int32)
    return target, weight, delay


def channel_of(weight):
    """Return the ring-buffer channel of a weight: 0 excitatory (>= 0), 1 inhibitory (< 0)."""
    return (np.asarray(weight) < 0).astype(np.int8)

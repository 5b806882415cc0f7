"""Amaranth layouts of the packed words, built from :mod:`neuroaix.formats`.

Field widths and positions are never re-typed here: each ``data.Struct`` is generated from
the ``Field`` tuples of :mod:`neuroaix.formats`, so a change of the word layout there changes
the hardware, the engine and the emulator together. ``test_layouts`` checks that a word packed
by :func:`neuroaix.formats.pack_synapses` reads back field by field through these layouts.
"""

from __future__ import annotations

from amaranth.hdl import signed, unsigned
from amaranth.lib import data

from neuroaix import formats

__all__ = [
    "struct_from_fields",
    "SynapseWord",
    "SpikeEvent",
    "MemoryWord",
    "MEMORY_WORD_BITS",
]


def struct_from_fields(name: str, fields) -> type[data.Struct]:
    """Return a ``data.Struct`` subclass whose members follow a tuple of ``formats.Field``.

    Parameters
    ----------
    name : str
        Name of the new class.
    fields : sequence of neuroaix.formats.Field
        Fields, least significant first, contiguous from bit 0.

    Returns
    -------
    type
        The ``data.Struct`` subclass.

    Raises
    ------
    ValueError
        If the fields are not contiguous from bit 0 (a ``data.Struct`` packs them densely).
    """
    annotations = {}
    pos = 0
    for f in fields:
        if f.lsb != pos:
            raise ValueError(
                f"field {f.name!r} starts at bit {f.lsb!r}, expected {pos}; "
                "fields must be contiguous, least significant first"
            )
        annotations[f.name] = signed(f.width) if f.signed else unsigned(f.width)
        pos += f.width
    return type(name, (data.Struct,), {"__annotations__": annotations, "__module__": __name__})


#: One 64-bit synapse: weight (int32, I format), local target, delay (steps).
SynapseWord = struct_from_fields("SynapseWord", formats.SYNAPSE_FIELDS)
#: One spike event: global source id and the step it was emitted in.
SpikeEvent = struct_from_fields("SpikeEvent", formats.SPIKE_FIELDS)
#: One memory word: ``SYNAPSES_PER_WORD`` synapses, synapse ``k`` at bits ``64k .. 64k+63``.
MemoryWord = data.ArrayLayout(SynapseWord, formats.SYNAPSES_PER_WORD)
#: Width of a memory word in bits.
MEMORY_WORD_BITS = 8 * formats.MEMORY_WORD_BYTES

"""neuroaix.engine._kernels: the kernels decode synapse words exactly as neuroaix.formats."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from neuroaix import formats
from neuroaix.engine import _kernels as _k

pytestmark = pytest.mark.backend_independent


def _edge_words():
    """Every combination of each field's extremes (and a few inner values)."""
    target, weight, delay = np.meshgrid(
        [0, 1, formats.MAX_LOCAL_TARGETS // 2, formats.MAX_LOCAL_TARGETS - 1],
        [-(1 << 31), -(1 << 31) + 1, -1, 0, 1, (1 << 30), (1 << 31) - 1],
        [1, 2, formats.MAX_DELAY_STEPS // 2 + 1, formats.MAX_DELAY_STEPS], indexing="ij")
    return formats.pack_synapses(target.ravel(), weight.ravel(), delay.ravel())


@pytest.mark.parametrize("words", [
    np.random.default_rng(13).integers(0, 1 << 64, 200_000, dtype=np.uint64, endpoint=False),
    _edge_words(),
    np.array([0, (1 << 64) - 1, 1 << 63, (1 << 63) - 1, 1 << 31, (1 << 32) - 1], np.uint64),
], ids=["random", "field-extremes", "bit-patterns"])
def test_kernel_decoding_equals_formats(words):
    target, weight, delay = formats.unpack_synapses(words)
    got = _k._decode_synapses(words)
    np.testing.assert_array_equal(got[0], target)
    np.testing.assert_array_equal(got[1], weight)
    np.testing.assert_array_equal(got[2], delay)


def test_edge_words_round_trip():
    target, weight, delay = formats.unpack_synapses(_edge_words())
    assert target.max() == formats.MAX_LOCAL_TARGETS - 1 and delay.max() == 255
    assert weight.min() == -(1 << 31) and weight.max() == (1 << 31) - 1


def test_a_changed_layout_stops_the_stale_kernels():
    """The kernels' cache is keyed on their file: a layout change must edit the stamp."""
    script = textwrap.dedent("""
        from neuroaix import formats
        formats.SYNAPSE_FIELDS = (formats.Field("weight", 0, 32, True),
                                  formats.Field("target", 32, 20, False),
                                  formats.Field("delay", 52, 12, False))
        import neuroaix.engine._kernels
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.returncode == 1
    assert "ImportError: neuroaix.formats.SYNAPSE_FIELDS is (Field(name='weight'" in out.stderr
    assert "set _LAYOUT_STAMP in neuroaix/engine/_kernels.py" in out.stderr

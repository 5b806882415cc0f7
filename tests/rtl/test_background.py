# amaranth: UnusedElaboratable=no
"""The background unit against the test vectors and ``neuroaix.numerics`` (amaranth.sim)."""

import json
import pathlib

import numpy as np
import pytest
from neuroaix.rtl.hw.background import LATENCY, BackgroundUnit

from neuroaix import numerics

from tests.rtl._stream import run_tagged

VECTORS = json.loads((pathlib.Path(__file__).parents[1] / "data" / "numerics_vectors.json")
                     .read_text())
_ZERO_TABLE = [1 << 32] * numerics.POISSON_TABLE_LEN


def _run(beats, *, ready_pattern=(1,), valid_pattern=(1,)):
    """Push beats (dicts of background_in_layout) through the unit; return outputs, cycles."""
    return run_tagged(BackgroundUnit(tag_shape=16), beats,
                      lambda p: (p.state, p.u, p.count, p.in_ex, p.in_in, p.saturated),
                      ready_pattern=ready_pattern, valid_pattern=valid_pattern)


def _beat(state, table, weight, exc=0, inh=0, enable=1):
    return {"state": state, "enable": enable, "table": list(table), "weight": weight,
            "exc": exc, "inh": inh}


def _expected(beat):
    """The engine's background phase on one neuron, from ``neuroaix.numerics``."""
    if not beat["enable"]:
        return (beat["state"], 0, 0, beat["exc"], beat["inh"], 0)
    state, u = numerics.xorshift64star(beat["state"])
    count = numerics.poisson_count(u, tuple(beat["table"]))
    bg = count * beat["weight"]
    ex, inh, sat = beat["exc"], beat["inh"], False
    if bg >= 0:
        ex, sat = numerics.saturate(ex + bg)
    else:
        inh, sat = numerics.saturate(inh + bg)
    return (state, u, count, ex, inh, int(sat))


@pytest.mark.parametrize("vec", range(len(VECTORS["xorshift64star"])))
def test_xorshift_vectors(vec):
    v = VECTORS["xorshift64star"][vec]
    assert v["state0"] == numerics.background_seed(v["seed"], v["gid"])
    state, beats, want = v["state0"], [], []
    for new_state, u in v["draws"]:
        beats.append(_beat(state, _ZERO_TABLE, 7))
        want.append((new_state, u, 0, 0, 0, 0))
        state = new_state
    got, _ = _run(beats)
    assert got == want


@pytest.mark.parametrize("lam", list(VECTORS["poisson"]))
def test_poisson_vectors(lam):
    """The vectors' tables, and the comparator on 200 draws, against numerics."""
    entry = VECTORS["poisson"][lam]
    table = entry["table"]
    assert tuple(table) == numerics.poisson_table(float(lam))
    # No state can be chosen to draw a given u: the listed (u, count) pairs hold for
    # numerics, and the unit must equal numerics on 200 draws of a generator.
    for u, count in entry["counts"]:
        assert numerics.poisson_count(u, tuple(table)) == count
    state = numerics.background_seed(1, int(float(lam) * 10))
    beats = []
    for _ in range(200):
        beats.append(_beat(state, table, -3000, exc=5, inh=-7))
        state, _ = numerics.xorshift64star(state)
    got, _ = _run(beats)
    assert got == [_expected(b) for b in beats]
    if float(lam) > 1:
        assert len({g[2] for g in got}) > 3


def test_saturation_both_channels_and_disabled_neurons():
    table = numerics.poisson_table(7.5)
    rng = np.random.default_rng(4)
    beats = []
    for k in range(120):
        w = int(rng.choice([numerics.INT32_MAX, numerics.INT32_MIN, 1 << 28, -(1 << 28), 0]))
        beats.append(_beat(int(rng.integers(1, 1 << 63)), table, w,
                           exc=int(rng.integers(-(1 << 31), 1 << 31)),
                           inh=int(rng.integers(-(1 << 31), 1 << 31)), enable=int(k % 5 != 0)))
    got, _ = _run(beats, ready_pattern=(1, 0, 1, 1, 0), valid_pattern=(1, 1, 1, 0))
    want = [_expected(b) for b in beats]
    assert got == want
    assert sum(w[5] for w in want) > 10


def test_one_neuron_per_clock():
    table = numerics.poisson_table(1.2)
    beats = [_beat(numerics.background_seed(2, g), table, 100) for g in range(20)]
    _, cycles = _run(beats)
    assert cycles == list(range(LATENCY, LATENCY + 20))

# amaranth: UnusedElaboratable=no
"""The neuron-update unit against the test vectors and ``numerics.lif_update`` (amaranth.sim)."""

import json
import pathlib

import numpy as np
import pytest
from neuroaix.rtl.hw.neuron_update import LATENCY, NeuronUpdate

from neuroaix import numerics

from tests.rtl._stream import run_tagged

VECTORS = json.loads((pathlib.Path(__file__).parents[1] / "data" / "numerics_vectors.json")
                     .read_text())["lif_update"]


def _lane(state, in_ex, in_in, coef):
    v, i_ex, i_in, ref = state
    return {"v": v, "i_ex": i_ex, "i_in": i_in, "ref": ref, "in_ex": in_ex, "in_in": in_in,
            "coef": dict(coef)}


def _run(cases, *, cores, ready_pattern=(1,), valid_pattern=(1,)):
    """Push ``cases`` (state, in_ex, in_in, coef) through the unit; return outputs in order."""
    dut = NeuronUpdate(cores=cores, tag_shape=16)
    beats = [cases[k:k + cores] for k in range(0, len(cases), cores)]
    payloads = [{"lanes": [_lane(*c) for c in beat] + [_lane(*beat[0])] * (cores - len(beat))}
                for beat in beats]
    out, cycles = run_tagged(
        dut, payloads,
        lambda p: [(lane.v, lane.i_ex, lane.i_in, lane.ref, lane.spiked, lane.saturations)
                   for lane in p.lanes],
        ready_pattern=ready_pattern, valid_pattern=valid_pattern)
    flat = [lane for beat in out for lane in beat][:len(cases)]
    return flat, cycles


def _expected(cases):
    out = []
    for state, in_ex, in_in, coef in cases:
        s, spiked, sat = numerics.lif_update(numerics.LIFState(*state), in_ex, in_in,
                                             numerics.LIFCoefficients(**coef))
        out.append((*s, int(spiked), sat))
    return out


def _vector_cases(group):
    return [(tuple(c["state"]), c["in_ex"], c["in_in"], group["coefficients"])
            for c in group["cases"]]


@pytest.mark.parametrize("group", range(len(VECTORS)), ids=[g["name"] for g in VECTORS])
def test_vectors(group):
    g = VECTORS[group]
    got, _ = _run(_vector_cases(g), cores=1)
    want = [(*c["out"], int(c["spiked"]), c["saturations"]) for c in g["cases"]]
    assert got == want
    assert got == _expected(_vector_cases(g))


def test_one_neuron_per_clock_per_core_and_latency():
    cases = _vector_cases(VECTORS[0])[:64]
    got, cycles = _run(cases, cores=4)
    assert got == _expected(cases)
    # 16 beats of 4 neurons offered from cycle 0: out at LATENCY, then one beat per clock.
    assert cycles == list(range(LATENCY, LATENCY + 16))


def test_backpressure_and_idle_keep_order_and_values():
    rng = np.random.default_rng(3)
    coef = VECTORS[1]["coefficients"]
    cases = []
    for _ in range(150):
        state = (int(rng.integers(-(1 << 31), 1 << 31)), int(rng.integers(-(1 << 31), 1 << 31)),
                 int(rng.integers(-(1 << 31), 1 << 31)), int(rng.integers(0, 3)))
        cases.append((state, int(rng.integers(-(1 << 31), 1 << 31)),
                      int(rng.integers(-(1 << 31), 1 << 31)), coef))
    got, _ = _run(cases, cores=3, ready_pattern=(1, 0, 1, 1, 0), valid_pattern=(1, 1, 1, 0))
    want = _expected(cases)
    assert got == want
    assert any(w[5] for w in want) and any(w[4] for w in want)


@pytest.mark.parametrize("cores, exc, match", [
    (0, ValueError, r"^cores must lie in \[1, 64\], not 0; use 1 to 64 lanes$"),
    (1.0, TypeError, r"^cores must be an integer, not 1\.0$"),
])
def test_bad_cores(cores, exc, match):
    with pytest.raises(exc, match=match):
        NeuronUpdate(cores=cores)

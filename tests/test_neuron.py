"""neuroaix.neuron: parameter validation, propagators and quantisation."""

import math

import pytest

from neuroaix import LIF
from neuroaix import numerics as nx
from neuroaix.neuron import propagator_32, propagators

pytestmark = pytest.mark.backend_independent


def _closed_form_p21(tau_s, tau, c, h):
    """V(h) for V(0)=0, I(0)=1 pA: (1/C) tau tau_s/(tau - tau_s) (e^-h/tau - e^-h/tau_s)."""
    return tau * tau_s / (c * (tau - tau_s)) * (math.exp(-h / tau) - math.exp(-h / tau_s))


@pytest.mark.parametrize("tau_s,tau", [(0.5, 10.0), (2.0, 20.0), (8.0, 5.0), (0.1, 0.3)])
def test_propagator_matches_closed_form(tau_s, tau):
    got = propagator_32(tau_s, tau, 250.0, 0.1)
    assert got == pytest.approx(_closed_form_p21(tau_s, tau, 250.0, 0.1), rel=1e-12)


def test_propagator_limit_when_time_constants_are_equal():
    h, c, tau = 0.1, 250.0, 10.0
    assert propagator_32(tau, tau, c, h) == h / c * math.exp(-h / tau)
    near = propagator_32(tau * (1 + 1e-9), tau, c, h)
    assert near == pytest.approx(h / c * math.exp(-h / tau), rel=1e-6)


def test_propagators_of_the_microcircuit_neuron():
    p = propagators(LIF(), 0.1)
    assert p["p22"] == math.exp(-0.01)
    assert p["p11ex"] == math.exp(-0.2)
    assert p["p20"] == pytest.approx(10.0 / 250.0 * (1 - math.exp(-0.01)), rel=1e-15)


def test_quantise_rounds_each_propagator_once():
    lif = LIF()
    coef = lif.quantise(0.1)
    p = propagators(lif, 0.1)
    assert coef.p22 == math.floor(p["p22"] * 2**30 + 0.5)
    assert coef.p21ex == math.floor(p["p21ex"] * 16 * 2**30 + 0.5)
    assert coef.theta == 15 * 2**16 and coef.v_reset == 0 and coef.ref_steps == 20


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"C_m": 0.0}, r"^C_m must be > 0 pF, not 0\.0$"),
        ({"tau_m": -1.0}, r"^tau_m must be > 0 ms, not -1\.0$"),
        ({"tau_syn_in": 0}, r"^tau_syn_in must be > 0 ms, not 0$"),
        ({"t_ref": -0.5}, r"^t_ref must be >= 0 ms, not -0\.5$"),
        ({"V_reset": -40.0}, r"^V_reset must be below V_th, not V_reset=-40\.0 >= V_th=-50\.0"),
        ({"V_th": math.inf}, r"^LIF parameter V_th must be finite, not inf$"),
        ({"V_th": 40000.0}, r"^V_th - E_L = 40065\.0 mV does not fit the V format"),
        ({"I_e": 1e6}, r"^I_e=1000000\.0 pA does not fit the I format"),
    ],
)
def test_invalid_parameters_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        LIF(**kwargs)


def test_wrong_type_is_a_type_error():
    with pytest.raises(TypeError, match=r"^LIF parameter C_m must be a number, not '250'$"):
        LIF(C_m="250")


def test_capacitance_too_small_for_the_coefficient_format():
    with pytest.raises(ValueError, match=r"^C_m=1\.0 pF is too small for dt=0\.1 ms"):
        LIF(C_m=1.0).quantise(0.1)


def test_refractory_period_too_long_for_its_counter():
    with pytest.raises(ValueError, match=r"t_ref=10000\.0 ms is 100000 steps"):
        LIF(t_ref=10_000.0).quantise(0.1)


def test_quantised_constants_fit_their_formats():
    coef = LIF(C_m=2.0, tau_m=1.0).quantise(0.1)
    for name in ("p22", "p11ex", "p11in", "p21ex", "p21in", "p20"):
        assert -(2**30) < getattr(coef, name) < 2**30
    assert isinstance(coef, nx.LIFCoefficients)


def test_realised_parameters_are_the_quantised_ones():
    from neuroaix.neuron import LIFAlpha, LIFDelta, realised_parameters

    for model in (LIF(V_th=-49.99999, t_ref=2.03, I_e=0.1), LIFAlpha(V_th=-49.99999),
                  LIFDelta(V_th=-49.99999, t_ref=2.03, I_e=0.1)):
        got = realised_parameters(model, 0.1)
        assert set(got) == {f for f in type(model).__dataclass_fields__}
        assert got["V_th"] != model.V_th and abs(got["V_th"] - model.V_th) <= 2.0 ** -17
        assert got["C_m"] == model.C_m and got["E_L"] == model.E_L
        if model.I_e:
            assert got["I_e"] == 410 / 4096 and got["t_ref"] == 20 * 0.1

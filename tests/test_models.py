"""Tests of neuroaix.models: the Potjans-Diesmann microcircuit and Brunel's network."""

import math

import numpy as np
import pytest

from neuroaix import models
from neuroaix import numerics as nx
from neuroaix.distributions import Normal
from neuroaix.neuron import LIF


def test_psp_to_psc_gives_the_example_value():
    assert round(models.psp_to_psc(0.15, 250.0, 10.0, 0.5), 2) == 87.81
    # the PSP of that current, integrated exactly, peaks at 0.15 mV
    j = models.psp_to_psc(0.15, 250.0, 10.0, 0.5)
    t = np.linspace(0, 10, 100001)
    v = j * 10 * 0.5 / (250 * 9.5) * (np.exp(-t / 10) - np.exp(-t / 0.5))
    assert v.max() == pytest.approx(0.15, rel=1e-8)


def test_full_scale_synapse_numbers():
    k = models.full_scale_synapses()
    n = np.array(models.FULL_SIZES, float)
    c = np.array(models.CONN_PROBS)
    assert k[0, 0] == pytest.approx(math.log(1 - 0.1009) / math.log(1 - 1 / (20683.0**2)))
    prod = np.outer(n, n)
    np.testing.assert_array_equal(k, np.log(1 - c) / np.log((prod - 1) / prod))
    assert np.allclose(k, np.log1p(-c) / np.log1p(-1 / np.outer(n, n)), rtol=1e-7)
    assert 2.98e8 < k.sum() < 3.0e8  # ~2.99e8 (Potjans & Diesmann 2014)
    assert (k.sum() / n.sum()) == pytest.approx(3873, abs=1)  # mean in-degree


def test_microcircuit_synapse_count_per_projection_equals_the_formula():
    scale = 0.02
    net = models.microcircuit(scale)
    expected = np.round(models.full_scale_synapses() * scale).astype(np.int64)
    built = net.build(2, threads=2)
    src, tgt, w, d = built.synapses()
    starts = np.array([s for _, s, _ in built.populations])
    ps, pt = np.searchsorted(starts, src, "right") - 1, np.searchsorted(starts, tgt, "right") - 1
    counts = np.zeros((8, 8), np.int64)
    np.add.at(counts, (pt, ps), 1)
    np.testing.assert_array_equal(counts, expected)
    assert [hi - lo for _, lo, hi in built.populations] == \
        [round(n * scale) for n in models.FULL_SIZES]
    # inhibitory sources have negative weights and shorter delays; L4E->L23E is doubled
    inh = ps % 2 == 1
    assert np.all(w[inh] < 0) and np.all(w[~inh] >= 0)
    assert d[inh].mean() < d[~inh].mean()
    m = (pt == 0) & (ps == 2)
    m0 = (pt == 0) & (ps == 0)
    assert w[m].mean() / w[m0].mean() == pytest.approx(2.0, rel=0.02)


def test_microcircuit_parameters():
    net = models.microcircuit(0.01)
    assert [p.name for p in net.populations] == list(models.POPULATIONS)
    psc = models.psp_to_psc(0.15, 250.0, 10.0, 0.5)
    pr = net.projections[0]  # L23E -> L23E
    assert pr.rule == "fixed_total_number" and pr.allow_autapses and pr.allow_multapses
    assert pr.weight == Normal(psc, psc * 0.1, low=0.0)
    assert pr.delay == Normal(1.5, 0.75, low=0.05)
    inh = net.projections[1]  # L23I -> L23E
    assert inh.weight == Normal(-4 * psc, 4 * psc * 0.1, high=0.0)
    assert inh.delay == Normal(0.75, 0.375, low=0.05)
    assert net.poisson[0] == (8.0, 1600, psc) and net.dc == {}
    p0 = net.populations[0]
    assert p0.v_init == Normal(-68.28, 5.36) and p0.model == LIF()
    assert net.populations[7].v_init == Normal(-61.43, 4.48)


def test_microcircuit_dc_input():
    net = models.microcircuit(0.01, input="dc")
    psc = models.psp_to_psc(0.15, 250.0, 10.0, 0.5)
    assert net.poisson == {}
    for i, k in enumerate(models.K_EXT):
        assert net.dc[i] == pytest.approx(k * 8.0 * psc * 0.5 * 1e-3, rel=1e-12)
    built = net.build(1)
    assert not built.has_poisson.any()
    l23e = LIF(I_e=1600 * 8.0 * psc * 0.5 * 1e-3)
    assert tuple(built.coefficients[0]) == tuple(l23e.quantise(0.1))


def test_microcircuit_k_scale_compensation():
    k = 0.25
    net = models.microcircuit(0.01, k_scale=k)
    full = models.microcircuit(0.01)
    psc = models.psp_to_psc(0.15, 250.0, 10.0, 0.5)
    assert net.projections[0].weight.mean == pytest.approx(psc / math.sqrt(k))
    rate, indeg, w = net.poisson[0]
    assert (rate, indeg) == (8.0, 400) and w == pytest.approx(psc / math.sqrt(k))
    # DC = 1e-3 tau_syn (1 - sqrt(k)) * (recurrent input at full rates + external input)
    kk = models.full_scale_synapses() / np.array(models.FULL_SIZES)[:, None]
    wm = np.full((8, 8), psc)
    wm[:, 1::2] *= -4
    wm[0, 2] *= 2
    rec = (wm * kk * np.array(models.FULL_MEAN_RATES)).sum(axis=1)
    ext = psc * np.array(models.K_EXT) * 8.0
    expect = 1e-3 * 0.5 * (1 - math.sqrt(k)) * (rec + ext)
    for i in range(8):
        assert net.dc[i] == pytest.approx(expect[i], rel=1e-12)
    ratio = net.projections[0].value / full.projections[0].value
    assert ratio == pytest.approx(k, rel=0.05)


def test_brunel_parameters():
    net = models.brunel(scale=0.2, g=5.0, eta=2.0)
    e, i = net.populations
    assert (e.size, i.size) == (2000, 500)
    assert e.model == LIF(C_m=250.0, tau_m=20.0, tau_syn_ex=0.5, tau_syn_in=0.5, t_ref=2.0,
                          E_L=0.0, V_th=20.0, V_reset=10.0)
    j = models.psp_to_psc(0.1, 250.0, 20.0, 0.5)
    assert [(p.rule, p.value, p.weight.mean, p.delay.mean) for p in net.projections] == [
        ("fixed_indegree", 1000, j, 1.5), ("fixed_indegree", 250, -5 * j, 1.5),
        ("fixed_indegree", 1000, j, 1.5), ("fixed_indegree", 250, -5 * j, 1.5)]
    rate, k, w = net.poisson[0]
    nu_thr = 20.0 * 250.0 / (j * 0.5e-3 * 1000 * 20.0)
    assert (k, w) == (1000, j) and rate == pytest.approx(2.0 * nu_thr)
    # the external drive alone: mean V = eta * theta
    assert rate * k * j * 0.5e-3 * 20.0 / 250.0 == pytest.approx(2.0 * 20.0)
    built = net.build(1)
    assert built.n_synapses == 2500 * 1250  # full-scale in-degrees at scale 0.2
    assert np.all(built.v0 <= nx.mv_to_fixed(19.9))  # redrawn below threshold
    assert abs(built.v0.mean() / 2**16 - Normal(10.0, 5.0, high=19.9).moments()[0]) < 0.5


def test_model_argument_errors():
    with pytest.raises(ValueError, match=r"^scale must lie in \(0, 1\], not 0; e\.g\. scale=0\.1$"):
        models.microcircuit(0)
    with pytest.raises(ValueError, match=r"^input must be one of 'poisson', 'dc', not 'DC'; "
                                         r"did you mean 'dc'\?$"):
        models.microcircuit(0.1, input="DC")
    with pytest.raises(ValueError, match=r"^g must be >= 0, not -1$"):
        models.brunel(0.1, g=-1)
    with pytest.raises(ValueError, match=r"^eta must be finite, not inf$"):
        models.brunel(0.1, eta=float("inf"))
    with pytest.raises(TypeError, match=r"^J must be a number in mV, not '0\.1'$"):
        models.brunel(0.1, J="0.1")
    with pytest.raises(ValueError, match=r"^epsilon must lie in \(0, 1\], not 0$"):
        models.brunel(0.1, epsilon=0)


# Models by name ------------------------------------------------------------------------------


def _same_network(a, b):
    assert (a.dt, a.seed, a.scale_hint) == (b.dt, b.seed, b.scale_hint)
    assert [(p.name, p.size, p.model, p.v_init) for p in a.populations] == \
        [(p.name, p.size, p.model, p.v_init) for p in b.populations]
    assert [(r.rule, r.value, r.weight, r.delay) for r in a.projections] == \
        [(r.rule, r.value, r.weight, r.delay) for r in b.projections]
    assert (a.poisson, a.dc) == (b.poisson, b.dc)


def test_build_by_name_is_the_model_function():
    _same_network(models.build("brunel", scale=0.05, seed=4), models.brunel(0.05, seed=4))
    _same_network(models.build("microcircuit", scale=0.01, k_scale=0.5, input="dc", seed=2),
                  models.microcircuit(0.01, 0.5, "dc", seed=2))
    _same_network(models.build("microcircuit", scale=0.01), models.microcircuit(0.01))
    assert models.MODELS == ("microcircuit", "brunel")


def test_build_takes_the_callers_defaults_for_what_is_left_out():
    defaults = {"microcircuit": {"scale": 0.01, "k_scale": 0.5, "input": "dc"},
                "brunel": {"scale": 0.05}}
    _same_network(models.build("microcircuit", seed=3, defaults=defaults),
                  models.microcircuit(0.01, 0.5, "dc", seed=3))
    _same_network(models.build("microcircuit", scale=0.02, input="poisson", defaults=defaults),
                  models.microcircuit(0.02, 0.5, "poisson"))
    _same_network(models.build("brunel", defaults=defaults), models.brunel(0.05))


def test_build_refuses_what_the_model_does_not_have():
    with pytest.raises(ValueError, match=r"^k_scale=0\.5 does not apply to the brunel model "
                                         r"\(its parameters: scale\); leave k_scale out$"):
        models.build("brunel", k_scale=0.5)
    with pytest.raises(ValueError, match=r"^input='dc' does not apply to the brunel model"):
        models.build("brunel", input="dc")
    with pytest.raises(ValueError, match=r"^model must be one of 'microcircuit', 'brunel', not "
                                         r"'microcircut'; did you mean 'microcircuit'\?$"):
        models.build("microcircut")
    with pytest.raises(ValueError, match=r"^scale must lie in \(0, 1\], not 2\.0"):
        models.build("brunel", scale=2.0)


def test_every_command_offers_the_models_of_build():
    from neuroaix.commands import run
    from neuroaix.emulator import workload

    assert tuple(run.DEFAULTS) == models.MODELS == tuple(workload.DEFAULTS)
    for table in (run.DEFAULTS, workload.DEFAULTS):
        for name, values in table.items():
            assert set(values) <= set(models.MODEL_PARAMETERS[name])


def test_run_refuses_flags_that_do_not_apply(tmp_path, capsys):
    from neuroaix.cli import main

    out = str(tmp_path / "r")
    assert main(["run", "brunel", "--scale", "0.01", "--k-scale", "0.5", "--out", out]) == 2
    assert "k_scale=0.5 does not apply to the brunel model" in capsys.readouterr().err
    assert main(["run", "brunel", "--scale", "0.01", "--input", "dc", "--out", out]) == 2
    assert "input='dc' does not apply to the brunel model" in capsys.readouterr().err
    assert not (tmp_path / "r" / "summary.json").exists()

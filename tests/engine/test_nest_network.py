"""A recurrent network in NEST 3.10 and in the engine, with identical connectivity.

The engine's built network (one partition) is copied synapse by synapse into NEST: the same
neurons, initial potentials, quantised weights (converted back to pA, exact in float64) and
delays in steps, with a DC drive instead of Poisson input (the generators differ by design).
The two rasters must then be identical, except where NEST's float64 potential lies within
the fixed-point error bound of the threshold (docs/numerics.md, section 6). A DC-driven
neuron approaches threshold slowly (about 18 uV per step), so such a case occurs within a
second here; as it spreads through the recurrent synapses, the rasters are compared up to
the first disagreement, which must be of that kind.

Runs in the NEST environment of ``make test`` (tests/_nest.py); skipped elsewhere.
"""

import numba
import numpy as np
import pytest

from neuroaix import LIF, Network, Normal
from neuroaix import numerics as nx
from neuroaix.engine import Simulator
from neuroaix.formats import unpack_synapses
from neuroaix.neuron import propagators
from neuroaix.reference import error_bound_mv
from tests._nest import import_nest

nest = import_nest()

pytestmark = pytest.mark.nest

# NEST's OpenMP runtime and Numba's OpenMP threading layer cannot share a process (NEST
# crashes in its next call after a parallel Numba kernel ran); Numba's own workqueue layer
# can. The layer only schedules chunks: the engine's raster does not depend on it.
numba.config.THREADING_LAYER = "workqueue"

DT = 0.1


def _network(seed: int) -> Network:
    """A small E-I network driven above threshold by DC, desynchronised by V0 and delays."""
    net = Network(dt=DT, seed=seed)
    model = LIF(I_e=420.0)  # V_inf = 16.8 mV above rest, threshold 15 mV: regular firing
    exc = net.add_population("E", 160, model, v_init=Normal(-60.0, 4.0))
    inh = net.add_population("I", 40, model, v_init=Normal(-60.0, 4.0))
    for post in (exc, inh):
        net.connect(exc, post, "fixed_indegree", indegree=16,
                    weight=Normal(90.0, 20.0, low=0.0), delay=Normal(1.5, 0.7, low=0.1))
        net.connect(inh, post, "fixed_indegree", indegree=4,
                    weight=Normal(-360.0, 60.0, high=0.0), delay=Normal(0.8, 0.4, low=0.1))
    return net


def _nest_raster(built, net: Network, t_ms: float):
    """Copy ``built`` (one partition) into NEST, simulate ``t_ms``; return sorted raster."""
    nest.ResetKernel()
    nest.verbosity = nest.VerbosityLevel.ERROR
    nest.resolution = DT
    nodes = None
    for pop in net.populations:
        m = pop.model
        c = nest.Create("iaf_psc_exp", pop.size, params={
            "C_m": m.C_m, "tau_m": m.tau_m, "tau_syn_ex": m.tau_syn_ex,
            "tau_syn_in": m.tau_syn_in, "t_ref": m.t_ref, "E_L": m.E_L, "V_th": m.V_th,
            "V_reset": m.V_reset, "I_e": nx.fixed_to_pa(nx.pa_to_fixed(m.I_e))})
        v0 = built.v0[pop.start:pop.stop].astype(np.float64) / (1 << nx.V_FRAC_BITS)
        c.V_m = list(m.E_L + v0)
        nodes = c if nodes is None else nodes + c
    part = built.partitions[0]
    counts = np.diff(part.row_ptr)
    source = np.repeat(np.arange(built.n_neurons), counts)
    target, weight, delay = unpack_synapses(part.words)
    first = nodes[0].global_id
    nest.Connect(source + first, target.astype(np.int64) + first, "one_to_one",
                 {"weight": weight / float(1 << nx.I_FRAC_BITS), "delay": delay * DT})
    rec = nest.Create("spike_recorder")
    nest.Connect(nodes, rec)
    mm = nest.Create("multimeter", params={"record_from": ["V_m", "I_syn_ex", "I_syn_in"],
                                           "interval": DT})
    nest.Connect(mm, nodes)
    # Spikes reach the recorder after the minimum delay: simulate beyond t_ms, then cut.
    nest.Simulate(t_ms + 5.0)
    senders = np.asarray(rec.events["senders"], np.int64) - first
    steps = np.rint(np.asarray(rec.events["times"]) / DT).astype(np.int64) - 1
    n_steps = round(t_ms / DT)
    keep = steps < n_steps
    senders, steps = senders[keep], steps[keep]
    order = np.lexsort((senders, steps))
    # State at the end of every step, [step, neuron], potentials relative to E_L.
    ev = mm.events
    row = np.rint(np.asarray(ev["times"]) / DT).astype(np.int64) - 1
    col = np.asarray(ev["senders"], np.int64) - first
    ok = row < n_steps
    state = {}
    for key in ("V_m", "I_syn_ex", "I_syn_in"):
        a = np.full((n_steps, built.n_neurons), np.nan)
        a[row[ok], col[ok]] = np.asarray(ev[key])[ok]
        state[key] = a
    state["V_m"] -= net.populations[0].model.E_L
    return senders[order], steps[order], len(source), state


def _v_before_threshold(state, model: LIF, t: int, gid: int) -> float:
    """Return NEST's float64 potential of neuron ``gid`` in step ``t`` before the threshold."""
    p = propagators(model, DT)
    v, iex, iin = (state[k][t - 1, gid] for k in ("V_m", "I_syn_ex", "I_syn_in"))
    return p["p22"] * v + p["p21ex"] * iex + p["p21in"] * iin + p["p20"] * model.I_e


@pytest.mark.parametrize("seed", [1, 2])
def test_engine_raster_equals_nest(seed):
    net = _network(seed)
    built = net.build(partitions=1, threads=1)
    sim = Simulator(built, threads=1, progress=False)
    sim.simulate(1000.0)
    senders, steps = sim.spikes()
    order = np.lexsort((senders, steps))
    senders, steps = senders[order].astype(np.int64), steps[order].astype(np.int64)
    assert sim.counters["saturations"] == 0
    n_senders, n_steps, n_syn, state = _nest_raster(built, net, 1000.0)
    assert n_syn == built.n_synapses == 200 * 20
    assert len(senders) > 2000  # every neuron fires many times: recurrence matters
    engine = set(zip(steps.tolist(), senders.tolist()))
    nest_set = set(zip(n_steps.tolist(), n_senders.tolist()))
    differ = sorted(engine ^ nest_set)
    if not differ:
        print(f"seed {seed}: {len(senders)} spikes, rasters identical")
        return
    # A disagreement spreads through the recurrent synapses, so only the first one can be
    # judged: it must be near-threshold (docs/numerics.md, section 6), and everything
    # before it identical.
    t, gid = differ[0]
    model = net.populations[0].model
    v_pre = _v_before_threshold(state, model, t, gid)
    bound = error_bound_mv(model, DT, 5000.0, 20.0)
    theta = model.V_th - model.E_L
    before = steps < t
    print(f"seed {seed}: {int(before.sum())} spikes identical up to step {t}; first "
          f"disagreement neuron {gid}, NEST V - theta = {(v_pre - theta) * 1e6:.1f} nV, "
          f"bound {bound * 1e6:.0f} nV")
    assert abs(v_pre - theta) <= bound, (t, gid, v_pre, bound)
    assert before.sum() >= 50  # the recurrent dynamics agree spike for spike before it
    np.testing.assert_array_equal(steps[before], n_steps[n_steps < t])
    np.testing.assert_array_equal(senders[before], n_senders[n_steps < t])


def _models_network(seed: int) -> Network:
    """Spike sources, iaf_psc_alpha, iaf_psc_delta and iaf_psc_exp with step currents, all
    connected recurrently; driven by DC near threshold and by the sources."""
    from neuroaix.neuron import LIFAlpha, LIFDelta

    rng = np.random.default_rng(seed)
    net = Network(dt=DT, seed=seed)
    # distinct steps, each time off the grid by up to 0.04 ms (rounded to the step)
    src = net.add_spike_source("S", [rng.choice(np.arange(1, 5000), 60, replace=False) * DT
                                     + rng.uniform(-0.04, 0.04, 60) for _ in range(20)])
    exp = net.add_population("E", 30, LIF(I_e=330.0), v_init=Normal(-60.0, 4.0))
    alpha = net.add_population("A", 30, LIFAlpha(I_e=330.0, tau_syn_ex=1.0, tau_syn_in=2.0),
                               v_init=Normal(-60.0, 4.0))
    delta = net.add_population("D", 30, LIFDelta(I_e=330.0), v_init=Normal(-60.0, 4.0))
    for post, w in ((exp, 120.0), (alpha, 80.0), (delta, 0.6)):
        net.connect(src, post, "fixed_indegree", indegree=6, weight=Normal(w, 0.2 * w, low=0.0),
                    delay=Normal(1.0, 0.5, low=0.1))
        for pre in (exp, alpha, delta):
            sign = -2.0 if pre is delta else 1.0
            net.connect(pre, post, "fixed_indegree", indegree=3,
                        weight=Normal(sign * w, 0.2 * w), delay=Normal(1.5, 0.7, low=0.1))
    net.add_step_current(exp, [100.0, 250.03, 400.0], [60.0, -150.0, 0.0], neurons=range(10))
    net.add_step_current(alpha, [50.0], [40.0])
    net.add_step_current(delta, [150.0, 300.0], [-80.0, 30.0], neurons=[0, 5, 29])
    return net


def _nest_models_raster(built, net: Network, t_ms: float):
    """Copy the models network into NEST (spike_generator, step_current_generator, the three
    neuron models) and simulate; return the raster and V at the end of every step."""
    nest.ResetKernel()
    nest.verbosity = nest.VerbosityLevel.ERROR
    nest.resolution = DT
    ids = []
    for pop in net.populations:
        m = pop.model
        if m.kind == "spike_source_array":
            c = nest.Create("spike_generator", pop.size)
            c.set([{"spike_times": [round(nx.ms_to_steps(x, DT) * DT, 6) for x in train]}
                   for train in m.spike_times_ms])
        else:
            params = {f: getattr(m, f) for f in ("C_m", "tau_m", "tau_syn_ex", "tau_syn_in",
                                                 "t_ref", "E_L", "V_th", "V_reset")
                      if hasattr(m, f)}
            c = nest.Create(m.kind, pop.size, params={
                **params, "I_e": nx.fixed_to_pa(nx.pa_to_fixed(m.I_e))})
            v0 = built.v0[pop.start:pop.stop].astype(np.float64) / (1 << nx.V_FRAC_BITS)
            c.V_m = list(m.E_L + v0)
        ids += c.tolist()
    ids = np.array(ids, np.int64)
    part = built.partitions[0]
    source = np.repeat(np.arange(built.n_neurons), np.diff(part.row_ptr))
    target, weight, delay = unpack_synapses(part.words)
    for s, t, w, d in zip(ids[source], ids[target.astype(np.int64)], weight, delay):
        nest.Connect(nest.NodeCollection([int(s)]), nest.NodeCollection([int(t)]),
                     syn_spec={"weight": w / float(1 << nx.I_FRAC_BITS), "delay": d * DT})
    for k, times, amps, idx in net.step_currents:
        pop = net.populations[k]
        gen = nest.Create("step_current_generator", params={
            "amplitude_times": [round(nx.ms_to_steps(x, DT) * DT, 6) for x in times],
            "amplitude_values": [nx.fixed_to_pa(nx.pa_to_fixed(a)) for a in amps]})
        local = range(pop.size) if idx is None else idx
        nest.Connect(gen, nest.NodeCollection(sorted(int(ids[pop.start + i]) for i in local)),
                     syn_spec={"delay": DT})
    neurons = nest.NodeCollection(ids[net.populations[1].start:].tolist())
    rec = nest.Create("spike_recorder")
    nest.Connect(nest.NodeCollection(ids.tolist()), rec)
    mm = nest.Create("multimeter", params={"record_from": ["V_m"], "interval": DT})
    nest.Connect(mm, neurons)
    nest.Simulate(t_ms + 5.0)
    lookup = {int(g): i for i, g in enumerate(ids)}
    senders = np.array([lookup[int(g)] for g in rec.events["senders"]], np.int64)
    steps = np.rint(np.asarray(rec.events["times"]) / DT).astype(np.int64) - 1
    n_steps = round(t_ms / DT)
    keep = steps < n_steps
    senders, steps = senders[keep], steps[keep]
    order = np.lexsort((senders, steps))
    row = np.rint(np.asarray(mm.events["times"]) / DT).astype(np.int64) - 1
    col = np.array([lookup[int(g)] for g in mm.events["senders"]], np.int64)
    ok = row < n_steps
    v = np.full((n_steps, built.n_neurons), np.nan)
    e_l = np.array([getattr(net.populations[k].model, "E_L", 0.0) for k in built.pop_of])
    v[row[ok], col[ok]] = np.asarray(mm.events["V_m"])[ok] - e_l[col[ok]]
    return senders[order], steps[order], v


@pytest.mark.parametrize("seed", [1, 2])
def test_models_and_inputs_equal_nest(seed):
    """Spike sources, alpha and delta neurons and step currents through the engine and
    through NEST's spike_generator, iaf_psc_alpha, iaf_psc_delta and step_current_generator:
    identical rasters up to a first disagreement, which must be near threshold (the side
    that did not fire holds its pre-threshold potential, within the bound of theta)."""
    net = _models_network(seed)
    built = net.build(partitions=1, threads=1)
    n_steps = 5000
    sim = Simulator(built, threads=1, probes=range(built.n_neurons), progress=False)
    sim.run_steps(n_steps)
    senders, steps = sim.spikes()
    order = np.lexsort((senders, steps))
    senders, steps = senders[order].astype(np.int64), steps[order].astype(np.int64)
    assert sim.counters["saturations"] == 0
    n_senders, n_steps_, v_nest = _nest_models_raster(built, net, n_steps * DT)
    kinds = built.model_kind[built.pop_of[senders]]
    assert all((kinds == k).sum() > 100 for k in (0, 1, 2, 3)), np.bincount(kinds)
    engine = set(zip(steps.tolist(), senders.tolist()))
    nest_set = set(zip(n_steps_.tolist(), n_senders.tolist()))
    differ = sorted(engine ^ nest_set)
    if not differ:
        print(f"seed {seed}: {len(senders)} spikes ({np.bincount(kinds)} by model), "
              "rasters identical")
        return
    t, gid = differ[0]
    model = net.populations[int(built.pop_of[gid])].model
    bound = error_bound_mv(model, DT, 5000.0, 20.0, d_max_pa=5000.0,
                           i_drive_max_pa=1000.0)
    theta = model.V_th - model.E_L
    v_side = (sim.probes()["v_rel_mv"][gid, t] if (t, gid) in nest_set else v_nest[t, gid])
    before = steps < t
    print(f"seed {seed}: {int(before.sum())} spikes identical up to step {t}; first "
          f"disagreement neuron {gid} ({model.kind}), V - theta = "
          f"{(v_side - theta) * 1e6:.1f} nV, bound {bound * 1e6:.0f} nV")
    assert abs(v_side - theta) <= bound, (t, gid, v_side, bound)
    assert before.sum() >= 200
    np.testing.assert_array_equal(steps[before], n_steps_[n_steps_ < t])
    np.testing.assert_array_equal(senders[before], n_senders[n_steps_ < t])

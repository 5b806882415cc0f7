"""Reference networks: the Potjans-Diesmann (2014) microcircuit and Brunel's (2000) network.

Both return an unbuilt ``neuroaix.Network``; docs/networks.md states every parameter and each
choice made where the sources leave one open. ``build(name, ...)`` is the one way to make a
model by name (the command line, the emulator's workloads and the benchmarks use it); it
refuses a parameter the named model does not have.
"""

from __future__ import annotations

import math

import numpy as np

from neuroaix.checks import check_choice, check_number
from neuroaix.distributions import Normal
from neuroaix.network import Network
from neuroaix.neuron import LIF

__all__ = [
    "CONN_PROBS",
    "FULL_MEAN_RATES",
    "FULL_SIZES",
    "INPUTS",
    "K_EXT",
    "MODELS",
    "MODEL_PARAMETERS",
    "POPULATIONS",
    "V0_MEAN",
    "V0_STD",
    "brunel",
    "build",
    "full_scale_synapses",
    "microcircuit",
    "microcircuit_synapses",
    "psp_to_psc",
]

# Potjans-Diesmann microcircuit (as in NEST's PyNEST example) ---------------------------------

POPULATIONS = ("L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I")
FULL_SIZES = (20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948)
#: Connection probabilities, rows = target, columns = source (order of POPULATIONS).
CONN_PROBS = (
    (0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0.0, 0.0076, 0.0),
    (0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0.0, 0.0042, 0.0),
    (0.0077, 0.0059, 0.0497, 0.135, 0.0067, 0.0003, 0.0453, 0.0),
    (0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0.0, 0.1057, 0.0),
    (0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.0),
    (0.0548, 0.0269, 0.0257, 0.0022, 0.06, 0.3158, 0.0086, 0.0),
    (0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252),
    (0.0364, 0.001, 0.0034, 0.0005, 0.0277, 0.008, 0.0658, 0.1443),
)
#: External in-degrees (Poisson sources of BG_RATE each).
K_EXT = (1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100)
BG_RATE = 8.0
#: Background inputs of the microcircuit: Poisson sources, or their mean as a DC current.
INPUTS = ("poisson", "dc")
#: Full-scale mean rates (Hz) used by the example's DC compensation when k_scale < 1.
FULL_MEAN_RATES = (0.943, 3.026, 4.368, 5.882, 7.733, 8.664, 1.096, 7.851)
#: 'optimized' initial potentials (mV).
V0_MEAN = (-68.28, -63.16, -63.33, -63.45, -63.11, -61.66, -66.72, -61.43)
V0_STD = (5.36, 4.57, 4.74, 4.94, 4.94, 4.55, 5.46, 4.48)
PSP_MEAN = 0.15
G = -4.0
WEIGHT_REL_STD = 0.1
DELAY_MEAN = (1.5, 0.75)  # excitatory, inhibitory source
DELAY_REL_STD = 0.5


def psp_to_psc(psp_mv: float, C_m: float, tau_m: float, tau_syn: float) -> float:
    """Return the PSC amplitude (pA) whose PSP in ``iaf_psc_exp`` peaks at ``psp_mv``.

    The PSP of a current ``J exp(-t/tau_syn)`` peaks at
    ``t* = ln(tau_m/tau_syn) tau_m tau_syn / (tau_m - tau_syn)`` with height
    ``J tau_m tau_syn / (C_m (tau_m - tau_syn)) (exp(-t*/tau_m) - exp(-t*/tau_syn))``.
    """
    if tau_m == tau_syn:
        raise ValueError(f"tau_syn must differ from tau_m, not both {tau_m!r} ms")
    t_peak = math.log(tau_m / tau_syn) * tau_m * tau_syn / (tau_m - tau_syn)
    unit = (tau_m * tau_syn / (C_m * (tau_m - tau_syn))
            * (math.exp(-t_peak / tau_m) - math.exp(-t_peak / tau_syn)))
    return psp_mv / unit


def full_scale_synapses() -> np.ndarray:
    """Return the full-scale synapse numbers ``K = ln(1-C) / ln(1 - 1/(N_pre N_post))``.

    Evaluated as NEST's example does, ``log(1 - C) / log((N_pre N_post - 1) / (N_pre
    N_post))`` in float64, so that the rounded counts at every scale agree with it exactly.
    """
    n = np.array(FULL_SIZES, dtype=np.float64)
    prod = np.outer(n, n)  # [target, source]
    c = np.array(CONN_PROBS, dtype=np.float64)
    return np.log(1.0 - c) / np.log((prod - 1.0) / prod)


def microcircuit_synapses(scale: float = 1.0, k_scale: float = 1.0) -> np.ndarray:
    """Return the int64 [target, source] synapse numbers at ``scale`` and ``k_scale``.

    ``round(K_full * scale * k_scale)``, as NEST's example (``np.round``, half to even).
    """
    return np.round(full_scale_synapses() * scale * k_scale).astype(np.int64)


def _check_scale(name: str, value) -> float:
    return check_number(name, value, low=0, high=1, low_open=True, fix=f"e.g. {name}=0.1")


def microcircuit(scale: float = 1.0, k_scale: float = 1.0, input: str = "poisson", *,
                 dt: float = 0.1, seed: int = 12345, weight_bits: int | None = None) -> Network:
    """Return the Potjans-Diesmann (2014) cortical microcircuit as in NEST's PyNEST example.

    Parameters
    ----------
    scale : float
        Neuron scaling: population sizes ``round(N_full * scale)``, in (0, 1].
    k_scale : float
        In-degree scaling, in (0, 1]. Below 1 the weights (recurrent and external) grow by
        ``1/sqrt(k_scale)`` and a DC current compensates the lost mean input
        (docs/networks.md), as the example does.
    input : {"poisson", "dc"}
        Background: ``K_ext`` Poisson sources of 8 Hz per neuron (weight 87.81 pA), or the
        DC current ``K_ext * 8 Hz * 87.81 pA * tau_syn * 1e-3`` with the same mean.
    dt : float
        Time step (ms).
    seed : int
        Network seed.
    weight_bits : int, optional
        Low-resolution weights (2**weight_bits levels per projection).
    """
    scale = _check_scale("scale", scale)
    k_scale = _check_scale("k_scale", k_scale)
    check_choice("input", input, INPUTS)
    model = LIF(C_m=250.0, tau_m=10.0, tau_syn_ex=0.5, tau_syn_in=0.5, t_ref=2.0, E_L=-65.0,
                V_th=-50.0, V_reset=-65.0)
    tau_syn = model.tau_syn_ex
    psc = psp_to_psc(PSP_MEAN, model.C_m, model.tau_m, tau_syn)
    w_mean = np.full((8, 8), psc)
    w_mean[:, 1::2] *= G
    w_mean[0, 2] *= 2.0  # L4E -> L23E doubled
    k_ext = np.array(K_EXT, dtype=np.float64)
    dc = np.zeros(8) if input == "poisson" else BG_RATE * k_ext * tau_syn * 1e-3 * psc
    w_ext = psc
    if k_scale != 1.0:
        full_k = full_scale_synapses()
        indeg = full_k / np.array(FULL_SIZES, dtype=np.float64)[:, None]
        input_rec = np.sum(w_mean * indeg * np.array(FULL_MEAN_RATES), axis=1)
        dc = dc + 1e-3 * tau_syn * (1.0 - math.sqrt(k_scale)) * input_rec
        if input == "poisson":
            dc = dc + 1e-3 * tau_syn * (1.0 - math.sqrt(k_scale)) * w_ext * k_ext * BG_RATE
        w_mean = w_mean / math.sqrt(k_scale)
        w_ext = w_ext / math.sqrt(k_scale)
    ext_indeg = np.round(k_ext * k_scale).astype(np.int64)
    syn = microcircuit_synapses(scale, k_scale)
    net = Network(dt=dt, seed=seed)
    net.scale_hint = (scale, 1.0)
    pops = []
    for i, name in enumerate(POPULATIONS):
        n = round(FULL_SIZES[i] * scale)
        pops.append(net.add_population(name, max(n, 1), model,
                                       v_init=Normal(V0_MEAN[i], V0_STD[i])))
    for i, post in enumerate(pops):
        for j, pre in enumerate(pops):
            if syn[i, j] <= 0:
                continue
            w = float(w_mean[i, j])
            bounds = {"low": 0.0} if w >= 0 else {"high": 0.0}
            d = DELAY_MEAN[j % 2]
            net.connect(pre, post, "fixed_total_number", n=int(syn[i, j]),
                        weight=Normal(w, abs(w) * WEIGHT_REL_STD, **bounds),
                        delay=Normal(d, d * DELAY_REL_STD, low=0.5 * dt),
                        weight_bits=weight_bits)
    for i, pop in enumerate(pops):
        if input == "poisson":
            net.add_poisson_input(pop, rate_hz=BG_RATE, indegree=int(ext_indeg[i]),
                                  weight=float(w_ext))
        if dc[i] != 0.0:
            net.add_dc_input(pop, amplitude_pa=float(dc[i]))
    return net


# Brunel (2000) -------------------------------------------------------------------------------


def brunel(scale: float = 1.0, g: float = 5.0, eta: float = 2.0, *, epsilon: float = 0.1,
           J: float = 0.1, delay: float = 1.5, dt: float = 0.1, seed: int = 12345,
           weight_bits: int | None = None) -> Network:
    """Return Brunel's (2000) sparse E-I network with exponential synaptic currents.

    ``N_E = round(10000 * scale)`` excitatory and ``N_I = round(2500 * scale)`` inhibitory
    ``iaf_psc_exp`` neurons (tau_m 20 ms, C_m 250 pF, tau_syn 0.5 ms, theta 20 mV, V_reset
    10 mV, t_ref 2 ms, E_L 0). Every neuron draws ``C_E = round(epsilon * 10000)`` excitatory
    and ``C_I = round(epsilon * 2500)`` inhibitory inputs (fixed_indegree, autapses and
    multapses allowed as in NEST's example) with delay ``delay``: the in-degrees of the full
    network at every scale, as the microcircuit's ``scale`` keeps its in-degrees, so that a
    smaller network stays in the same dynamical regime (with ``epsilon * N`` inputs at
    scale 0.2 the mean drive stays suprathreshold and the network fires regularly near
    70 Hz). The excitatory PSC ``J_ex`` gives a PSP peak of ``J`` mV; inhibitory weights are
    ``-g J_ex``. Each neuron receives Poisson input from ``C_E`` sources at
    ``eta * nu_thr``, where ``nu_thr = theta C_m / (J_ex tau_syn C_E tau_m)`` is the rate
    whose mean current alone brings V to threshold. Initial potentials are
    ``Normal(10 mV, 5 mV)`` redrawn below ``theta - 0.1 mV``.

    Parameters
    ----------
    scale : float
        Size scaling of both populations, in (0, 1]; in-degrees do not scale.
    g : float
        Relative inhibition, >= 0.
    eta : float
        External rate relative to nu_thr, >= 0.
    epsilon : float
        Connection probability of the full-scale network (in-degree fraction), in (0, 1].
    J : float
        Excitatory PSP peak (mV), > 0.
    delay : float
        Synaptic delay (ms).
    dt : float
        Time step (ms).
    seed : int
        Network seed.
    weight_bits : int, optional
        Low-resolution weights (no effect: the weights are constant per projection).
    """
    scale = _check_scale("scale", scale)
    for name, value in (("g", g), ("eta", eta)):
        check_number(name, value, low=0)
    check_number("epsilon", epsilon, low=0, high=1, low_open=True)
    check_number("J", J, low=0, low_open=True, unit="mV")
    model = LIF(C_m=250.0, tau_m=20.0, tau_syn_ex=0.5, tau_syn_in=0.5, t_ref=2.0, E_L=0.0,
                V_th=20.0, V_reset=10.0)
    n_e = max(1, round(10000 * scale))
    n_i = max(1, round(2500 * scale))
    c_e = max(1, round(epsilon * 10000))  # full-scale in-degrees at every scale
    c_i = max(1, round(epsilon * 2500))
    j_ex = psp_to_psc(J, model.C_m, model.tau_m, model.tau_syn_ex)
    j_in = -g * j_ex
    theta = model.V_th - model.E_L
    nu_thr = theta * model.C_m / (j_ex * model.tau_syn_ex * 1e-3 * c_e * model.tau_m)
    net = Network(dt=dt, seed=seed)
    net.scale_hint = (scale, 1.0)
    v_init = Normal(10.0, 5.0, high=theta - 0.1)
    exc = net.add_population("E", n_e, model, v_init=v_init)
    inh = net.add_population("I", n_i, model, v_init=v_init)
    for post in (exc, inh):
        net.connect(exc, post, "fixed_indegree", indegree=c_e, weight=j_ex, delay=delay,
                    weight_bits=weight_bits)
        net.connect(inh, post, "fixed_indegree", indegree=c_i, weight=j_in, delay=delay,
                    weight_bits=weight_bits)
    for pop in (exc, inh):
        net.add_poisson_input(pop, rate_hz=eta * nu_thr, indegree=c_e, weight=j_ex)
    return net


# Models by name ------------------------------------------------------------------------------

#: The parameters of each named model that ``build`` sets (besides seed, dt and weight_bits).
MODEL_PARAMETERS = {"microcircuit": ("scale", "k_scale", "input"), "brunel": ("scale",)}
#: Model names accepted by ``build``.
MODELS = tuple(MODEL_PARAMETERS)
_FUNCTIONS = {"microcircuit": microcircuit, "brunel": brunel}


def build(name: str, *, scale: float | None = None, k_scale: float | None = None,
          input: str | None = None, seed: int = 12345, dt: float = 0.1,
          weight_bits: int | None = None, defaults: dict | None = None) -> Network:
    """Return the unbuilt ``Network`` of the model ``name`` (``Network.build`` partitions it).

    A parameter left None takes the caller's default for this model from ``defaults``, or
    else the model function's own default (``microcircuit``: scale 1.0, k_scale 1.0, input
    "poisson"; ``brunel``: scale 1.0). The command line and the emulator keep their own
    defaults in such tables (``neuroaix run``: microcircuit at scale 0.1 with Poisson input;
    ``neuroaix emulate``: DC input, as the paper).

    Parameters
    ----------
    name : {"microcircuit", "brunel"}
        The model.
    scale : float, optional
        Neuron-number scaling, in (0, 1].
    k_scale : float, optional
        In-degree scaling of the microcircuit, in (0, 1].
    input : {"poisson", "dc"}, optional
        Background input of the microcircuit.
    seed : int
        Network seed.
    dt : float
        Time step (ms).
    weight_bits : int, optional
        Low-resolution weights (2**weight_bits levels per projection).
    defaults : dict, optional
        The caller's defaults per model, ``{name: {parameter: value}}``, for the parameters
        left None; entries for parameters a model does not have are not used.

    Returns
    -------
    Network

    Raises
    ------
    ValueError
        If ``name`` is unknown (with a did-you-mean), or a parameter is given that the model
        does not have (``k_scale`` or ``input`` for brunel), or a value is out of range.
    """
    check_choice("model", name, MODELS)
    own = MODEL_PARAMETERS[name]
    given = {"scale": scale, "k_scale": k_scale, "input": input}
    for key, value in given.items():
        if value is not None and key not in own:
            raise ValueError(f"{key}={value!r} does not apply to the {name} model (its "
                             f"parameters: {', '.join(own)}); leave {key} out")
    fallback = (defaults or {}).get(name, {})
    kwargs = {key: given[key] if given[key] is not None else fallback[key]
              for key in own if given[key] is not None or key in fallback}
    return _FUNCTIONS[name](**kwargs, dt=dt, seed=seed, weight_bits=weight_bits)

"""NIR graphs in and out: ``read(graph or path) -> Network`` and ``write(network, path)``.

NIR (the Neuromorphic Intermediate Representation, ``nir`` 1.0.8; Pedersen et al. 2024,
Nature Communications 15:8122) describes a network as a graph of nodes with continuous-time
equations and no units. neuroaix reads it with these units: **time in seconds** (NIR's
convention; turned into ms), potentials in **mV**, currents in **pA**, so ``r`` is in mV/pA
(GOhm). A spike is a pulse of height 1 for one time step ``dt`` (area ``dt``), as the
discrete-time simulators that read NIR and snnTorch's exporter take it. The mapping
(docs/io.md has the table):

- ``CubaLIF`` -> ``neuroaix.LIF`` (iaf_psc_exp, exact): ``tau_m = tau_mem``,
  ``tau_syn_ex = tau_syn_in = tau_syn``, ``C_m = tau_mem / r``, ``E_L = v_leak``,
  ``V_th = v_threshold``, ``V_reset = v_reset``, ``t_ref = 0``. A spike through weight ``W``
  makes the current jump by ``w_in * W * dt / tau_syn`` pA (the jump of
  ``tau_syn dI/dt = -I + w_in W S`` for a spike ``S`` of area ``dt``).
- ``LIF`` and ``IF`` -> ``neuroaix.LIFDelta`` (iaf_psc_delta): a spike makes the potential
  jump by ``r * W * dt / tau`` mV (LIF) or ``r * W * dt`` mV (IF, with ``dt`` in s); IF has
  no leak: ``tau_m`` is ``IF_TAU_STEPS`` steps, whose propagator quantises to ``1 - 2**-30``
  (a leak of 2**-30 per step, the closest to none that Q1.30 holds).
- ``Input`` -> a spike-source population (``Network.add_spike_source``) with the spike
  times given in ``read(..., inputs=)``, none by default.
- ``Linear``, ``Affine``, ``Scale``, ``Delay`` between two neuron (or input) nodes -> one
  ``from_list`` projection with one synapse per non-zero entry of the composed matrix; delays
  add up along the path and round to steps ``floor(d / dt + 1/2)``, a path without ``Delay``
  gets the shortest delay (one step). An ``Affine`` bias reaching a neuron becomes a constant
  current: ``I_e = w_in * b`` pA (CubaLIF; the steady state of its synaptic current) or
  ``I_e = b`` (LIF, IF): a DC input where it is equal for the node's neurons, else step
  currents that start at time 0 (and act from the first step on, as NEST's
  step_current_generator).
- ``Output`` marks a population whose spikes are the graph's output; nothing to build.

Everything else (convolutions, pooling, ``LI``, ``CubaLI``, ``I``, ``Threshold``,
``Flatten``, nested graphs) raises ``NIRError`` naming the node, its type and the supported
types. Per-neuron parameters must be equal within a node (one model per population).

``write`` is the inverse for networks whose every part NIR can express: LIF populations
with ``tau_syn_ex == tau_syn_in`` become CubaLIF, LIFDelta populations LIF, spike sources
Input; each (pre, post) pair of populations one ``Linear`` (``Affine`` where the target has a
constant current) with the quantised weights, and a ``Delay`` where the delays are not one
step (NIR delays are per channel: the synapses of one source must share a delay). NIR has no
refractory period, Poisson input or initial potential: a network with them is refused
(``drop_refractory=True`` writes it without the refractory period).

Quantisation: NIR's float parameters become the engine's fixed-point numbers when the network
is built (docs/numerics.md): weights to ``2**-12`` pA (``2**-12`` mV onto delta neurons),
delays to whole steps, potentials to ``2**-16`` mV, propagators to Q1.30. ``write`` stores the
quantised values, so ``read(write(net))`` builds the same synapses and raster.
"""

from __future__ import annotations

import dataclasses
import math
import os

import numpy as np

from neuroaix import formats
from neuroaix import numerics as nx
from neuroaix.network import Network
from neuroaix.neuron import LIF, LIFDelta, SpikeSourceArray
from neuroaix.outputs import atomic_path

__all__ = ["IF_TAU_STEPS", "NIRError", "SUPPORTED", "read", "write"]

#: NIR node types that map onto the engine.
SUPPORTED = ("CubaLIF", "LIF", "IF", "Input", "Output", "Linear", "Affine", "Scale", "Delay")
_NEURONS = ("CubaLIF", "LIF", "IF")
_TRANSFORMS = ("Linear", "Affine", "Scale", "Delay")
#: Membrane time constant of NIR's IF (no leak) in steps: 2**30 steps (30 hours at dt 0.1
#: ms), whose propagator exp(-2**-30) quantises to 1 - 2**-30, the largest below 1 that
#: Q1.30 holds (1 itself is not representable).
IF_TAU_STEPS = 1 << 30
#: Capacitance given to delta neurons without input current (it scales only I_e).
_C_M_FREE = 250.0


class NIRError(ValueError):
    """A NIR graph (or a network) that has no counterpart on the other side."""


def _uniform(name: str, node: str, value) -> float:
    a = np.asarray(value, np.float64).ravel()
    if a.size == 0:
        raise NIRError(f"NIR node {node!r}: {name} is empty")
    if not np.all(a == a[0]):
        raise NIRError(f"NIR node {node!r}: {name} differs between its neurons "
                       f"({a.min():g} to {a.max():g}); neuroaix has one parameter set per "
                       "population: split the node into nodes of equal parameters")
    if not math.isfinite(a[0]):
        raise NIRError(f"NIR node {node!r}: {name} is {a[0]!r}, not a finite number")
    return float(a[0])


def _size(node, name: str) -> int:
    kind = type(node).__name__
    if kind in ("Input", "Output"):
        shape = next(iter((node.input_type if kind == "Input" else node.output_type).values()))
    else:
        shape = np.shape(node.v_threshold)
    shape = tuple(int(x) for x in np.ravel(shape))
    if len(shape) != 1:
        raise NIRError(f"NIR node {name!r} ({kind}) has shape {shape}; neuroaix reads 1-d "
                       "nodes (flatten the graph first)")
    return shape[0]


def _model(node, name: str, unit: float, dt_s: float):
    """Return ``(model, kind, factor, bias factor)``: a spike through W adds W * factor."""
    kind = type(node).__name__
    if kind == "CubaLIF":
        tau_syn = _uniform("tau_syn", name, node.tau_syn) * 1e3
        tau_m = _uniform("tau_mem", name, node.tau_mem) * 1e3
        r = _uniform("r", name, node.r) / unit
        if r <= 0:
            raise NIRError(f"NIR node {name!r}: r must be > 0 (mV/pA), not {r!r}")
        model = LIF(C_m=tau_m / r, tau_m=tau_m, tau_syn_ex=tau_syn, tau_syn_in=tau_syn,
                    t_ref=0.0, E_L=_uniform("v_leak", name, node.v_leak),
                    V_th=_uniform("v_threshold", name, node.v_threshold),
                    V_reset=_uniform("v_reset", name, node.v_reset))
        w_in = np.asarray(node.w_in, np.float64).ravel()
        return model, kind, w_in * unit * dt_s / (tau_syn * 1e-3), w_in * unit
    r = _uniform("r", name, node.r) / unit
    if r <= 0:
        raise NIRError(f"NIR node {name!r}: r must be > 0 (mV/pA), not {r!r}")
    v_th = _uniform("v_threshold", name, node.v_threshold)
    v_reset = _uniform("v_reset", name, node.v_reset)
    n = _size(node, name)
    if kind == "LIF":
        tau = _uniform("tau", name, node.tau) * 1e3
        model = LIFDelta(C_m=tau / r, tau_m=tau, t_ref=0.0,
                         E_L=_uniform("v_leak", name, node.v_leak), V_th=v_th,
                         V_reset=v_reset)
        return model, kind, np.full(n, r * unit * dt_s / (tau * 1e-3)), np.full(n, unit)
    # IF: dv/dt = r I in seconds, so C_m = 1000 / r pF for a current in pA; reset to v_reset
    # from a potential measured from 0 (v_leak of a leak-free neuron has no meaning).
    model = LIFDelta(C_m=1e3 / r, tau_m=IF_TAU_STEPS * dt_s * 1e3, t_ref=0.0, E_L=0.0,
                     V_th=v_th, V_reset=v_reset)
    return model, kind, np.full(n, r * unit * dt_s), np.full(n, unit)


def _load(source):
    import nir

    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"NIR file {path!r} does not exist (or is not a file)")
        try:
            return nir.read(path, type_check=False)  # a graph without Input has no types
        except Exception as exc:  # h5py and nir raise many kinds
            raise NIRError(f"NIR file {path!r} cannot be read ({type(exc).__name__}: "
                           f"{' '.join(str(exc).split())})") from None
    if isinstance(source, nir.NIRGraph):
        return source
    raise TypeError(f"read needs a NIR graph or the path of a NIR file, not "
                    f"{type(source).__name__}")


def read(source, *, dt: float | None = None, seed: int = 12345, inputs: dict | None = None,
         pa_per_unit: float = 1.0) -> Network:
    """Return the ``Network`` of a NIR graph (a ``nir.NIRGraph`` or a NIR file's path).

    Populations are named after the nodes, in the graph's node order (a file lists its
    nodes by name; one written by ``write`` keeps the network's order in its metadata);
    Output nodes make none. Every path of ``Linear``/``Affine``/``Scale``/``Delay`` nodes between two of them
    is one ``from_list`` projection. The mapping and its units are the module's.

    Parameters
    ----------
    source : nir.NIRGraph or str or os.PathLike
        The graph, or a file written by ``nir.write``.
    dt : float, optional
        Time step of the network (ms); NIR has none. Default: the one ``write`` stored in
        the graph's metadata, else 0.1.
    seed : int
        Network seed.
    inputs : dict, optional
        Spike times (ms) per ``Input`` node: ``{name: [[t, ...], ...]}``, one sequence per
        input channel. An ``Input`` without them fires no spike.
    pa_per_unit : float
        The graph's current unit in pA (default 1: currents are pA, ``r`` is mV/pA). NIR has
        no units; a graph of unit-free numbers (threshold 1, r of order tau/dt) may need
        another current unit for its capacitances to fit the number contract: the
        potentials are the same for every choice, only the quantisation differs.

    Raises
    ------
    NIRError
        A ``ValueError``: a node NIR defines but neuroaix cannot run (its name, type and the
        supported types), unequal parameters within a node, nodes that are not 1-d, a
        transform that connects nothing, or a delay beyond the synapse format.
    """
    graph = _load(source)
    inputs = {} if inputs is None else dict(inputs)
    nodes = graph.nodes
    for name, node in nodes.items():
        kind = type(node).__name__
        if kind not in SUPPORTED:
            raise NIRError(f"NIR node {name!r} is a {kind}, which neuroaix cannot run; "
                           f"supported: {', '.join(SUPPORTED)}")
    unknown = sorted(set(inputs) - {n for n, v in nodes.items() if type(v).__name__ == "Input"})
    if unknown:
        raise NIRError(f"inputs names {unknown}, which are not Input nodes of the graph")
    meta = graph.metadata if isinstance(graph.metadata, dict) else {}
    if dt is None:
        dt = float(meta.get("neuroaix_dt_ms", 0.1))
    net = Network(dt=dt, seed=seed)
    pops, factor, w_in_of, kinds = {}, {}, {}, {}
    saved = [_text(x) for x in np.ravel(meta.get("neuroaix_populations", []))]
    order = [n for n in saved if n in nodes] + [n for n in nodes if n not in saved]
    for name in order:
        node = nodes[name]
        kind = type(node).__name__
        if kind in _NEURONS:
            model, kinds[name], factor[name], w_in_of[name] = _model(node, name, pa_per_unit,
                                                                     net.dt * 1e-3)
            try:
                model.quantise(net.dt)
            except ValueError as exc:
                raise NIRError(f"NIR node {name!r} ({kinds[name]}) does not fit the number "
                               f"contract with currents in {pa_per_unit:g} pA: {exc}; a "
                               "graph of unit-free numbers needs a larger current unit, e.g. "
                               "read(..., pa_per_unit=1000)") from None
            pops[name] = net.add_population(name, _size(node, name), model)
        elif kind == "Input":
            n = _size(node, name)
            times = inputs.get(name, [[] for _ in range(n)])
            if len(times) != n:
                raise NIRError(f"inputs[{name!r}] has {len(times)} spike trains; Input node "
                               f"{name!r} has {n} channels")
            pops[name] = net.add_spike_source(name, times)
    out_edges: dict[str, list[str]] = {}
    for a, b in graph.edges:
        for end in (a, b):
            if end not in nodes:
                raise NIRError(f"NIR edge ({a!r}, {b!r}) names the unknown node {end!r}")
        out_edges.setdefault(a, []).append(b)
    bias: dict[tuple, np.ndarray] = {}  # by the path from the first Affine with a bias
    for name in pops:
        n = len(pops[name])
        for nxt in out_edges.get(name, []):
            _follow(net, nodes, out_edges, pops, factor, bias, src=name, at=nxt,
                    matrix=np.eye(n), delay_pre=np.zeros(n), delay_post=np.zeros(n),
                    offset=np.zeros(n), seen=(), origin=None)
    for name in w_in_of:  # the neuron populations (Inputs have no incoming edges)
        b = sum((v for k, v in bias.items() if k[-1] == name), np.zeros(len(pops[name])))
        amp = b * w_in_of[name]
        if np.all(amp == amp[0]) and amp[0] != 0:
            net.add_dc_input(pops[name], amplitude_pa=float(amp[0]))
        elif np.any(amp != 0):  # one step current per distinct value, from the first step on
            for value in np.unique(amp[amp != 0]):
                net.add_step_current(pops[name], [0.0], [float(value)],
                                     neurons=np.flatnonzero(amp == value).tolist())
    return net


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _follow(net, nodes, out_edges, pops, factor, bias, *, src, at, matrix, delay_pre,
            delay_post, offset, seen, origin):
    """Walk from population ``src`` through transform nodes; connect at each neuron node.

    ``origin`` is the index in the path of the first Affine with a bias: paths from several
    sources through one Affine carry its bias once (keyed by the path from there on).
    """
    if at in seen:
        raise NIRError(f"NIR nodes {' -> '.join(seen + (at,))} form a loop without a neuron")
    node = nodes[at]
    kind = type(node).__name__
    if kind == "Output":
        return
    if kind in _NEURONS:
        _connect(net, pops[src], pops[at], matrix * factor[at][:, None], delay_pre,
                 delay_post, at)
        if origin is not None:
            bias[(seen + (at,))[origin:]] = offset
        return
    if kind == "Input":
        raise NIRError(f"NIR edge into Input node {at!r}; an Input has no incoming edges")
    if kind in ("Linear", "Affine"):
        w = np.asarray(node.weight, np.float64)
        if w.ndim != 2 or w.shape[1] != matrix.shape[0]:
            raise NIRError(f"NIR node {at!r} ({kind}) has weight shape {w.shape}; it must be "
                           f"(n_out, {matrix.shape[0]})")
        if np.any(delay_post != 0) and not np.all(delay_post == delay_post[0]):
            raise NIRError(f"NIR node {at!r} mixes channels of different delays; neuroaix "
                           "needs per-synapse delays that are one per source or per target")
        matrix = w @ matrix
        b = np.asarray(node.bias, np.float64).ravel() if kind == "Affine" else 0.0
        offset = w @ offset + b
        if origin is None and np.any(b != 0):
            origin = len(seen)
        delay_post = np.full(w.shape[0], delay_post[0] if delay_post.size else 0.0)
    elif kind == "Scale":
        s = np.asarray(node.scale, np.float64).ravel()
        matrix, offset = matrix * s[:, None], offset * s
    elif kind == "Delay":
        d = np.asarray(node.delay, np.float64).ravel()
        if d.shape != (matrix.shape[0],):
            raise NIRError(f"NIR node {at!r} (Delay) has {d.size} channels, not "
                           f"{matrix.shape[0]}")
        if np.all(matrix == np.eye(*matrix.shape)) and matrix.shape[0] == matrix.shape[1]:
            delay_pre = delay_pre + d
        else:
            delay_post = delay_post + d
    for nxt in out_edges.get(at, []):
        _follow(net, nodes, out_edges, pops, factor, bias, src=src, at=nxt, matrix=matrix,
                delay_pre=delay_pre, delay_post=delay_post, offset=offset,
                seen=seen + (at,), origin=origin)


def _connect(net, pre, post, matrix, delay_pre, delay_post, at) -> None:
    if matrix.shape != (len(post), len(pre)):
        raise NIRError(f"the path from {pre.name!r} to NIR node {at!r} maps {matrix.shape[1]} "
                       f"channels onto {matrix.shape[0]}, not {len(pre)} onto {len(post)}")
    tgt, src = np.nonzero(matrix)
    if not src.size:
        return
    d_ms = (delay_pre[src] + delay_post[tgt]) * 1e3
    steps = np.maximum(1, np.floor(d_ms / net.dt + 0.5))
    if steps.max() > formats.MAX_DELAY_STEPS:
        raise NIRError(f"a delay into NIR node {at!r} is {d_ms.max():g} ms, more than "
                       f"{formats.MAX_DELAY_STEPS} steps of dt={net.dt:g} ms; use a larger dt")
    net.connect(pre, post, "from_list", pairs=(src, tgt), weight=matrix[tgt, src],
                delay=steps * net.dt)


# Writing ---------------------------------------------------------------------------------


def write(network: Network, path: str | os.PathLike, *, drop_refractory: bool = False,
          pa_per_unit: float = 1.0):
    """Write ``network`` as a NIR graph to ``path`` (``nir.write``, HDF5); return the graph.

    The network is built (one partition) and its quantised synapses become the weight
    matrices; see the module for what maps and what is refused.

    Parameters
    ----------
    network : Network
        The network; its populations LIF (with equal synaptic time constants), LIFDelta or
        spike sources.
    path : str or os.PathLike
        The NIR file, written atomically.
    drop_refractory : bool
        Write neurons with a refractory period without it (NIR has none) instead of
        refusing them.
    pa_per_unit : float
        The current unit of the graph in pA (as for ``read``).

    Raises
    ------
    NIRError
        For what NIR cannot express: other models, unequal synaptic time constants,
        refractory periods (unless dropped), Poisson input, initial potentials other than
        E_L, a constant current on a population without incoming synapses, or synapses of
        one source onto one population with different delays.
    """
    import nir

    if not isinstance(network, Network):
        raise TypeError(f"write needs a neuroaix Network, not {type(network).__name__}")
    for index in network.poisson:
        raise NIRError(f"population {network.populations[index].name!r} has Poisson input, "
                       "which NIR cannot express; give it spike sources (add_spike_source)")
    built = network.build(partitions=max(1, -(-network.n_neurons // formats.MAX_LOCAL_TARGETS)))
    src, tgt, w_fixed, d_steps = built.synapses()
    dt_s = network.dt * 1e-3
    nodes, edges, per_weight, dc = {}, [], {}, {}
    for pop in network.populations:
        m, n, name = pop.model, pop.size, pop.name
        if isinstance(m, SpikeSourceArray):
            nodes[name] = nir.Input(input_type=np.array([n]))
            continue

        def full(x, n=n):
            return np.full(n, float(x))

        i_e = m.I_e + network.dc.get(pop.index, 0.0)
        if m.t_ref != 0 and not drop_refractory:
            raise NIRError(f"population {name!r} has t_ref={m.t_ref!r} ms; NIR has no "
                           "refractory period: use t_ref=0 or write(..., drop_refractory=True)")
        v0 = pop.v_init
        if (np.any(v0 != m.E_L) if isinstance(v0, np.ndarray)
                else v0.std != 0 or v0.mean != m.E_L):
            raise NIRError(f"population {name!r} starts at v_init={pop.v_init!r}; NIR has no "
                           "initial potential (every neuron starts at E_L)")
        if type(m) is LIF:
            if m.tau_syn_ex != m.tau_syn_in:
                raise NIRError(f"population {name!r} has tau_syn_ex={m.tau_syn_ex!r} != "
                               f"tau_syn_in={m.tau_syn_in!r} ms; NIR's CubaLIF has one "
                               "synaptic time constant")
            per_weight[name] = m.tau_syn_ex * 1e-3 / (pa_per_unit * dt_s)  # W dt / tau_syn
            nodes[name] = nir.CubaLIF(
                tau_syn=full(m.tau_syn_ex * 1e-3), tau_mem=full(m.tau_m * 1e-3),
                r=full(m.tau_m / m.C_m * pa_per_unit), v_leak=full(m.E_L), v_threshold=full(m.V_th),
                v_reset=full(m.V_reset), w_in=full(1.0))
        elif type(m) is LIFDelta:
            # a weight of w mV is the jump r * W * dt / tau of NIR's LIF: W = w tau / (r dt)
            per_weight[name] = m.C_m * 1e-3 / (pa_per_unit * dt_s)
            nodes[name] = nir.LIF(tau=full(m.tau_m * 1e-3), r=full(m.tau_m / m.C_m * pa_per_unit),
                                  v_leak=full(m.E_L), v_threshold=full(m.V_th),
                                  v_reset=full(m.V_reset))
        else:
            raise NIRError(f"population {name!r} is a {type(m).__name__}, which NIR cannot "
                           "express here; write LIF, LIFDelta or spike-source populations")
        if i_e:
            dc[name] = i_e
        nodes[f"{name}_output"] = nir.Output(output_type=np.array([n]))
        edges.append((name, f"{name}_output"))
    weights = w_fixed.astype(np.float64) / (1 << nx.I_FRAC_BITS)
    pop_of = built.pop_of
    fed = set()
    for a in network.populations:
        for b in network.populations:
            keep = (pop_of[src] == a.index) & (pop_of[tgt] == b.index)
            if not keep.any():
                continue
            i, j = src[keep] - a.start, tgt[keep] - b.start
            d = d_steps[keep]
            per_source = np.full(a.size, -1, np.int64)
            per_source[i] = d
            if np.any(per_source[i] != d):
                raise NIRError(f"synapses of one {a.name!r} neuron onto {b.name!r} have "
                               "different delays; NIR delays are per channel (one per source)")
            w = np.zeros((b.size, a.size))
            np.add.at(w, (j, i), weights[keep] * per_weight[b.name])
            at = a.name
            if np.any(d != 1):
                per_source[per_source < 0] = 1
                nodes[f"{a.name}_to_{b.name}_delay"] = nir.Delay(
                    delay=per_source.astype(np.float64) * dt_s)
                edges.append((at, f"{a.name}_to_{b.name}_delay"))
                at = f"{a.name}_to_{b.name}_delay"
            lin = f"{a.name}_to_{b.name}"
            if b.name in dc and b.name not in fed:
                nodes[lin] = nir.Affine(weight=w, bias=np.full(b.size, dc[b.name] / pa_per_unit))
                fed.add(b.name)
            else:
                nodes[lin] = nir.Linear(weight=w)
            edges += [(at, lin), (lin, b.name)]
    missing = sorted(set(dc) - fed)
    if missing:
        raise NIRError(f"population {missing[0]!r} has a constant current but no incoming "
                       "synapses; NIR carries it only as the bias of an incoming Affine node")
    has_input = any(isinstance(v, nir.Input) for v in nodes.values())
    graph = nir.NIRGraph(nodes=nodes, edges=edges, type_check=has_input,
                         metadata={"neuroaix_populations": [p.name for p in
                                                            network.populations],
                                   "neuroaix_dt_ms": float(network.dt)})  # types start at
    # an Input: a graph without one (no spike sources) is written without them
    with atomic_path(path) as tmp:
        os.unlink(tmp)  # nir.write creates the HDF5 file itself
        nir.write(tmp, graph)
    return graph

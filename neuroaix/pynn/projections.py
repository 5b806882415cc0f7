"""Projections of the PyNN backend: PyNN's connectors on neuroaix's connection rules.

A projection between two whole populations whose connector has a counter-based rule in the
engine (docs/networks.md) is drawn by that rule at the build, the same for any number of
partitions and threads:

=============================  ======================  =======================================
PyNN connector                 neuroaix rule           mapping
=============================  ======================  =======================================
``AllToAllConnector``          ``all_to_all``          allow_self_connections -> autapses
``OneToOneConnector``          ``one_to_one``
``FixedProbabilityConnector``  ``pairwise_bernoulli``  p_connect -> p
``FixedNumberPreConnector``    ``fixed_indegree``      n -> indegree, with_replacement ->
                                                       multapses
``FixedNumberPostConnector``   ``fixed_outdegree``     n -> outdegree, as above
``FixedTotalNumberConnector``  ``fixed_total_number``  n, as above
=============================  ======================  =======================================

with weights and delays that are numbers or PyNN's ``normal`` / ``normal_clipped``
distributions (``neuroaix.Normal``, redrawn into the bounds as ``normal_clipped`` is). Every
other case (``FromListConnector``, ``ArrayConnector``, distance-dependent connectors, views
and assemblies, arrays or other distributions of weights and delays) is connected by PyNN's
own connector, with the connector's random number generator, and stored as an explicit
``from_list`` projection. Either way ``get('weight')`` returns the weights as the engine
holds them (quantised to the I format) and ``get('delay')`` the delays in whole steps.

``set(weight=..., delay=...)`` (before or between runs) changes the synapses the projection
realised: it keeps them as an explicit list with the new values, and the next run carries
the simulation into the network built with them (``State.carry``).
"""

from __future__ import annotations

import numpy as np
from pyNN import common
from pyNN.connectors import (AllToAllConnector, FixedNumberPostConnector,
                             FixedNumberPreConnector, FixedProbabilityConnector,
                             FixedTotalNumberConnector, OneToOneConnector)
from pyNN.random import RandomDistribution
from pyNN.space import Space

from neuroaix import numerics as nx
from neuroaix.distributions import Normal
from neuroaix.pynn import simulator
from neuroaix.pynn.populations import Population
from neuroaix.pynn.standardmodels import SYNAPSE_TYPES, StaticSynapse

__all__ = ["Connection", "Projection"]


class Connection(common.Connection):
    """One realised synapse: indices into ``pre`` and ``post``, weight (nA), delay (ms)."""

    def __init__(self, pre, post, weight, delay):
        self.presynaptic_index = pre
        self.postsynaptic_index = post
        self.weight = weight
        self.delay = delay

    def as_tuple(self, *attribute_names):
        return tuple(getattr(self, name) for name in attribute_names)


def _native_value(lazy, scale: float):
    """Return a synapse parameter as a number or ``Normal`` in neuroaix's units, or None."""
    if lazy.operations:
        return None
    base = lazy.base_value
    if isinstance(base, (int, float, np.integer, np.floating)) and not isinstance(base, bool):
        return float(base) * scale
    if isinstance(base, RandomDistribution):
        p = base.parameters
        if base.name == "normal":
            return Normal(p["mu"] * scale, p["sigma"] * scale)
        if base.name == "normal_clipped":
            low, high = p.get("low", -np.inf), p.get("high", np.inf)
            return Normal(p["mu"] * scale, p["sigma"] * scale, low * scale, high * scale)
    return None


def _rule_of(connector):
    """Return ``(rule, keywords)`` of a connector with a native rule, or None."""
    kind = type(connector)
    autapses = getattr(connector, "allow_self_connections", True)
    if not isinstance(autapses, bool):
        return None
    if kind is AllToAllConnector:
        return "all_to_all", {"allow_autapses": autapses}
    if kind is OneToOneConnector:
        return "one_to_one", {}
    if kind is FixedProbabilityConnector:
        return "pairwise_bernoulli", {"p": float(connector.p_connect),
                                      "allow_autapses": autapses}
    rules = {FixedNumberPreConnector: ("fixed_indegree", "indegree"),
             FixedNumberPostConnector: ("fixed_outdegree", "outdegree"),
             FixedTotalNumberConnector: ("fixed_total_number", "n")}
    if kind in rules and isinstance(connector.n, (int, np.integer)):
        rule, key = rules[kind]
        return rule, {key: int(connector.n), "allow_autapses": autapses,
                      "allow_multapses": bool(connector.with_replacement)}
    return None


def _index_of(cells: np.ndarray, gids: np.ndarray) -> np.ndarray:
    """Return the positions of global ids ``gids`` in the id array ``cells``."""
    cells = np.asarray(cells, np.int64)
    order = np.argsort(cells, kind="stable")
    return order[np.searchsorted(cells[order], gids)]


class Projection(common.Projection):
    __doc__ = common.Projection.__doc__
    _simulator = simulator
    _static_synapse_class = StaticSynapse

    def __init__(self, presynaptic_population, postsynaptic_population, connector,
                 synapse_type=None, source=None, receptor_type=None, space=Space(),
                 label=None):
        simulator.state.changed("the projections")
        common.Projection.__init__(self, presynaptic_population, postsynaptic_population,
                                   connector, synapse_type, source, receptor_type, space, label)
        if not isinstance(self.synapse_type, StaticSynapse):
            raise NotImplementedError(
                f"{type(self.synapse_type).__name__} is not supported by neuroaix; supported "
                f"synapse types: {', '.join(SYNAPSE_TYPES)}")
        post = self.post.populations[0] if hasattr(self.post, "populations") else self.post
        #: neuroaix's unit per PyNN weight unit: pA per nA, or mV per mV onto IF_curr_delta.
        self._w_scale = float(getattr(post.celltype, "weight_scale", 1000.0))
        self._rule = None
        self._explicit = None
        plan = self._native_plan(connector)
        if plan is not None:
            self._rule = plan
        else:
            self._explicit = ([], [], [], [])
            connector.connect(self)
            self._explicit = tuple(np.concatenate(part) if part else np.zeros(0)
                                   for part in self._explicit)
        self._engine = []
        self._realised = None
        self._folded = False
        simulator.state.projections.append(self)

    # Construction ---------------------------------------------------------------------------

    def _native_plan(self, connector):
        if not (isinstance(self.pre, Population) and isinstance(self.post, Population)):
            return None
        rule = _rule_of(connector)
        if rule is None:
            return None
        space = self.synapse_type.parameter_space
        weight = _native_value(space["weight"], self._w_scale)
        delay = _native_value(space["delay"], 1.0)
        if weight is None or delay is None:
            return None
        if isinstance(weight, Normal) and not self._signs_fit(weight.low, weight.high):
            return None  # PyNN draws and checks the signs itself
        dt = simulator.state.dt
        if isinstance(delay, Normal) and delay.low < 0.5 * dt:
            return None
        return rule[0], {**rule[1], "weight": weight, "delay": delay}

    def _signs_fit(self, low: float, high: float) -> bool:
        if self.receptor_type == "inhibitory":
            return high <= 0.0
        return low >= 0.0

    def _convergent_connect(self, presynaptic_indices, postsynaptic_index,
                            location_selector=None, **connection_parameters):
        if location_selector is not None:
            raise NotImplementedError("neuroaix has point neurons only; leave "
                                      "location_selector unset")
        pre = np.asarray(presynaptic_indices, np.int64).ravel()
        n = pre.size
        src, tgt, w, d = self._explicit
        src.append(pre)
        tgt.append(np.full(n, int(postsynaptic_index), np.int64))
        weight = np.asarray(connection_parameters["weight"], float) * (self._w_scale / 1000.0)
        w.append(np.broadcast_to(weight, (n,)))
        delay = connection_parameters.get("delay", simulator.state.min_delay)
        d.append(np.broadcast_to(np.asarray(delay, float), (n,)))

    def _check_sign(self, weights) -> None:
        w = np.atleast_1d(np.asarray(weights, float))
        if not w.size:
            return
        if self.receptor_type == "inhibitory" and w.max() > 0.0:
            raise ValueError(f"projection {self.label!r}: weights onto the 'inhibitory' "
                             "receptor of a current-based cell must be <= 0 (PyNN's "
                             f"convention), not {w.max() / self._w_scale!r}")
        if self.receptor_type != "inhibitory" and w.min() < 0.0:
            raise ValueError(f"projection {self.label!r}: weights onto the "
                             f"{self.receptor_type!r} receptor must be >= 0, not "
                             f"{w.min() / self._w_scale!r}; use receptor_type='inhibitory'")

    def _can_fold(self) -> bool:
        """Whether this projection may carry Poisson sources folded into its targets."""
        return (self._rule is not None and self._rule[0] == "one_to_one"
                and not isinstance(self._rule[1]["weight"], Normal)
                and hasattr(self.post.celltype, "engine_model")
                and self.post.celltype.injectable)

    def _add_to(self, net, folded: bool = False) -> None:
        """Add this projection to ``net`` (one network projection, or one per population
        pair of an explicit list); a folded one adds nothing (its sources feed the targets'
        Poisson input)."""
        self._engine = []
        self._realised = None
        self._folded = folded
        if folded:
            self._check_sign(self._rule[1]["weight"])
            return
        if self._rule is not None and self.pre._engine is not None and \
                self.post._engine is not None:
            rule, kw = self._rule
            w = kw["weight"]
            self._check_sign([w.low, w.high] if isinstance(w, Normal) else w)
            proj = net.connect(self.pre._engine, self.post._engine, rule, **kw)
            self._engine.append(proj)
            return
        if self._explicit is None:  # a side has cells of different parameters: PyNN connects
            self._explicit = ([], [], [], [])
            self._connector.connect(self)
            self._explicit = tuple(np.concatenate(part) if part else np.zeros(0)
                                   for part in self._explicit)
        src, tgt, w, d = self._explicit
        self._check_sign(w)
        gs = np.asarray(self.pre.all_cells, np.int64)[src.astype(np.int64)]
        gt = np.asarray(self.post.all_cells, np.int64)[tgt.astype(np.int64)]
        pops = net.populations
        starts = np.array([p.start for p in pops], np.int64)
        ps = np.searchsorted(starts, gs, side="right") - 1
        pt = np.searchsorted(starts, gt, side="right") - 1
        for a, b in sorted(set(zip(ps.tolist(), pt.tolist()))):
            sel = (ps == a) & (pt == b)
            proj = net.connect(pops[a], pops[b], "from_list",
                               pairs=(gs[sel] - starts[a], gt[sel] - starts[b]),
                               weight=w[sel], delay=d[sel])
            self._engine.append(proj)

    # Realised connections -------------------------------------------------------------------

    def _realised_arrays(self):
        """Return ``(pre index, post index, weight nA, delay ms)`` of every synapse."""
        net = simulator.state.network()
        if self._realised is None or self._realised[0] is not net:
            parts = []
            if self._folded:
                n, kw = self.pre.size, self._rule[1]
                w = nx.fixed_to_pa(nx.pa_to_fixed(kw["weight"]))
                d = np.floor(kw["delay"] / net.dt + 0.5) * net.dt
                idx = np.arange(n, dtype=np.int64)
                parts.append((idx, idx, np.full(n, w / self._w_scale),
                              np.full(n, np.round(d, 12))))
            for proj in self._engine:
                s, t, w, d = net.realised_synapses(proj)
                parts.append((_index_of(self.pre.all_cells, s + proj.pre.start),
                              _index_of(self.post.all_cells, t + proj.post.start),
                              w / self._w_scale, np.round(d, 12)))
            arrays = tuple(np.concatenate(x) for x in zip(*parts)) if parts else \
                (np.zeros(0, np.int64),) * 2 + (np.zeros(0),) * 2
            self._realised = (net, arrays)
        return self._realised[1]

    def __len__(self):
        return int(self._realised_arrays()[0].size)

    def __getitem__(self, i):
        s, t, w, d = self._realised_arrays()
        return Connection(int(s[i]), int(t[i]), float(w[i]), float(d[i]))

    @property
    def connections(self):
        """The realised synapses as ``Connection`` objects."""
        return [self[i] for i in range(len(self))]

    def _get_attributes_as_list(self, names):
        s, t, w, d = self._realised_arrays()
        columns = {"presynaptic_index": s, "postsynaptic_index": t, "weight": w, "delay": d}
        unknown = [n for n in names if n not in columns]
        if unknown:
            raise ValueError(f"{unknown[0]!r} is not an attribute of a neuroaix synapse; use "
                             "'weight' or 'delay'")
        return list(zip(*(columns[n].tolist() for n in names)))

    def _get_attributes_as_arrays(self, names, multiple_synapses="sum"):
        s, t, w, d = self._realised_arrays()
        out = []
        for name in names:
            name = name[:-1] if name.endswith("s") else name
            values = {"weight": w, "delay": d}[name]
            arr = np.full((self.pre.size, self.post.size), np.nan)
            if multiple_synapses == "last":
                arr[s, t] = values
            elif multiple_synapses == "first":
                arr[s[::-1], t[::-1]] = values[::-1]
            else:
                init = {"sum": 0.0, "min": np.inf, "max": -np.inf}[multiple_synapses]
                ufunc = {"sum": np.add, "min": np.minimum, "max": np.maximum}[multiple_synapses]
                acc = np.full(arr.shape, init)
                ufunc.at(acc, (s, t), values)
                hit = np.zeros(arr.shape, bool)
                hit[s, t] = True
                arr[hit] = acc[hit]
            out.append(arr)
        return out

    def _engine_synapses(self, net):
        """Return ``(pre index, post index, weight, delay ms)`` of the synapses this
        projection realised in ``net`` (weights in the engine's unit: pA, or mV onto
        IF_curr_delta)."""
        parts = []
        for proj in self._engine:
            s, t, w, d = net.realised_synapses(proj)
            parts.append((_index_of(self.pre.all_cells, s + proj.pre.start),
                          _index_of(self.post.all_cells, t + proj.post.start), w, d))
        if not parts:
            return (np.zeros(0, np.int64),) * 2 + (np.zeros(0),) * 2
        return tuple(np.concatenate(x) for x in zip(*parts))

    def _freeze(self, net) -> None:
        """Keep the synapses realised in ``net`` (the network this projection was last added
        to) as its explicit list, so that a rebuilt network holds the same synapses."""
        if self._folded or self._rule is None:
            return
        self._explicit = self._engine_synapses(net)
        self._rule = None

    def _set_attributes(self, parameter_space):
        """Set the weights or delays of the realised synapses (PyNN's ``Projection.set``).

        Raises
        ------
        NotImplementedError
            For a projection whose Poisson sources are folded into their targets' input, or
            attributes other than weight and delay.
        ValueError
            For weights of the wrong sign for the receptor, or delays outside the engine's
            range (checked when the network is built).
        """
        state = simulator.state
        unknown = set(parameter_space.keys()) - {"weight", "delay"}
        if unknown:
            raise NotImplementedError(f"neuroaix synapses have only 'weight' and 'delay', not "
                                      f"{sorted(unknown)!r}")
        if self._folded or (state.has_simulator and self in state._folds):
            raise NotImplementedError(
                "neuroaix folded this projection's Poisson sources into their targets' input; "
                "its weight cannot change between runs (set it before the first run)")
        if self._rule is not None:
            self._freeze(state.network())
        state.changed("synaptic weights and delays", between_runs=True)
        src, tgt, w, d = (np.array(x) for x in self._explicit)
        parameter_space.evaluate(simplify=True)
        for name, value in parameter_space.items():
            value = np.asarray(value, float)
            if value.ndim == 2:
                value = value[src, tgt]
            value = np.broadcast_to(value, src.shape).astype(float)
            if name == "weight":
                w = value * (self._w_scale / 1000.0)
                self._check_sign(w)
            else:
                d = value
        self._explicit = (src, tgt, w, d)
        self._realised = None

    def _set_initial_value_array(self, variable, value):
        raise NotImplementedError("StaticSynapse has no state variables to initialise")

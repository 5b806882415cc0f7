"""The network API: populations, projections and inputs, built into a partitioned network.

Example
-------
>>> import neuroaix
>>> net = neuroaix.Network(dt=0.1, seed=12345)
>>> exc = net.add_population("E", 800, neuroaix.LIF(), v_init=neuroaix.Normal(-60.0, 5.0))
>>> inh = net.add_population("I", 200, neuroaix.LIF())
>>> net.connect(exc, inh, rule="fixed_indegree", indegree=80,
...             weight=neuroaix.Normal(87.8, 8.8, low=0.0), delay=1.5)
>>> net.add_poisson_input(exc, rate_hz=8.0, indegree=2000, weight=87.8)
>>> built = net.build(partitions=4)

Rules (Senk et al. 2022, "Connectivity concepts in neuronal network modeling"):

======================  ==========  ===========================================  =========
rule                    parameter   what it fixes                                multapses
======================  ==========  ===========================================  =========
``one_to_one``          -           source i -> target i (equal sizes)           never
``all_to_all``          -           every pair                                   never
``pairwise_bernoulli``  ``p``       each pair independently with probability p   never
``fixed_indegree``      ``indegree``  K sources per target, drawn uniformly      optional
``fixed_outdegree``     ``outdegree`` K targets per source, drawn uniformly      optional
``fixed_total_number``  ``n``       N pairs drawn uniformly                      optional
``from_list``           ``pairs``   the listed (source, target) pairs, in order  as listed
======================  ==========  ===========================================  =========

Autapses (a neuron onto itself, only possible when ``pre is post``) are allowed unless
``allow_autapses=False``; multapses are allowed where the rule permits them unless
``allow_multapses=False`` (both as in NEST).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np

from neuroaix import formats
from neuroaix import numerics as nx
from neuroaix.checks import check_bool, check_choice, check_int, check_number, did_you_mean, \
    is_integer
from neuroaix.construction import connectivity as conn
from neuroaix.construction.assemble import PopulationSpec, StepCurrentSpec, build_network, \
    default_threads
from neuroaix.construction.built import BuiltNetwork
from neuroaix.construction.image import write_image
from neuroaix.distributions import Normal, as_distribution
from neuroaix.memory import MemoryEstimate, check_memory, estimate_build
from neuroaix.neuron import LIF, NEURON_MODELS, SpikeSourceArray

__all__ = [
    "RULES",
    "Network",
    "Population",
    "Projection",
]

#: Connection rule names (Senk et al. 2022).
RULES = tuple(conn.RULES)
_RULE_PARAM = {
    "one_to_one": None,
    "all_to_all": None,
    "pairwise_bernoulli": "p",
    "fixed_indegree": "indegree",
    "fixed_outdegree": "outdegree",
    "fixed_total_number": "n",
    "from_list": "pairs",
}

#: Magnitude of the I format's range (pA).
_I_LIMIT = float(1 << (31 - nx.I_FRAC_BITS))


def _fits_i_format(pa: float) -> bool:
    return nx.INT32_MIN <= nx.pa_to_fixed(pa) <= nx.INT32_MAX


# Populations and projections -----------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class Population:
    """A group of neurons with one model, with contiguous global ids ``start .. stop - 1``.

    ``model`` is a neuron model (``LIF``, ``LIFAlpha``, ``LIFDelta``) or, for a population
    made by ``Network.add_spike_source``, a ``SpikeSourceArray`` (``v_init`` None).
    """

    name: str
    size: int
    model: LIF
    v_init: Normal | np.ndarray | None  #: initial potential (mV, absolute), or one per neuron
    index: int
    start: int
    network: Network = field(repr=False)

    @property
    def stop(self) -> int:
        """One past the last global id."""
        return self.start + self.size

    def __len__(self) -> int:
        return self.size


@dataclass(frozen=True, slots=True)
class Projection:
    """One ``connect`` call: rule, rule parameter, weight and delay distributions."""

    pre: Population
    post: Population
    rule: str
    value: float | int | None
    weight: Normal
    delay: Normal
    allow_autapses: bool
    allow_multapses: bool
    weight_bits: int | None
    #: ``from_list``: (sources, targets, weights pA, delays ms) arrays; None for other rules.
    pairs: tuple | None = field(default=None, compare=False, repr=False)

    def expected_synapses(self) -> float:
        """Expected number of synapses (exact where the rule fixes it)."""
        npre, npost = self.pre.size, self.post.size
        pairs = npre * npost
        if self.pre is self.post and not self.allow_autapses:
            pairs -= npre
        return {
            "one_to_one": float(npost),
            "all_to_all": float(pairs),
            "pairwise_bernoulli": float(self.value or 0.0) * pairs,
            "fixed_indegree": float(self.value or 0) * npost,
            "fixed_outdegree": float(self.value or 0) * npre,
            "fixed_total_number": float(self.value or 0),
            "from_list": float(len(self.pairs[0])) if self.pairs is not None else 0.0,
        }[self.rule]


# The network ---------------------------------------------------------------------------------


class Network:
    """A spiking network of LIF populations, built into partitioned packed storage.

    Parameters
    ----------
    dt : float
        Time step (ms), > 0.
    seed : int
        Seed of every random stream (construction, initial potentials, background input),
        in ``[0, 2**64)``.
    """

    def __init__(self, dt: float = 0.1, seed: int = 12345):
        dt = check_number("dt", dt, low=0, low_open=True, unit="ms", fix="use e.g. dt=0.1")
        seed = check_int("seed", seed, low=0)
        if seed > nx.MASK64:
            raise ValueError(f"seed must be < 2**64, not {seed!r}")
        self.dt = dt
        self.seed = seed
        #: Populations in the order they were added.
        self.populations: list[Population] = []
        #: Projections in the order of the ``connect`` calls (their stream index).
        self.projections: list[Projection] = []
        #: Poisson input by population index: ``(rate_hz, indegree, weight_pa)``.
        self.poisson: dict[int, tuple[float, int, float]] = {}
        #: DC input by population index (pA).
        self.dc: dict[int, float] = {}
        #: Step currents in the order of the ``add_step_current`` calls:
        #: ``(population index, times_ms, amplitudes_pa, neuron indices or None)``.
        self.step_currents: list[tuple[int, tuple, tuple, tuple | None]] = []
        #: ``(scale, exponent)`` set by ``neuroaix.models``: memory grows as scale**exponent.
        self.scale_hint: tuple[float, float] | None = None

    @property
    def n_neurons(self) -> int:
        """Total number of neurons."""
        return sum(p.size for p in self.populations)

    def _check_pop(self, name: str, pop, *, neurons: bool = False) -> Population:
        if not isinstance(pop, Population):
            raise TypeError(f"{name} must be a Population returned by add_population, "
                            f"not {pop!r}")
        if pop.network is not self:
            raise ValueError(f"{name} {pop.name!r} belongs to another Network; add it to "
                             "this one")
        if neurons and isinstance(pop.model, SpikeSourceArray):
            raise ValueError(f"{name} {pop.name!r} is a spike source, which receives no "
                             "synapses or input; use a population of neurons")
        return pop

    def _new_name(self, name) -> str:
        if not isinstance(name, str) or not name:
            raise TypeError(f"name must be a non-empty string, not {name!r}")
        if any(p.name == name for p in self.populations):
            raise ValueError(f"a population named {name!r} exists already; use another name")
        return name

    def _append(self, name: str, n: int, model, v_init) -> Population:
        if self.n_neurons + n > (1 << 32):
            raise ValueError(f"n={n!r} would exceed 2**32 neurons in total; use fewer neurons")
        pop = Population(name=name, size=n, model=model, v_init=v_init,
                         index=len(self.populations), start=self.n_neurons, network=self)
        self.populations.append(pop)
        return pop

    def add_population(self, name: str, n: int, model: LIF | None = None, *,
                       v_init: float | Normal | None = None) -> Population:
        """Add ``n`` neurons and return their population.

        Parameters
        ----------
        name : str
            Unique name.
        n : int
            Number of neurons, >= 1.
        model : LIF, LIFAlpha or LIFDelta, optional
            Neuron model and parameters; ``LIF()`` (the microcircuit's) by default.
        v_init : float, Normal or sequence of float, optional
            Initial membrane potential in mV: a constant, ``Normal(mean, std, ...)`` drawn
            per neuron from its own stream, or one value per neuron. Default: ``model.E_L``.
        """
        name = self._new_name(name)
        n = check_int("n", n, low=1)
        model = LIF() if model is None else model
        if not isinstance(model, NEURON_MODELS):
            names = ", ".join(f"neuroaix.{m.__name__}" for m in NEURON_MODELS)
            kinds = ", ".join(m.kind for m in NEURON_MODELS)
            raise TypeError(f"model must be one of {names} ({kinds}), not {model!r}; "
                            "spike sources come from add_spike_source")
        if v_init is not None and not isinstance(v_init, Normal) and np.ndim(v_init) == 1:
            v = np.array(v_init, dtype=np.float64)
            if v.shape != (n,) or not np.isfinite(v).all():
                raise ValueError(f"v_init needs {n} finite potentials (mV), one per neuron, "
                                 f"not {v.size} values")
            v.setflags(write=False)
        else:
            v = as_distribution("v_init", model.E_L if v_init is None else v_init, "mV")
        return self._append(name, n, model, v)

    def add_spike_source(self, name: str, spike_times_ms) -> Population:
        """Add sources that fire at given times and return their population.

        Parameters
        ----------
        name : str
            Unique name.
        spike_times_ms : sequence of sequences of float
            One sequence of spike times (ms) per source; the population has one source per
            sequence. A time ``T`` is quantised to the step ``floor(T/dt + 1/2)`` and the spike
            is emitted in the step before it, reported at ``T`` rounded (as NEST's
            ``spike_generator``): see ``SpikeSourceArray``.

        The sources connect to neurons like neurons do (``connect(source, pop, ...)``), their
        spikes appear in the raster and the spike counter; they receive nothing.

        Raises
        ------
        ValueError
            For empty input, times below ``dt/2`` or two times of a source in one step.
        """
        name = self._new_name(name)
        model = SpikeSourceArray(spike_times_ms)
        model.spike_steps(self.dt)  # raises for times that do not quantise
        return self._append(name, len(model), model, None)

    def add_step_current(self, pop: Population, times_ms, amplitudes_pa, *,
                         neurons=None) -> None:
        """Inject a piecewise-constant current into ``pop`` (or some of its neurons).

        Parameters
        ----------
        pop : Population
            Target population (not a spike source).
        times_ms : sequence of float
            Times (ms) at which the amplitude changes, increasing; each is quantised to the
            step ``s = floor(T/dt + 1/2)`` and the new amplitude acts in the updates of
            steps ``s + 1`` on (NEST's ``step_current_generator`` connected with one step of
            delay); a time in ``[0, dt/2)`` is step 0, so it acts from step 1 on. Before
            the first time the current is 0.
        amplitudes_pa : sequence of float
            The amplitude (pA) from each time on, quantised to the I format.
        neurons : sequence of int, optional
            Indices within ``pop`` (0-based) that receive the current; default all.

        Step currents add to each other and to ``I_e`` (and DC input); the sum must fit
        the I format (checked at ``build``).

        Raises
        ------
        ValueError
            For unequal lengths, negative times, two times in one step, amplitudes
            outside the I format or neuron indices outside the population.
        """
        pop = self._check_pop("pop", pop, neurons=True)
        if isinstance(times_ms, (str, bytes)) or not hasattr(times_ms, "__len__") or \
                isinstance(amplitudes_pa, (str, bytes)) or \
                not hasattr(amplitudes_pa, "__len__"):
            raise TypeError("times_ms and amplitudes_pa must be sequences of numbers")
        times = tuple(check_number(f"times_ms[{i}]", x, low=0, unit="ms")
                      for i, x in enumerate(times_ms))
        amps = tuple(check_number(f"amplitudes_pa[{i}]", x, unit="pA")
                     for i, x in enumerate(amplitudes_pa))
        if len(times) != len(amps) or not times:
            raise ValueError(f"times_ms and amplitudes_pa must have one amplitude per time "
                             f"and at least one, not {len(times)} times and {len(amps)} "
                             "amplitudes")
        for i, a in enumerate(amps):
            if not _fits_i_format(a):
                raise ValueError(f"amplitudes_pa[{i}]={a!r} pA does not fit the I format "
                                 f"(+-{_I_LIMIT:g} pA); use a smaller amplitude")
        steps = [nx.ms_to_steps(x, self.dt) for x in times]
        for i in range(1, len(steps)):
            if steps[i] <= steps[i - 1]:
                raise ValueError(
                    f"times_ms[{i - 1}]={times[i - 1]!r} and times_ms[{i}]={times[i]!r} ms "
                    f"round to steps {steps[i - 1]} and {steps[i]} of dt={self.dt!r} ms; the "
                    "times must increase by at least one step")
        idx = None
        if neurons is not None:
            idx = [check_int(f"neurons[{j}]", x, low=0, high=pop.size - 1)
                   for j, x in enumerate(neurons)]
            if not idx or len(set(idx)) != len(idx):
                raise ValueError(f"neurons must list distinct indices in [0, {pop.size}) of "
                                 f"{pop.name!r}, not {neurons!r}")
            idx = tuple(sorted(idx))
        self.step_currents.append((pop.index, times, amps, idx))

    def connect(self, pre: Population, post: Population, rule: str = "all_to_all", *,
                p: float | None = None, indegree: int | None = None,
                outdegree: int | None = None, n: int | None = None, pairs=None,
                weight: float | Normal | None = None, delay: float | Normal | None = None,
                allow_autapses: bool = True, allow_multapses: bool | None = None,
                weight_bits: int | None = None, **unknown) -> Projection:
        """Connect ``pre`` to ``post`` by ``rule`` and return the projection.

        Parameters
        ----------
        pre, post : Population
            Source and target populations.
        rule : str
            One of ``RULES``; its parameter is ``p`` (pairwise_bernoulli), ``indegree``,
            ``outdegree`` or ``n`` (fixed_total_number).
        p, indegree, outdegree, n : number, optional
            The rule's parameter (exactly the one the rule names).
        pairs : (sources, targets), optional
            ``from_list``: two equally long integer sequences of indices into ``pre`` and
            ``post``; synapse k connects ``sources[k]`` to ``targets[k]`` (rows keep the
            list's order). Its ``weight`` and ``delay`` may then also be sequences of that
            length (one value per synapse), but not a ``Normal``.
        weight : float or Normal
            Synaptic current amplitude in pA (>= 0 excitatory, < 0 inhibitory), quantised
            to the I format: ``floor(w * 2**12 + 1/2)``; onto a ``LIFDelta`` population the
            jump of the potential in mV, quantised the same way (2**-12 mV).
        delay : float or Normal, optional
            Delay in ms, rounded to ``floor(d / dt + 1/2)`` steps, which must lie in
            ``[1, formats.MAX_DELAY_STEPS]``. Default: ``dt`` (one step).
        allow_autapses : bool
            Whether a neuron may connect to itself (only matters if ``pre is post``).
        allow_multapses : bool, optional
            Whether a pair may be connected more than once; default True for the rules that
            permit it (fixed_indegree, fixed_outdegree, fixed_total_number).
        weight_bits : int, optional
            Low-resolution weights (Dasbach et al. 2021): ``2**weight_bits`` levels per
            projection, preserving the mean and the variance of the weight distribution.

        Raises
        ------
        TypeError, ValueError
            For unknown keywords (with a hint), wrong types or values out of range.
        """
        if unknown:
            key = next(iter(unknown))
            options = ("p", "indegree", "outdegree", "n", "pairs", "weight", "delay",
                       "allow_autapses", "allow_multapses", "weight_bits", "rule")
            raise TypeError(f"connect() got an unexpected keyword {key!r}"
                            f"{did_you_mean(key, options)}")
        pre = self._check_pop("pre", pre)
        post = self._check_pop("post", post, neurons=True)
        check_choice("rule", rule, RULES)
        given = {k: v for k, v in (("p", p), ("indegree", indegree), ("outdegree", outdegree),
                                   ("n", n), ("pairs", pairs)) if v is not None}
        want = _RULE_PARAM[rule]
        for k, v in given.items():
            if k != want:
                fix = f"use {want}=..." if want else "remove it"
                raise ValueError(f"{k}={v!r} is not a parameter of rule {rule!r}; {fix}")
        if want and want not in given:
            raise ValueError(f"rule {rule!r} needs {want}=...; add it")
        allow_autapses = check_bool("allow_autapses", allow_autapses)
        multapse_rules = ("fixed_indegree", "fixed_outdegree", "fixed_total_number")
        if allow_multapses is None:
            allow_multapses = rule in multapse_rules
        elif check_bool("allow_multapses", allow_multapses) and rule not in multapse_rules:
            raise ValueError(f"rule {rule!r} never makes multapses; leave allow_multapses "
                             "unset or use fixed_indegree, fixed_outdegree or "
                             "fixed_total_number")
        same = pre is post
        per_target = pre.size - (1 if same and not allow_autapses else 0)
        per_source = post.size - (1 if same and not allow_autapses else 0)
        value = None
        if rule == "one_to_one":
            if pre.size != post.size:
                raise ValueError(f"one_to_one needs equal sizes, not {pre.name!r} ({pre.size}) "
                                 f"and {post.name!r} ({post.size}); use populations of one size")
            if same and not allow_autapses:
                raise ValueError("one_to_one from a population onto itself makes only "
                                 "autapses; set allow_autapses=True or use another rule")
        elif rule == "pairwise_bernoulli":
            value = check_number("p", p, low=0, high=1)
        elif rule in ("fixed_indegree", "fixed_outdegree"):
            name = want
            value = check_int(name, given[name], low=0)
            pool = per_target if rule == "fixed_indegree" else per_source
            if value > 0 and pool <= 0:
                raise ValueError(f"{name}={value!r} but there are no allowed partners; "
                                 "set allow_autapses=True or use a larger population")
            if not allow_multapses and value > pool:
                raise ValueError(f"{name}={value!r} exceeds the {pool} distinct partners "
                                 "available without multapses; use allow_multapses=True or "
                                 f"{name} <= {pool}")
        elif rule == "fixed_total_number":
            value = check_int("n", n, low=0)
            cap = per_target * post.size
            if value > 0 and cap <= 0:
                raise ValueError(f"n={value!r} but there are no allowed pairs; set "
                                 "allow_autapses=True")
            if not allow_multapses and value > cap:
                raise ValueError(f"n={value!r} exceeds the {cap} distinct pairs; use "
                                 f"allow_multapses=True or n <= {cap}")
        if weight is None:
            raise ValueError("weight is required; give weight=... in pA (negative for "
                             "inhibition)")
        if rule == "from_list":
            proj = Projection(pre=pre, post=post, rule=rule, value=None,
                              weight=Normal(0.0, 0.0), delay=Normal(self.dt, 0.0),
                              allow_autapses=True, allow_multapses=True, weight_bits=None,
                              pairs=self._check_pairs(pre, post, pairs, weight, delay))
            self.projections.append(proj)
            return proj
        w = as_distribution("weight", weight, "pA")
        if w.std == 0 and not _fits_i_format(w.mean):
            raise ValueError(f"weight={w.mean!r} pA does not fit the I format "
                             f"(+-{_I_LIMIT:g} pA); use a smaller weight")
        d = as_distribution("delay", self.dt if delay is None else delay, "ms")
        dmax = formats.MAX_DELAY_STEPS
        if d.std == 0:
            steps = math.floor(d.mean / self.dt + 0.5)
            if not 1 <= steps <= dmax:
                raise ValueError(
                    f"delay={d.mean!r} ms rounds to {steps} steps of dt={self.dt!r} ms; it must "
                    f"be 1 to {dmax} steps; use a delay in [{0.5 * self.dt:g}, "
                    f"{(dmax + 0.49) * self.dt:g}) ms")
        else:
            conn.delay_step_table(float(d.mean), float(d.std), float(d.low), float(d.high),
                                  self.dt)  # raises if a delay can round outside the range
        if weight_bits is not None:
            weight_bits = check_int("weight_bits", weight_bits, low=1, high=16)
        proj = Projection(pre=pre, post=post, rule=rule, value=value, weight=w, delay=d,
                          allow_autapses=allow_autapses, allow_multapses=allow_multapses,
                          weight_bits=weight_bits)
        self.projections.append(proj)
        return proj

    def _check_pairs(self, pre: Population, post: Population, pairs, weight, delay):
        """Return a ``from_list`` projection's checked (sources, targets, weights, delays)."""
        if not (isinstance(pairs, (tuple, list)) and len(pairs) == 2):
            raise TypeError(f"pairs must be (sources, targets), two sequences of indices, not "
                            f"{type(pairs).__name__}")
        src, tgt = (np.asarray(a) for a in pairs)
        if src.ndim != 1 or tgt.ndim != 1 or src.shape != tgt.shape:
            raise ValueError(f"pairs needs two 1-d sequences of one length, not shapes "
                             f"{src.shape} and {tgt.shape}")
        n = src.size
        for name, idx, pop in (("sources", src, pre), ("targets", tgt, post)):
            if n and not np.issubdtype(idx.dtype, np.integer):
                raise TypeError(f"pairs {name} must be integers, not {idx.dtype}")
            if n and (idx.min() < 0 or idx.max() >= pop.size):
                bad = idx[(idx < 0) | (idx >= pop.size)][0]
                raise ValueError(f"pairs {name} must lie in [0, {pop.size}) for "
                                 f"{pop.name!r}, not {int(bad)!r}")
        values = []
        for name, value, unit in (("weight", weight, "pA"),
                                  ("delay", self.dt if delay is None else delay, "ms")):
            if isinstance(value, Normal):
                raise TypeError(f"{name} of rule 'from_list' must be a number or one number "
                                "per pair, not a Normal; draw the values first")
            arr = np.asarray(value, dtype=np.float64)
            if arr.ndim == 0:
                arr = np.full(n, float(arr))
            if arr.shape != (n,):
                raise ValueError(f"{name} needs one value per pair ({n}), not shape "
                                 f"{arr.shape}")
            if n and not np.isfinite(arr).all():
                raise ValueError(f"{name} must be finite {unit}, not {arr[~np.isfinite(arr)][0]!r}")
            values.append(arr)
        w, d = values
        if n and not (_fits_i_format(float(w.min())) and _fits_i_format(float(w.max()))):
            raise ValueError(f"weight {float(np.abs(w).max())!r} pA does not fit the I format "
                             f"(+-{_I_LIMIT:g} pA); use smaller weights")
        steps = np.floor(d / self.dt + 0.5)
        dmax = formats.MAX_DELAY_STEPS
        if n and (steps.min() < 1 or steps.max() > dmax):
            bad = d[(steps < 1) | (steps > dmax)][0]
            raise ValueError(
                f"delay={float(bad)!r} ms rounds to {int(math.floor(bad / self.dt + 0.5))} "
                f"steps of dt={self.dt!r} ms; it must be 1 to {dmax} steps; use a delay in "
                f"[{0.5 * self.dt:g}, {(dmax + 0.49) * self.dt:g}) ms")
        return (src.astype(np.int64), tgt.astype(np.int64), w, d)

    def add_poisson_input(self, pop: Population, *, rate_hz: float, weight: float,
                          indegree: int = 1) -> None:
        """Give every neuron of ``pop`` background input from ``indegree`` Poisson sources.

        Each source fires at ``rate_hz``; per step a neuron receives a Poisson count of mean
        ``rate_hz * indegree * dt * 1e-3`` spikes of ``weight`` pA (mV onto a ``LIFDelta``
        population; one generator per neuron,
        ``numerics.poisson_table``). At most one Poisson input per population.
        """
        pop = self._check_pop("pop", pop, neurons=True)
        if pop.index in self.poisson:
            raise ValueError(f"population {pop.name!r} has a Poisson input already; give one "
                             "input with the summed rate (rate_hz * indegree)")
        rate = check_number("rate_hz", rate_hz, low=0, unit="Hz")
        w = check_number("weight", weight, unit="pA")
        if not _fits_i_format(w):
            raise ValueError(f"weight={weight!r} pA does not fit the I format "
                             f"(+-{_I_LIMIT:g} pA); use a smaller weight")
        k = check_int("indegree", indegree, low=0)
        nx.poisson_table(rate * k * self.dt * 1e-3)  # raises if the table cannot hold it
        self.poisson[pop.index] = (rate, k, w)

    def add_dc_input(self, pop: Population, *, amplitude_pa: float) -> None:
        """Add a constant current of ``amplitude_pa`` to every neuron of ``pop``.

        It is added to the model's ``I_e`` (one DC input per population).
        """
        pop = self._check_pop("pop", pop, neurons=True)
        if pop.index in self.dc:
            raise ValueError(f"population {pop.name!r} has a DC input already; give one input "
                             "with the summed amplitude")
        a = check_number("amplitude_pa", amplitude_pa, unit="pA")
        dataclasses.replace(pop.model, I_e=pop.model.I_e + a)  # validates the range
        self.dc[pop.index] = a

    # Building --------------------------------------------------------------------------------

    def expected_synapses(self) -> float:
        """Expected number of synapses (exact for all rules but pairwise_bernoulli)."""
        return sum(pr.expected_synapses() for pr in self.projections)

    def estimate_memory(self, partitions: int = 1, threads: int = 1) -> MemoryEstimate:
        """Return the memory a build with ``partitions`` and ``threads`` needs."""
        syn = 0.0
        for pr in self.projections:
            e = pr.expected_synapses()
            if pr.rule == "pairwise_bernoulli":
                e += 6.0 * math.sqrt(e)
            syn += e
        max_pre = max((pr.pre.size for pr in self.projections), default=0)
        return estimate_build(n_neurons=self.n_neurons, synapses=math.ceil(syn),
                              partitions=partitions, threads=threads, max_pre=max_pre)

    def _population_specs(self) -> list[PopulationSpec]:
        specs = []
        for pop in self.populations:
            model = pop.model
            if pop.index in self.dc:
                model = dataclasses.replace(model, I_e=model.I_e + self.dc[pop.index])
            specs.append(PopulationSpec(name=pop.name, start=pop.start, size=pop.size,
                                        model=model, v_init=pop.v_init,
                                        poisson=self.poisson.get(pop.index)))
        return specs

    def _specs(self) -> list[conn.ProjectionSpec]:
        specs = []
        for pr in self.projections:
            w, d = pr.weight, pr.delay
            levels, lv_low, lv_width = (), 0.0, 1.0
            if pr.weight_bits is not None and w.std > 0:
                lv, lv_low, lv_width = conn.low_resolution_levels(
                    float(w.mean), float(w.std), float(w.low), float(w.high), pr.weight_bits)
                levels = tuple(int(x) for x in lv)
            rule_value = pr.value if pr.value is not None else 0
            specs.append(conn.ProjectionSpec(
                rule=pr.rule, pre_start=pr.pre.start, n_pre=pr.pre.size,
                post_start=pr.post.start, n_post=pr.post.size, same_pop=pr.pre is pr.post,
                allow_autapses=pr.allow_autapses, allow_multapses=pr.allow_multapses,
                p=float(rule_value) if pr.rule == "pairwise_bernoulli" else 0.0,
                degree=int(rule_value) if pr.rule in ("fixed_indegree", "fixed_outdegree")
                else 0,
                n_total=int(rule_value) if pr.rule == "fixed_total_number" else 0,
                w_mean=float(w.mean), w_std=float(w.std), w_low=float(w.low),
                w_high=float(w.high), d_mean=float(d.mean), d_std=float(d.std),
                d_low=float(d.low), d_high=float(d.high), levels=levels, lv_low=lv_low,
                lv_width=lv_width, pairs=pr.pairs))
        return specs

    def realised_synapses(self, projection: Projection):
        """Return one projection's synapses as the build realises them (quantised).

        Returns ``(sources, targets, weights, delays)``: indices into ``projection.pre``
        and ``projection.post`` (int64), weights in pA and delays in ms (float64, the
        I-format weights and the delays in steps converted back), by source, then row
        order. Every partitioning stores exactly these synapses; only this projection's
        streams are drawn.
        """
        index = next((j for j, pr in enumerate(self.projections) if pr is projection), None)
        if index is None:
            raise ValueError(f"projection {projection!r} is not one of this network's; use "
                             "the value connect() returned")
        specs = self._specs()
        empty = (np.zeros(0, np.int64),) * 2 + (np.zeros(0),) * 2
        specs = [sp if j == index else dataclasses.replace(sp, rule="from_list", pairs=empty)
                 for j, sp in enumerate(specs)]
        store = conn.build_synapses(specs, n_neurons=self.n_neurons, n_parts=1, threads=1,
                                    seed=self.seed, dt=self.dt)
        row_ptr = store.row_ptr[0]
        tgt, w, d = formats.unpack_synapses(store.words)
        src = np.repeat(np.arange(self.n_neurons, dtype=np.int64), np.diff(row_ptr))
        return (src - projection.pre.start, tgt.astype(np.int64) - projection.post.start,
                w.astype(np.float64) / (1 << nx.I_FRAC_BITS), d.astype(np.float64) * self.dt)

    def build(self, partitions: int = 1, threads: int | None = None,
              memory_limit: int | None = None, only=None) -> BuiltNetwork:
        """Generate the synapses and return the partitioned, packed network.

        Parameters
        ----------
        partitions : int
            Number of partitions P (hardware nodes); neuron ``gid`` goes to ``gid % P``.
        threads : int, optional
            Work chunks and Numba threads T (default: Numba's thread count). The result does
            not depend on T or P.
        memory_limit : int, optional
            Bytes the build may use; default ``MemAvailable`` from /proc/meminfo.
        only : sequence of int, optional
            Store only these partitions' synapses, the others stay empty (what one MPI rank
            needs, ``neuroaix.engine.mpi``); the stored ones equal a full build's.

        Raises
        ------
        MemoryError
            If the estimate exceeds the limit (the message says what would fit).
        """
        if not self.populations:
            raise RuntimeError("the network has no populations; call add_population first")
        partitions = check_int("partitions", partitions, low=1)
        if threads is None:
            threads = default_threads()
        threads = check_int("threads", threads, low=1)
        if memory_limit is not None:
            memory_limit = check_int("memory_limit", memory_limit, low=1)
        n = self.n_neurons
        if -(-n // partitions) > formats.MAX_LOCAL_TARGETS:
            need = -(-n // formats.MAX_LOCAL_TARGETS)
            raise ValueError(f"partitions={partitions!r} puts more than "
                             f"{formats.MAX_LOCAL_TARGETS} neurons on a partition; use "
                             f"partitions >= {need}")
        if only is not None:
            bad = [q for q in only if not is_integer(q) or not 0 <= q < partitions]
            if bad or not len(only):
                raise ValueError(f"only must list partition indices in [0, {partitions}), not "
                                 f"{only!r}; e.g. only=[0]")
            only = tuple(sorted({int(q) for q in only}))
        est = self.estimate_memory(partitions, threads)
        scale, expo = self.scale_hint if self.scale_hint else (None, 1.0)
        check_memory(est, memory_limit, scale=scale, scale_exponent=expo)
        return build_network(self._population_specs(), self._specs(), dt=self.dt,
                             seed=self.seed, partitions=partitions, threads=threads, only=only,
                             step_currents=self._step_current_specs())

    def save(self, path, *, threads: int | None = None, memory_limit: int | None = None) -> dict:
        """Build the network and save it to ``path`` as a saved network (docs/io.md).

        The file (``neuroaix.construction.image``) holds the built, quantised network; it
        runs with ``neuroaix run --network`` and emulates with ``neuroaix emulate
        --network`` like the built-in models. It is built with the fewest partitions that
        the synapse format allows (one up to ``formats.MAX_LOCAL_TARGETS`` neurons), so its
        rows are in construction order.

        Parameters
        ----------
        path : str or os.PathLike
            The file (``.npz``), written atomically.
        threads, memory_limit : optional
            As for ``build``.

        Returns
        -------
        dict
            The file's metadata (``fingerprint``, ``sha256``, ``n_synapses``, ...).
        """
        partitions = max(1, -(-self.n_neurons // formats.MAX_LOCAL_TARGETS))
        return write_image(path, self.build(partitions=partitions, threads=threads,
                                            memory_limit=memory_limit))

    def _step_current_specs(self) -> list[StepCurrentSpec]:
        specs = []
        for k, times, amps, idx in self.step_currents:
            pop = self.populations[k]
            local = np.arange(pop.size) if idx is None else np.array(idx)
            specs.append(StepCurrentSpec(
                steps=tuple(nx.ms_to_steps(x, self.dt) for x in times),
                values=tuple(nx.pa_to_fixed(a) for a in amps),
                gids=pop.start + local.astype(np.int64)))
        return specs

"""PyNN's standard cell, synapse and current-source types as neuroaix realises them.

Parameters keep PyNN's names and units (nF, nA, mV, ms, Hz); the translations turn them into
``neuroaix.LIF``'s NEST names and units (pF, pA), which the network quantises
(docs/numerics.md). PyNN's types that the engine cannot carry exactly are defined here too,
so that a script fails where it creates one, with the type's name and the supported ones.
"""

from __future__ import annotations

import math

import numpy as np
from pyNN.parameters import ParameterSpace
from pyNN.standardmodels import build_translations, cells, electrodes, receptors, synapses

from neuroaix import neuron
from neuroaix import numerics as nx
from neuroaix.neuron import LIF as _LIF
from neuroaix.neuron import LIFAlpha, LIFDelta
from neuroaix.pynn.simulator import state

__all__ = [
    "CELL_TYPES",
    "CURRENT_SOURCES",
    "SYNAPSE_TYPES",
    "ACSource",
    "DCSource",
    "IF_curr_alpha",
    "IF_curr_delta",
    "IF_curr_exp",
    "SpikeSourceArray",
    "SpikeSourcePoisson",
    "StaticSynapse",
    "StepCurrentSource",
]


def _uniform(celltype, name: str, values) -> float:
    """Return the one value of a native parameter over a population.

    Raises
    ------
    ValueError
        If the neurons of the population have different values.
    """
    arr = np.atleast_1d(np.asarray(values, dtype=np.float64))
    if arr.size and not (arr == arr[0]).all():
        raise ValueError(
            f"{type(celltype).__name__} parameter {name!r} differs between the neurons of one "
            f"population ({float(arr.min())!r} to {float(arr.max())!r}); neuroaix holds one "
            "value per population: split it into populations of equal parameters")
    return float(arr[0])


_CURR_TRANSLATIONS = (
    ("v_rest", "E_L"),
    ("v_reset", "V_reset"),
    ("cm", "C_m", 1000.0),  # nF -> pF
    ("tau_m", "tau_m"),
    ("tau_refrac", "t_ref"),
    ("v_thresh", "V_th"),
    ("i_offset", "I_e", 1000.0),  # nA -> pA
)
_SYN_TRANSLATIONS = (("tau_syn_E", "tau_syn_ex"), ("tau_syn_I", "tau_syn_in"))


class IF_curr_exp(cells.IF_curr_exp):
    __doc__ = cells.IF_curr_exp.__doc__

    translations = build_translations(*_CURR_TRANSLATIONS, *_SYN_TRANSLATIONS)
    #: PyNN's recordables plus the synaptic currents, named as PyNN's initial values.
    recordable = ["spikes", "v", "isyn_exc", "isyn_inh"]
    #: neuroaix's weight per PyNN weight unit (nA -> pA).
    weight_scale = 1000.0
    engine_class = _LIF

    def engine_model(self, native: dict, dt: float, folded: bool = False):
        """Return ``(model, None)`` for native parameters of one value each."""
        return self.engine_class(**{k: _uniform(self, k, v) for k, v in native.items()}), None


class IF_curr_alpha(cells.IF_curr_alpha):
    __doc__ = cells.IF_curr_alpha.__doc__

    translations = build_translations(*_CURR_TRANSLATIONS, *_SYN_TRANSLATIONS)
    recordable = ["spikes", "v", "isyn_exc", "isyn_inh"]
    weight_scale = 1000.0
    engine_class = LIFAlpha
    engine_model = IF_curr_exp.engine_model


class IF_curr_delta(cells.IF_curr_delta):
    __doc__ = cells.IF_curr_delta.__doc__ + """

    Weights onto it are the potential's jump in mV (PyNN's unit for voltage-based synapses),
    quantised to 2**-12 mV; spikes that arrive while it is refractory are discarded.
    """

    translations = build_translations(*_CURR_TRANSLATIONS)
    recordable = ["spikes", "v"]
    weight_scale = 1.0
    engine_class = LIFDelta
    engine_model = IF_curr_exp.engine_model


class SpikeSourceArray(cells.SpikeSourceArray):
    __doc__ = cells.SpikeSourceArray.__doc__ + """

    neuroaix's spike sources (NEST's ``spike_generator``): a time ``T`` is quantised to the
    step ``k = floor(T/dt + 1/2)`` and the spike carries the time ``k dt``; several times of
    one source in one step give one spike (the engine sends no multiplicities). Times must
    be at least ``dt/2``. Times set between runs act from the next step on (earlier ones
    are ignored; ``State.spike_times_changed``).
    """

    translations = build_translations(("spike_times", "spike_times"))

    def spike_trains(self, native: dict, dt: float) -> list[list[float]]:
        """Return each source's times (ms), one per occupied step, as ``k dt``."""
        out = []
        for seq in np.atleast_1d(native["spike_times"]):
            times = np.asarray(getattr(seq, "value", seq), dtype=np.float64).ravel()
            steps = np.unique(np.floor(times / dt + 0.5).astype(np.int64))
            out.append((steps * dt).tolist())
        return out


#: The source neuron of ``SpikeSourcePoisson``: it fires in the step after every step in
#: which its Poisson generator draws a count >= 1. E_L = V_reset = 0 mV, threshold 1 mV;
#: the synaptic time constant is dt/8 (so that a count's current has decayed to e**-8 of
#: itself one step later) and C_m grows with dt (so that the jump of one count, 2 mV, needs
#: the same weight for every dt).
def _poisson_neuron(dt: float) -> tuple[_LIF, float]:
    model = _LIF(C_m=2500.0 * dt, tau_m=10.0, tau_syn_ex=dt / 8.0, tau_syn_in=dt / 8.0,
                t_ref=0.0, E_L=0.0, V_th=1.0, V_reset=0.0, I_e=0.0)
    p21 = neuron.propagators(model, dt)["p21ex"]
    return model, 2.0 / p21


class SpikeSourcePoisson(cells.SpikeSourcePoisson):
    __doc__ = cells.SpikeSourcePoisson.__doc__ + """

    neuroaix realises each source as a neuron driven by its own Poisson generator (the
    engine's background input, one counter-based stream per neuron): it fires in step
    ``k + 1`` when the generator's count of step ``k`` is at least one, with the count's
    mean set to ``-ln(1 - rate dt)``, so every step holds a spike with probability
    ``rate * dt`` (a Bernoulli process on the time grid, at most one spike per step, first
    spike at ``2 dt``). ``start`` must be 0 and ``duration`` at least 1e9 ms.
    """

    translations = build_translations(
        ("rate", "rate"),
        ("start", "start"),
        ("duration", "duration"),
    )

    def engine_model(self, native: dict, dt: float, folded: bool = False):
        """Return ``(neuroaix.LIF, (rate_hz, 1, weight_pa))`` realising the sources (see
        above); ``folded`` sources (docs/pynn.md) are silent: ``(LIF, None)``."""
        if folded:
            return _poisson_neuron(dt)[0], None
        rate = _uniform(self, "rate", native["rate"])
        start = _uniform(self, "start", native["start"])
        duration = _uniform(self, "duration", native["duration"])
        if start != 0.0 or duration < 1e9:
            raise ValueError(
                f"SpikeSourcePoisson(start={start!r}, duration={duration!r}) needs input that "
                "varies in time; neuroaix's Poisson sources run from t = 0 to the end: use "
                "start=0 and the default duration")
        p = rate * dt * 1e-3
        if not 0.0 <= p < 1.0:
            raise ValueError(f"SpikeSourcePoisson rate={rate!r} Hz must lie in [0, "
                             f"{1e3 / dt:g}) Hz at dt={dt!r} ms")
        model, weight = _poisson_neuron(dt)
        mean = -math.log1p(-p)
        return model, (mean / (dt * 1e-3), 1, weight)


class StaticSynapse(synapses.StaticSynapse):
    __doc__ = synapses.StaticSynapse.__doc__

    translations = build_translations(
        ("weight", "weight", 1000.0),  # nA -> pA
        ("delay", "delay"),
    )

    def _get_minimum_delay(self):
        return state.min_delay


def _quantised_pa(values) -> np.ndarray:
    """Return amplitudes (pA) rounded to the I format, ``floor(a * 2**12 + 1/2) / 2**12``."""
    scale = float(1 << nx.I_FRAC_BITS)
    return np.floor(np.asarray(values, np.float64) * scale + 0.5) / scale


def _grid_steps(times, dt: float) -> np.ndarray:
    """Return times (ms) as steps ``floor(T/dt + 1/2)`` (int64)."""
    return np.floor(np.asarray(times, np.float64) / dt + 0.5).astype(np.int64)


class _CurrentSource:
    """What neuroaix's current sources share: parameters, the cells they are injected into,
    and the schedule of the current they inject.

    Each source defines ``_changes(dt, horizon)``: the update steps ``k`` from which a new
    amplitude (pA, quantised to the I format) holds, as pyNN.nest delivers a current source's
    change at time ``T`` in the update of step ``round(T/dt)`` (so ``v`` moves at
    ``T + dt``). The engine takes the amplitude from step 0 into the constant current
    ``I_e`` and every later change as a step current one step early (the engine's step
    current acts from the step after its time, docs/numerics.md 5d); the amplitudes are
    quantised before they are split, so the sum the engine applies is the schedule's
    amplitude exactly.
    """

    #: Whether the schedule depends on how far the simulation runs (ACSource with no
    #: ``stop``: one amplitude per step, generated up to the horizon).
    open_ended = False

    def __init__(self, **parameters):
        state.changed("current sources", between_runs=True)
        super().__init__(**parameters)
        object.__setattr__(self, "_cells", [])
        object.__setattr__(self, "_recording", False)
        object.__setattr__(self, "_epochs", [])
        self._prepare()
        state.current_sources.append(self)

    def _prepare(self) -> None:
        """Check the parameters before the source joins the model (a hook)."""

    def set_native_parameters(self, parameters):
        state.changed("current sources", between_runs=True)
        self.parameter_space.update(**self.reverse_translate(parameters))

    def get_native_parameters(self):
        return self.translate(self.parameter_space)

    def _native(self) -> dict:
        """Return the native parameters, evaluated."""
        space = self.get_native_parameters()
        space.shape = (1,)
        space.evaluate(simplify=True)
        return {k: float(np.ravel(v)[0]) for k, v in space.items()}

    def inject_into(self, cells):
        """Inject the current into ``cells`` (Population, PopulationView, Assembly or ids)."""
        for cell in cells:
            if not cell.celltype.injectable:
                raise TypeError(f"cannot inject current into a {type(cell.celltype).__name__} "
                                "spike source")
        state.changed("current sources", between_runs=True)
        self._cells.extend(int(c) for c in cells)

    def _changes(self, dt: float, horizon: int) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(steps, amplitudes pA)``: from the update of ``steps[j]`` on the current
        is ``amplitudes[j]`` (0 before the first), steps increasing, for the steps below
        ``horizon`` at least."""
        raise NotImplementedError

    def _schedule(self, dt: float, horizon: int) -> tuple[np.ndarray, np.ndarray]:
        """Return ``_changes`` with quantised amplitudes and repeated values removed."""
        steps, amps = self._changes(dt, horizon)
        steps = np.asarray(steps, np.int64)
        amps = _quantised_pa(amps)
        if steps.size:
            last = np.r_[steps[1:] != steps[:-1], True]  # the last amplitude of a step wins
            steps, amps = steps[last], amps[last]
            keep = np.r_[amps[0] != 0.0 or steps[0] == 0, amps[1:] != amps[:-1]]
            steps, amps = steps[keep], amps[keep]
        return steps, amps

    def _engine_parts(self, dt: float, horizon: int):
        """Return ``(constant pA, engine times ms, engine amplitudes pA)`` of the schedule."""
        steps, amps = self._schedule(dt, horizon)
        constant = float(amps[0]) if steps.size and steps[0] == 0 else 0.0
        later = steps >= 1
        return constant, ((steps[later] - 1) * dt).tolist(), (amps[later] - constant).tolist()

    def _engine_inputs(self, dt: float, horizon: int):
        """Yield ``(cell ids, amplitude pA)`` of the constant current this source injects."""
        constant = self._engine_parts(dt, horizon)[0]
        if self._cells and constant != 0.0:
            yield np.array(self._cells, np.int64), constant

    def _engine_steps(self, dt: float, horizon: int):
        """Yield ``(cell ids, times ms, amplitudes pA)`` of its piecewise-constant current."""
        _, times, amps = self._engine_parts(dt, horizon)
        if self._cells and times:
            yield np.array(self._cells, np.int64), times, amps

    def _start_epoch(self, step: int, dt: float, horizon: int) -> None:
        """Note the schedule in force from ``step`` on (what ``get_data`` reports)."""
        epochs = [e for e in self._epochs if e[0] < step]
        epochs.append((step, *self._schedule(dt, horizon)))
        object.__setattr__(self, "_epochs", epochs)

    def _reset(self) -> None:
        object.__setattr__(self, "_epochs", [])

    def record(self):
        """Record the current this source injects (``get_data``: one value per step, nA)."""
        object.__setattr__(self, "_recording", True)

    def _get_data(self):
        """Return ``(times ms, current nA)``: the amplitude in the update of every step from
        0 to the current one (the value at ``k dt`` acts from ``k dt`` to ``(k + 1) dt``)."""
        if not self._recording:
            raise RuntimeError("this current source was not recorded; call record() first")
        n = state.step + 1
        out = np.zeros(n)
        for j, (start, steps, amps) in enumerate(self._epochs):
            stop = self._epochs[j + 1][0] if j + 1 < len(self._epochs) else n
            k = np.arange(start, min(stop, n))
            idx = np.searchsorted(steps, k, side="right") - 1
            out[start:start + k.size] = np.where(idx >= 0, amps[np.maximum(idx, 0)], 0.0)
        return np.arange(n) * state.dt, out / 1000.0


class DCSource(_CurrentSource, electrodes.DCSource):
    __doc__ = electrodes.DCSource.__doc__ + """

    neuroaix: on from the update of step ``round(start/dt)``, off from ``round(stop/dt)``.
    """

    translations = build_translations(
        ("amplitude", "amplitude", 1000.0),  # nA -> pA
        ("start", "start"),
        ("stop", "stop"),
    )

    def _changes(self, dt, horizon):
        native = self._native()
        amp, start, stop = (native[k] for k in ("amplitude", "start", "stop"))
        on, off = _grid_steps([start, stop], dt) if stop < 1e9 else (_grid_steps(start, dt),
                                                                      None)
        if off is None:
            return [on], [amp]
        return ([on, off], [amp, 0.0]) if off > on else ([], [])


class ACSource(_CurrentSource, electrodes.ACSource):
    __doc__ = electrodes.ACSource.__doc__ + """

    neuroaix samples the sine once per step, as NEST's ``ac_generator`` does: in the update
    of step ``k``, for ``round(start/dt) <= k < round(stop/dt)``, the current is
    ``offset + amplitude * sin(2 pi frequency (k dt - start) / 1000 + phase pi / 180)``
    (the phase holds at ``start``, as PyNN specifies), quantised to the I format, and 0
    outside; the engine carries it as a step current of one amplitude per step.
    """

    translations = build_translations(
        ("amplitude", "amplitude", 1000.0),  # nA -> pA
        ("offset", "offset", 1000.0),  # nA -> pA
        ("frequency", "frequency"),
        ("phase", "phase"),
        ("start", "start"),
        ("stop", "stop"),
    )

    @property
    def open_ended(self) -> bool:
        return self._native()["stop"] >= 1e9

    def _changes(self, dt, horizon):
        p = self._native()
        on = int(_grid_steps(p["start"], dt))
        off = int(_grid_steps(p["stop"], dt)) if p["stop"] < 1e9 else max(horizon, on)
        k = np.arange(on, max(off, on), dtype=np.int64)
        amps = p["offset"] + p["amplitude"] * np.sin(
            2.0 * np.pi * p["frequency"] * (k * dt - p["start"]) / 1000.0
            + p["phase"] * np.pi / 180.0)
        if p["stop"] < 1e9 and off > on:
            return np.r_[k, off], np.r_[amps, 0.0]
        return k, amps


class StepCurrentSource(_CurrentSource, electrodes.StepCurrentSource):
    __doc__ = electrodes.StepCurrentSource.__doc__ + """

    neuroaix's step currents (NEST's ``step_current_generator``): each time is rounded to a
    step ``k`` (the last amplitude of a step wins) and its amplitude acts in the updates from
    step ``k`` on, as pyNN.nest delivers it.
    """

    translations = build_translations(
        ("amplitudes", "amplitudes", 1000.0),  # nA -> pA
        ("times", "times"),
    )

    def _prepare(self) -> None:
        self.set_native_parameters(self.translate(self.parameter_space))

    def set_native_parameters(self, parameters):
        """Check and store the times (rounded to the grid, one amplitude per step: the
        last one given) and the amplitudes (pA).

        Raises
        ------
        ValueError
            For negative or not increasing times, or unequal lengths.
        """
        state.changed("current sources", between_runs=True)
        parameters.shape = (1,)
        parameters.evaluate(simplify=True)
        values = dict(parameters.items())
        old = self.__dict__.get("_steps", (np.zeros(0), np.zeros(0)))
        times = np.asarray(getattr(values.get("times"), "value", values.get("times", old[0])),
                           float).ravel()
        amps = np.asarray(getattr(values.get("amplitudes"), "value",
                                  values.get("amplitudes", old[1])), float).ravel()
        if times.shape != amps.shape:
            raise ValueError(f"StepCurrentSource needs one amplitude per time, not {times.size} "
                             f"times and {amps.size} amplitudes")
        if times.size and times.min() < 0:
            raise ValueError(f"StepCurrentSource times must be >= 0, not {float(times.min())!r} ms")
        if times.size > 1 and np.diff(times).min() <= 0:
            raise ValueError("StepCurrentSource times must increase")
        steps = _grid_steps(times, state.dt)
        last = np.r_[steps[1:] != steps[:-1], True] if steps.size else np.zeros(0, bool)
        object.__setattr__(self, "_steps", (steps[last] * state.dt, amps[last]))

    def get_native_parameters(self):
        times, amps = self._steps
        return ParameterSpace({"times": times, "amplitudes": amps}, shape=(times.size,))

    def _changes(self, dt, horizon):
        times, amps = self._steps
        return _grid_steps(times, dt), amps


def _unsupported(base, kind: str, supported: tuple[str, ...]):
    """Return a stand-in for PyNN type ``base`` that refuses to be created."""
    def __init__(self, *args, **kwargs):
        raise NotImplementedError(
            f"{base.__name__} is not supported by neuroaix; supported {kind}: "
            f"{', '.join(supported) or 'none'}")
    return type(base.__name__, (base,), {"__init__": __init__, "__doc__": base.__doc__})


#: Supported types by kind.
CELL_TYPES = ("IF_curr_exp", "IF_curr_alpha", "IF_curr_delta", "SpikeSourcePoisson",
              "SpikeSourceArray")
SYNAPSE_TYPES = ("StaticSynapse",)
CURRENT_SOURCES = ("DCSource", "StepCurrentSource", "ACSource")

_UNSUPPORTED = {
    "cell types": (cells, CELL_TYPES, (
        "IF_cond_alpha", "IF_cond_exp",
        "IF_cond_exp_gsfa_grr", "IF_facets_hardware1", "HH_cond_exp",
        "EIF_cond_alpha_isfa_ista", "EIF_cond_exp_isfa_ista", "PointNeuron", "Izhikevich",
        "GIF_cond_exp", "SpikeSourcePoissonRefractory", "SpikeSourceGamma",
        "SpikeSourceInhGamma", "LIF", "AdExp")),
    "post-synaptic responses": (receptors, (), (
        "CurrExpPostSynapticResponse", "CondExpPostSynapticResponse",
        "CondAlphaPostSynapticResponse", "CondBetaPostSynapticResponse")),
    "synapse types": (synapses, SYNAPSE_TYPES, (
        "ElectricalSynapse", "TsodyksMarkramSynapse", "SimpleStochasticSynapse",
        "StochasticTsodyksMarkramSynapse", "MultiQuantalSynapse", "STDPMechanism",
        "AdditiveWeightDependence", "MultiplicativeWeightDependence",
        "AdditivePotentiationMultiplicativeDepression", "GutigWeightDependence",
        "SpikePairRule", "Vogels2011Rule")),
    "current sources": (electrodes, CURRENT_SOURCES, (
        "NoisyCurrentSource",)),
}
for _kind, (_module, _supported, _names) in _UNSUPPORTED.items():
    for _name in _names:
        if hasattr(_module, _name):
            globals()[_name] = _unsupported(getattr(_module, _name), _kind, _supported)
            __all__.append(_name)

"""Populations, views and assemblies of the PyNN backend.

A ``Population`` is one population of the ``neuroaix.Network`` built at the first run, with
the same cells in the same order (a cell's ``ID`` is its global id). Its parameters are kept
in neuroaix's units (the cell type's native names) until then; a view reads and writes its
parent's.
"""

from __future__ import annotations

import numpy as np
from pyNN import common, errors
from pyNN.parameters import LazyArray, ParameterSpace, simplify
from pyNN.standardmodels import StandardCellType

from neuroaix.pynn import simulator
from neuroaix.pynn.recording import Recorder
from neuroaix.pynn.standardmodels import CELL_TYPES

__all__ = ["Assembly", "Population", "PopulationView"]

#: State variables that start at zero in the engine and may only be initialised to zero.
_ZERO_ONLY = ("isyn_exc", "isyn_inh")


def _check_celltype(celltype) -> None:
    if not isinstance(celltype, StandardCellType) or not (hasattr(celltype, "engine_model") or
                                                          hasattr(celltype, "spike_trains")):
        raise NotImplementedError(f"{type(celltype).__name__} is not supported by neuroaix; "
                                  f"supported cell types: {', '.join(CELL_TYPES)}")


def _per_cell(value, size: int) -> np.ndarray:
    """Return a parameter's values as one entry per cell (float64, or objects for lists)."""
    arr = np.asarray(value)
    if arr.dtype == object:
        out = np.empty(size, object)
        out[:] = list(np.broadcast_to(arr, (size,)))
        return out
    return np.broadcast_to(arr.astype(np.float64), (size,)).copy()


def _check_spike_times(sequences) -> None:
    """Refuse spike times out of order (PyNN's InvalidParameterValueError)."""
    for seq in np.atleast_1d(np.asarray(sequences, dtype=object)) if len(sequences) else ():
        times = np.asarray(getattr(seq, "value", seq), dtype=np.float64)
        if times.size > 1 and np.diff(times).min() < 0:
            raise errors.InvalidParameterValueError(
                f"spike times must be in increasing order, not {times.tolist()!r}")


class Assembly(common.Assembly):
    __doc__ = common.Assembly.__doc__
    _simulator = simulator


class PopulationView(common.PopulationView):
    __doc__ = common.PopulationView.__doc__
    _assembly_class = Assembly
    _simulator = simulator

    @property
    def initial_values(self):
        """The initial values of the view's cells (a copy; ``initialize`` changes them)."""
        return {k: LazyArray(v[self.mask]) for k, v in self.parent._all_initial().items()}

    def _get_parameters(self, *names):
        return self.parent._parameters_of(self.mask, self.size, names)

    def _set_parameters(self, parameter_space):
        self.parent._store_parameters(parameter_space, self.mask)

    def _set_initial_value_array(self, variable, initial_values):
        self.parent._store_initial(variable, initial_values, self.mask, self.size)

    def _get_view(self, selector, label=None):
        return PopulationView(self, selector, label)


class Population(common.Population):
    __doc__ = common.Population.__doc__
    _simulator = simulator
    _recorder_class = Recorder
    _assembly_class = Assembly

    def __init__(self, size, cellclass, cellparams=None, structure=None, initial_values={},
                 label=None):
        simulator.state.changed("the populations")
        common.Population.__init__(self, size, cellclass, cellparams, structure,
                                   initial_values, label)

    def _create_cells(self):
        _check_celltype(self.celltype)
        state = simulator.state
        first = state.id_counter
        self.all_cells = np.array([simulator.ID(i) for i in range(first, first + self.size)],
                                  dtype=simulator.ID)
        self._mask_local = np.ones(self.size, bool)
        for cell in self.all_cells:
            cell.parent = self
        space = self.celltype.native_parameters
        space.shape = (self.size,)
        space.evaluate(simplify=False)
        self._parameters = {k: _per_cell(v, self.size) for k, v in space.items()}
        _check_spike_times(self._parameters.get("spike_times", ()))
        self._initial = {}
        self._engine_parts = []
        self._folded_source = False
        state.id_counter += self.size
        state.populations.append(self)

    # Parameters and initial values ---------------------------------------------------------

    def _parameters_of(self, mask, size, names):
        """Return PyNN's values of ``names`` for the cells ``mask`` as a ParameterSpace."""
        if any(n in self.celltype.computed_parameters() for n in names):
            native_names = self.celltype.get_native_names()
        else:
            native_names = self.celltype.get_native_names(*names)
        native = ParameterSpace({n: simplify(self._parameters[n][mask]) for n in native_names},
                                shape=(size,))
        return self.celltype.reverse_translate(native)

    def _store_parameters(self, parameter_space, mask):
        state = simulator.state
        times_only = hasattr(self.celltype, "spike_trains") and \
            set(parameter_space.keys()) <= {"spike_times"}
        if not (times_only and state.has_simulator):
            state.changed("neuron parameters", between_runs=True)
        parameter_space.evaluate(simplify=False, mask=mask)
        if "spike_times" in parameter_space.keys():
            _check_spike_times(parameter_space["spike_times"])
        for name, value in parameter_space.items():
            self._parameters[name][mask] = value
        if times_only and state.has_simulator:
            state.spike_times_changed(self)

    def _store_initial(self, variable, initial_values, mask, size):
        values = np.asarray(initial_values.evaluate(simplify=False), dtype=np.float64)
        values = np.broadcast_to(values, (size,))
        if variable in _ZERO_ONLY and np.any(values != 0.0):
            raise ValueError(f"neuroaix starts every synaptic current at 0; {variable!r} can "
                             "only be initialised to 0")
        simulator.state.changed("initial values")
        if variable not in self._initial:
            default = self.celltype.default_initial_values.get(variable, 0.0)
            self._initial[variable] = np.full(self.size, float(default))
        self._initial[variable][mask] = values

    def _all_initial(self) -> dict:
        """Return every cell's initial values by variable (float64 arrays)."""
        out = {k: np.full(self.size, float(v)) for k, v in
               self.celltype.default_initial_values.items() if np.isscalar(v)}
        out.update(self._initial)
        return out

    def _get_parameters(self, *names):
        return self._parameters_of(slice(None), self.size, names)

    def _set_parameters(self, parameter_space):
        self._store_parameters(parameter_space, slice(None))

    def _set_initial_value_array(self, variable, initial_values):
        self._store_initial(variable, initial_values, slice(None), self.size)

    def _get_view(self, selector, label=None):
        return PopulationView(self, selector, label)

    # The engine's populations -------------------------------------------------------------

    def _engine_name(self) -> str:
        others = [p for p in simulator.state.populations if p.label == self.label]
        return self.label if len(others) == 1 else f"{self.label}#{others.index(self)}"

    def _runs(self, dc: np.ndarray) -> list[tuple[int, int]]:
        """Return the ``[a, b)`` runs of cells with equal parameters and DC input."""
        columns = [v for v in self._parameters.values() if v.dtype != object]
        columns.append(dc)
        change = np.zeros(self.size, bool)
        for col in columns:
            change[1:] |= col[1:] != col[:-1]
        cuts = [0, *np.flatnonzero(change).tolist(), self.size]
        return list(zip(cuts[:-1], cuts[1:]))

    def _add_to(self, net, dc: np.ndarray, poisson_in=None, folded: bool = False) -> None:
        """Add this population to ``net``: one engine population per run of cells with
        equal parameters and DC input (usually one), with its Poisson generators and DC.

        ``dc`` is each cell's DC input (pA); ``poisson_in`` a folded Poisson input
        ``(rate_hz, weight_pa)`` of every cell; ``folded`` marks a SpikeSourcePoisson whose
        spikes are folded into its targets' inputs (its cells stay, silent, for their ids).
        """
        self._engine_parts = []
        self._folded_source = folded
        if hasattr(self.celltype, "spike_trains"):
            trains = self.celltype.spike_trains(self._parameters, net.dt)
            self._engine_parts.append(net.add_spike_source(self._engine_name(), trains))
            return
        runs = self._runs(dc)
        v_all = self._initial.get("v")
        for a, b in runs:
            native = {k: np.broadcast_to(v, (self.size,))[a:b]
                      for k, v in self._parameters.items()}
            model, poisson = self.celltype.engine_model(native, net.dt, folded=folded)
            v = None if v_all is None else v_all[a:b]
            if v is None or "v" not in self.celltype.default_initial_values:
                v_init = model.E_L
            elif (v == v[0]).all():
                v_init = float(v[0])
            else:
                v_init = v
            name = self._engine_name() if len(runs) == 1 else \
                f"{self._engine_name()}[{a}:{b}]"
            part = net.add_population(name, b - a, model, v_init=v_init)
            if poisson is not None:
                rate, indegree, weight = poisson
                net.add_poisson_input(part, rate_hz=rate, indegree=indegree, weight=weight)
            if poisson_in is not None:
                net.add_poisson_input(part, rate_hz=poisson_in[0], indegree=1,
                                      weight=poisson_in[1])
            if dc[a] != 0.0:
                net.add_dc_input(part, amplitude_pa=float(dc[a]))
            self._engine_parts.append(part)

    def _add_step_current(self, net, cells: np.ndarray, times, amplitudes) -> None:
        """Add a step current on the cells ``cells`` (global ids) of this population."""
        for part in self._engine_parts:
            start = part.start
            mine = cells[(cells >= start) & (cells < start + part.size)] - start
            if mine.size == part.size:
                net.add_step_current(part, times, amplitudes)
            elif mine.size:
                net.add_step_current(part, times, amplitudes, neurons=mine.tolist())

    @property
    def _engine(self):
        """The one engine population of this population, or None if it has several."""
        parts = self._engine_parts
        return parts[0] if len(parts) == 1 else None

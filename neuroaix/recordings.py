"""A run's recordings as Neo objects and NWB files: spike trains and probe traces.

The one conversion from the engine's raster (``senders``, ``steps``) and probes
(``Simulator.probes()``) to the formats of the analysis tools: a Neo ``Block`` (``neo``
0.14) and an NWB file (``pynwb`` 4.2). ``neuroaix run --format neo|nwb`` writes them, and the
PyNN backend's ``get_data`` returns ``to_neo_block``'s blocks.

Times: a spike recorded at step ``t`` was emitted during the update from ``t*dt`` to
``(t+1)*dt`` (docs/numerics.md) and is given at ``(t+1)*dt`` ms, as NEST and PyNN report it
(``spike_times_ms``); a probe sample of step ``t`` holds the state at the end of that step,
also at ``(t+1)*dt``. Potentials are absolute (``v_rel_mv + E_L``) where E_L is known.
Units: ms and mV in Neo, currents in nA (PyNN's units); SI units in NWB (seconds; volts and
amperes through the TimeSeries ``conversion``).

``neo``, ``quantities``, ``pynwb`` and ``nixio`` are the ``io`` extra; they are imported when
a conversion is asked for.
"""

from __future__ import annotations

import os

import numpy as np

__all__ = ["SIGNALS", "probe_signals", "spike_times_ms", "to_neo_block", "to_neo_segment",
           "write_neo", "write_nwb"]

#: Probe variables: ``(Neo/NWB name, Simulator.probes() key, unit, to that unit)``; names as
#: PyNN's recordables ("v", "isyn_exc", "isyn_inh").
SIGNALS = (("v", "v_rel_mv", "mV", 1.0), ("isyn_exc", "i_ex_pa", "nA", 1e-3),
           ("isyn_inh", "i_in_pa", "nA", 1e-3))


def spike_times_ms(steps, dt: float) -> np.ndarray:
    """Return the times in ms of spikes recorded at ``steps``: ``(steps + 1) * dt`` (float64).

    Parameters
    ----------
    steps : array_like of int
        Absolute steps of the raster.
    dt : float
        Time step (ms).
    """
    return (np.asarray(steps, np.int64) + 1).astype(np.float64) * float(dt)


def _population_of(populations, gids: np.ndarray) -> np.ndarray:
    starts = np.array([p[1] for p in populations], np.int64)
    return np.searchsorted(starts, gids, side="right") - 1


def probe_signals(probes: dict, populations, e_l=None) -> list[dict]:
    """Return the probe traces grouped by population and variable, in their output units.

    Parameters
    ----------
    probes : dict
        ``Simulator.probes()``: ``ids``, ``steps``, ``v_rel_mv``, ``i_ex_pa``, ``i_in_pa``.
    populations : sequence of (name, start, stop)
        The network's populations.
    e_l : sequence of float, optional
        E_L per population (mV): potentials are made absolute; without it they stay relative
        to E_L (the signal's ``relative_to_e_l`` says which).

    Returns
    -------
    list of dict
        One per (population with probes, variable): ``name``, ``population``, ``ids``
        (global), ``index`` (within the population), ``unit``, ``data`` (samples x
        channels, float64), ``steps`` and ``relative_to_e_l``.
    """
    ids = np.asarray(probes["ids"], np.int64)
    if ids.size == 0:
        return []
    pop = _population_of(populations, ids)
    out = []
    for k in sorted(set(pop.tolist())):
        cols = np.flatnonzero(pop == k)
        name, start = populations[k][0], int(populations[k][1])
        for signal, key, unit, factor in SIGNALS:
            data = np.asarray(probes[key], np.float64)[cols].T * factor
            relative = False
            if signal == "v":
                if e_l is None:
                    relative = True
                else:
                    data = data + float(e_l[k])
            out.append({"name": signal, "population": name, "ids": ids[cols],
                        "index": ids[cols] - start, "unit": unit, "data": data,
                        "steps": np.asarray(probes["steps"], np.int64),
                        "relative_to_e_l": relative})
    return out


def to_neo_block(senders, steps, *, dt: float, populations, t_start: int, t_stop: int,
                 probes: dict | None = None, e_l=None, ids=None, name: str = "neuroaix",
                 annotations: dict | None = None):
    """Return a Neo ``Block`` with one ``Segment`` (``to_neo_segment``) named ``"run"``.

    Parameters
    ----------
    senders, steps, dt, populations, t_start, t_stop, probes, e_l, ids
        As for ``to_neo_segment``.
    name : str
        The block's name.
    annotations : dict, optional
        More annotations of the block (e.g. the run's provenance); values must be str,
        numbers or bools.
    """
    import neo

    block = neo.Block(name=name, **(annotations or {}))
    block.segments.append(to_neo_segment(senders, steps, dt=dt, populations=populations,
                                         t_start=t_start, t_stop=t_stop, probes=probes,
                                         e_l=e_l, ids=ids, name="run", index=0))
    return block


def to_neo_segment(senders, steps, *, dt: float, populations, t_start: int, t_stop: int,
                   probes: dict | None = None, e_l=None, ids=None, name: str = "run",
                   index: int = 0):
    """Return a Neo ``Segment``: a SpikeTrain per neuron and the probe signals.

    Parameters
    ----------
    senders, steps : array_like of int
        The raster (global ids, absolute steps), as ``Simulator.spikes()`` returns it.
    dt : float
        Time step (ms).
    populations : sequence of (name, start, stop)
        The network's populations (``BuiltNetwork.populations``).
    t_start, t_stop : int
        The recorded window in steps ``[t_start, t_stop)``; spikes outside it are left out.
        The spike trains span ``t_start*dt`` to ``t_stop*dt`` ms.
    probes : dict, optional
        ``Simulator.probes()``; each probed population gets one AnalogSignal per variable
        of ``SIGNALS`` (channels: its probed neurons, ``array_annotations`` ``source_ids``
        and ``channel_index``).
    e_l : sequence of float, optional
        E_L per population (mV), for absolute potentials.
    ids : array_like of int, optional
        The neurons that get a SpikeTrain (default: every neuron of ``populations``).
    name : str
        The segment's name.
    index : int
        The segment's index (PyNN numbers the segments of a run by its resets).

    Returns
    -------
    neo.Segment
        SpikeTrains in ms with ``source_population``, ``source_id`` (global id) and
        ``source_index`` (index in the population) annotations, in global-id order.
    """
    import neo
    import quantities as pq

    senders = np.asarray(senders, np.int64)
    steps = np.asarray(steps, np.int64)
    keep = (steps >= t_start) & (steps < t_stop)
    senders, steps = senders[keep], steps[keep]
    if ids is None:
        ids = np.concatenate([np.arange(p[1], p[2], dtype=np.int64) for p in populations]) \
            if populations else np.zeros(0, np.int64)
    ids = np.asarray(ids, np.int64)
    order = np.lexsort((steps, senders))
    senders, times = senders[order], spike_times_ms(steps[order], dt)
    lo = np.searchsorted(senders, ids, side="left")
    hi = np.searchsorted(senders, ids, side="right")
    pop = _population_of(populations, ids)
    t0, t1 = t_start * float(dt), t_stop * float(dt)
    segment = neo.Segment(name=name, index=index)
    for gid, a, b, k in zip(ids.tolist(), lo.tolist(), hi.tolist(), pop.tolist()):
        pname, start = populations[k][0], int(populations[k][1])
        st = neo.SpikeTrain(times[a:b], units="ms", t_start=t0 * pq.ms, t_stop=t1 * pq.ms,
                            source_population=pname, source_id=gid,
                            source_index=gid - start)
        segment.spiketrains.append(st)
    for sig in probe_signals(probes, populations, e_l) if probes is not None else ():
        if not sig["steps"].size:
            continue
        a = neo.AnalogSignal(sig["data"], units=sig["unit"], sampling_period=dt * pq.ms,
                             t_start=(int(sig["steps"][0]) + 1) * float(dt) * pq.ms,
                             name=sig["name"], source_population=sig["population"],
                             relative_to_e_l=sig["relative_to_e_l"],
                             array_annotations={"source_ids": sig["ids"],
                                                "channel_index": sig["index"]})
        segment.analogsignals.append(a)
    return segment


def write_neo(path, block) -> None:
    """Write a Neo block to ``path`` with Neo's NIX format (``neo.io.NixIO``, HDF5).

    ``path`` should be a fresh file (the caller writes to ``outputs.atomic_path``'s temporary
    name, which is created empty and is replaced here).
    """

    from neo.io import NixIO

    if os.path.exists(path) and os.path.getsize(path) == 0:
        os.unlink(path)  # NixIO refuses an empty non-HDF5 file
    with NixIO(os.fspath(path), mode="ow") as io:
        io.write_block(block)


def write_nwb(path, senders, steps, *, dt: float, populations, t_start: int, t_stop: int,
              probes: dict | None = None, e_l=None, description: str = "neuroaix run",
              identifier: str | None = None, session_start_time=None) -> None:
    """Write the raster and probe traces to an NWB file at ``path`` (``pynwb``).

    The Units table holds one row per neuron (global-id order) with its ``spike_times`` in
    seconds and the columns ``population`` (name), ``global_id`` and ``index`` (in the
    population); ``obs_intervals`` is the recorded window. Each probe signal is a
    TimeSeries ``<variable>_<population>`` in acquisition (data in mV or nA, ``conversion``
    to volts or amperes), with its neurons' global ids in its description.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write (replaced).
    senders, steps, dt, populations, t_start, t_stop, probes, e_l
        As for ``to_neo_block``.
    description : str
        The file's session description.
    identifier : str, optional
        The file's identifier (default: a digest of the raster, so equal runs give equal
        identifiers).
    session_start_time : datetime, optional
        Default: 1970-01-01 UTC (a simulation has no wall-clock start; a fixed time keeps the
        file a function of the run).
    """
    import datetime
    import hashlib

    from pynwb import NWBHDF5IO, NWBFile, TimeSeries

    senders = np.asarray(senders, np.int64)
    steps = np.asarray(steps, np.int64)
    keep = (steps >= t_start) & (steps < t_stop)
    senders, steps = senders[keep], steps[keep]
    if identifier is None:
        h = hashlib.sha256(senders.tobytes() + steps.tobytes() + repr(
            (float(dt), list(map(tuple, populations)), t_start, t_stop)).encode())
        identifier = "neuroaix-" + h.hexdigest()[:32]
    if session_start_time is None:
        session_start_time = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    nwb = NWBFile(session_description=description, identifier=identifier,
                  session_start_time=session_start_time)
    nwb.add_unit_column(name="population", description="population name")
    nwb.add_unit_column(name="global_id", description="neuroaix global neuron id")
    nwb.add_unit_column(name="index", description="index of the neuron in its population")
    order = np.lexsort((steps, senders))
    senders, times_s = senders[order], spike_times_ms(steps[order], dt) * 1e-3
    window = [[t_start * float(dt) * 1e-3, t_stop * float(dt) * 1e-3]]
    for name, start, stop in populations:
        lo = np.searchsorted(senders, np.arange(start, stop), side="left")
        hi = np.searchsorted(senders, np.arange(start, stop), side="right")
        for i, (a, b) in enumerate(zip(lo.tolist(), hi.tolist())):
            nwb.add_unit(spike_times=times_s[a:b], obs_intervals=window, population=name,
                         global_id=int(start) + i, index=i)
    for sig in probe_signals(probes, populations, e_l) if probes is not None else ():
        if not sig["steps"].size:
            continue
        si = {"mV": ("volts", 1e-3), "nA": ("amperes", 1e-9)}[sig["unit"]]
        what = "membrane potential" + (" relative to E_L" if sig["relative_to_e_l"] else "") \
            if sig["name"] == "v" else f"synaptic current ({sig['name']})"
        nwb.add_acquisition(TimeSeries(
            name=f"{sig['name']}_{sig['population']}", data=sig["data"], unit=si[0],
            conversion=si[1], starting_time=(int(sig["steps"][0]) + 1) * float(dt) * 1e-3,
            rate=1e3 / float(dt),
            description=f"{what} in {sig['unit']} of {sig['population']} neurons, global ids "
                        + ",".join(str(int(g)) for g in sig["ids"])))
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)

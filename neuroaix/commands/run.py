"""``neuroaix run MODEL``: build a model, simulate it, write spikes, summary and raster."""

from __future__ import annotations

import math
import os
import resource
import sys
import time
from contextlib import nullcontext as _no_context

import numpy as np

from neuroaix.commands._options import add_force_option, parse_ids

__all__ = ["DEFAULTS", "FORMATS", "register", "run_model"]

#: The defaults of ``neuroaix run`` per model (``neuroaix.models.build(defaults=...)``); its
#: keys are the models the command offers (``neuroaix.models.MODELS``, which loads Numba).
DEFAULTS = {"microcircuit": {"scale": 0.1, "k_scale": 1.0, "input": "poisson"},
            "brunel": {"scale": 1.0}}
#: ``--format`` choices and the recordings file each adds to spikes.npz.
FORMATS = {"npz": None, "nwb": "recordings.nwb", "neo": "recordings.nix"}


def register(sub) -> None:
    """Add the ``run`` subcommand."""
    p = sub.add_parser(
        "run", help="simulate a model with the Numba engine and write its results",
        description=(
            "Build MODEL, presimulate, simulate and write DIR/spikes.npz (senders, steps, "
            "population boundaries), DIR/summary.json (per-population rate, ISI CV, "
            "correlation; spikes, synaptic events, timings, q_RTF, peak RSS, saturations, "
            "spike_hash) and DIR/raster.png; --format nwb or neo adds DIR/recordings.nwb or "
            "DIR/recordings.nix, --record-v IDS the potentials and synaptic currents of those "
            "neurons (docs/io.md). MODEL is a built-in model, or --network FILE a saved "
            "network. The raster is bit-identical for any --threads "
            "and --partitions. Ctrl-C stops the run and still writes what was recorded. "
            "Started by an MPI launcher (mpiexec -n N neuroaix run ...), the partitions are "
            "spread over the N ranks, rank 0 writes the outputs and the raster is the same "
            "(docs/mpi.md)."),
        epilog="Example: neuroaix run microcircuit --scale 0.1 --t-sim 1000 --out results")
    p.add_argument("model", choices=tuple(DEFAULTS), nargs="?", default=None,
                   help="network model (or --network FILE)")
    p.add_argument("--network", metavar="FILE.npz", default=None,
                   help="simulate a saved network (Network.save, a PyNN or NIR model; "
                        "docs/io.md) instead of MODEL")
    p.add_argument("--record-v", metavar="IDS", type=parse_ids, default=None,
                   help="record V and the synaptic currents of these global neuron ids "
                        "(e.g. 0,5,10-20) at every recorded step")
    p.add_argument("--format", choices=FORMATS, default="npz",
                   help="recordings format: npz (spikes.npz only, the default), nwb (adds "
                        "recordings.nwb: Units table, traces as TimeSeries) or neo (adds "
                        "recordings.nix: a Neo Block, NIX file)")
    p.add_argument("--scale", type=float, default=None,
                   help="neuron-number scale (default: 0.1 for microcircuit, 1.0 for brunel)")
    p.add_argument("--k-scale", type=float, default=None,
                   help="in-degree scale (microcircuit only, default 1.0; weights scale by "
                        "1/sqrt(K))")
    p.add_argument("--input", choices=("poisson", "dc"), default=None,
                   help="background input (microcircuit only, default poisson)")
    p.add_argument("--t-sim", type=float, default=1000.0, help="recorded time in ms")
    p.add_argument("--t-presim", type=float, default=100.0,
                   help="time simulated before recording starts, in ms")
    p.add_argument("--seed", type=int, default=12345, help="master seed")
    p.add_argument("--threads", type=int, default=None, help="worker threads")
    p.add_argument("--partitions", type=int, default=None,
                   help="partitions (hardware nodes); default: the number of threads")
    p.add_argument("--out", default="results",
                   help="output directory (default: results); a previous result in it is "
                        "refused unless --force")
    add_force_option(p, "replace the outputs and checkpoint of a previous run")
    p.add_argument("--no-plot", action="store_true", help="skip raster.png")
    p.add_argument("--checkpoint", default=None,
                   help="also save the final state to this file (restorable; also written "
                        "when the run is interrupted)")
    p.add_argument("--restore", default=None,
                   help="continue from this checkpoint instead of presimulating")
    p.add_argument("--backend", choices=("cpu", "reference", "cuda"), default="cpu",
                   help="simulation backend: the Numba CPU engine (default), the plain-Python "
                        "reference (slow, for small networks) or one CUDA GPU (numba-cuda; "
                        "docs/gpu.md); the same raster on each")
    p.add_argument("--exchange", choices=("auto", "step", "interval"), default="auto",
                   help="under MPI: exchange spikes after every step, once per minimum-delay "
                        "interval, or the interval when the minimum delay exceeds a step "
                        "(default)"),
    p.set_defaults(func=_run)


def _peak_rss_bytes() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def run_model(model: str | None, *, scale=None, k_scale=None, input=None, t_sim=1000.0,
              t_presim=100.0, seed=12345, threads=None, partitions=None, out=None,
              plot=True, checkpoint=None, progress=None, restore=None, comm=None,
              exchange="auto", force=False, backend="cpu", network=None, record_v=None,
              format="npz") -> dict:
    """Build, presimulate and simulate a model; write outputs to ``out``; return the summary.

    On Ctrl-C during simulation, the outputs hold what was recorded (``interrupted`` true)
    and KeyboardInterrupt is raised again after writing. With ``restore`` the run continues
    from that checkpoint (no presimulation). With an MPI communicator ``comm`` every rank
    calls this with the same arguments; each simulates its partitions (default: ``threads``
    per rank, one by default, and ``ranks * threads`` partitions) and only rank 0 writes
    files; every rank returns the same summary. ``scale``, ``k_scale`` and ``input`` left
    None take ``DEFAULTS``; ``k_scale`` and ``input`` given for brunel are refused.
    ``backend`` picks the simulator backend (``"cpu"``, ``"reference"`` or ``"cuda"``; MPI
    runs use the CPU engine). ``network`` (a saved network file, with ``model`` None) is
    simulated instead of a built-in model; ``seed`` then does not apply (the file's network
    carries its seed). ``record_v`` lists global ids whose V and synaptic currents are
    recorded; ``format`` (``FORMATS``) adds an NWB or Neo file to the outputs.
    """
    from neuroaix import models
    from neuroaix import outputs
    from neuroaix import quantisation
    from neuroaix.memory import check_partitions
    from neuroaix.analysis import population_statistics
    from neuroaix.energy import EnergyMeter
    from neuroaix.engine import Simulator, spike_hash
    from neuroaix._threads import check_threads

    ranks = 1 if comm is None else comm.Get_size()
    rank = 0 if comm is None else comm.Get_rank()
    _check_source(model, network, scale=scale, k_scale=k_scale, input=input)
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {format!r}")
    record_v = [] if record_v is None else sorted({int(g) for g in record_v})
    if comm is not None:
        from neuroaix.engine.mpi import agree

        if backend != "cpu":
            raise ValueError(f"backend={backend!r} cannot run under MPI; the distributed runs "
                             "use the CPU engine (--backend cpu)")

        if record_v:
            raise ValueError("--record-v is not recorded under MPI; run the neurons to record "
                             "without an MPI launcher")
        agree(comm, "the run parameters", repr((model, scale, k_scale, input, t_sim, t_presim,
                                                seed, partitions, exchange, restore,
                                                checkpoint, out, network, format)))
        threads = 1 if threads is None else threads
    threads = check_threads(threads)
    partitions = threads * ranks if partitions is None else partitions
    if backend == "cuda":
        from neuroaix.engine import cuda  # registers the backend; numba-cuda is optional

        if not cuda.cuda_available():
            raise RuntimeError("--backend cuda needs a CUDA GPU that numba-cuda can use; "
                               "none was found (numba.cuda.is_available() is False)")
    if not (0 < t_sim < math.inf and 0 <= t_presim < math.inf):  # NaN fails both
        raise ValueError(f"--t-sim must be > 0 and --t-presim >= 0 (finite, in ms), not "
                         f"{t_sim!r} and {t_presim!r}")
    if rank == 0:  # every output is checked before any work
        if out is not None:
            outputs.check_folder(out, output_names(plot, format), option="--out",
                                 force=force)
        outputs.check_file(checkpoint, option="--checkpoint", force=force)
    t_start = time.perf_counter()
    saved = None
    with outputs.phase("build", f"{model or network} with {partitions} partition"
                       f"{'s' if partitions != 1 else ''}"):
        if network is not None:
            from neuroaix.construction.image import read_image

            built, saved = read_image(network, partitions=partitions)
            check_partitions(n_neurons=built.n_neurons, partitions=partitions,
                             threads=threads * ranks)
        else:
            net = models.build(model, scale=scale, k_scale=k_scale, input=input, seed=seed,
                               defaults=DEFAULTS)
            check_partitions(n_neurons=net.n_neurons, partitions=partitions,
                             threads=threads * ranks)
        if comm is None:
            if network is None:
                built = net.build(partitions=partitions, threads=threads)
            sim_cls, kwargs = Simulator, {"backend": backend, "probes": record_v}
        else:
            from neuroaix.engine.mpi import MPISimulator, rank_partitions

            own = rank_partitions(partitions, ranks, rank)  # raises on every rank alike
            if network is None:
                built = net.build(partitions=partitions, threads=threads, only=own)
            sim_cls, kwargs = MPISimulator, {"comm": comm, "exchange": exchange}
        bad = [g for g in record_v if not 0 <= g < built.n_neurons]
        if bad:
            raise ValueError(f"--record-v id {bad[0]} is not a neuron of this network; ids "
                             f"lie in [0, {built.n_neurons})")
    wall_build = time.perf_counter() - t_start
    if restore:
        with outputs.phase("restore"):
            sim = sim_cls.restore(built, restore, threads=threads, progress=progress, **kwargs)
    else:
        sim = sim_cls(built, threads=threads, progress=progress, **kwargs)
        with outputs.phase("presimulation", f"{t_presim:g} ms"):
            try:
                sim.simulate(t_presim, record=False)
            except KeyboardInterrupt:
                outputs.acknowledge_interrupt()
                saved = _save_checkpoint(sim, checkpoint, rank)
                raise outputs.Interrupted(
                    f"presimulated {sim.time_ms:g} of {t_presim:g} ms, nothing recorded, "
                    + (f"state saved to {checkpoint}" if saved else "nothing written")
                ) from None
    before = sim.counters
    t0 = sim.t
    interrupted = False
    t_run = time.perf_counter()
    with EnergyMeter() as meter, outputs.phase("recording", f"{t_sim:g} ms"):  # RAPL / nvidia-smi
        try:
            sim.simulate(t_sim)
        except KeyboardInterrupt:
            outputs.acknowledge_interrupt()
            interrupted = True
    wall_sim = time.perf_counter() - t_run
    if comm is not None:  # the slowest rank sets the pace
        wall_sim = comm.allreduce(wall_sim, op=_mpi_max())
    after = sim.counters
    senders, steps = sim.spikes()
    if restore:  # the checkpoint carries the earlier raster; the outputs cover this run
        keep = steps >= t0
        senders, steps = senders[keep], steps[keep]
    t_done_ms = (sim.t - t0) * built.dt
    stats = population_statistics(senders, steps, built.populations, t0, sim.t, built.dt)
    syn_events = after["synaptic_events"] - before["synaptic_events"]
    if network is None:
        # k_scale and input as recorded before they were refused for brunel: the
        # microcircuit's defaults, which brunel's unscaled Poisson drive also matches
        record = outputs.provenance(model=model, scale=built_scale(scale, model), seed=seed,
                                    input="poisson" if input is None else input,
                                    restored=None if not restore else os.fspath(restore))
    else:
        record = outputs.provenance(model="network", seed=int(built.seed),
                                    restored=None if not restore else os.fspath(restore),
                                    network=os.fspath(network),
                                    network_fingerprint=saved["fingerprint"])
    summary = {
        **record,
        "quantisation": None if network is not None else quantisation.report(net),
        "k_scale": None if network is not None else 1.0 if k_scale is None else k_scale,
        "dt_ms": built.dt, "backend": backend, "format": format, "record_v": record_v,
        "threads": threads,
        "partitions": partitions, "n_neurons": int(built.n_neurons),
        "n_synapses": int(getattr(sim, "total_synapses", built.n_synapses)),
        "t_presim_ms": t_presim,
        "t_sim_ms": t_done_ms, "interrupted": interrupted,
        "populations": stats,
        "total": {
            "spikes": len(senders),
            "synaptic_events": int(syn_events),
            "poisson_events": after["poisson_events"] - before["poisson_events"],
            "saturations": after["saturations"],
            "wall_s_build": wall_build,
            "wall_s_sim": wall_sim,
            "t_sim_ms": t_done_ms,
            "q_rtf": wall_sim / (t_done_ms * 1e-3) if t_done_ms > 0 else None,
            "synaptic_events_per_wall_s": syn_events / wall_sim if wall_sim > 0 else None,
            "peak_rss_bytes": (_peak_rss_bytes() if comm is None
                               else comm.allreduce(_peak_rss_bytes(), op=_mpi_max())),
            "threads": threads,
            "spike_hash": spike_hash(senders, steps),
        },
    }
    if meter.reading is not None:
        summary["energy"] = meter.reading.to_dict()
    if comm is not None:
        secs = comm.gather(dict(sim.seconds), root=0)
        summary["mpi"] = {
            "ranks": ranks, "exchange": exchange, "interval_steps": sim.interval,
            "min_delay_steps": sim.min_delay,
            "synapses_per_rank": comm.allgather(sim.local_synapses),
            "update_s_per_rank": None if secs is None else [x["update"] for x in secs],
            "exchange_s_per_rank": None if secs is None else [x["exchange"] for x in secs],
            "deliver_s_per_rank": None if secs is None else [x["deliver"] for x in secs],
        }
    with outputs.phase("writing of the outputs"):
        if out is not None and rank == 0:
            write_outputs(out, summary, senders, steps, built, t0, plot=plot, format=format,
                          probes=sim.probes() if record_v else None, t1=sim.t)
        _save_checkpoint(sim, checkpoint, rank)
    if interrupted:
        kept = ", ".join(outputs.written()) or "nothing written"
        raise outputs.Interrupted(f"recorded {t_done_ms:g} of {t_sim:g} ms; wrote {kept}"
                                  if outputs.written() else
                                  f"recorded {t_done_ms:g} of {t_sim:g} ms; {kept}")
    return summary


def _save_checkpoint(sim, path, rank) -> bool:
    """Save the simulator state to ``path`` if one was asked for; say whether it was."""
    from neuroaix import outputs

    if not path:
        return False
    sim.checkpoint(path)  # written to a temporary name and renamed (collective under MPI)
    if rank == 0:
        outputs.note_written(path)
    return True


def output_names(plot: bool = True, format: str = "npz") -> tuple[str, ...]:
    """Return the files ``write_outputs`` writes into the output folder."""
    extra = (FORMATS[format],) if FORMATS.get(format) else ()
    return ("spikes.npz", "summary.json") + extra + (("raster.png",) if plot else ())


def _check_source(model, network, **model_options) -> None:
    """Refuse a run that names both a model and --network, or neither, or model options."""
    if (model is None) == (network is None):
        raise ValueError("give a model (microcircuit, brunel) or --network FILE, "
                         + ("not both" if model is not None else "one of them"))
    if network is not None:
        given = [k for k, v in model_options.items() if v is not None]
        if given:
            raise ValueError(f"--{given[0].replace('_', '-')} applies to a built-in model, not "
                             "to --network; the saved network was built with its own")


def _mpi_max():
    from mpi4py import MPI

    return MPI.MAX


def built_scale(scale, model):
    """Return the scale a model was built with (its default when ``scale`` is None)."""
    return DEFAULTS[model]["scale"] if scale is None else scale


def write_outputs(out, summary, senders, steps, built, t0, *, plot=True, format="npz",
                  probes=None, t1=None) -> None:
    """Write spikes.npz, summary.json, the ``format``'s file and raster.png into ``out``.

    spikes.npz holds ``senders``, ``steps``, ``times_ms`` (``(steps + 1) * dt``), the
    populations, ``dt_ms``, ``t0_step`` and ``t1_step`` (the recorded window) and, with
    ``probes`` (``Simulator.probes()``), ``probe_ids``, ``probe_steps``, ``probe_times_ms``,
    ``v_mv`` (absolute), ``i_ex_pa`` and ``i_in_pa`` (probe x step).
    """
    from neuroaix import outputs
    from neuroaix.recordings import spike_times_ms

    t1 = int(summary["t_sim_ms"] / built.dt + 0.5) + t0 if t1 is None else t1
    names = np.array([p[0] for p in built.populations])
    bounds = np.array([[p[1], p[2]] for p in built.populations], np.int64)
    traces = {}
    if probes is not None:
        e_l = np.zeros(len(built.populations)) if built.e_l is None else built.e_l
        traces = {"probe_ids": probes["ids"], "probe_steps": probes["steps"],
                  "probe_times_ms": spike_times_ms(probes["steps"], built.dt),
                  "v_mv": probes["v_rel_mv"] + e_l[built.pop_of[probes["ids"]]][:, None],
                  "i_ex_pa": probes["i_ex_pa"], "i_in_pa": probes["i_in_pa"]}
    with outputs.atomic_path(os.path.join(out, "spikes.npz")) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, senders=senders, steps=steps,
                            times_ms=spike_times_ms(steps, built.dt), population_names=names,
                            population_bounds=bounds, dt_ms=built.dt, t0_step=t0, t1_step=t1,
                            **traces)
    if FORMATS[format]:
        _write_recordings(os.path.join(out, FORMATS[format]), format, summary, senders, steps,
                          built, t0, t1, probes)
    outputs.write_json(os.path.join(out, "summary.json"), summary, nonfinite_as_null=True)
    if plot:
        from neuroaix.plotting import plot_raster

        name = (os.path.basename(summary["network_file"]) if summary["network_file"] else
                f"{summary['model']} (scale {summary['scale']})")
        title = f"{name}, {summary['t_sim_ms']:g} ms"
        with outputs.atomic_path(os.path.join(out, "raster.png")) as tmp:
            plot_raster(tmp, senders, steps, built.populations, built.dt, t0=t0, title=title,
                        rates=[p["rate_mean_hz"] for p in summary["populations"]])


def _write_recordings(path, format, summary, senders, steps, built, t0, t1, probes) -> None:
    """Write the NWB or Neo (NIX) file of a run through ``neuroaix.recordings``."""
    from neuroaix import outputs
    from neuroaix import recordings

    what = summary["network_file"] or f"{summary['model']} scale {summary['scale']}"
    common = {"dt": built.dt, "populations": built.populations, "t_start": t0, "t_stop": t1,
              "probes": probes, "e_l": built.e_l}
    with outputs.atomic_path(path) as tmp:
        if format == "nwb":
            recordings.write_nwb(tmp, senders, steps, description=f"neuroaix run of {what}",
                                 **common)
        else:
            notes = {k: v for k, v in summary.items()
                     if isinstance(v, (str, int, float, bool)) and k != "populations"}
            recordings.write_neo(tmp, recordings.to_neo_block(
                senders, steps, name=f"neuroaix run of {what}", annotations=notes, **common))


def print_summary(summary: dict, file=None) -> None:
    """Print the per-population table and the totals of a run summary (to stdout by default)."""
    file = sys.stdout if file is None else file
    tot = summary["total"]
    print(f"{summary['model']}: {summary['n_neurons']} neurons, {summary['n_synapses']} "
          f"synapses, {summary['t_sim_ms']:g} ms simulated"
          + (" (INTERRUPTED)" if summary["interrupted"] else ""), file=file)
    print(f"{'population':>12} {'n':>7} {'rate Hz':>9} {'std':>7} {'CV ISI':>7} {'corr':>8}",
          file=file)
    for p in summary["populations"]:
        print(f"{p['name']:>12} {p['n']:>7} {p['rate_mean_hz']:9.3f} {p['rate_std_hz']:7.3f} "
              f"{p['cv_isi_mean']:7.3f} {p['correlation_mean']:8.4f}", file=file)
    print(f"spikes {tot['spikes']}, synaptic events {tot['synaptic_events']}, saturations "
          f"{tot['saturations']}", file=file)
    print(f"build {tot['wall_s_build']:.2f} s, simulation {tot['wall_s_sim']:.2f} s, q_RTF "
          f"{tot['q_rtf']:.3f}, {tot['synaptic_events_per_wall_s']:.3e} synaptic events per "
          f"wall-second, peak RSS {tot['peak_rss_bytes'] / 2**30:.2f} GiB", file=file)
    print(f"spike_hash {tot['spike_hash']}", file=file)
    if summary.get("quantisation"):
        from neuroaix.quantisation import summary_line

        print(summary_line(summary["quantisation"]), file=file)


def _run(args) -> int:
    from neuroaix.engine.mpi import CollectiveError, abort_on_error, get_comm, launched_ranks

    comm = get_comm() if launched_ranks() > 1 else None  # raises if MPI cannot load
    rank = 0 if comm is None else comm.Get_rank()
    try:
        with abort_on_error(comm) if comm is not None else _no_context():
            summary = run_model(
                args.model, network=args.network, record_v=args.record_v, format=args.format,
                scale=args.scale, k_scale=args.k_scale, input=args.input,
                t_sim=args.t_sim, t_presim=args.t_presim, seed=args.seed,
                threads=args.threads, partitions=args.partitions, out=args.out,
                plot=not args.no_plot, checkpoint=args.checkpoint, restore=args.restore,
                comm=comm, exchange=args.exchange, force=args.force,
                backend=args.backend)
    except KeyboardInterrupt:
        if rank != 0:
            return 130
        raise  # the command line says what stopped it and what was kept
    except CollectiveError as exc:  # every rank raised it: each says so, none hangs
        raise CollectiveError(f"[rank {rank}/{comm.Get_size()}] {exc}"
                              if comm is not None else str(exc)) from exc
    if rank != 0:
        return 0
    print_summary(summary)
    print(f"wrote {os.path.join(args.out, 'summary.json')}, spikes.npz"
          + (f", {FORMATS[args.format]}" if FORMATS[args.format] else "")
          + ("" if args.no_plot else ", raster.png"))
    return 0

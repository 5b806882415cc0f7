"""Benchmark the microcircuit: neuroaix against NEST 3.10 on the same machine, in one run.

For each scale (``--scales``, default 0.1, 0.25, 0.5 and 1.0) and thread count
(``--threads``, default 1 and 2) both simulators build the Potjans-Diesmann microcircuit,
presimulate 500 ms (discarded, Senk et al. 2026) and simulate ``--t-sim`` ms (default: 10 s
of biological time at scale 0.1 and ``10 s * 0.1 / scale`` above it, the same work per run),
each in its own subprocess so that peak RSS is the simulator's alone (``os.wait4`` rusage of
the child). Each run is repeated ``--repeats`` times and the fastest kept (the machine may be
shared). Reported per run: build wall seconds, q_RTF (simulation wall time / biological
time), synaptic events per wall-second, peak RSS, and the neuroaix/NEST ratios. neuroaix
counts its delivered synaptic events exactly; NEST has no such counter, so its events are
estimated as spikes per population times the population's mean out-degree
(``_nest_models.out_degrees``); the estimate is also applied to neuroaix's raster and
reported beside its exact count.

The cost model: one-thread neuroaix runs at every scale (N grows, in-degree fixed) and at
scale 0.1 with in-degrees scaled by ``--k-scales`` (K grows, N fixed) are fitted by least
squares as ``wall_s_sim = a * synaptic_events + b * neuron_steps``: ``a`` is the cost per
synaptic event, ``b`` per neuron-step (update and background input). ``--plot`` draws both
series against the fit.

The JIT is warmed up (a small network built and simulated, which fills Numba's on-disk cache)
before the timed neuroaix runs. Without the NEST environment (``--nest-python``) only
neuroaix runs, and the output says so. Example (the table of docs/validation.md)::

    python benchmarks/bench_microcircuit.py --json docs/data/bench_microcircuit.json \
        --plot docs/data/bench_microcircuit_cost.png

and a short run: ``--scales 0.1 --threads 2 --t-sim 1000 --repeats 1``.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import numpy as np

__all__ = ["bench_nest", "bench_neuroaix", "main", "run_child"]

ROOT = pathlib.Path(__file__).resolve().parents[1]


def run_child(cmd: list[str]) -> tuple[float, int]:
    """Run ``cmd``; return (wall seconds, peak RSS in bytes of that child)."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} ... exited with {proc.returncode}:\n{err[-2000:]}")
    return wall, int(usage.ru_maxrss) * 1024


def _estimate_events(senders, populations, deg) -> float:
    bounds = np.array([b for _, _, b in populations])
    pop = np.searchsorted(bounds, np.asarray(senders), side="right")
    return float(np.bincount(pop, minlength=len(deg)) @ deg)


def bench_neuroaix(work: pathlib.Path, scale: float, threads: int, seed: int,
                   t_presim: float, t_sim: float, k_scale: float = 1.0) -> dict:
    """Run ``neuroaix run microcircuit`` in a subprocess and return its measurements."""
    from neuroaix import models

    out = work / f"neuroaix_{scale:g}_{k_scale:g}_{threads}"
    cmd = [sys.executable, "-m", "neuroaix", "run", "microcircuit", "--scale", str(scale),
           "--k-scale", str(k_scale), "--force",
           "--seed", str(seed), "--threads", str(threads), "--partitions", str(threads),
           "--t-presim", str(t_presim), "--t-sim", str(t_sim), "--out", str(out),
           "--no-plot"]
    _, rss = run_child(cmd)
    s = json.loads((out / "summary.json").read_text())
    tot = s["total"]
    z = np.load(out / "spikes.npz")
    pops = [(str(n), int(a), int(b)) for n, (a, b) in zip(z["population_names"],
                                                           z["population_bounds"])]
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from _nest_models import out_degrees

    deg = out_degrees(models.microcircuit(scale=scale, k_scale=k_scale, seed=seed))
    return {"simulator": "neuroaix", "scale": scale, "k_scale": k_scale, "threads": threads,
            "partitions": threads, "n_neurons": s["n_neurons"], "n_synapses": s["n_synapses"],
            "spikes": tot["spikes"], "synaptic_events": tot["synaptic_events"],
            "synaptic_events_estimated": _estimate_events(z["senders"], pops, deg),
            "wall_s_build": tot["wall_s_build"], "wall_s_sim": tot["wall_s_sim"],
            "q_rtf": tot["q_rtf"],
            "synaptic_events_per_wall_s": tot["synaptic_events_per_wall_s"],
            "peak_rss_bytes": rss, "saturations": tot["saturations"],
            "neuron_steps": s["n_neurons"] * round(t_sim / 0.1),
            "spike_hash": tot["spike_hash"]}


def bench_nest(work: pathlib.Path, nest_python: str, scale: float, threads: int, seed: int,
               t_presim: float, t_sim: float) -> dict:
    """Run ``_nest_models.py`` in the NEST environment and return its measurements."""
    out = work / f"nest_{scale:g}_{threads}.npz"
    cmd = [nest_python, str(ROOT / "benchmarks" / "_nest_models.py"), "microcircuit",
           "--scale", str(scale), "--seed", str(seed), "--threads", str(threads),
           "--t-presim", str(t_presim), "--t-sim", str(t_sim), "--out", str(out)]
    _, rss = run_child(cmd)
    s = json.loads(out.with_suffix(".json").read_text())
    return {"simulator": "nest " + s["nest_version"], "scale": scale, "threads": threads,
            "n_neurons": s["n_neurons"], "n_synapses": s["n_synapses"], "spikes": s["spikes"],
            "synaptic_events": None,
            "synaptic_events_estimated": s["synaptic_events_estimated"],
            "wall_s_build": s["wall_s_build"], "wall_s_presim": s["wall_s_presim"],
            "wall_s_sim": s["wall_s_sim"], "q_rtf": s["q_rtf"],
            "synaptic_events_per_wall_s": s["synaptic_events_per_wall_s"],
            "peak_rss_bytes": rss}


def profile_phases(scale: float, threads: int, partitions: int, prefetch: list[int],
                   seed: int, t_presim: float, t_sim: float,
                   deliveries: list[str] | None = None,
                   schedules: list[str] | None = None) -> list[dict]:
    """Time the phases of the engine's step loop in this process, once per delivery
    (``_cpu.DELIVERIES``; default: the engine's choice), schedule (``_cpu.SCHEDULES``;
    default: the engine's choice) and prefetch distance (the same network and simulator,
    ``t_sim`` ms each after ``t_presim`` ms).

    Seconds per biological second of: the delivery (``gather_s``: the deferred gather or
    the immediate delivery) and the update with background input (summed over partitions,
    i.e. CPU time), the parallel region's wall time, its slowest partition (summed per
    step), the serial exchange and the final scatter (or the immediate delivery of the
    last step); the barrier's cost is the region's time beyond its slowest partition, the
    imbalance the slowest beyond the mean.
    """
    from neuroaix import models
    from neuroaix.engine import Simulator
    from neuroaix.engine import _kernels

    t = time.perf_counter()
    built = models.microcircuit(scale=scale, seed=seed).build(partitions=partitions,
                                                               threads=threads)
    sim = Simulator(built, threads=threads, progress=False)
    build_s = time.perf_counter() - t
    backend = sim.backend
    sim.simulate(t_presim, record=False)
    c0, t0 = _kernels._read_cycles(), time.perf_counter()
    time.sleep(0.2)
    hz = (_kernels._read_cycles() - c0) / (time.perf_counter() - t0)
    out = []
    for delivery, schedule, ahead in [(d, s, a) for d in deliveries or [backend.delivery]
                                      for s in schedules or [backend.schedule]
                                      for a in prefetch]:
        backend.delivery = delivery
        backend.schedule = schedule
        backend.prefetch = ahead
        if delivery == "gather":
            _ = backend.delay_rows  # derived on first use: not inside the timed run
        backend.profile = np.zeros((partitions + 1, _kernels.PROFILE_COLUMNS), np.int64)
        before = sim.counters
        t = time.perf_counter()
        sim.simulate(t_sim, record=False)
        wall = time.perf_counter() - t
        events = sim.counters["synaptic_events"] - before["synaptic_events"]
        bio = t_sim * 1e-3
        prof = backend.profile / hz / bio
        gather, update = prof[:partitions, 0].sum(), prof[:partitions, 1].sum()
        region, slowest, exchange, scatter = prof[partitions]
        out.append({"scale": scale, "threads": threads, "partitions": partitions,
                    "delivery": delivery, "schedule": schedule, "prefetch": ahead,
                    "build_s": build_s, "q_rtf": wall / bio,
                    "gather_s": gather, "update_s": update, "region_s": region,
                    "slowest_s": slowest, "barrier_s": region - slowest,
                    "imbalance_s": slowest - (gather + update) / threads,
                    "exchange_s": exchange, "scatter_s": scatter,
                    "ns_per_event": gather * 1e9 * bio / events,
                    "ns_per_neuron_step": update * 1e9 / (built.n_neurons * 10_000)})
        backend.profile = None
        r = out[-1]
        print(f"scale {scale:g} threads {threads} P {partitions} {delivery} {schedule} prefetch "
              f"{ahead}: q_RTF {r['q_rtf']:.3f}; per bio-s: deliver {gather:.3f} s "
              f"({r['ns_per_event']:.2f} "
              f"ns/event), update {update:.3f} s ({r['ns_per_neuron_step']:.2f} "
              f"ns/neuron-step), region {region:.3f}, slowest {slowest:.3f}, barrier "
              f"{r['barrier_s']:.3f}, imbalance {r['imbalance_s']:.3f}, exchange "
              f"{exchange:.4f}, scatter {scatter:.4f}", flush=True)
    return out


def _warm_up() -> None:
    """Compile (or load from the cache) every engine kernel on a small network."""
    from neuroaix import models
    from neuroaix.engine import Simulator

    built = models.microcircuit(scale=0.01, seed=1).build(partitions=2, threads=2)
    Simulator(built, threads=2, progress=False).simulate(5.0)


def _best(runs: list[dict]) -> dict:
    """The fastest of repeated runs (a shared machine only ever slows a run down)."""
    return min(runs, key=lambda r: r["wall_s_sim"])


def fit_costs(rows: list[dict]) -> dict:
    """Fit ``wall_s_sim = a * synaptic_events + b * neuron_steps`` to one-thread neuroaix
    runs; return ``ns_per_event`` (a), ``ns_per_neuron_step`` (b) and the runs' count."""
    one = [r for r in rows if r["simulator"] == "neuroaix" and r["threads"] == 1]
    if len(one) < 2:
        return {"ns_per_event": None, "ns_per_neuron_step": None, "runs": len(one)}
    x = np.array([[r["synaptic_events"], r["neuron_steps"]] for r in one], np.float64)
    y = np.array([r["wall_s_sim"] for r in one])
    (a, b), *_ = np.linalg.lstsq(x, y, rcond=None)
    return {"ns_per_event": a * 1e9, "ns_per_neuron_step": b * 1e9, "runs": len(one)}


def plot_costs(rows: list[dict], fit: dict, path: str) -> None:
    """Draw the one-thread cost per biological second against N (in-degree fixed) and
    against K (N fixed, scale 0.1), with the fitted model."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    one = [r for r in rows if r["simulator"] == "neuroaix" and r["threads"] == 1]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    series = (("N (neurons), in-degree fixed", [r for r in one if r["k_scale"] == 1.0],
               "n_neurons"),
              ("K (synapses per neuron), N fixed (scale 0.1)",
               [r for r in one if r["scale"] == 0.1], "k_per_neuron"))
    for ax, (label, sel, key) in zip(axes, series):
        sel = sorted(sel, key=lambda r: r["n_synapses"] / r["n_neurons"] if key ==
                     "k_per_neuron" else r["n_neurons"])
        xs = [r["n_synapses"] / r["n_neurons"] if key == "k_per_neuron" else r["n_neurons"]
              for r in sel]
        per_bio = [r["wall_s_sim"] / r["t_sim_s"] for r in sel]
        ax.plot(xs, per_bio, "o", label="measured (1 thread)")
        if fit["ns_per_event"] is not None:
            model = [(fit["ns_per_event"] * r["synaptic_events"]
                      + fit["ns_per_neuron_step"] * r["neuron_steps"]) * 1e-9 / r["t_sim_s"]
                     for r in sel]
            ax.plot(xs, model, "-", label=f"{fit['ns_per_event']:.2f} ns/event + "
                                          f"{fit['ns_per_neuron_step']:.2f} ns/neuron-step")
        ax.set_xlabel(label)
        ax.set_ylabel("wall s per biological s")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def print_table(rows: list[dict], ratios: list[dict], fit: dict | None = None,
                file=sys.stdout) -> None:
    """Print the benchmark table, the neuroaix/NEST ratios and the cost fit."""
    print(f"{'simulator':>11} {'scale':>5} {'K':>4} {'thr':>3} {'neurons':>7} "
          f"{'synapses':>11} {'build s':>8} {'q_RTF':>8} {'syn ev/wall-s':>13} "
          f"{'peak RSS GiB':>12}", file=file)
    for r in rows:
        if "error" in r:
            print(f"{r['simulator']:>11} {r['scale']:5g} {'':>4} {r['threads']:3d} failed: "
                  f"{r['error']}", file=file)
            continue
        print(f"{r['simulator']:>11} {r['scale']:5g} {r.get('k_scale', 1.0):4g} "
              f"{r['threads']:3d} {r['n_neurons']:7d} {r['n_synapses']:11d} "
              f"{r['wall_s_build']:8.1f} {r['q_rtf']:8.3f} "
              f"{r['synaptic_events_per_wall_s']:13.3e} {r['peak_rss_bytes'] / 2**30:12.2f}",
              file=file)
    for q in ratios:
        print(f"scale {q['scale']:g}, {q['threads']} threads, neuroaix/NEST: q_RTF "
              f"{q['q_rtf']:.4f} (NEST {1 / q['q_rtf']:.1f}x slower), synaptic events per "
              f"wall-second {q['synaptic_events_per_wall_s']:.1f}x, build time "
              f"{q['wall_s_build']:.3f}, peak RSS {q['peak_rss_bytes']:.3f}", file=file)
    if fit and fit["ns_per_event"] is not None:
        print(f"one thread, fitted over {fit['runs']} runs: {fit['ns_per_event']:.2f} ns per "
              f"synaptic event, {fit['ns_per_neuron_step']:.2f} ns per neuron-step "
              "(update and background)", file=file)


def _t_sim(args, scale: float) -> float:
    return args.t_sim if args.t_sim is not None else 10_000.0 * min(1.0, 0.1 / scale)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print the table and write JSON (``--json``) and the plot."""
    from neuroaix.engine._cpu import DELIVERIES, SCHEDULES

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scales", type=float, nargs="+", default=[0.1, 0.25, 0.5, 1.0])
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                   help="thread counts of each simulator")
    p.add_argument("--k-scales", type=float, nargs="*", default=[0.25, 0.5],
                   help="in-degree scalings of the extra one-thread runs at scale 0.1")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--t-presim", type=float, default=500.0, help="presimulation (ms)")
    p.add_argument("--t-sim", type=float, default=None,
                   help="timed simulation (ms); default 10 s * min(1, 0.1 / scale)")
    p.add_argument("--repeats", type=int, default=2, help="runs of each case (min kept)")
    p.add_argument("--nest-python", default=str(ROOT / ".venv-nest" / "bin" / "python"),
                   help="Python of the NEST environment")
    p.add_argument("--skip-nest-above", type=float, default=None,
                   help="run NEST only at scales up to this one (full scale needs ~15 GiB)")
    p.add_argument("--nest-repeats", type=int, default=1, help="runs of each NEST case")
    p.add_argument("--json", default=None, help="write the results to this file")
    p.add_argument("--plot", default=None, help="draw the cost model to this PNG")
    p.add_argument("--phases", action="store_true",
                   help="time the step loop's phases in this process instead (one scale, "
                        "thread count and partition count; --prefetch distances)")
    p.add_argument("--partitions", type=int, default=None,
                   help="partitions of --phases (default: the thread count)")
    p.add_argument("--prefetch", type=int, nargs="+", default=None,
                   help="prefetch distances of --phases (default: the engine's)")
    p.add_argument("--delivery", nargs="+", default=None, choices=DELIVERIES,
                   help="deliveries of --phases (default: the engine's choice)")
    p.add_argument("--schedule", nargs="+", default=None, choices=SCHEDULES,
                   help="schedules of partitions on threads of --phases (default: the "
                        "engine's choice)")
    args = p.parse_args(argv)
    if args.phases:
        from neuroaix.engine import _kernels

        scale, threads = args.scales[0], args.threads[0]
        rows = profile_phases(scale, threads, args.partitions or threads,
                              args.prefetch or [_kernels.PREFETCH_AHEAD], args.seed,
                              args.t_presim, _t_sim(args, scale), args.delivery,
                              args.schedule)
        if args.json:
            _write_json(args.json, {"config": _config(args), "phases": rows,
                                    "cpu_count": os.cpu_count()})
        return 0
    have_nest = os.path.exists(args.nest_python)
    if not have_nest:
        print(f"NEST environment {args.nest_python!r} not found: running neuroaix only "
              "(create it as docs/validation.md says to compare)", file=sys.stderr)
    _warm_up()
    rows, ratios = [], []
    cases = [(scale, 1.0, threads) for scale in args.scales for threads in args.threads]
    if 1 in args.threads and 0.1 in args.scales:
        cases += [(0.1, k, 1) for k in args.k_scales]
    def save(complete: bool) -> None:
        # After every case, so that an interrupted or failing run keeps what it measured.
        if args.json:
            _write_json(args.json, {"config": _config(args), "nest": have_nest,
                                    "complete": complete, "runs": rows, "ratios": ratios,
                                    "fit": fit_costs(ok_rows(rows)),
                                    "cpu_count": os.cpu_count()})

    with tempfile.TemporaryDirectory() as tmp:
        work = pathlib.Path(tmp)
        for scale, k_scale, threads in cases:
            kw = {"scale": scale, "threads": threads, "seed": args.seed,
                  "t_presim": args.t_presim, "t_sim": _t_sim(args, scale)}
            r_nx = _best([bench_neuroaix(work, k_scale=k_scale, **kw)
                          for _ in range(args.repeats)])
            r_nx["t_sim_s"] = kw["t_sim"] * 1e-3
            rows.append(r_nx)
            save(False)
            print(f"neuroaix scale {scale:g} K x{k_scale:g} {threads} threads: q_RTF "
                  f"{r_nx['q_rtf']:.3f}", file=sys.stderr)
            if k_scale != 1.0 or not have_nest or (args.skip_nest_above is not None
                                                    and scale > args.skip_nest_above):
                continue
            try:
                r_nest = _best([bench_nest(work, args.nest_python, **kw)
                                for _ in range(args.nest_repeats)])
            except RuntimeError as err:
                # NEST refuses some cases (more than 134,217,726 connections of one synapse
                # model per thread: the full microcircuit on one thread); the row says so
                # and the run goes on.
                reason = _last_error_line(str(err))
                rows.append({"simulator": "nest", "scale": scale, "threads": threads,
                             "error": reason})
                save(False)
                print(f"NEST scale {scale:g} {threads} threads: failed: {reason}",
                      file=sys.stderr)
                continue
            r_nest["t_sim_s"] = kw["t_sim"] * 1e-3
            rows.append(r_nest)
            print(f"NEST scale {scale:g} {threads} threads: q_RTF {r_nest['q_rtf']:.3f}",
                  file=sys.stderr)
            ratios.append({"scale": scale, "threads": threads} | {
                k: r_nx[k] / r_nest[k] for k in ("q_rtf", "synaptic_events_per_wall_s",
                                                 "wall_s_build", "peak_rss_bytes")})
            save(False)
    fit = fit_costs(ok_rows(rows))
    print(f"microcircuit, {args.t_presim:g} ms presimulation discarded, min of "
          f"{args.repeats} runs, load average {os.getloadavg()[0]:.1f} at the end"
          + ("" if have_nest else " (neuroaix only: no NEST)"))
    print_table(rows, ratios, fit)
    if args.plot:
        plot_costs(ok_rows(rows), fit, args.plot)
    save(True)
    return 0


def ok_rows(rows: list[dict]) -> list[dict]:
    """The rows of runs that finished (not those a simulator refused)."""
    return [r for r in rows if "error" not in r]


def _last_error_line(text: str) -> str:
    """The last non-empty line of a child's error output (its exception)."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1] if lines else text


def _config(args) -> dict:
    """The arguments as recorded: the NEST interpreter relative to the project (or as
    given, where it lies outside)."""
    cfg = dict(vars(args))
    nest = pathlib.Path(cfg["nest_python"]).absolute()
    if nest.is_relative_to(ROOT):
        cfg["nest_python"] = str(nest.relative_to(ROOT))
    return cfg


def _write_json(path: str, data: dict) -> None:
    """Write ``data`` to ``path`` atomically (a temporary file beside it, then renamed)."""
    target = pathlib.Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2))
    os.replace(tmp, target)


if __name__ == "__main__":
    sys.exit(main())

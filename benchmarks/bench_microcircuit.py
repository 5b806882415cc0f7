"""Benchmark the microcircuit: neuroaix against NEST 3.10 on the same machine, in one run.

For each scale (``--scales``, default 0.1 and 1.0) both simulators build the Potjans-Diesmann
microcircuit, presimulate 500 ms and simulate 1 s of biological time, each in its own
subprocess so that peak RSS is the simulator's alone (``os.wait4`` rusage of the child).
Reported per run: build wall seconds, q_RTF (simulation wall time / biological time),
synaptic events per wall-second, peak RSS, and the neuroaix/NEST ratios. neuroaix counts its
delivered synaptic events exactly; NEST has no such counter, so its events are estimated as
spikes per population times the population's mean out-degree (``_nest_models.out_degrees``);
the estimate is also applied to neuroaix's raster and reported beside its exact count.

The JIT is warmed up (a small network built and simulated, which fills Numba's on-disk cache)
before the timed neuroaix runs. Without the NEST environment (``--nest-python``) only
neuroaix runs, and the output says so. Example::

    python benchmarks/bench_microcircuit.py --scales 0.1 1.0 --skip-nest-above 0.1 \\
        --json results/bench_microcircuit.json
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
                   t_presim: float, t_sim: float) -> dict:
    """Run ``neuroaix run microcircuit`` in a subprocess and return its measurements."""
    from neuroaix import models

    out = work / f"neuroaix_{scale:g}"
    cmd = [sys.executable, "-m", "neuroaix", "run", "microcircuit", "--scale", str(scale),
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

    deg = out_degrees(models.microcircuit(scale=scale, seed=seed))
    return {"simulator": "neuroaix", "scale": scale, "threads": threads,
            "partitions": threads, "n_neurons": s["n_neurons"], "n_synapses": s["n_synapses"],
            "spikes": tot["spikes"], "synaptic_events": tot["synaptic_events"],
            "synaptic_events_estimated": _estimate_events(z["senders"], pops, deg),
            "wall_s_build": tot["wall_s_build"], "wall_s_sim": tot["wall_s_sim"],
            "q_rtf": tot["q_rtf"],
            "synaptic_events_per_wall_s": tot["synaptic_events_per_wall_s"],
            "peak_rss_bytes": rss, "saturations": tot["saturations"],
            "spike_hash": tot["spike_hash"]}


def bench_nest(work: pathlib.Path, nest_python: str, scale: float, threads: int, seed: int,
               t_presim: float, t_sim: float) -> dict:
    """Run ``_nest_models.py`` in the NEST environment and return its measurements."""
    out = work / f"nest_{scale:g}.npz"
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


def _warm_up() -> None:
    """Compile (or load from the cache) every engine kernel on a small network."""
    from neuroaix import models
    from neuroaix.engine import Simulator

    built = models.microcircuit(scale=0.01, seed=1).build(partitions=2, threads=2)
    Simulator(built, threads=2, progress=False).simulate(5.0)


def print_table(rows: list[dict], ratios: list[dict], file=sys.stdout) -> None:
    """Print the benchmark table and the neuroaix/NEST ratios."""
    print(f"{'simulator':>11} {'scale':>5} {'neurons':>7} {'synapses':>11} {'build s':>8} "
          f"{'q_RTF':>8} {'syn ev/wall-s':>13} {'peak RSS GiB':>12}", file=file)
    for r in rows:
        print(f"{r['simulator']:>11} {r['scale']:5g} {r['n_neurons']:7d} {r['n_synapses']:11d} "
              f"{r['wall_s_build']:8.1f} {r['q_rtf']:8.3f} "
              f"{r['synaptic_events_per_wall_s']:13.3e} {r['peak_rss_bytes'] / 2**30:12.2f}",
              file=file)
    for q in ratios:
        print(f"scale {q['scale']:g}, neuroaix/NEST: q_RTF {q['q_rtf']:.4f} (NEST "
              f"{1 / q['q_rtf']:.1f}x slower), synaptic events per wall-second "
              f"{q['synaptic_events_per_wall_s']:.1f}x, build time {q['wall_s_build']:.3f}, "
              f"peak RSS {q['peak_rss_bytes']:.3f}", file=file)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print the table and write JSON (``--json``)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scales", type=float, nargs="+", default=[0.1, 1.0])
    p.add_argument("--threads", type=int, default=2, help="threads of each simulator")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--t-presim", type=float, default=500.0, help="presimulation (ms)")
    p.add_argument("--t-sim", type=float, default=1000.0, help="timed simulation (ms)")
    p.add_argument("--nest-python", default=str(ROOT / ".venv-nest" / "bin" / "python"),
                   help="Python of the NEST environment")
    p.add_argument("--skip-nest-above", type=float, default=None,
                   help="run NEST only at scales up to this one (full scale needs ~15 GiB)")
    p.add_argument("--json", default=None, help="write the results to this file")
    args = p.parse_args(argv)
    have_nest = os.path.exists(args.nest_python)
    if not have_nest:
        print(f"NEST environment {args.nest_python!r} not found: running neuroaix only "
              "(create it as docs/validation.md says to compare)", file=sys.stderr)
    _warm_up()
    rows, ratios = [], []
    with tempfile.TemporaryDirectory() as tmp:
        work = pathlib.Path(tmp)
        for scale in args.scales:
            kw = {"scale": scale, "threads": args.threads, "seed": args.seed,
                  "t_presim": args.t_presim, "t_sim": args.t_sim}
            r_nx = bench_neuroaix(work, **kw)
            rows.append(r_nx)
            print(f"neuroaix scale {scale:g}: q_RTF {r_nx['q_rtf']:.3f}", file=sys.stderr)
            if not have_nest or (args.skip_nest_above is not None
                                 and scale > args.skip_nest_above):
                continue
            r_nest = bench_nest(work, args.nest_python, **kw)
            rows.append(r_nest)
            print(f"NEST scale {scale:g}: q_RTF {r_nest['q_rtf']:.3f}", file=sys.stderr)
            ratios.append({"scale": scale} | {
                k: r_nx[k] / r_nest[k] for k in ("q_rtf", "synaptic_events_per_wall_s",
                                                 "wall_s_build", "peak_rss_bytes")})
    print(f"microcircuit, {args.t_sim:g} ms after {args.t_presim:g} ms presimulation, "
          f"{args.threads} threads" + ("" if have_nest else " (neuroaix only: no NEST)"))
    print_table(rows, ratios)
    if args.json:
        pathlib.Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        with open(args.json, "w") as fh:
            json.dump({"config": vars(args), "nest": have_nest, "runs": rows,
                       "ratios": ratios}, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())

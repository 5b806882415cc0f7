"""Validate neuroaix's models against NEST 3.10: per-population statistics over seeds.

The accepted recipe (Senk et al. 2026, Neuromorph Comput Eng 6:012001): simulate the Potjans-Diesmann
microcircuit (or Brunel's network, ``--model brunel``) in both simulators for several seeds, discard the first 500 ms, and compare the
per-population distributions of firing rate, ISI CV and spike-count correlation coefficient
(2 ms bins, 200 sampled neurons) with the Kolmogorov-Smirnov distance. The KS distances
between seeds of NEST itself are the tolerance: neuroaix passes a (population, statistic)
when its mean KS distance to NEST is within the largest NEST-to-NEST distance.

Each run is a subprocess: ``neuroaix run`` in this environment, ``benchmarks/_nest_models.py``
in the NEST environment (``--nest-python``, default ``.venv-nest/bin/python``), so that this
environment needs no NEST. Example::

    python benchmarks/validate_nest.py --scale 0.1 --seeds 3 --json results/validation.json
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

from neuroaix.analysis import compare_with_nest, population_distributions

__all__ = ["distributions", "main", "print_table", "run_nest", "run_neuroaix"]

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _model_args(model: str, scale, k_scale, input) -> list[str]:
    """Return the model's arguments, common to ``neuroaix run`` and ``_nest_models.py``."""
    args = [model, "--scale", str(scale)]
    if k_scale is not None:
        args += ["--k-scale", str(k_scale)]
    if input is not None:
        args += ["--input", input]
    return args


def run_neuroaix(out: pathlib.Path, *, scale, k_scale=None, input=None, seed, threads,
                 t_discard, t_sim, model: str = "microcircuit") -> dict:
    """Run ``neuroaix run MODEL`` in a subprocess; return its raster and summary."""
    cmd = [sys.executable, "-m", "neuroaix", "run", *_model_args(model, scale, k_scale, input),
           "--seed", str(seed), "--threads", str(threads), "--t-presim", str(t_discard), "--t-sim", str(t_sim),
           "--out", str(out), "--no-plot"]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return _load_neuroaix(out)


def _load_neuroaix(out: pathlib.Path) -> dict:
    z = np.load(out / "spikes.npz")
    summary = json.loads((out / "summary.json").read_text())
    pops = [(str(n), int(a), int(b)) for n, (a, b) in zip(z["population_names"],
                                                           z["population_bounds"])]
    return {"senders": z["senders"], "steps": z["steps"], "t0": int(z["t0_step"]),
            "dt": float(z["dt_ms"]), "populations": pops, "summary": summary}


def run_nest(out: pathlib.Path, nest_python: str, *, scale, k_scale=None, input=None, seed,
             threads, t_discard, t_sim, model: str = "microcircuit") -> dict:
    """Run ``_nest_models.py`` in the NEST environment; return its raster and summary."""
    cmd = [nest_python, str(ROOT / "benchmarks" / "_nest_models.py"),
           *_model_args(model, scale, k_scale, input), "--seed", str(seed), "--threads", str(threads), "--t-presim", str(t_discard),
           "--t-sim", str(t_sim), "--out", str(out)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return _load_nest(out)


def _load_nest(out: pathlib.Path) -> dict:
    z = np.load(out)
    summary = json.loads(out.with_suffix(".json").read_text())
    pops = [(str(n), int(a), int(b)) for n, a, b in summary["populations"]]
    return {"senders": z["senders"], "steps": z["steps"], "t0": summary["t0_step"],
            "dt": summary["dt_ms"], "populations": pops, "summary": summary}


def distributions(run: dict, t_sim: float) -> dict[str, dict[str, np.ndarray]]:
    """Return per-population arrays of rate (Hz), ISI CV and correlation of one run."""
    t0 = run["t0"]
    return population_distributions(run["senders"], run["steps"], run["populations"], t0,
                                    t0 + round(t_sim / run["dt"]), run["dt"])


def print_table(rows: list[dict], file=sys.stdout) -> None:
    """Print the comparison table."""
    print(f"{'pop':>5} {'statistic':>11} {'NEST':>8} {'neuroaix':>8} | {'KS NEST-NEST':>12} "
          f"{'KS nx-nx':>9} {'KS cross':>9} {'(max)':>6}  within NEST / pooled", file=file)
    print(f"{'':>5} {'':>11} {'mean':>8} {'mean':>8} | {'max':>12} {'max':>9} {'mean':>9}",
          file=file)
    for r in rows:
        print(f"{r['population']:>5} {r['statistic']:>11} {r['nest_mean']:8.4f} "
              f"{r['neuroaix_mean']:8.4f} | {r['ks_nest_max']:12.3f} "
              f"{r['ks_neuroaix_max']:9.3f} {r['ks_cross_mean']:9.3f} "
              f"{r['ks_cross_max']:6.3f}  {'yes' if r['ok'] else 'NO':>11} / "
              f"{'yes' if r['ok_pooled'] else 'NO'}", file=file)
    n_ok = sum(r["ok"] for r in rows)
    n_pooled = sum(r["ok_pooled"] for r in rows)
    print(f"{n_ok} of {len(rows)} (population, statistic) pairs within NEST's seed-to-seed "
          f"KS distance, {n_pooled} of {len(rows)} within the pooled one", file=file)


def main(argv: list[str] | None = None) -> int:
    """Run the validation; print the table and write JSON (``--json``)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", choices=("microcircuit", "brunel"), default="microcircuit")
    p.add_argument("--scale", type=float, default=0.1, help="neuron-number scale")
    p.add_argument("--k-scale", type=float, default=None,
                   help="in-degree scale (microcircuit only; default 1)")
    p.add_argument("--input", choices=("poisson", "dc"), default=None,
                   help="microcircuit only (default poisson)")
    p.add_argument("--seeds", type=int, default=3, help="seeds per simulator (1 .. N)")
    p.add_argument("--t-sim", type=float, default=2000.0, help="analysed time (ms)")
    p.add_argument("--t-discard", type=float, default=500.0,
                   help="time simulated and discarded before the analysis (ms)")
    p.add_argument("--threads", type=int, default=2, help="threads of each simulator")
    p.add_argument("--nest-python", default=str(ROOT / ".venv-nest" / "bin" / "python"),
                   help="Python of the NEST environment")
    p.add_argument("--workdir", default=None, help="keep rasters here (default: temporary)")
    p.add_argument("--json", default=None, help="write the results to this file")
    p.add_argument("--reuse", action="store_true",
                   help="analyse the rasters already in --workdir instead of simulating")
    args = p.parse_args(argv)
    if args.reuse and not args.workdir:
        p.error("--reuse needs --workdir, the directory of an earlier run")
    if args.model == "brunel" and (args.k_scale is not None or args.input is not None):
        p.error("--k-scale and --input apply to the microcircuit only")
    if args.seeds < 2:
        p.error(f"--seeds must be >= 2 (the tolerance needs pairs of seeds), not {args.seeds}")
    if not os.path.exists(args.nest_python):
        p.error(f"--nest-python {args.nest_python!r} does not exist; create the NEST "
                "environment first (docs/validation.md)")
    kw = {"model": args.model, "scale": args.scale, "k_scale": args.k_scale, "input": args.input,
          "threads": args.threads, "t_discard": args.t_discard, "t_sim": args.t_sim}
    with tempfile.TemporaryDirectory() as tmp:
        work = pathlib.Path(args.workdir or tmp)
        work.mkdir(parents=True, exist_ok=True)
        nest_d, nx_d, runs = [], [], []
        for seed in range(1, args.seeds + 1):
            t = time.perf_counter()
            r_nx = (_load_neuroaix(work / f"neuroaix_{seed}") if args.reuse
                    else run_neuroaix(work / f"neuroaix_{seed}", seed=seed, **kw))
            t_nx = time.perf_counter() - t
            t = time.perf_counter()
            r_nest = (_load_nest(work / f"nest_{seed}.npz") if args.reuse
                      else run_nest(work / f"nest_{seed}.npz", args.nest_python, seed=seed, **kw))
            t_nest = time.perf_counter() - t
            nx_d.append(distributions(r_nx, args.t_sim))
            nest_d.append(distributions(r_nest, args.t_sim))
            runs.append({"seed": seed, "neuroaix_spikes": len(r_nx["senders"]),
                         "nest_spikes": len(r_nest["senders"]),
                         "neuroaix_wall_s": t_nx, "nest_wall_s": t_nest})
            print(f"seed {seed}: neuroaix {len(r_nx['senders'])} spikes ({t_nx:.0f} s), "
                  f"NEST {len(r_nest['senders'])} spikes ({t_nest:.0f} s)", file=sys.stderr)
    rows = compare_with_nest(nest_d, nx_d)
    model = (args.model if args.model == "brunel" else f"microcircuit, k_scale "
             f"{args.k_scale or 1.0:g}, {args.input or 'poisson'} input")
    print(f"{model}, scale {args.scale:g}, "
          f"{args.seeds} seeds, {args.t_sim:g} ms analysed after {args.t_discard:g} ms")
    print_table(rows)
    if args.json:
        pathlib.Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        with open(args.json, "w") as fh:
            json.dump({"config": vars(args), "runs": runs, "rows": rows}, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Run every benchmark in this folder; print one table and write JSON (``make bench``).

By default each benchmark runs at a short setting (small scales and short simulated times: a
few minutes in all on two cores); with ``BENCH_FULL=1`` in the environment (or ``--full``)
each runs at its own full-scale defaults, which take hours and, for the full microcircuit,
tens of GiB. Each benchmark is a subprocess of this environment's Python; its output goes to
``build/bench/<name>.log``, its results to ``build/bench/<name>.json``, and the table below to
``build/bench/summary.json``.

NEST runs in its own environment (``make nest-env`` creates ``.venv-nest``): without it,
``bench_microcircuit`` runs neuroaix alone and ``validate_nest`` is not run, and the table
says so; ``bench_gpu`` runs only where numba-cuda finds a CUDA GPU. MPI comes with the
``mpi`` extra (mpi4py, mpich), which ``make`` installs.

    python benchmarks/run_all.py [--full] [--only NAME ...] [--out build/bench]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

__all__ = ["BENCHMARKS", "Benchmark", "main", "run"]

ROOT = Path(__file__).resolve().parents[1]
NEST_PYTHON = ROOT / ".venv-nest" / "bin" / "python"


class Benchmark(NamedTuple):
    """One benchmark script and how to run and summarise it."""

    #: Name (the script is ``benchmarks/<name>.py``).
    name: str
    #: What it measures.
    what: str
    #: Arguments of the short run.
    short: tuple
    #: Arguments of the full run (empty: the script's defaults).
    full: tuple
    #: What it cannot run without: ``"nest"`` (the NEST environment), ``"gpu"`` (a CUDA GPU)
    #: or ``""`` (nothing beyond this environment).
    needs: str = ""
    #: Whether it runs NEST too when the NEST environment exists.
    uses_nest: bool = False


def _nest_args() -> tuple:
    return ("--nest-python", str(NEST_PYTHON))


#: The benchmarks, in the order they run.
BENCHMARKS = (
    Benchmark("bench_build", "microcircuit build time and memory",
              short=("--scales", "0.02", "0.05"), full=()),
    Benchmark("bench_microcircuit", "microcircuit q_RTF, neuroaix against NEST",
              short=("--scales", "0.02", "--threads", "2", "--repeats", "1", "--t-presim",
                     "100", "--t-sim", "200"),
              full=("--skip-nest-above", "0.1"), uses_nest=True),
    Benchmark("bench_mpi", "strong scaling over MPI ranks",
              short=("--scale", "0.02", "--ranks", "1", "2", "--partitions", "2",
                     "--t-presim", "50", "--t-sim", "200"), full=()),
    Benchmark("bench_emulator", "the microcircuit on the neuroAIx cluster against the paper",
              short=("--scale", "0.02", "--t-presim", "50", "--t-sim", "100"), full=()),
    Benchmark("bench_rtl", "events per cycle of the RTL synapse pipeline",
              short=("--spikes", "2000", "--rtl-spikes", "40"), full=()),
    Benchmark("validate_nest", "microcircuit statistics against NEST over seeds",
              short=("--scale", "0.05", "--seeds", "2", "--t-discard", "100",
                     "--t-sim", "500"), full=(), needs="nest"),
    Benchmark("bench_gpu", "the GPU backend: q_RTF, events per second, E_syn",
              short=("--scales", "0.02", "--t-presim", "50", "--t-sim", "200",
                     "--partitions", "4"), full=("--identity",), needs="gpu"),
)


# Headlines: one line of the results of each benchmark ------------------------------------


def _build(d) -> str:
    return "; ".join(f"scale {r['scale']:g}: {r['build_s']:.1f} s, "
                     f"{r['rss_bytes_per_synapse']:.1f} B/syn RSS" for r in d)


def _microcircuit(d) -> str:
    runs = "; ".join(f"{r['simulator']} scale {r['scale']:g} {r['threads']} threads: q_RTF "
                     f"{r['q_rtf']:.3f}" for r in d["runs"] if r.get("k_scale", 1.0) == 1.0)
    return runs + ("" if d["nest"] else " (no NEST: neuroaix only; `make nest-env`)")


def _mpi(d) -> str:
    rows = "; ".join(("1 process" if r["mode"] == "single" else f"{r['ranks']} ranks")
                     + f" {r['s_per_bio_s']:.2f} s/bio-s" for r in d["rows"])
    return rows + (", rasters identical" if d["identical"] else ", rasters DIFFER")


def _emulator(d) -> str:
    base = d["points"][0]
    return (f"scale {d['workload']['scale']:g}: acceleration {base['acceleration']:.2f} "
            f"(paper, full scale: {base['paper_acceleration']:.2f}), emulation "
            f"{base['emulation_s']:.2f} s")


def _rtl(d) -> str:
    rtl = [r["rtl_ii"] for r in d]
    rule = [r["model_ii"] for r in d]
    return (f"II {min(rtl):.3f}..{max(rtl):.3f} (RTL), {min(rule):.3f}..{max(rule):.3f} "
            f"(rule) over {len(d)} row-length cases")


def _gpu(d) -> str:
    return f"{d['machine']['gpu']}: " + "; ".join(
        f"scale {r['scale']:g}: q_RTF {r['q_rtf']:.4f}, {r['events_per_s']:.3g} events/s"
        + ("" if r["e_syn_nj"] is None else f", E_syn {r['e_syn_nj']:.1f} nJ")
        for r in d["rows"])


def _validate(d) -> str:
    ok = sum(r["ok"] for r in d["rows"])
    pooled = sum(r["ok_pooled"] for r in d["rows"])
    return f"{ok}/{len(d['rows'])} within NEST's seed spread ({pooled} pooled)"


_HEADLINES = {"bench_build": _build, "bench_microcircuit": _microcircuit, "bench_mpi": _mpi,
              "bench_emulator": _emulator, "bench_rtl": _rtl, "validate_nest": _validate,
              "bench_gpu": _gpu}


def _missing(needs: str) -> str:
    """Return why a benchmark that needs ``needs`` cannot run here ("" if it can)."""
    if needs == "nest" and not NEST_PYTHON.exists():
        return (f"NEST environment {NEST_PYTHON.relative_to(ROOT)} absent; create it with "
                "`make nest-env`")
    if needs == "gpu":
        probe = subprocess.run([sys.executable, "-c", "import sys, numba.cuda; "
                                "sys.exit(0 if numba.cuda.is_available() else 1)"],
                               capture_output=True)
        if probe.returncode != 0:
            return "no CUDA GPU found by numba-cuda (numba.cuda.is_available() is False)"
    return ""


def run(bench: Benchmark, out: Path, *, full: bool) -> dict:
    """Run one benchmark; return its row of the summary.

    Parameters
    ----------
    bench : Benchmark
        The benchmark.
    out : Path
        Folder of the logs and JSON files.
    full : bool
        Full scale (the script's defaults) instead of the short setting.

    Returns
    -------
    dict
        ``name``, ``status`` (``"ok"``, ``"failed"`` or ``"not run"``), ``wall_s``,
        ``result`` (the headline or the reason), ``json`` and ``log`` (paths).
    """
    json_path = out / f"{bench.name}.json"
    log_path = out / f"{bench.name}.log"
    row = {"name": bench.name, "what": bench.what, "status": "not run", "wall_s": 0.0,
           "result": "", "json": str(json_path), "log": str(log_path)}
    missing = _missing(bench.needs)
    if missing:
        row["result"] = missing
        return row
    args = list(bench.full if full else bench.short)
    if bench.needs == "nest" or bench.uses_nest:
        args += _nest_args()
    cmd = [sys.executable, str(ROOT / "benchmarks" / f"{bench.name}.py"), *args,
           "--json", str(json_path)]
    json_path.unlink(missing_ok=True)
    t0 = time.perf_counter()
    with open(log_path, "w") as log:
        log.write("$ " + " ".join(cmd) + "\n")
        log.flush()
        proc = subprocess.run(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    row["wall_s"] = time.perf_counter() - t0
    if proc.returncode != 0 or not json_path.exists():
        tail = log_path.read_text().strip().splitlines()[-1:] or [""]
        row.update(status="failed", result=f"exit status {proc.returncode}: {tail[0][:120]}")
        return row
    row.update(status="ok", result=_HEADLINES[bench.name](json.loads(json_path.read_text())))
    return row


def _table(rows: list[dict]) -> str:
    width = max(len(r["name"]) for r in rows)
    lines = [f"{'benchmark':<{width}}  {'status':<7}  {'wall s':>7}  result"]
    for r in rows:
        lines.append(f"{r['name']:<{width}}  {r['status']:<7}  {r['wall_s']:>7.1f}  "
                     f"{r['result']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks; print the table and write the JSON files.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 when every benchmark that ran succeeded, 1 otherwise.
    """
    names = [b.name for b in BENCHMARKS]
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", action="store_true",
                    help="full scale (also BENCH_FULL=1 in the environment)")
    ap.add_argument("--only", nargs="+", choices=names, metavar="NAME",
                    help=f"run only these ({', '.join(names)})")
    ap.add_argument("--out", type=Path, default=ROOT / "build" / "bench",
                    help="folder of the logs and JSON files")
    args = ap.parse_args(argv)
    full = args.full or os.environ.get("BENCH_FULL", "") not in ("", "0")
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    chosen = [b for b in BENCHMARKS if args.only is None or b.name in args.only]
    print(f"{len(chosen)} benchmark(s), {'full scale' if full else 'short (BENCH_FULL=1: full)'}"
          f"; logs and JSON in {out}", flush=True)
    rows = []
    for bench in chosen:
        print(f"  {bench.name}: {bench.what} ...", end=" ", flush=True)
        row = run(bench, out, full=full)
        print(f"{row['status']} ({row['wall_s']:.0f} s)", flush=True)
        rows.append(row)
    print(_table(rows))
    summary = {"full": full, "cores": os.cpu_count(), "load_average": os.getloadavg(),
               "nest_environment": NEST_PYTHON.exists(), "benchmarks": rows}
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return 0 if all(r["status"] != "failed" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())

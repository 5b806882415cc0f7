"""Rates of the PyNN-written microcircuit and Brunel network on neuroaix and on pyNN.nest.

``python benchmarks/compare_pynn_nest.py [--models brunel microcircuit] [--brunel-scale 0.1]
[--microcircuit-scale 0.05] [--k-scale 0.1] [--t-sim 1000] [--threads 1] [--json PATH]``
runs ``pynn_models.py`` once with .venv's Python (``neuroaix``) and once with .venv-nest's
(``nest``), each in its own process (NEST and Numba's OpenMP layer cannot share one), one
after the other, and prints the mean rate of every population side by side with the
relative difference, the standard errors and the wall times (noisy on a shared machine).

.venv-nest (``make nest-env``) holds NEST but not PyNN; the NEST process finds PyNN, Neo,
lazyarray and quantities in ``build/pynn-nest``, which this script fills once with
.venv-nest's pip (``pip install --target build/pynn-nest --no-deps``, the versions .venv
has), so that both sides run the same PyNN and .venv-nest stays as ``make`` made it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pathlib
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
PYTHONS = {"neuroaix": ROOT / ".venv" / "bin" / "python",
           "nest": ROOT / ".venv-nest" / "bin" / "python"}
#: Where the NEST process finds PyNN and the packages it needs besides NumPy.
PYNN_FOR_NEST = ROOT / "build" / "pynn-nest"
PYNN_PACKAGES = ("pynn", "neo", "lazyarray", "quantities")


def _check_pythons() -> None:
    for name, python in PYTHONS.items():
        if not python.is_file():
            raise SystemExit(f"{python} is missing; make the environment first "
                             f"({'make .venv/.installed' if name == 'neuroaix' else 'make nest-env'})")


def pynn_for_nest() -> pathlib.Path:
    """Return the folder that gives .venv-nest's Python PyNN, filling it once if empty."""
    if (PYNN_FOR_NEST / "pyNN" / "nest").is_dir():
        return PYNN_FOR_NEST
    query = ("import importlib.metadata as m; print(' '.join(f'{p}=={m.version(p)}' for p in "
             f"{PYNN_PACKAGES!r}))")
    pins = subprocess.run([str(PYTHONS["neuroaix"]), "-c", query], capture_output=True,
                          text=True)
    if pins.returncode != 0:
        raise SystemExit(f".venv lacks PyNN ({pins.stderr.strip()[-300:]}); install the pynn "
                         "extra: .venv/bin/pip install -e '.[pynn]'")
    cmd = [str(ROOT / ".venv-nest" / "bin" / "pip"), "install", "-q", "--no-deps", "--target",
           str(PYNN_FOR_NEST), *pins.stdout.split()]
    print("installing PyNN for the NEST process:", " ".join(cmd), file=sys.stderr)
    subprocess.run(cmd, check=True)
    return PYNN_FOR_NEST


def run_one(model: str, simulator: str, scale: float, k_scale: float, t_sim: float,
            threads: int) -> dict:
    """Run ``pynn_models.py`` for one model on one simulator; return its JSON record."""
    env = dict(os.environ)
    if simulator == "nest":
        env["PYTHONPATH"] = os.pathsep.join(
            [str(pynn_for_nest())] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp) / "result.json"
        res = subprocess.run([str(PYTHONS[simulator]), str(ROOT / "benchmarks" /
                                                             "pynn_models.py"),
                              model, simulator, "--scale", str(scale), "--k-scale",
                              str(k_scale), "--t-sim", str(t_sim), "--threads", str(threads),
                              "--json", str(out)], capture_output=True, text=True, env=env)
        if res.returncode != 0:
            raise RuntimeError(f"{model} on {simulator} failed: {res.stderr[-2000:]}")
        return json.loads(out.read_text())


def table(pair: dict) -> str:
    """Return the Markdown table of one model's two records (``neuroaix``, ``nest``)."""
    a, b = pair["neuroaix"], pair["nest"]
    lines = ["| population | neuroaix (Hz) | pyNN.nest (Hz) | difference | s.e. of the "
             "difference (Hz) |", "|---|---|---|---|---|"]
    for name, ra in a["rates_hz"].items():
        rb = b["rates_hz"][name]
        se = math.hypot(a["rate_sem_hz"][name] or 0.0, b["rate_sem_hz"][name] or 0.0)
        rel = f"{100.0 * (ra - rb) / rb:+.1f} %" if rb else "-"
        lines.append(f"| {name} | {ra:.2f} | {rb:.2f} | {rel} | {se:.2f} |")
    lines.append("| wall: build + presim, sim (s) | "
                 + " | ".join(f"{r['build_and_presim_s']:.0f}, {r['sim_s']:.0f}"
                              for r in (a, b)) + " | | |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", choices=("brunel", "microcircuit"),
                        default=["brunel", "microcircuit"])
    parser.add_argument("--brunel-scale", type=float, default=0.1)
    parser.add_argument("--microcircuit-scale", type=float, default=0.05)
    parser.add_argument("--k-scale", type=float, default=0.1,
                        help="in-degree scale of the microcircuit (weights / sqrt(k), DC "
                             "compensation of the lost input)")
    parser.add_argument("--t-sim", type=float, default=1000.0)
    parser.add_argument("--threads", type=int, default=1, help="threads of each simulator")
    parser.add_argument("--json", help="write all records here")
    parser.add_argument("--force", action="store_true", help="replace an existing --json")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from neuroaix import outputs

    outputs.check_file(args.json, option="--json", force=args.force)
    _check_pythons()
    records = []
    for model in args.models:
        scale, k = ((args.brunel_scale, 1.0) if model == "brunel"
                    else (args.microcircuit_scale, args.k_scale))
        pair = {s: run_one(model, s, scale, k, args.t_sim, args.threads) for s in PYTHONS}
        records.extend(pair.values())
        print(f"\n{model}, scale {scale:g}" + (f", k_scale {k:g}" if k != 1.0 else "")
              + f", {pair['nest']['neurons']} neurons, {args.t_sim:g} ms after 100 ms, "
              f"{args.threads} thread(s) each")
        print(table(pair))
    if args.json:
        outputs.write_json(args.json, records, indent=1, nonfinite_as_null=True)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

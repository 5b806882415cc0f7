"""Rates of the PyNN-written microcircuit and Brunel network on neuroaix and on pyNN.nest.

``python benchmarks/compare_pynn_nest.py [--models brunel microcircuit] [--scale 0.1]
[--t-sim 1000] [--json PATH]`` runs ``pynn_models.py`` once with .venv's Python
(``neuroaix``) and once with .venv-nest's (``nest``), each in its own process (NEST and
Numba's OpenMP layer cannot share one), and prints the mean rate of every population side
by side with the wall times (noisy on a shared machine).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
PYTHONS = {"neuroaix": ROOT / ".venv" / "bin" / "python",
           "nest": ROOT / ".venv-nest" / "bin" / "python"}


def run_one(model: str, simulator: str, scale: float, t_sim: float) -> dict:
    """Run ``pynn_models.py`` for one model on one simulator; return its JSON record."""
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp) / "result.json"
        res = subprocess.run([str(PYTHONS[simulator]), str(ROOT / "benchmarks" /
                                                             "pynn_models.py"),
                              model, simulator, "--scale", str(scale), "--t-sim", str(t_sim),
                              "--json", str(out)], capture_output=True, text=True)
        if res.returncode != 0:
            raise RuntimeError(f"{model} on {simulator} failed: {res.stderr[-2000:]}")
        return json.loads(out.read_text())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["brunel", "microcircuit"])
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--t-sim", type=float, default=1000.0)
    parser.add_argument("--json", help="write all records here")
    args = parser.parse_args(argv)
    records = []
    for model in args.models:
        pair = {s: run_one(model, s, args.scale, args.t_sim) for s in PYTHONS}
        records.extend(pair.values())
        print(f"\n{model}, scale {args.scale}, {args.t_sim:g} ms after 100 ms")
        print("| population | neuroaix (Hz) | pyNN.nest (Hz) |")
        print("|---|---|---|")
        for name in pair["neuroaix"]["rates_hz"]:
            print(f"| {name} | {pair['neuroaix']['rates_hz'][name]:.2f} | "
                  f"{pair['nest']['rates_hz'][name]:.2f} |")
        print("| wall: build + presim, sim (s) | "
              + " | ".join(f"{pair[s]['build_and_presim_s']:.0f}, {pair[s]['sim_s']:.0f}"
                           for s in PYTHONS) + " |")
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(records, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

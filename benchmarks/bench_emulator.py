"""Benchmark: the full microcircuit on the neuroAIx cluster, against the paper's numbers.

Builds the Potjans-Diesmann microcircuit (full scale, DC input unless told otherwise) with 35
partitions, simulates a warm-up plus the emulated time on the Numba engine, and emulates the
raster on ``configs/neuroaix-35.toml`` and on the design-space points of Kauth et al. (2023):
Aurora link latency 34 ns and 120 ns, DRAM bandwidth 6.4 GB/s, once with each node model
(``node.model``: the paper's node, and the RTL node's cycle rule, with its ``rtl_release``
variants at the baseline; ``--rtl-release arrival``: the RTL node's four points with the
arrival merge, ``rtl_release = "arrival"``, and no variants). Prints a table and writes
JSON. The emulation is timed after a JIT warm-up; the engine run is timed separately.

Usage::

    python benchmarks/bench_emulator.py [--scale 1.0] [--t-sim 1000] [--t-presim 100]
                                        [--input dc] [--json build/bench_emulator.json]
                                        [--raster build/mc_raster.npz] [--models paper,rtl]
                                        [--rtl-release ascending|markers|step-start|arrival]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from neuroaix import models
from neuroaix.emulator import Emulator, counts_from_built, load_hardware, targets_from_built
from neuroaix.emulator.workload import simulate_raster

ROOT = Path(__file__).resolve().parents[1]

#: (label, dotted key, value, the paper's acceleration)
POINTS = (
    ("baseline", None, None, 20.36),
    ("aurora link latency 34 ns", "link.transceiver_ns", 34.0, 24.7),
    ("aurora link latency 120 ns", "link.transceiver_ns", 120.0, 23.9),
    ("DRAM 6.4 GB/s", "memory.peak_bandwidth_gbps", 6.4, 11.0),
)

#: The RTL node's other ways of feeding its merge, and its path without the paper's
#: dispatcher, at the baseline (no paper value).
RTL_RELEASES = (
    ("rtl: the sorted stream once every marker is in", "node.rtl_release", "markers"),
    ("rtl: every spike at the step's start (bound)", "node.rtl_release", "step-start"),
    ("rtl: dispatcher off the path, 0 ns", "node.dispatcher_latency_ns", 0.0),
    ("rtl: the arrival merge", "node.rtl_release", "arrival"),
    ("rtl: arrival order, no dispatcher", "node.rtl_release", "arrival",
     "node.dispatcher_latency_ns", 0.0),
)

#: Sensitivity of the baseline to the assumptions (no paper value).
SENSITIVITY = (
    ("sync: ideal barrier, 0 ns", "sync.scheme", "barrier"),
    ("memory latency 45 ns", "memory.latency_ns", 45.0),
    ("memory latency 180 ns", "memory.latency_ns", 180.0),
    ("no prefetch", "memory.prefetch", False),
    ("synapse lanes 16", "node.synapse_lanes", 16),
    ("synapse lanes 1 (the RTL)", "node.synapse_lanes", 1),
    ("mesh instead of torus", "topology.kind", "mesh"),
    ("turn as a full hop", "topology.turn", "full-hop"),
    ("dispatcher off the path, 0 ns", "node.dispatcher_latency_ns", 0.0),
)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--t-sim", type=float, default=1000.0, help="emulated time (ms)")
    ap.add_argument("--t-presim", type=float, default=100.0, help="discarded warm-up (ms)")
    ap.add_argument("--input", choices=("dc", "poisson"), default="dc")
    ap.add_argument("--seed", type=int, default=12345)
    ap.add_argument("--hardware", default=str(ROOT / "configs" / "neuroaix-35.toml"))
    ap.add_argument("--json", default=str(ROOT / "build" / "bench_emulator.json"))
    ap.add_argument("--raster", metavar="NPZ",
                    help="reuse (or, if missing, save) the counts, targets and raster here")
    ap.add_argument("--models", default="paper,rtl",
                    help="node models to run, comma-separated (paper, rtl)")
    ap.add_argument("--rtl-release", default=None,
                    help="node.rtl_release of the RTL node's points (default the "
                    "configuration's); with one given, the RTL variants are not run")
    args = ap.parse_args(argv)
    node_models = args.models.split(",")

    hw = load_hardware(args.hardware)
    if args.rtl_release is not None:
        hw.with_value("node.rtl_release", args.rtl_release)  # checked before the long build
    dt = 0.1
    n = int(round(args.t_sim / dt))
    if args.raster and Path(args.raster).exists():
        saved = np.load(args.raster)
        counts, senders, steps = saved["counts"], saved["senders"], saved["steps"]
        flat = saved["targets"] if "rtl" in node_models else None
        t_build = t_engine = None
    else:
        t0 = time.perf_counter()
        built = models.microcircuit(scale=args.scale, input=args.input,
                                    seed=args.seed).build(partitions=hw.n_nodes)
        t_build = time.perf_counter() - t0
        counts = counts_from_built(built)
        flat = np.concatenate([t.astype(np.uint16) for t in targets_from_built(built)])
        dt = float(built.dt)
        pre = int(round(args.t_presim / dt))
        n = int(round(args.t_sim / dt))
        t0 = time.perf_counter()
        senders, steps = simulate_raster(built, (pre + n) * dt)
        t_engine = time.perf_counter() - t0
        keep = steps >= pre
        senders, steps = senders[keep], steps[keep] - pre
        del built
        if args.raster:
            Path(args.raster).parent.mkdir(parents=True, exist_ok=True)
            np.savez(args.raster, counts=counts, senders=senders, steps=steps, targets=flat)
    targets = None
    if "rtl" in node_models:
        ends = np.cumsum(counts.sum(axis=1, dtype=np.int64))
        targets = np.split(flat, ends[:-1])

    rows = []
    layouts = {}
    for model in node_models:
        base = hw.with_value("node.model", model)
        name = model
        if model == "rtl" and args.rtl_release is not None:
            base = base.with_value("node.rtl_release", args.rtl_release)
            name = f"rtl {args.rtl_release}"
        points = [(f"{name}: {label}", key, value, paper) for label, key, value, paper in POINTS]
        if model == "rtl" and args.rtl_release is None:
            points += [(label, *kv, None) for label, *kv in RTL_RELEASES]
        # JIT warm-up on a few steps, then time the full emulation
        warm = Emulator(base)
        lay = layouts[model] = warm.node_layouts(counts, targets) if model == "rtl" else None
        warm.run(counts, senders[steps < 10], steps[steps < 10], n_steps=10, layouts=lay)
        for label, *kv, paper in points:
            cfg = base
            for key, value in zip(kv[::2], kv[1::2]):  # (key, value) pairs; None: none
                cfg = cfg if key is None else cfg.with_value(key, value)
            key, value = kv[0], kv[1]
            t0 = time.perf_counter()
            res = Emulator(cfg).run(counts, senders, steps, n_steps=n, layouts=lay)
            t_emu = time.perf_counter() - t0
            rows.append({
                "point": label, "model": model, "rtl_release": cfg.node.rtl_release,
                "key": key, "value": value,
                "paper_acceleration": paper,
                "acceleration": res.acceleration, "q_rtf": res.q_rtf,
                "deviation": res.acceleration / paper - 1.0 if paper else None,
                "mean_step_ns": float(res.step_fs.mean() / 1e6),
                "max_step_ns": float(res.step_fs.max() / 1e6),
                "bottleneck_counts": res.bottleneck_counts(),
                "rtl_phases_ns": res.rtl_phases(),
                "rounds_max": int(res.rounds.max()) if res.rounds is not None else None,
                "emulation_s": t_emu,
                "activity": res.activity.to_dict(),
            })
            print(f"  {label}: {res.acceleration:.2f}x ({t_emu:.0f} s)", flush=True)
    sens = []
    for label, key, value in SENSITIVITY if "paper" in node_models else ():
        res = Emulator(hw.with_value("node.model", "paper").with_value(key, value)).run(
            counts, senders, steps, n_steps=n)
        sens.append({"point": label, "key": key, "value": value,
                     "acceleration": res.acceleration,
                     "mean_step_ns": float(res.step_fs.mean() / 1e6),
                     "bottleneck_counts": res.bottleneck_counts()})
    out = {
        "workload": {"model": "microcircuit", "scale": args.scale, "input": args.input,
                     "seed": args.seed, "t_sim_ms": args.t_sim, "t_presim_ms": args.t_presim,
                     "neurons": int(counts.shape[1]), "synapses": int(counts.sum()),
                     "spikes": int(senders.size),
                     "spikes_per_step": float(senders.size / max(n, 1))},
        "build_s": t_build, "engine_s": t_engine, "points": rows, "sensitivity": sens,
    }
    print(f"microcircuit scale {args.scale}, input {args.input}, {counts.shape[1]} neurons, "
          f"{int(counts.sum())} synapses, {senders.size} spikes in {args.t_sim} ms "
          f"({senders.size / max(n, 1):.1f} per step)")
    if t_build is not None:
        print(f"build {t_build:.1f} s, engine {t_engine:.1f} s")
    print(f"{'point':<28}{'paper':>8}{'emulated':>10}{'dev':>8}{'step ns':>10}"
          f"{'emulation s':>13}  bottlenecks")
    for r in rows:
        bn = ", ".join(f"{k} {v}" for k, v in r["bottleneck_counts"].items() if v)
        paper = f"{r['paper_acceleration']:>8.2f}" if r["paper_acceleration"] else f"{'':>8}"
        dev = f"{r['deviation']:>+8.1%}" if r["deviation"] is not None else f"{'':>8}"
        print(f"{r['point']:<28}{paper}{r['acceleration']:>10.2f}"
              f"{dev}{r['mean_step_ns']:>10.0f}{r['emulation_s']:>13.2f}  {bn}")
        if r["rtl_phases_ns"]:
            print("    latest node, mean ns from the step start: " + ", ".join(
                f"{k} {v:.0f}" for k, v in r["rtl_phases_ns"].items()))
    print("sensitivity of the baseline to the assumptions:")
    for r in sens:
        bn = ", ".join(f"{k} {v}" for k, v in r["bottleneck_counts"].items() if v)
        print(f"{r['point']:<28}{'':>8}{r['acceleration']:>10.2f}{'':>8}"
              f"{r['mean_step_ns']:>10.0f}{'':>13}  {bn}")
    path = Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

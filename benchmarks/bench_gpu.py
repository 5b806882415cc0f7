"""GPU backend benchmark: q_RTF, synaptic events per second, E_syn and GPU memory per scale.

For each microcircuit scale the network is built once (on the host CPUs), presimulated for
``--t-presim`` ms on the GPU (this includes the kernel's compilation) and then simulated for
``--t-sim`` ms, timed with the wall clock around the whole call (device synchronisation
included). Energy is the GPU's total-energy counter (NVML, millijoules) over the simulated
phase: E_syn = energy / synaptic events. ``--identity`` also runs the CPU engine on the
same built network and compares spike hash, counters, neuron state and ring buffers; the
breakdown re-runs the measured phase with the delivery left out and with both phases left
out (grid synchronisation only), as variants that skip a phase.

Performance runs follow Senk et al. (2026): 500 ms warm-up discarded, then the timed run.

    python benchmarks/bench_gpu.py --scales 0.1,1.0 --t-sim 10000 --identity --json gpu.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import time

import numpy as np

from neuroaix import models
from neuroaix.engine import Simulator
from neuroaix.engine import _cuda_kernels as ck
from neuroaix.energy import EnergyMeter
from neuroaix.engine.cuda import CudaSimulator


def _digest(arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def _fingerprint(sim, built) -> dict:
    state = sim.state()
    return {"spike_hash": sim.spike_hash(), "counters": sim.counters,
            "state": _digest(state[k] for k in ("v", "i_ex", "i_in", "ref")),
            "ring": _digest(sim.ring_buffer(p) for p in range(built.n_partitions))}


def _timed(sim, t_ms):
    """Simulate ``t_ms``; return wall seconds, the GPU energy (J, NVML) and the counters."""
    with EnergyMeter(nvidia_smi="", powercap_root="/nonexistent") as meter:
        t0 = time.perf_counter()
        sim.simulate(t_ms)
        counters = sim.counters  # copies back: the GPU has finished
        wall = time.perf_counter() - t0
    joules = meter.reading.energy_j if meter.reading is not None else None
    return wall, joules, counters


def run_scale(scale, args) -> dict:
    t0 = time.perf_counter()
    built = models.microcircuit(scale=scale, input=args.input, seed=args.seed).build(
        partitions=args.partitions)
    build_s = time.perf_counter() - t0
    from numba import cuda

    free0, total = cuda.current_context().get_memory_info()
    sim = CudaSimulator(built, progress=False, blocks=args.blocks, threads_per_block=args.tpb)
    free1, _ = cuda.current_context().get_memory_info()
    sim.simulate(args.t_presim, record=False)
    before = sim.counters
    wall, joules, after = _timed(sim, args.t_sim)
    events = after["synaptic_events"] - before["synaptic_events"]
    spikes = after["spikes"] - before["spikes"]
    row = {"scale": scale, "input": args.input, "n_neurons": int(built.n_neurons),
           "n_synapses": int(built.n_synapses), "build_s": build_s, "t_sim_ms": args.t_sim,
           "wall_s": wall, "q_rtf": wall / (args.t_sim * 1e-3), "spikes": spikes,
           "synaptic_events": events, "events_per_s": events / wall,
           "gpu_memory_bytes": int(free0 - free1), "energy_j": joules,
           "e_syn_nj": None if joules is None else joules / events * 1e9,
           "mean_power_w": None if joules is None else joules / wall,
           "launch": list(sim.backend._d["grid"])}
    if args.breakdown:
        n_steps = round(args.t_sim / float(built.dt))
        for name, phases in (("no_delivery", ck.PHASE_UPDATE), ("sync_only", 0)):
            sim.backend._phases = phases
            w, _, _ = _timed(sim, args.t_sim)
            row[f"{name}_us_per_step"] = w / n_steps * 1e6
        row["full_us_per_step"] = wall / n_steps * 1e6
        sim.backend._phases = ck.PHASES_ALL
    for shape in filter(None, args.shapes.split(",")):
        blocks, tpb = shape.split("x")
        probe = CudaSimulator(built, progress=False, blocks=int(blocks),
                              threads_per_block=int(tpb))
        probe.simulate(100.0, record=False)
        n_steps = round(1000.0 / float(built.dt))
        w_full, _, _ = _timed(probe, 1000.0)
        probe.backend._phases = 0
        w_sync, _, _ = _timed(probe, 1000.0)
        row.setdefault("shapes", {})[shape] = {"full_us_per_step": w_full / n_steps * 1e6,
                                               "sync_only_us_per_step": w_sync / n_steps * 1e6}
        del probe
    if args.identity:
        gpu = CudaSimulator(built, progress=False)
        cpu = Simulator(built, progress=False)
        for s in (gpu, cpu):
            s.simulate(args.t_identity)
        row["identity_t_ms"] = args.t_identity
        row["identical"] = _fingerprint(gpu, built) == _fingerprint(cpu, built)
        row["identity_spike_hash"] = cpu.spike_hash()
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scales", default="0.1,0.25,0.5,1.0")
    ap.add_argument("--input", default="poisson", choices=("poisson", "dc"))
    ap.add_argument("--t-sim", type=float, default=10_000.0, help="timed ms (default 10 s)")
    ap.add_argument("--t-presim", type=float, default=500.0, help="warm-up ms (discarded)")
    ap.add_argument("--seed", type=int, default=12345)
    ap.add_argument("--partitions", type=int, default=16)
    ap.add_argument("--identity", action="store_true", help="compare with the CPU engine")
    ap.add_argument("--t-identity", type=float, default=1000.0)
    ap.add_argument("--breakdown", action="store_true", help="time per phase")
    ap.add_argument("--blocks", type=int, default=None, help="blocks of the timed run")
    ap.add_argument("--tpb", type=int, default=None, help="threads per block")
    ap.add_argument("--shapes", default="",
                    help="launch shapes BLOCKSxTHREADS to time over 1 s, e.g. 132x256,264x256")
    ap.add_argument("--json", help="write the rows here")
    args = ap.parse_args(argv)
    rows = [run_scale(float(s), args) for s in args.scales.split(",")]
    print(f"{'scale':>6} {'q_RTF':>8} {'events/s':>10} {'E_syn nJ':>9} {'W':>6} "
          f"{'GPU MiB':>8} {'build s':>8} {'identical':>9}")
    for r in rows:
        e = "-" if r["e_syn_nj"] is None else f"{r['e_syn_nj']:.1f}"
        w = "-" if r["mean_power_w"] is None else f"{r['mean_power_w']:.0f}"
        print(f"{r['scale']:>6} {r['q_rtf']:>8.4f} {r['events_per_s']:>10.3e} {e:>9} {w:>6} "
              f"{r['gpu_memory_bytes'] / 2**20:>8.0f} {r['build_s']:>8.1f} "
              f"{str(r.get('identical', '-')):>9}")
        for shape, t in r.get("shapes", {}).items():
            print(f"       launch {shape}: full {t['full_us_per_step']:.2f} us/step, sync only "
                  f"{t['sync_only_us_per_step']:.2f}")
        if "full_us_per_step" in r:
            print(f"       us/step: full {r['full_us_per_step']:.2f}, no delivery "
                  f"{r['no_delivery_us_per_step']:.2f}, sync only {r['sync_only_us_per_step']:.2f}")
    if args.json:
        from numba import cuda

        name = cuda.get_current_device().name
        doc = {"machine": {"gpu": name.decode() if isinstance(name, bytes) else str(name),
                           "cpus": os.cpu_count(), "python": platform.python_version()},
               "args": vars(args), "rows": rows}
        with open(args.json, "w") as fh:
            json.dump(doc, fh, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

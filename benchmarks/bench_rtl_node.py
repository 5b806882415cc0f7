"""Benchmark: cycles per step of the RTL node at several (synapse lanes, update lanes).

One partition of a microcircuit of about 2,205 neurons per node (the neuroAIx node size:
scale 0.1143, 4 partitions), with reduced in-degrees (``--k-scale``, default 0.1); the engine
runs the network, the other partitions' spikes are injected, the node's Verilog runs on
Verilator (``--sim amaranth``: the Amaranth design in amaranth.sim; ``--sim none``: no RTL,
the emulator's cycles alone) and its raster must equal the engine's. Beside the RTL's cycles of every step, the emulator's (the node's cycle rule,
``neuroaix.timing.node_step_cycles``) for the same step. Prints, per (L, U), the cycles per
step (mean, min, max, total) of both, the steps in which they differ, and the synaptic events.

Usage: ``python benchmarks/bench_rtl_node.py [--steps N] [--lanes L,U ...] [--sim S]
[--json PATH]``
"""

import argparse
import json
import pathlib
import sys
import time

import numpy as np

from neuroaix import models
from neuroaix.rtl.harness import node_verilator
from neuroaix.rtl.harness.node_engine import emulator_cycles, engine_case
from neuroaix.rtl.harness.node_sim import simulate

#: Node memory parameters (the CI cases of tests/rtl/test_node_verilog.py).
MEMORY = {"latency": 20, "max_burst": 8, "fifo_words": 16, "spike_fifo": 16}
BUILD = pathlib.Path(__file__).parents[1] / "build" / "bench_rtl_node"


def run(n_steps: int, lanes, k_scale: float, sim: str = "verilator", partition: int = 1) -> dict:
    """Run the node at each ``(L, U)`` of ``lanes``; return the measurements."""
    built = models.microcircuit(scale=0.1143, k_scale=k_scale, input="poisson",
                                seed=7).build(partitions=4, threads=1)
    out = {"network": {"n_neurons": int(built.n_neurons), "partitions": 4,
                       "partition": partition, "k_scale": k_scale, "steps": n_steps},
           "simulator": sim, "memory": MEMORY, "runs": []}
    for L, U in lanes:
        t0 = time.perf_counter()
        image, external, expected, _ = engine_case(built, partition, n_steps, **MEMORY,
                                                   synapse_lanes=L, update_lanes=U)
        if sim == "none":  # the node's cycle rule alone, no RTL run
            spikes, cycles, events = expected, None, None
        elif sim == "verilator":
            res = node_verilator.run(image, n_steps, external, BUILD / f"L{L}_U{U}",
                                     expected=expected, patterns=("streaming",))["streaming"]
            spikes, cycles, events = res["spikes"], res["cycles"], res["counters"]["events"]
        else:
            res = simulate(image, n_steps, external)
            spikes, cycles, events = res.spikes, res.cycles, res.counters["events"]
        if spikes != expected:
            raise RuntimeError(f"L={L}, U={U}: the node's raster differs from the engine's")
        emulated = emulator_cycles(image, external, expected)
        if cycles is None:
            cycles, events = emulated.cycles, int(emulated.events.sum())
        cycles = np.array(cycles)
        out["network"]["n_local"] = image.n_local
        out["network"]["synapses_local"] = int(image.row_length.sum())
        out["runs"].append({
            "synapse_lanes": L, "update_lanes": U, "rtl_cycles": cycles.tolist(),
            "emulator_cycles": emulated.cycles.tolist(),
            "steps_differing": int(np.count_nonzero(cycles != emulated.cycles)),
            "cycles_mean": round(float(cycles.mean()), 1), "cycles_min": int(cycles.min()),
            "cycles_max": int(cycles.max()), "events": int(events),
            "spikes_local": sum(map(len, expected)),
            "spikes_external": sum(map(len, external)),
            "seconds": round(time.perf_counter() - t0, 1)})
    return out


def main(argv=None) -> int:
    """Run the benchmark and print the table."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--k-scale", type=float, default=0.1)
    p.add_argument("--lanes", nargs="+", default=["1,1", "8,10"], metavar="L,U")
    p.add_argument("--sim", choices=("verilator", "amaranth", "none"), default="verilator",
                   help="the RTL's simulator; none: the emulator's cycles alone")
    p.add_argument("--json", type=pathlib.Path)
    args = p.parse_args(argv)
    lanes = [tuple(int(x) for x in s.split(",")) for s in args.lanes]
    out = run(args.steps, lanes, args.k_scale, args.sim)
    net = out["network"]
    print(f"microcircuit {net['n_neurons']} neurons, k_scale {net['k_scale']}, partition "
          f"{net['partition']} of 4 ({net['n_local']} local neurons, {net['synapses_local']} "
          f"synapses), {net['steps']} steps, {out['simulator']}")
    print(f"{'L':>3}{'U':>4}{'mean':>9}{'min':>7}{'max':>7}{'total':>10}{'emulator':>10}"
          f"{'differ':>8}{'events':>9}{'seconds':>9}")
    for r in out["runs"]:
        print(f"{r['synapse_lanes']:>3}{r['update_lanes']:>4}{r['cycles_mean']:>9}"
              f"{r['cycles_min']:>7}{r['cycles_max']:>7}{sum(r['rtl_cycles']):>10}"
              f"{sum(r['emulator_cycles']):>10}{r['steps_differing']:>8}{r['events']:>9}"
              f"{r['seconds']:>9}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: cycles per step of the RTL node at several (synapse lanes, update lanes).

One partition of a microcircuit of about 2,205 neurons per node (the neuroAIx node size:
scale 0.1143, 4 partitions), with reduced in-degrees (``--k-scale``, default 0.1; the model
makes up the lost mean input with a DC current, docs/networks.md) and Poisson (default) or
DC background input (``--input``). The engine runs the network, the other partitions' spikes
are injected in ascending global id, the node's Verilog runs on Verilator (``--sim
amaranth``: the Amaranth design in amaranth.sim; ``--sim none``: no RTL, the emulator's
cycles alone) and its raster must equal the engine's. Beside the RTL's cycles of every step,
the emulator's (the node's cycle rule, ``neuroaix.timing.node_step_cycles``) for the same
step. Prints, per (L, U), the cycles per step (mean, min, max, total) of both, the steps in
which they differ, and the synaptic events; the JSON adds every step's cycles of both and
the seconds of the engine, of the Verilator build (generation and compilation; reused while
the Verilog is unchanged) and of the whole run. The node's memory (the testbench's, and the
rule's) is ``--memory fixed`` (latency 20 cycles) or ``--memory ddr`` (the ``[memory]`` table
of ``--hardware``, default configs/neuroaix-35.toml, in its synapse clock); ``--pipeline
hardware`` takes B, C and the spike FIFO from ``--hardware``'s ``[node]`` (64, 128, 64 in
configs/neuroaix-35.toml) instead of the CI cases' 8, 16, 16; the JSON's ``memory`` records
what was used. ``--merge arrival`` builds the node with the merge in order of arrival
(``NodeParams.merge``, read by the RTL and by the rule alike; the injected spikes still
stream in ascending id from each step's first cycle).

Usage: ``python benchmarks/bench_rtl_node.py [--steps N] [--lanes L,U ...] [--sim S]
[--input poisson|dc] [--k-scale K] [--memory fixed|ddr] [--pipeline ci|hardware]
[--merge ascending|arrival] [--hardware CONFIG] [--json PATH]``
"""

import argparse
import pathlib
import sys
import time

import numpy as np

from neuroaix import models, outputs
from neuroaix.rtl.harness import node_verilator
from neuroaix.rtl.harness.node_engine import DEFAULT_HARDWARE, memory_record, node_memory
from neuroaix.rtl.harness.node_engine import emulator_cycles, engine_case
from neuroaix.rtl.harness.node_sim import simulate
from neuroaix.timing import MERGES

#: Node memory parameters (the CI cases of tests/rtl/test_node_verilog.py); ``latency`` is
#: the fixed memory's.
MEMORY = {"latency": 20, "max_burst": 8, "fifo_words": 16, "spike_fifo": 16}
BUILD = pathlib.Path(__file__).parents[1] / "build" / "bench_rtl_node"
#: The networks: neuroAIx's node size (2,205 neurons on each of 4 nodes), their seed.
SCALE, SEED = 0.1143, 7
#: Brunel's network of 8,820 neurons (7,056 E, 1,764 I), in-degrees 100 and 25 (epsilon 0.01).
BRUNEL = {"scale": 0.7056, "epsilon": 0.01, "eta": 2.0}


def network(model: str, k_scale: float, input: str):
    """Return the built network of ``model`` ("microcircuit" or "brunel") on 4 nodes."""
    if model == "brunel":
        net = models.brunel(**BRUNEL, seed=SEED)
    else:
        net = models.microcircuit(scale=SCALE, k_scale=k_scale, input=input, seed=SEED)
    return net.build(partitions=4, threads=1)


def run(n_steps: int, lanes, k_scale: float, sim: str = "verilator", partition: int = 1,
        input: str = "poisson", memory: str = "fixed", hardware=DEFAULT_HARDWARE,
        model: str = "microcircuit", pipeline: str = "ci", merge: str = "ascending") -> dict:
    """Run the node at each ``(L, U)`` of ``lanes`` with ``memory``; return the measurements.

    ``pipeline="hardware"`` takes B, C and the spike FIFO from ``hardware``'s ``[node]``
    (``max_burst``, ``fifo_words``, ``spike_fifo``) instead of :data:`MEMORY`'s; ``merge``
    is the node's ``NodeParams.merge``.
    """
    params = {**MEMORY, "merge": merge}
    if memory == "ddr" or pipeline == "hardware":
        from neuroaix.emulator import load_hardware

        hardware = load_hardware(hardware)
    if pipeline == "hardware":
        node = hardware.node
        params.update(max_burst=node.max_burst, fifo_words=node.fifo_words,
                      spike_fifo=node.spike_fifo)
    tag = "" if pipeline == "ci" else f"_B{params['max_burst']}_C{params['fifo_words']}"
    tag += "" if merge == "ascending" else f"_{merge}"
    built = network(model, k_scale, input)
    out = {"network": {"model": model, "n_neurons": int(built.n_neurons), "partitions": 4,
                       "partition": partition,
                       "k_scale": k_scale if model == "microcircuit" else None,
                       "input": input if model == "microcircuit" else None,
                       **({"brunel": BRUNEL} if model == "brunel" else {}),
                       "steps": n_steps},
           "simulator": sim, "merge": merge, "memory": None, "runs": []}
    for L, U in lanes:
        t0 = time.perf_counter()
        image, external, expected, _ = engine_case(built, partition, n_steps, **params,
                                                   synapse_lanes=L, update_lanes=U)
        t_engine = time.perf_counter() - t0
        mem = node_memory(memory, image.config, hardware)
        used = {k: v for k, v in params.items() if k not in ("latency", "merge")}
        out["memory"] = {**used, **memory_record(memory, image.config, hardware)}
        t_build = t_rtl = None
        if sim == "none":  # the node's cycle rule alone, no RTL run
            spikes, cycles, events = expected, None, None
        elif sim == "verilator":
            build_dir = BUILD / ((f"L{L}_U{U}" if model == "microcircuit" else
                                  f"{model}_L{L}_U{U}") + tag)
            t1 = time.perf_counter()
            node_verilator.build(image.config, build_dir)
            t_build = time.perf_counter() - t1
            print(f"L={L}, U={U}: built in {t_build:.0f} s", flush=True)
            t1 = time.perf_counter()
            res = node_verilator.run(image, n_steps, external, build_dir,
                                     expected=expected, patterns=("streaming",),
                                     memory=mem)["streaming"]
            t_rtl = time.perf_counter() - t1
            if not res["passed"] or res["cycles"] is None:
                raise RuntimeError(f"L={L}, U={U}: the Verilator run failed ({build_dir})")
            spikes, cycles, events = res["spikes"], res["cycles"], res["counters"]["events"]
        else:
            res = simulate(image, n_steps, external, memory=mem)
            spikes, cycles, events = res.spikes, res.cycles, res.counters["events"]
        if spikes != expected:
            raise RuntimeError(f"L={L}, U={U}: the node's raster differs from the engine's")
        emulated = emulator_cycles(image, external, expected, mem)
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
            "memory_words": image.config.memory_words,
            "engine_seconds": round(t_engine, 1),
            "build_seconds": None if t_build is None else round(t_build, 1),
            "verilator_run_seconds": None if t_rtl is None else round(t_rtl, 1),
            "seconds": round(time.perf_counter() - t0, 1)})
        print(f"L={L}, U={U}: {int(cycles.sum())} cycles, "
              f"{out['runs'][-1]['steps_differing']} steps differ", flush=True)
    return out


def main(argv=None) -> int:
    """Run the benchmark and print the table."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--k-scale", type=float, default=0.1)
    p.add_argument("--model", choices=("microcircuit", "brunel"), default="microcircuit")
    p.add_argument("--input", choices=("poisson", "dc"), default="poisson",
                   help="the microcircuit's background input")
    p.add_argument("--lanes", nargs="+", default=["1,1", "8,10"], metavar="L,U")
    p.add_argument("--sim", choices=("verilator", "amaranth", "none"), default="verilator",
                   help="the RTL's simulator; none: the emulator's cycles alone")
    p.add_argument("--memory", choices=("fixed", "ddr"), default="fixed",
                   help="the node's memory: fixed latency 20, or the DDR table of --hardware")
    p.add_argument("--hardware", default=None,
                   help="--memory ddr, --pipeline hardware: hardware configuration (default "
                   "configs/neuroaix-35.toml)")
    p.add_argument("--pipeline", choices=("ci", "hardware"), default="ci",
                   help="B, C and spike FIFO: the CI cases' 8, 16, 16, or [node]'s max_burst, "
                   "fifo_words and spike_fifo of --hardware")
    p.add_argument("--merge", choices=MERGES, default="ascending",
                   help="the node's merge: ascending global id, or in order of arrival")
    p.add_argument("--json", type=pathlib.Path)
    args = p.parse_args(argv)
    if args.hardware is not None and args.memory != "ddr" and args.pipeline != "hardware":
        p.error("--hardware applies to --memory ddr and --pipeline hardware")
    lanes = [tuple(int(x) for x in s.split(",")) for s in args.lanes]
    out = run(args.steps, lanes, args.k_scale, args.sim, input=args.input, memory=args.memory,
              hardware=args.hardware or DEFAULT_HARDWARE, model=args.model,
              pipeline=args.pipeline, merge=args.merge)
    net = out["network"]
    what = (f"k_scale {net['k_scale']}" if args.model == "microcircuit" else
            f"epsilon {BRUNEL['epsilon']}")
    print(f"{args.model} {net['n_neurons']} neurons, {what}, partition "
          f"{net['partition']} of 4 ({net['n_local']} local neurons, {net['synapses_local']} "
          f"synapses), {net['steps']} steps, {out['simulator']}, memory "
          f"{out['memory']['memory']}, merge {out['merge']}")
    print(f"{'L':>3}{'U':>4}{'mean':>9}{'min':>7}{'max':>7}{'total':>10}{'emulator':>10}"
          f"{'differ':>8}{'events':>9}{'seconds':>9}")
    for r in out["runs"]:
        print(f"{r['synapse_lanes']:>3}{r['update_lanes']:>4}{r['cycles_mean']:>9}"
              f"{r['cycles_min']:>7}{r['cycles_max']:>7}{sum(r['rtl_cycles']):>10}"
              f"{sum(r['emulator_cycles']):>10}{r['steps_differing']:>8}{r['events']:>9}"
              f"{r['seconds']:>9}")
    if args.json:
        micro = args.model == "microcircuit"
        doc = {**outputs.provenance(model=args.model, scale=SCALE if micro else BRUNEL["scale"],
                                    seed=SEED, input=args.input if micro else None), **out}
        outputs.write_json(args.json, doc, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: sustained synapses per cycle of the RTL synapse pipeline at L = 1, 2, 4, 8 lanes.

Two parts, each printed as a table and written to one JSON document:

* **Microcircuit rows** (the goal of docs/rtl.md, "Lanes and banks"): the rows of one
  partition of a microcircuit (scale 0.1, k_scale 0.1, 4 partitions, mean row 97 synapses),
  laid out as the node lays them out (``node_image.node_layout``: rows word-aligned and in
  ``issue_order`` for L > 1). The RTL (``SynapsePipeline`` with ``lanes=L``,
  ``clear_lanes=U`` and the behavioural memory, in amaranth.sim) delivers one phase of
  ``--rtl-spikes`` distinct senders (seeded, ascending as the exchange orders them); its
  ring buffers are read back from the block RAM and must equal ``RingReference``, and its
  cycles must equal the node's cycle rule (``neuroaix.timing.node_step_cycles``, jitted by
  the emulator) on the same rows. The rule then gives the long stream: every source of the
  network spiking once (747,856 synapses on the partition). Beside the shipped layout, a
  proposed one (``issue_order(..., fullest_first=True)``: per word, the banks with the most
  synapses left first), measured the same way.
* **Random rows** (uniform lengths, one lane): the II of the one-lane pipeline as before,
  the RTL against ``neuroaix.rtl.model.spike_timing``.

Memory at the node's parameters (``NEUROAIX_NODE``): latency 40, B = 8, C = 64.

Usage: ``python benchmarks/bench_rtl.py [--rtl-spikes N] [--lanes L,U ...] [--json PATH]``
"""

import argparse
import json
import pathlib
import sys
import time

import numpy as np
from amaranth.sim import Simulator

from neuroaix import formats, models, outputs, timing
from neuroaix.emulator.node import node_cycles
from neuroaix.rtl.harness import workloads
from neuroaix.rtl.harness.node_image import issue_order, node_layout
from neuroaix.rtl.harness.pipeline_sim import simulate
from neuroaix.rtl.hw.synapse_memory import PipelineWithMemory, words_to_memory
from neuroaix.rtl.hw.synapse_pipeline import ring_banks
from neuroaix.rtl.model import RingReference, spike_timing
from neuroaix.rtl.params import NEUROAIX_NODE

#: Memory of the node (latency in cycles, B, C).
MEMORY = {"latency": NEUROAIX_NODE.latency, "max_burst": NEUROAIX_NODE.max_burst,
          "fifo_words": NEUROAIX_NODE.fifo_words}

#: The microcircuit whose partition rows are delivered.
NETWORK = {"scale": 0.1, "k_scale": 0.1, "input": "poisson", "seed": 7, "partitions": 4,
           "partition": 1}

#: Random-row cases of the one-lane pipeline: name -> mean row length.
RANDOM_CASES = {
    "microcircuit-like rows (mean 110)": 110,
    "long rows (mean 400)": 400,
    "short rows (mean 16)": 16,
    "very short rows (mean 4)": 4,
}


# Layouts -------------------------------------------------------------------------------------

def layout(words, row_ptr, lanes: int, banks: int, proposed: bool) -> tuple:
    """Return ``(row_start, row_length, words)`` of the node's layout, or of the proposed one.

    The proposed layout is the node's (``node_layout``: aligned rows for ``lanes > 1``) with
    ``issue_order(..., fullest_first=True)``.
    """
    start, length, out = node_layout(words, row_ptr, lanes, banks)
    if not proposed or lanes == 1:
        return start, length, out
    out = out.copy()
    targets = formats.unpack_synapses(np.asarray(words, np.uint64))[0]
    for s in np.flatnonzero(length):
        a, e = int(row_ptr[s]), int(row_ptr[s + 1])
        out[start[s]:start[s] + e - a] = words[a:e][issue_order(targets[a:e], lanes, banks,
                                                                fullest_first=True)]
    return start, length, out


def compact(sources, start, length, words):
    """Return the rows of ``sources`` copied into a memory of their own words only.

    Each row keeps its offset in its first word and its words, so its timing is unchanged;
    the memory holds only what the simulation reads. Returns ``(row_start, row_length,
    words)`` indexed by source like the inputs.
    """
    per = formats.SYNAPSES_PER_WORD
    new_start = np.zeros_like(start)
    new_length = np.zeros_like(length)
    chunks = []
    base = 0
    for s in sources:
        n = int(length[s])
        if n == 0:
            continue
        first, last = int(start[s]) // per, (int(start[s]) + n - 1) // per
        chunks.append(words[first * per:(last + 1) * per])
        new_start[s] = base * per + int(start[s]) % per
        new_length[s] = n
        base += last - first + 1
    return new_start, new_length, np.concatenate(chunks) if chunks else np.zeros(per, np.uint64)


# The RTL in amaranth.sim ---------------------------------------------------------------------

def simulate_phase(sources, start, length, words, *, n_neurons, ring_depth, n_sources, lanes,
                   clear_lanes, step=0):
    """Deliver one phase of ``sources`` back-to-back through the RTL; return what it measured.

    Returns ``(cycles, events, ring)``: the phase's cycles (first offer to ``o_idle`` high,
    as ``pipeline_sim.simulate`` counts), the event counter, and the ring buffers read from
    the block RAM, int64 ``(n_neurons, D, 2)``.
    """
    mem = words_to_memory(words)
    dut = PipelineWithMemory(init=mem, latency=MEMORY["latency"], n_neurons=n_neurons,
                             ring_depth=ring_depth, n_sources=n_sources, memory_words=len(mem),
                             max_burst=MEMORY["max_burst"], fifo_words=MEMORY["fifo_words"],
                             lanes=lanes, clear_lanes=clear_lanes)
    sim = Simulator(dut)
    sim.add_clock(1e-6)
    out = {}

    async def bench(ctx):
        for s in sources:  # row pointers of the senders (the others stay empty)
            ctx.set(dut.i_rows.valid, 1)
            ctx.set(dut.i_rows.payload, {"source": int(s), "start": int(start[s]),
                                         "length": int(length[s])})
            await ctx.tick()
        ctx.set(dut.i_rows.valid, 0)
        cycle = 0
        i = 0
        while i < len(sources):
            ctx.set(dut.i_spikes.valid, 1)
            ctx.set(dut.i_spikes.payload, {"source": int(sources[i]), "step": step})
            fire = ctx.get(dut.i_spikes.ready)
            await ctx.tick()
            cycle += 1
            i += bool(fire)
        ctx.set(dut.i_spikes.valid, 0)
        while not ctx.get(dut.o_idle):
            await ctx.tick()
            cycle += 1
        ring = np.zeros((n_neurons, ring_depth, 2), np.int64)
        data = dut.pipeline.ring_data
        for n in range(n_neurons):
            for slot in range(ring_depth):
                v = ctx.get(data[n * ring_depth + slot])
                ring[n, slot] = v.exc, v.inh
        out.update(cycles=cycle, events=ctx.get(dut.o_events), ring=ring)

    sim.add_testbench(bench)
    sim.run()
    return out["cycles"], out["events"], out["ring"]


def rule_cycles(sources, start, length, words, *, n_neurons, lanes, clear_lanes, n_sources):
    """Return ``(cycles, events, issue_cycles)`` of one delivery phase by the node's cycle rule.

    The node's rule (``node_step_cycles``) on a node without neurons of its own, whose other
    nodes' spikes are ``sources``: its step is the delivery phase alone, plus the cycle in
    which ``last`` is taken and the barrier cycle.
    """
    banks = ring_banks(lanes, clear_lanes)
    node = timing.NodeTiming(
        n_local=0, n_neurons=n_neurons, update_lanes=clear_lanes, synapse_lanes=lanes,
        banks=banks, max_burst=MEMORY["max_burst"], fifo_words=MEMORY["fifo_words"],
        spike_fifo=NEUROAIX_NODE.spike_fifo, gid_base=0, gid_stride=1, external=True,
        n_sources=n_sources)
    syn_bank = formats.unpack_synapses(np.asarray(words, np.uint64))[0].astype(np.int64) % banks
    res = node_cycles(node, timing.fixed_latency(MEMORY["latency"]), [[]], [list(sources)],
                      start, length, syn_bank)
    return int(res.cycles[0]), int(res.events[0]), int(res.issue_cycles[0])


#: Cycles the node's rule counts beyond the pipeline's phase (``last`` and the barrier).
RULE_EXTRA = 1


def microcircuit(lanes_list, rtl_spikes: int, seed: int = 11) -> list[dict]:
    """Measure the microcircuit rows at each ``(L, U)``, both layouts."""
    t0 = time.perf_counter()
    built = models.microcircuit(scale=NETWORK["scale"], k_scale=NETWORK["k_scale"],
                                input=NETWORK["input"], seed=NETWORK["seed"]).build(
        partitions=NETWORK["partitions"], threads=1)
    print(f"network built in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    p = NETWORK["partition"]
    part = built.partitions[p]
    row_ptr = np.asarray(part.row_ptr, np.int64)
    words = np.asarray(part.words, np.uint64)
    n_local = len(range(p, built.n_neurons, NETWORK["partitions"]))
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(built.n_neurons, rtl_spikes, replace=False))
    every = np.arange(built.n_neurons)
    D = built.ring_depth
    rows = []
    for L, U in lanes_list:
        banks = ring_banks(L, U)
        for proposed in ((False,) if L == 1 else (False, True)):
            start, length, laid = layout(words, row_ptr, L, banks, proposed)
            common = {"n_neurons": n_local, "lanes": L, "clear_lanes": U,
                      "n_sources": built.n_neurons}
            # The long stream by the rule: every source once.
            cyc, ev, issue = rule_cycles(every, start, length, laid, **common)
            phase = cyc - RULE_EXTRA
            row = {"synapse_lanes": L, "update_lanes": U, "banks": banks,
                   "layout": "proposed largest-first" if proposed else
                   ("node (packed rows)" if L == 1 else "node (issue_order)"),
                   "rule_spikes": len(every), "rule_events": ev, "rule_cycles": phase,
                   "rule_issue_cycles": issue, "rule_syn_per_cycle": ev / phase}
            # The RTL on a sample, its rows in a memory of their own.
            s_start, s_length, s_words = compact(sample, start, length, laid)
            t1 = time.perf_counter()
            cycles, events, ring = simulate_phase(sample, s_start, s_length, s_words,
                                                  ring_depth=D, **common)
            wall = time.perf_counter() - t1
            ref = RingReference(n_local, D)
            ref.deliver(0, sample, s_start, s_length, s_words)
            got = np.transpose(ring, (1, 0, 2))  # (D, n, 2)
            if events != ref.events or not np.array_equal(got, _reference_rings(ref)):
                raise RuntimeError(f"L={L}, U={U}: the RTL's ring buffers differ from "
                                   "RingReference")
            r_cyc, r_ev, _ = rule_cycles(sample, s_start, s_length, s_words, **common)
            if (r_cyc - RULE_EXTRA, r_ev) != (cycles, events):
                raise RuntimeError(f"L={L}, U={U}: RTL {cycles} cycles, {events} events; the "
                                   f"node's rule {r_cyc - RULE_EXTRA}, {r_ev}")
            row.update(rtl_spikes=len(sample), rtl_events=int(events), rtl_cycles=int(cycles),
                       rtl_syn_per_cycle=events / cycles, rtl_wall_s=round(wall, 1))
            rows.append(row)
            print(f"  L={L} U={U} {row['layout']}: RTL {events}/{cycles}, rule {ev}/{phase}",
                  file=sys.stderr)
    return rows


def _reference_rings(ref: RingReference) -> np.ndarray:
    """Return every slot of a reference ring, int64 ``(D, n, 2)`` (exc, inh)."""
    return np.transpose(np.array(ref.ring, np.int64), (0, 2, 1))


def random_rows(n_spikes: int, rtl_spikes: int) -> list[dict]:
    """Measure the one-lane pipeline on random rows: the rule on ``n_spikes``, the RTL on
    ``rtl_spikes``."""
    rows = []
    latency, burst, fifo = MEMORY["latency"], MEMORY["max_burst"], MEMORY["fifo_words"]

    def stream(mean_row, n, seed):
        return workloads.random_workload(
            seed=seed, n_neurons=256, ring_depth=64, n_sources=n, max_row=2 * mean_row,
            n_steps=1, spikes_per_step=n, max_burst=burst, fifo_words=fifo, latency=latency)

    for name, mean_row in RANDOM_CASES.items():
        w = stream(mean_row, n_spikes, seed=7)
        src = w.spikes[0]
        model = spike_timing(w.config, w.row_start[src], w.row_length[src])
        events = int(w.row_length[src].sum())
        row = {"case": name, "spikes": n_spikes, "events": events,
               "model_cycles": model.cycles, "model_ii": events / model.cycles}
        sub = stream(mean_row, rtl_spikes, seed=8)
        t0 = time.perf_counter()
        res = simulate(sub)
        wall = time.perf_counter() - t0
        ref = RingReference(sub.config.n_neurons, sub.config.ring_depth)
        ref.read_and_clear(0)
        ref.deliver(0, sub.spikes[0], sub.row_start, sub.row_length, sub.synapse_words)
        src = sub.spikes[0]
        if res.events != ref.events or res.timing[0].cycles != spike_timing(
                sub.config, sub.row_start[src], sub.row_length[src]).cycles:
            raise RuntimeError(f"{name}: the RTL differs from the model")
        row.update(rtl_spikes=len(src), rtl_events=int(res.events),
                   rtl_cycles=int(res.timing[0].cycles),
                   rtl_ii=res.events / res.timing[0].cycles, rtl_wall_s=round(wall, 1))
        rows.append(row)
    return rows


def _lanes_arg(text: str) -> tuple:
    L, U = (int(x) for x in text.split(","))
    return L, U


def main(argv=None) -> int:
    """Run the benchmark, print the tables and write the JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rtl-spikes", type=int, default=200,
                    help="senders of the phase simulated in amaranth.sim (default 200)")
    ap.add_argument("--lanes", nargs="+", type=_lanes_arg, metavar="L,U",
                    default=[(1, 10), (2, 10), (4, 10), (8, 10), (8, 1)],
                    help="(synapse lanes, update lanes) pairs (default 1,10 2,10 4,10 8,10 8,1)")
    ap.add_argument("--random-spikes", type=int, default=20000,
                    help="spikes per random-row stream by the rule (default 20,000)")
    ap.add_argument("--random-rtl-spikes", type=int, default=200,
                    help="spikes per random-row stream in amaranth.sim (default 200)")
    ap.add_argument("--skip-random", action="store_true", help="only the microcircuit rows")
    ap.add_argument("--json", type=pathlib.Path, default=pathlib.Path("build/bench_rtl.json"))
    args = ap.parse_args(argv)
    doc = {**outputs.provenance(model="microcircuit", scale=NETWORK["scale"],
                                seed=NETWORK["seed"], input=NETWORK["input"]),
           "memory": MEMORY, "network": NETWORK}
    doc["microcircuit"] = micro = microcircuit(args.lanes, args.rtl_spikes)
    print(f"{'L':>2}{'U':>3}{'banks':>6}  {'layout':<24}{'RTL events':>11}{'RTL cycles':>11}"
          f"{'RTL syn/c':>10}{'rule events':>12}{'rule cycles':>12}{'rule syn/c':>11}")
    for r in micro:
        print(f"{r['synapse_lanes']:>2}{r['update_lanes']:>3}{r['banks']:>6}  "
              f"{r['layout']:<24}{r['rtl_events']:>11}{r['rtl_cycles']:>11}"
              f"{r['rtl_syn_per_cycle']:>10.3f}{r['rule_events']:>12}{r['rule_cycles']:>12}"
              f"{r['rule_syn_per_cycle']:>11.3f}")
    if not args.skip_random:
        doc["random_rows"] = rnd = random_rows(args.random_spikes, args.random_rtl_spikes)
        print()
        print(f"{'case (one lane)':<36}{'RTL events':>11}{'RTL cycles':>11}{'RTL II':>8}"
              f"{'rule events':>12}{'rule cycles':>12}{'rule II':>9}")
        for r in rnd:
            print(f"{r['case']:<36}{r['rtl_events']:>11}{r['rtl_cycles']:>11}"
                  f"{r['rtl_ii']:>8.4f}{r['events']:>12}{r['model_cycles']:>12}"
                  f"{r['model_ii']:>9.4f}")
    outputs.write_json(args.json, doc, indent=1)
    print(f"wrote {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark: sustained synaptic events per cycle (II) of the RTL synapse pipeline.

Long random spike streams, driven back-to-back without backpressure through the RTL in
amaranth.sim (values checked against the reference model as they go), and the same streams
through the cycle rule of docs/rtl.md (``neuroaix.rtl.model.spike_timing``), which the tests
prove equal to the RTL cycle for cycle and which also covers streams too long to simulate.

Usage: ``python benchmarks/bench_rtl.py [--spikes N] [--json PATH]``
"""

import argparse
import json
import pathlib
import sys
import time


from neuroaix.rtl.harness import workloads
from neuroaix.rtl.model import RingReference, spike_timing
from neuroaix.rtl.harness.pipeline_sim import simulate

#: name -> (mean row length, latency, max_burst, fifo_words)
CASES = {
    "microcircuit-like rows (mean 110)": (110, 40, 8, 64),
    "long rows (mean 400)": (400, 40, 8, 64),
    "short rows (mean 16)": (16, 40, 8, 64),
    "very short rows (mean 4)": (4, 40, 8, 64),
}


def _stream(mean_row, latency, burst, fifo, n_spikes, seed):
    """Return a one-step workload of ``n_spikes`` spikes, each with its own random row."""
    return workloads.random_workload(
        seed=seed, n_neurons=256, ring_depth=64, n_sources=n_spikes, max_row=2 * mean_row,
        n_steps=1, spikes_per_step=n_spikes, max_burst=burst, fifo_words=fifo,
        latency=latency)


def run(n_spikes: int, rtl_spikes: int) -> list[dict]:
    """Measure every case: the cycle rule on ``n_spikes``, the RTL on ``rtl_spikes``."""
    rows = []
    for name, (mean_row, latency, burst, fifo) in CASES.items():
        w = _stream(mean_row, latency, burst, fifo, n_spikes, seed=7)
        sources = w.spikes[0]
        model = spike_timing(w.config, w.row_start[sources], w.row_length[sources])
        events = int(w.row_length[sources].sum())
        row = {"case": name, "latency": latency, "max_burst": burst, "fifo_words": fifo,
               "spikes": n_spikes, "events": events, "model_cycles": model.cycles,
               "model_ii": events / model.cycles}
        # The RTL (amaranth.sim) on a shorter stream of the same kind, checked as it goes.
        sub = _stream(mean_row, latency, burst, fifo, rtl_spikes, seed=8)
        t0 = time.perf_counter()
        res = simulate(sub)
        wall = time.perf_counter() - t0
        ref = RingReference(sub.config.n_neurons, sub.config.ring_depth)
        ref.read_and_clear(0)
        ref.deliver(0, sub.spikes[0], sub.row_start, sub.row_length, sub.synapse_words)
        assert res.events == ref.events
        src = sub.spikes[0]
        assert res.timing[0].cycles == spike_timing(sub.config, sub.row_start[src],
                                                    sub.row_length[src]).cycles
        row.update(rtl_spikes=len(src), rtl_events=int(res.events),
                   rtl_cycles=int(res.timing[0].cycles),
                   rtl_ii=res.events / res.timing[0].cycles, rtl_wall_s=wall)
        rows.append(row)
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spikes", type=int, default=20000, help="spikes per stream (model)")
    ap.add_argument("--rtl-spikes", type=int, default=300, help="spikes simulated in RTL")
    ap.add_argument("--json", type=pathlib.Path, default=pathlib.Path("build/bench_rtl.json"))
    args = ap.parse_args(argv)
    rows = run(args.spikes, args.rtl_spikes)
    head = (f"{'case':<36}{'RTL events':>11}{'RTL cycles':>11}{'RTL II':>8}"
            f"{'rule events':>12}{'rule cycles':>12}{'rule II':>9}")
    print(head)
    for r in rows:
        print(f"{r['case']:<36}{r['rtl_events']:>11}{r['rtl_cycles']:>11}{r['rtl_ii']:>8.4f}"
              f"{r['events']:>12}{r['model_cycles']:>12}{r['model_ii']:>9.4f}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(rows, indent=1))
    print(f"wrote {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

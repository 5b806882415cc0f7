"""Build time, peak RSS and bytes per synapse of the microcircuit at several scales.

Each scale runs in its own subprocess (so peak RSS is that build's alone), after a warm-up
build at a tiny scale in the same process compiles the kernels. Besides wall time the table
shows the process CPU time and the 1-minute load average, since wall time on a shared machine
says little on its own. Prints a table; ``--json PATH`` also writes the rows.

    python benchmarks/bench_build.py --scales 0.1 1.0 --threads 2 --json build/bench_build.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

__all__ = ["main", "measure"]


def measure(scale: float, threads: int, partitions: int, with_hash: bool = False) -> dict:
    """Build the microcircuit at ``scale`` in this process and return the measurements.

    With ``with_hash`` the row also holds ``synapse_hash()`` (after the peak RSS is taken),
    to compare builds with different partitions and threads.
    """
    import resource
    import time

    from neuroaix import models

    models.microcircuit(0.002).build(partitions, threads=threads)  # compile, warm caches
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    net = models.microcircuit(scale)
    built = net.build(partitions, threads=threads)
    seconds = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    store = sum(p.words.nbytes + p.row_ptr.nbytes for p in built.partitions)
    extra = {"synapse_hash": built.synapse_hash()} if with_hash else {}
    return extra | {
        "scale": scale,
        "threads": threads,
        "partitions": partitions,
        "neurons": built.n_neurons,
        "synapses": built.n_synapses,
        "build_s": seconds,
        "cpu_s": cpu,
        "load_avg_1min": os.getloadavg()[0],
        "peak_rss_gib": rss / 2**30,
        "store_bytes_per_synapse": store / built.n_synapses,
        "rss_bytes_per_synapse": rss / built.n_synapses,
        "estimate_gib": net.estimate_memory(partitions, threads).total_bytes / 2**30,
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return the exit status."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", type=float, nargs="+", default=[0.1, 1.0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--partitions", type=int, default=1)
    ap.add_argument("--json", metavar="PATH")
    ap.add_argument("--hash", action="store_true",
                    help="also compute synapse_hash() (slow at full scale)")
    ap.add_argument("--one", type=float, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one is not None:
        print(json.dumps(measure(args.one, args.threads, args.partitions, args.hash)))
        return 0
    rows = []
    for scale in args.scales:
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(scale), "--threads", str(args.threads),
             "--partitions", str(args.partitions)] + (["--hash"] if args.hash else []),
            check=True, capture_output=True, text=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    head = (f"{'scale':>6} {'neurons':>8} {'synapses':>12} {'build s':>8} {'CPU s':>7} "
            f"{'load':>5} {'peak GiB':>9} {'est GiB':>8} {'B/syn store':>11} {'B/syn RSS':>10}")
    print(head)
    for r in rows:
        print(f"{r['scale']:>6g} {r['neurons']:>8d} {r['synapses']:>12d} {r['build_s']:>8.2f} "
              f"{r['cpu_s']:>7.1f} {r['load_avg_1min']:>5.1f} {r['peak_rss_gib']:>9.2f} {r['estimate_gib']:>8.2f} "
              f"{r['store_bytes_per_synapse']:>11.3f} {r['rss_bytes_per_synapse']:>10.2f}"
              + (f"  {r['synapse_hash'][:16]}" if "synapse_hash" in r else ""))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Time one partition's delivery on one thread: the gather by delay against immediate delivery.

The CPU engine delivers either deferred, gathering each step's arrivals by delay onto a
small accumulator (``_kernels._gather_partition``), or immediately, adding each spike's
canonical row onto the partition's own ring buffers (``_kernels._deliver_rows``); see
docs/performance.md. Which is faster depends on the partition count: the gather's delay
groups shrink with it (a spike's synapses on one partition split into about one group per
delay) while the ring buffers of a partition (``2 * D * n_local * 4`` bytes) shrink towards
the core's own cache.

The microcircuit's raster is recorded once (``--t-presim`` discarded, ``--t-sim`` recorded;
the raster does not depend on the partitioning), then for each partition count
(``--partitions``) partition 0 alone is built (``build(only=[0])``) and both deliveries are
replayed over the recorded steps on one thread, each step followed by the read-and-clear of
the step's input that the update does. Reported: thread CPU time per synaptic event (best
of ``--repeats``; the gather also with the group table as int64, as before it was int32)
and the partition's ring and group-table sizes. One partition per core is
what a run with as many threads as partitions does; the other partitions' work and the
update's own memory traffic are not part of this figure. Example (docs/performance.md)::

    taskset -c 1 python benchmarks/bench_delivery.py --scale 1.0 --partitions 2 4 8 16 32
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
from numba import njit
from numba.typed import List

from neuroaix.engine import _kernels as _k
from neuroaix.engine._cpu import delay_rows
from neuroaix.engine._kernels import _deliver_rows, _gather_partition

__all__ = ["main", "replay"]


@njit(cache=True, nogil=True)
def _replay_gather(t0, n_steps, lay, acc, dptr, tgt, wgt, d0, n_d, senders, steps, step_off,
                   ahead, counters):
    two_n = 2 * lay.n_loc[0]
    for s in range(n_steps):
        _gather_partition(0, t0 + s, t0, lay, acc, 0, dptr, tgt, wgt, d0, n_d, senders,
                          steps, step_off, ahead, counters)
        for i in range(two_n):  # the update reads and clears the step's input
            acc[i] = 0


@njit(cache=True, nogil=True)
def _replay_immediate(t0, n_steps, lay, ring, row_ptr, words, senders, step_off, ahead,
                      counters):
    two_n = 2 * lay.n_loc[0]
    for s in range(n_steps):
        t = t0 + s
        if s > 0:
            _deliver_rows(0, t - 1, lay, ring, row_ptr, words, senders, step_off[s - 1],
                          step_off[s], ahead, counters)
        r = (t & lay.mask) * two_n
        for i in range(two_n):  # the update reads and clears the step's slot
            ring[r + i] = 0


def replay(part, depth: int, senders, steps, t0: int, n_steps: int,
           repeats: int, ahead: int) -> dict:
    """Replay the raster onto partition ``part`` (a built ``Partition``) both ways; return
    the best thread CPU time per synaptic event of each and the partition's sizes."""
    n_loc = part.n_local
    lay = _k.KernelLayout(n_part=1, n_loc=np.array([n_loc], np.int64),
                          noff=np.zeros(1, np.int64), roff=np.zeros(1, np.int64),
                          mask=depth - 1)
    row_ptr = np.ascontiguousarray(part.row_ptr, np.int64)
    words = np.ascontiguousarray(part.words, np.uint64)
    drows = delay_rows(_k.SynapseRows(row_ptrs=List([row_ptr]), words=List([words])),
                       np.array([n_loc], np.int64))
    step_off = np.searchsorted(steps, np.arange(t0, t0 + n_steps + 1)).astype(np.int64)
    senders = np.ascontiguousarray(senders, np.int32)
    steps = np.ascontiguousarray(steps, np.int64)
    out = {"partitions": part.n_parts, "n_local": n_loc, "synapses": int(words.shape[0]),
           "ring_bytes": 2 * depth * n_loc * 4, "dptr_bytes": int(drows.dptr[0].nbytes),
           "n_d": int(drows.n_d)}
    dptr64 = drows.dptr[0].astype(np.int64)  # the group table as it was before int32
    names = ("gather", "gather_int64", "immediate")
    best = dict.fromkeys(names, np.inf)
    # round -1 compiles (no steps); the rounds interleave the deliveries, so that a busy
    # spell of a shared machine slows all of them alike
    for rep in range(-1, repeats):
        steps_run = n_steps if rep >= 0 else 0
        for name in names:
            counters = np.zeros((1, _k.N_COUNTERS), np.int64)
            if name.startswith("gather"):
                acc = np.zeros(2 * n_loc, np.int32)
                c = time.thread_time()
                _replay_gather(t0, steps_run, lay, acc,
                               dptr64 if name == "gather_int64" else drows.dptr[0],
                               drows.tgt[0], drows.wgt[0], drows.d0, drows.n_d, senders,
                               steps, step_off, ahead, counters)
            else:
                ring = np.zeros(2 * depth * n_loc, np.int32)
                c = time.thread_time()
                _replay_immediate(t0, steps_run, lay, ring, row_ptr, words, senders,
                                  step_off, ahead, counters)
            cpu = time.thread_time() - c
            if rep >= 0:
                best[name] = min(best[name],
                                 cpu * 1e9 / int(counters[0, _k.C_SYN_EVENTS]))
    out |= {f"{name}_ns_per_event": best[name] for name in names}
    return out


def main(argv: list[str] | None = None) -> int:
    """Record the raster, replay it per partition count, print and write the figures."""
    from neuroaix import models
    from neuroaix.engine import Simulator

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--partitions", type=int, nargs="+", default=[2, 4, 8, 16, 32])
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--t-presim", type=float, default=100.0, help="discarded (ms)")
    p.add_argument("--t-sim", type=float, default=200.0, help="recorded and replayed (ms)")
    p.add_argument("--threads", type=int, default=2, help="threads of the recording run")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--prefetch", type=int, default=_k.PREFETCH_AHEAD)
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    net = models.microcircuit(scale=args.scale, seed=args.seed)
    sim = Simulator(net.build(partitions=args.threads, threads=args.threads),
                    threads=args.threads, progress=False)
    sim.backend.delivery = "immediate"  # the same raster without the derived layout's memory
    sim.simulate(args.t_presim, record=False)
    t0 = sim.t
    sim.simulate(args.t_sim)
    n_steps = sim.t - t0
    senders, steps = sim.spikes()
    depth = sim.layout.ring_depth
    del sim
    rows = []
    for n_part in args.partitions:
        built = net.build(partitions=n_part, only=[0], threads=args.threads)
        r = replay(built.partitions[0], depth, senders, steps, t0, n_steps,
                   args.repeats, args.prefetch)
        rows.append(r)
        print(f"P {n_part}: n_local {r['n_local']}, ring {r['ring_bytes'] / 2**20:.2f} MiB, "
              f"group table {r['dptr_bytes'] / 2**20:.1f} MiB; gather "
              f"{r['gather_ns_per_event']:.2f} ns/event (int64 table "
              f"{r['gather_int64_ns_per_event']:.2f}), immediate "
              f"{r['immediate_ns_per_event']:.2f} ns/event", flush=True)
        del built
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"config": vars(args), "rows": rows}, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())

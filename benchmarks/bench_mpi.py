"""Strong scaling of the microcircuit over MPI ranks: time per biological second, and the
share of it spent exchanging spikes.

For each rank count (``--ranks``, default 1 2 4) the script starts ``mpiexec -n N python
benchmarks/bench_mpi.py --worker ...``. Every worker rank builds only its own partitions of
the Potjans-Diesmann microcircuit (``--scale``, default 0.1; ``--partitions`` fixed for all
rank counts, so the work and the raster are the same), presimulates ``--t-presim`` ms and
simulates ``--t-sim`` ms with ``--threads`` threads, timing per rank: wall and CPU seconds
of the simulation, the part of it spent in the exchange (collecting, the collective and
merging, waiting for slower ranks included) and the synapses it stores. A single-process
run of the plain engine (no MPI) is the baseline row. Output: a table on stdout and JSON
(``--json``). Example::

    python benchmarks/bench_mpi.py --scale 0.1 --ranks 1 2 4 --json results/bench_mpi.json

On a machine with fewer cores than ranks the ranks share cores: the numbers then show the
exchange's overhead, not a speed-up (docs/mpi.md).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import resource
import shutil
import subprocess
import sys
import time

__all__ = ["main", "worker"]

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _mpiexec() -> str:
    exe = pathlib.Path(sys.executable).parent / "mpiexec"
    found = str(exe) if exe.exists() else shutil.which("mpiexec")
    if not found:
        raise RuntimeError("no mpiexec found; pip install 'neuroaix[mpi]' (mpi4py, mpich)")
    return found


def worker(args) -> None:
    """One rank of a measurement (started by mpiexec); rank 0 prints the JSON result."""
    from neuroaix import models
    from neuroaix.engine import Simulator
    from neuroaix.engine.mpi import MPISimulator, abort_on_error, get_comm, rank_partitions

    net = models.microcircuit(scale=args.scale, seed=args.seed)
    if args.worker == "single":
        built = net.build(partitions=args.partitions, threads=args.threads)
        sim = Simulator(built, threads=args.threads, progress=False)
        comm = None
    else:
        comm = get_comm()
        own = rank_partitions(args.partitions, comm.Get_size(), comm.Get_rank())
        built = net.build(partitions=args.partitions, threads=args.threads, only=own)
        sim = MPISimulator(built, comm=comm, threads=args.threads, exchange=args.exchange,
                           progress=False)
    with abort_on_error(comm) if comm is not None else _nothing():
        sim.simulate(args.t_presim, record=False)
        if comm is not None:
            comm.Barrier()
            sim.seconds = dict.fromkeys(sim.seconds, 0.0)
        before = sim.counters
        w0, c0 = time.perf_counter(), time.process_time()
        sim.simulate(args.t_sim)
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        after = sim.counters
        spike_hash = sim.spike_hash()  # collective under MPI
        rss = int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024
        mine = {"wall_s": wall, "cpu_s": cpu, "rss_bytes": rss,
                "update_s": sim.seconds["update"] if comm else None,
                "deliver_s": sim.seconds["deliver"] if comm else None,
                "exchange_s": sim.seconds["exchange"] if comm else 0.0,
                "synapses": sim.local_synapses if comm else int(built.n_synapses),
                "neurons": len(sim.gids) if comm else int(built.n_neurons)}
        ranks = comm.gather(mine, root=0) if comm is not None else [mine]
    if ranks is None:
        return
    events = after["synaptic_events"] - before["synaptic_events"]
    wall = max(r["wall_s"] for r in ranks)
    out = {
        "mode": args.worker, "ranks": len(ranks), "threads_per_rank": args.threads,
        "partitions": args.partitions, "scale": args.scale, "t_sim_ms": args.t_sim,
        "n_neurons": int(built.n_neurons),
        "interval_steps": getattr(sim, "interval", 1),
        "spike_hash": spike_hash, "synaptic_events": int(events),
        "wall_s": wall, "s_per_bio_s": wall / (args.t_sim * 1e-3),
        "cpu_s_total": sum(r["cpu_s"] for r in ranks),
        "exchange_share": sum(r["exchange_s"] for r in ranks) / sum(r["wall_s"] for r in ranks),
        "per_rank": ranks,
    }
    print(json.dumps(out))


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _measure(cmd: list[str]) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])} ... exited with {proc.returncode}:\n"
                           f"{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    """Run the scaling series; print the table, write JSON."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=0.1)
    ap.add_argument("--ranks", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--partitions", type=int, default=4,
                    help="partitions for every run (>= the largest rank count)")
    ap.add_argument("--threads", type=int, default=1, help="threads per rank")
    ap.add_argument("--t-sim", type=float, default=1000.0)
    ap.add_argument("--t-presim", type=float, default=100.0)
    ap.add_argument("--seed", type=int, default=12345)
    ap.add_argument("--exchange", choices=("auto", "step", "interval"), default="auto")
    ap.add_argument("--json", default=None, help="write the results here")
    ap.add_argument("--worker", choices=("single", "mpi"), default=None,
                    help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        worker(args)
        return 0
    if max(args.ranks) > args.partitions:
        raise ValueError(f"--partitions {args.partitions} is below --ranks {max(args.ranks)}; "
                         f"use --partitions >= {max(args.ranks)}")
    common = [f"--scale={args.scale}", f"--partitions={args.partitions}",
              f"--threads={args.threads}", f"--t-sim={args.t_sim}",
              f"--t-presim={args.t_presim}", f"--seed={args.seed}",
              f"--exchange={args.exchange}"]
    me = [sys.executable, str(pathlib.Path(__file__).resolve())]
    # JIT warm-up: fills Numba's cache for both paths before anything is timed
    warm = [f"--scale={min(args.scale, 0.02)}", f"--partitions={args.partitions}",
            "--t-sim=5", "--t-presim=5"]
    _measure([*me, "--worker=single", *warm])
    _measure([_mpiexec(), "-n", "1", *me, "--worker=mpi", *warm])
    rows = [_measure([*me, "--worker=single", *common])]
    for n in args.ranks:
        rows.append(_measure([_mpiexec(), "-n", str(n), *me, "--worker=mpi", *common]))
    hashes = {r["spike_hash"] for r in rows}
    print(f"microcircuit scale {args.scale} ({rows[0]['n_neurons']} neurons), "
          f"{args.partitions} partitions, {args.threads} thread(s) per rank, "
          f"{args.t_sim:g} ms; {os.cpu_count()} cores here")
    print(f"{'run':>14} {'s/bio-s':>8} {'CPU s':>7} {'exchange':>9} {'syn/rank':>10} "
          f"{'RSS/rank MiB':>13}")
    for r in rows:
        name = "1 process" if r["mode"] == "single" else f"{r['ranks']} rank(s)"
        syn = max(x["synapses"] for x in r["per_rank"])
        rss = max(x["rss_bytes"] for x in r["per_rank"]) / 2**20
        print(f"{name:>14} {r['s_per_bio_s']:8.3f} {r['cpu_s_total']:7.2f} "
              f"{100 * r['exchange_share']:8.1f}% {syn:10d} {rss:13.0f}")
    print("spike_hash identical for every run" if len(hashes) == 1
          else f"spike_hash DIFFERS: {sorted(hashes)}")
    result = {"rows": rows, "identical": len(hashes) == 1, "cores": os.cpu_count(),
              "load_average": os.getloadavg()}
    if args.json:
        pathlib.Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        pathlib.Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0 if len(hashes) == 1 else 1


if __name__ == "__main__":
    sys.exit(main())

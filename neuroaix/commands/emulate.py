"""``neuroaix emulate``: run a model on the engine and emulate it on a hardware cluster."""

from __future__ import annotations

import math
from pathlib import Path

from neuroaix.commands._options import (add_emulated_model_options, add_force_option,
                                        emulated_window,
                                        read_run_spikes, refuse_model_options)

__all__ = ["parse_sweep", "register"]


def register(sub) -> None:
    """Add the ``emulate`` subcommand."""
    p = sub.add_parser(
        "emulate", help="emulate a model on an FPGA cluster, cycle by cycle",
        description="Build MODEL with one partition per node of the cluster, simulate it on "
        "the Numba engine and emulate its spikes step by step on the hardware described by "
        "--hardware (docs/emulator.md). Prints acceleration, q_RTF, the bottleneck of the "
        "steps and the activity counts; --sweep KEY=V1,V2,... repeats the emulation for each "
        "value of one configuration key (e.g. link.transceiver_ns=34,120,600) and plots it. "
        "--network FILE emulates a saved network (Network.save, a PyNN or NIR model) instead "
        "of MODEL; --spikes DIR takes the raster of a neuroaix run of it instead of "
        "simulating (docs/io.md).",
        epilog="Example: neuroaix emulate microcircuit --hardware configs/neuroaix-35.toml "
        "--scale 0.1 --input dc --t-sim 200 --plot build/step.png")
    p.add_argument("model", choices=("microcircuit", "brunel"), nargs="?", default=None,
                   help="network model (or --network FILE)")
    p.add_argument("--network", metavar="FILE.npz", default=None,
                   help="emulate a saved network instead of MODEL (docs/io.md)")
    p.add_argument("--spikes", metavar="DIR", default=None,
                   help="emulate the raster of a previous neuroaix run (its --out folder or "
                        "spikes.npz) instead of simulating; its recorded window is emulated")
    p.add_argument("--hardware", required=True, metavar="CONFIG.toml",
                   help="hardware configuration (e.g. configs/neuroaix-35.toml)")
    add_emulated_model_options(p, number=float, inputs=("poisson", "dc"))
    p.add_argument("--threads", type=int, default=None, help="engine threads")
    p.add_argument("--json", metavar="PATH", help="write the result (or sweep) as JSON")
    p.add_argument("--sweep", metavar="KEY=V1,V2,...",
                   help="emulate once per value of a dotted configuration key")
    p.add_argument("--plot", metavar="PATH",
                   help="timeline of the slowest step, or the sweep plot with --sweep "
                        "(default with --sweep: build/sweep_KEY.png)")
    add_force_option(p)
    p.set_defaults(func=_emulate)


def _value(text: str):
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    for kind in (int, float):
        try:
            v = kind(text)
        except ValueError:
            continue
        if kind is float and not math.isfinite(v):
            raise ValueError(f"sweep value {text!r} is not finite; give a finite number")
        return v
    return text.strip()


def parse_sweep(text: str) -> tuple[str, list]:
    """Return ``(key, values)`` of a ``KEY=V1,V2,...`` sweep option.

    Raises
    ------
    ValueError
        If the option has no ``=`` or no values.
    """
    if "=" not in text:
        raise ValueError(f"--sweep must look like KEY=V1,V2,..., not {text!r}; e.g. "
                         "link.transceiver_ns=34,120,600")
    key, _, rest = text.partition("=")
    values = [_value(v) for v in rest.split(",") if v.strip()]
    if not key.strip() or not values:
        raise ValueError(f"--sweep must name a key and at least one value, not {text!r}")
    return key.strip(), values


def _table(rows) -> str:
    lines = [f"{'':<24}{'acceleration':>13}{'q_RTF':>9}{'mean step us':>14}"
             f"{'max step us':>13}{'spike latency us':>18}  bottlenecks"]
    for label, res in rows:
        bn = ", ".join(f"{k} {v}" for k, v in res.bottleneck_counts().items() if v)
        lines.append(f"{label:<24}{res.acceleration:>13.2f}{res.q_rtf:>9.4f}"
                     f"{res.step_fs.mean() / 1e9:>14.3f}{res.step_fs.max() / 1e9:>13.3f}"
                     f"{res.idle_latency['worst_ns'] / 1e3:>18.3f}  {bn}")
    lines.append("spike latency: worst case of one spike on the idle cluster, dispatcher "
                 "included")
    return "\n".join(lines)


def _emulate(args) -> int:
    from neuroaix.emulator import Emulator, counts_from_built, load_hardware, targets_from_built
    from neuroaix.emulator.plot import plot_sweep, plot_timeline
    from neuroaix import outputs
    from neuroaix import models
    from neuroaix.emulator.workload import DEFAULTS, simulate_raster

    if (args.model is None) == (args.network is None):
        raise ValueError("give a model (microcircuit, brunel) or --network FILE, "
                         + ("not both" if args.model is not None else "one of them"))
    if args.network is not None:
        refuse_model_options(args)
    emulated_window(args)
    hw = load_hardware(args.hardware)
    sweep = parse_sweep(args.sweep) if args.sweep else None
    plot_path = args.plot
    if sweep and not plot_path:
        plot_path = str(Path("build") / f"sweep_{sweep[0].replace('.', '_')}.png")
    outputs.check_file(args.json, option="--json", force=args.force)
    outputs.check_file(plot_path, option="--plot", force=args.force)
    configs = [("configured", hw)]
    if sweep:
        key, values = sweep
        configs = [(f"{key}={v}", hw.with_value(key, v)) for v in values]
        if any(c.n_nodes != hw.n_nodes for _, c in configs):
            raise ValueError(f"--sweep {key} changes the number of nodes; sweep keys that "
                             "keep the node count, or run one configuration per invocation")
    saved = None
    with outputs.phase("build", f"{args.model or args.network} on {hw.n_nodes} nodes"):
        if args.network is not None:
            from neuroaix.construction.image import read_image

            built, saved = read_image(args.network, partitions=hw.n_nodes)
        else:
            net = models.build(args.model, scale=args.scale, k_scale=args.k_scale,
                               input=args.input, seed=args.seed, defaults=DEFAULTS)
            built = net.build(partitions=hw.n_nodes)
    dt = float(built.dt)
    raster = read_run_spikes(args.spikes, built, saved) if args.spikes else None
    if raster is not None:
        args.t_presim, args.t_sim = raster[2] * dt, raster[3] * dt
    for option, value in (("--t-sim", args.t_sim), ("--t-presim", args.t_presim)):
        if not math.isfinite(value):
            raise ValueError(f"{option} must be a finite time in ms, not {value!r}")
        steps = round(value / dt)
        if abs(steps * dt - value) > 1e-9 * max(1.0, abs(value)):
            raise ValueError(f"{option} must be a whole number of steps of dt = {dt:g} ms, not "
                             f"{value!r}; use {steps * dt:g} (the emulator does not round)")
    pre = round(args.t_presim / dt)
    n = round(args.t_sim / dt)
    if n <= 0 or pre < 0:
        raise ValueError(f"--t-sim must be > 0 and --t-presim >= 0 ms, not {args.t_sim!r} "
                         f"and {args.t_presim!r}")
    if raster is not None:
        senders, steps = raster[0], raster[1]
    else:
        with outputs.phase("simulation", f"{(pre + n) * dt:g} ms on the engine"):
            senders, steps = simulate_raster(built, (pre + n) * dt, threads=args.threads)
    keep = steps >= pre
    senders, steps = senders[keep], steps[keep] - pre
    counts = counts_from_built(built)
    # the RTL node's model reads every synapse's target (its ring bank)
    targets = (targets_from_built(built) if any(c.node.model == "rtl" for _, c in configs)
               else None)
    results = []
    for i, (label, cfg) in enumerate(configs):
        with outputs.phase("emulation", f"{n} steps" + (f", {label} ({i + 1} of "
                                                        f"{len(configs)})" if sweep else "")):
            results.append((label, Emulator(cfg).run(counts, senders, steps, n_steps=n,
                                                     targets=targets)))
    res0 = results[0][1]
    used = {**DEFAULTS.get(args.model, {}), **({"input": args.input} if args.input else {})}
    shown = f", input {used['input']}" if "input" in used else ""  # brunel has none
    name = f"{args.model} scale {args.scale}" if saved is None else args.network
    print(f"{name}{shown}: {counts.shape[1]} neurons, "
          f"{int(counts.sum())} synapses, {senders.size} spikes in {args.t_sim} ms, "
          f"{hw.n_nodes} nodes ({hw.name})")
    print(_table(results))
    act = res0.activity.to_dict()
    print("activity: " + ", ".join(f"{k} {v:.6g}" if isinstance(v, float) else f"{k} {v}"
                                   for k, v in act.items()))
    if saved is None:
        scale = used["scale"] if args.scale is None else args.scale
        record = outputs.provenance(model=args.model, scale=scale, seed=args.seed,
                                    input=used.get("input"), hardware=hw.name)
        what = f"{args.model} scale {scale:g}{shown} on {hw.name} ({hw.n_nodes} nodes)"
    else:
        record = outputs.provenance(model="network", seed=int(built.seed), hardware=hw.name,
                                    network=args.network,
                                    network_fingerprint=saved["fingerprint"])
        what = f"{Path(args.network).name} on {hw.name} ({hw.n_nodes} nodes)"
    if args.spikes:
        record["spikes_from"] = args.spikes
    if args.json:
        if sweep:
            doc = {**record, "sweep": {"key": sweep[0], "values": sweep[1]},
                   "results": [r.to_json() for _, r in results]}
        else:
            doc = {**record, **res0.to_json()}
        outputs.write_json(args.json, doc, indent=1)
        print(f"wrote {args.json}")
    if sweep:
        key, values = sweep
        dominant = [max(r.bottleneck_counts().items(), key=lambda kv: kv[1])[0]
                    for _, r in results]
        with outputs.atomic_path(plot_path) as tmp:
            plot_sweep(key, values, [r.acceleration for _, r in results], tmp,
                       bottlenecks=dominant, title=what)
        print(f"wrote {plot_path}")
    elif plot_path:
        slowest = int(res0.step_fs.argmax())
        trace = Emulator(hw).trace_step(counts, senders, steps, slowest, targets=targets)
        with outputs.atomic_path(plot_path) as tmp:
            plot_timeline(trace, tmp, title=f"{what}: step {slowest} (slowest), "
                          f"{trace['step_fs'] / 1e9:.2f} us")
        print(f"wrote {plot_path}")
    return 0

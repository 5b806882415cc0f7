"""``neuroaix energy``: energy, E_syn and q_RTF of emulated and measured runs.

Forms::

    neuroaix energy --hardware configs/neuroaix-35.toml --model microcircuit [--scale S]
    neuroaix energy --hardware configs/neuroaix-35.toml --network NET.npz [--spikes RUN]
    neuroaix energy --from-emulation EMULATE.json [--energy PATH]
    neuroaix energy --from-run DIR [--power-w W]
    neuroaix energy compare [--from-run DIR] [--hardware H] [--plot PATH]
    neuroaix energy project --species mouse|marmoset|human --hardware CONFIG
"""

from __future__ import annotations

import argparse
import dataclasses
import math
from pathlib import Path

from neuroaix import outputs
from neuroaix.commands._options import (add_emulated_model_options, add_force_option,
                                        emulated_window,
                                        read_run_spikes, refuse_model_options)

__all__ = ["compare_title", "register"]


# Inputs --------------------------------------------------------------------------------------


def _energy_path(args) -> Path:
    """Return the energy file: ``--energy``, else the hardware config's ``energy`` key."""
    if getattr(args, "energy", None):
        return Path(args.energy)
    hardware = getattr(args, "hardware", None)
    if not hardware:
        raise ValueError("no energy parameters: pass --energy PATH or --hardware H.toml whose "
                         "'energy' key names one")
    from neuroaix.emulator import load_hardware

    hw = load_hardware(hardware)
    if hw.energy_path is None:
        raise ValueError(f"hardware config {hw.source!r} names no energy file; add energy = "
                         "\"<file>.toml\" to it or pass --energy PATH")
    return hw.energy_path


def _check_network_options(args) -> None:
    """Refuse option combinations and missing inputs of ``--network``/``--spikes`` up front."""
    network, spikes = getattr(args, "network", None), getattr(args, "spikes", None)
    if spikes and not network:
        raise ValueError("--spikes applies to a saved network; pass --network FILE.npz with "
                         "it (the network the run simulated)")
    if hasattr(args, "t_sim"):
        emulated_window(args)
    if not network:
        return
    if getattr(args, "from_emulation", None):
        raise ValueError("pass either --network FILE.npz or --from-emulation JSON, not both")
    if not getattr(args, "hardware", None):
        raise ValueError("--network needs --hardware H.toml: the cluster to emulate it on")
    refuse_model_options(args, first=(("--model", args.model),))
    if not Path(network).is_file():
        raise ValueError(f"--network {network!r} is not a file; give a network saved with "
                         "Network.save (docs/io.md)")
    if spikes:
        file = Path(spikes) / "spikes.npz" if Path(spikes).is_dir() else Path(spikes)
        if not file.is_file():
            raise ValueError(f"--spikes {spikes!r} holds no spikes.npz; give the --out folder "
                             "of neuroaix run --network of this network")


def _emulate_saved(args) -> dict:
    """Emulate a saved network (``--network``, optionally a run's ``--spikes``); return JSON.

    The same steps as ``neuroaix emulate --network FILE [--spikes DIR]``: the network is
    loaded with one partition per node, the run's raster is checked against it (dt,
    populations, fingerprint) before any simulation, and without ``--spikes`` the engine
    simulates ``--t-presim`` + ``--t-sim`` first.
    """
    from neuroaix.construction.image import read_image
    from neuroaix.emulator import Emulator, counts_from_built, load_hardware, targets_from_built
    from neuroaix.emulator.workload import emulate_network

    hw = load_hardware(args.hardware)
    with outputs.phase("build", f"{args.network} on {hw.n_nodes} nodes"):
        built, saved = read_image(args.network, partitions=hw.n_nodes)
    raster = read_run_spikes(args.spikes, built, saved) if args.spikes else None
    if raster is None:
        with outputs.phase("emulation", f"{args.network} on {hw.name}"):
            result = emulate_network(built, hw, t_sim_ms=args.t_sim,
                                     t_presim_ms=args.t_presim)
    else:
        senders, steps, t0, n = raster
        with outputs.phase("emulation", f"{n} steps of {args.spikes} on {hw.name}"):
            targets = targets_from_built(built) if hw.node.model == "rtl" else None
            result = Emulator(hw).run(counts_from_built(built), senders, steps - t0,
                                      n_steps=n, targets=targets)
    record = outputs.provenance(model="network", seed=int(built.seed), hardware=hw.name,
                                network=args.network, network_fingerprint=saved["fingerprint"])
    if args.spikes:
        record["spikes_from"] = args.spikes
    return {**record, **result.to_json()}


def _emulate(args) -> dict:
    """Run the emulator (or read its JSON) and return its result dict."""
    if getattr(args, "from_emulation", None):
        return outputs.read_json(args.from_emulation,
                                 what="an emulator result (neuroaix emulate --json PATH)")
    try:
        from neuroaix.emulator import emulate_model
    except ImportError as exc:
        raise RuntimeError(f"the emulator is not available ({exc}); pass --from-emulation "
                           "JSON with a saved emulator result instead") from None
    if getattr(args, "network", None):
        return _emulate_saved(args)
    model = args.model or "microcircuit"
    with outputs.phase("emulation", f"{model} on {args.hardware}"):
        return emulate_model(model, args.hardware, scale=args.scale, k_scale=args.k_scale,
                             input=args.input, t_sim_ms=args.t_sim, t_presim_ms=args.t_presim,
                             seed=args.seed)


def _source(doc: dict) -> dict:
    """Return what an emulation or run document was made from (its provenance fields).

    Documents written before these fields carry the model in ``workload`` (an emulation
    run by ``neuroaix energy``) or the hardware configuration in ``hardware``; what is not
    recorded stays None rather than being guessed.
    """
    workload = doc.get("workload") if isinstance(doc.get("workload"), dict) else {}
    hardware = doc.get("hardware") if isinstance(doc.get("hardware"), dict) else {}
    found = {**workload, **{k: doc[k] for k in ("model", "scale", "seed", "input",
                                                "hardware_config") if k in doc}}
    out = outputs.provenance(model=found.get("model"), scale=found.get("scale"),
                             seed=found.get("seed"), input=found.get("input"),
                             hardware=found.get("hardware_config") or hardware.get("name"),
                             restored=doc.get("restored_from"),
                             network=doc.get("network_file"),
                             network_fingerprint=doc.get("network_fingerprint"))
    if "spikes_from" in doc:  # an emulation of a run's raster
        out["spikes_from"] = doc["spikes_from"]
    del out["neuroaix_version"]
    out["neuroaix_version"] = doc.get("neuroaix_version")  # of the tool that wrote it
    return out


def _emulated_row(args):
    from neuroaix.energy import Activity, estimate_energy, load_energy_config

    energy_path = _energy_path(args)  # the parameters are checked before the emulation
    cfg = load_energy_config(energy_path)
    result = _emulate(args)
    if "activity" not in result:
        if "results" in result:
            raise ValueError("the emulator result is a sweep of several emulations; pass the "
                             "--json of a single neuroaix emulate run")
        raise ValueError("the emulator result has no 'activity' dict; it must come from "
                         "neuroaix emulate --json")
    source = _source(result)
    model, scale = source["model"] or "model", source["scale"] or 1.0
    label = f"{cfg.name} (emulated)"
    if source["network_file"]:
        label += f", {Path(source['network_file']).name}"
    elif model != "microcircuit" or scale != 1.0:
        label += f", {model}{f' x{scale:g}' if scale != 1.0 else ''}"
    rep = estimate_energy(result["activity"], cfg, label=label)
    extra = {"source": source, "activity": result["activity"], "energy_config": str(energy_path),
             "emulator_q_rtf": result.get("q_rtf"), "power": None,
             "reference_q_rtf": None, "e_syn_nj_at_reference_q_rtf": None}
    if cfg.derivation is not None:
        # The energy model alone: the same activity at the q_RTF the parameters came from.
        act = Activity.from_dict(result["activity"])
        ref = estimate_energy(
            dataclasses.replace(act, hw_time_s=act.bio_time_s * cfg.derivation.q_rtf), cfg)
        extra["reference_q_rtf"] = cfg.derivation.q_rtf
        extra["e_syn_nj_at_reference_q_rtf"] = ref.to_dict()["e_syn_nj"]
    return rep, extra


def _run_label(backend: str, threads: int, kind: str) -> str:
    """Name a measured run by where it ran: the GPU, or the CPU engine's threads."""
    if backend == "cuda":
        return f"neuroaix engine, one GPU (cuda backend, {kind})"
    return f"neuroaix engine, {threads} thread{'s' if threads != 1 else ''} ({kind})"


def _measured_row(run_dir, *, power_w=None, watts_per_core=None):
    from neuroaix.energy import energy_from_power, estimate_power
    from neuroaix.energy.power import DEFAULT_WATTS_PER_CORE

    path = Path(run_dir) / "summary.json"
    summary = outputs.read_json(path, what="a run summary; pass the --out folder of "
                                "neuroaix run")
    total = summary.get("total")
    if not isinstance(total, dict):
        raise TypeError(f"{path}: no 'total' table; it must be written by neuroaix run")
    needed = ("synaptic_events", "wall_s_sim", "t_sim_ms", "threads")
    missing = [k for k in needed if k not in total]
    if missing:
        raise ValueError(f"{path}: 'total' lacks {', '.join(missing)}; rerun neuroaix run")
    measured = summary.get("energy") if isinstance(summary.get("energy"), dict) else None
    if power_w is not None:
        power = estimate_power(1, power_w=power_w)
        kind, energy_j = power.kind, None
        source = power.detail
    elif measured and measured.get("kind") == "measured":
        kind, energy_j = "measured", measured.get("energy_j")
        power_w_m = measured["power_w"]
        source = f"{measured.get('method', 'measured')}: {measured.get('detail', '')}".strip()
        power = None
    else:
        power = estimate_power(int(total["threads"]),
                               watts_per_core=watts_per_core or DEFAULT_WATTS_PER_CORE)
        kind, energy_j, source = power.kind, None, power.detail
    rep = energy_from_power(
        wall_time_s=float(total["wall_s_sim"]), bio_time_s=float(total["t_sim_ms"]) * 1e-3,
        synaptic_events=int(total["synaptic_events"]),
        power_w=power.power_w if power is not None else float(power_w_m), kind=kind,
        power_source=source, energy_j=energy_j,
        label=_run_label(summary.get("backend", "cpu"), int(total["threads"]), kind),
    )
    extra = {"source": _source(summary), "run": str(path),
             "power": power.to_dict() if power is not None else measured,
             "activity": None, "energy_config": None}
    return rep, extra


# Output --------------------------------------------------------------------------------------


def _fmt(value, spec):
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return format(value, spec)


def _table(rows: list[dict]) -> str:
    head = f"{'platform':<54} {'kind':<9} {'q_RTF':>9} {'accel.':>8} {'E_syn nJ':>10} " \
           f"{'power W':>10}"
    lines = [head, "-" * len(head)]
    for r in rows:
        q = r.get("q_rtf_qualifier", "") + _fmt(r.get("q_rtf"), ".4g")
        e = r.get("e_syn_qualifier", "") + _fmt(r.get("e_syn_nj"), ".4g")
        acc = _fmt(1.0 / r["q_rtf"] if r.get("q_rtf") else None, ".4g")
        lines.append(f"{r['label'][:54]:<54} {r['kind']:<9} {q:>9} {acc:>8} {e:>10} "
                     f"{_fmt(r.get('mean_power_w'), '.4g'):>10}")
    return "\n".join(lines)


def _write_json(path, data, source=None) -> None:
    """Write ``data`` with the provenance fields (those of ``source``, the one input)."""
    if path:
        record = outputs.provenance()
        record.update({k: v for k, v in (source or {}).items() if k != "neuroaix_version"})
        outputs.write_json(path, {**record, **data})
        print(f"wrote {path}")


def _check_outputs(args, *plots) -> None:
    """Check --json (and plot paths), --network and --spikes before any work."""
    _check_network_options(args)
    outputs.check_file(args.json, option="--json", force=args.force)
    for path in plots:
        outputs.check_file(path, option="--plot", force=args.force)


# Commands ------------------------------------------------------------------------------------


def _energy(args) -> int:
    _check_outputs(args)
    sources = sum(bool(x) for x in (args.from_run, args.from_emulation, args.hardware))
    if args.from_run and (args.from_emulation or args.hardware):
        raise ValueError("pass either --from-run DIR or --hardware/--from-emulation, not both")
    if sources == 0:
        raise ValueError("nothing to evaluate: pass --hardware H.toml --model M, "
                         "--from-emulation JSON or --from-run DIR (see --help)")
    if args.from_run:
        rep, extra = _measured_row(args.from_run, power_w=args.power_w,
                                   watts_per_core=args.watts_per_core)
    else:
        rep, extra = _emulated_row(args)
    out = rep.to_dict() | extra
    print(_table([out]))
    print(f"energy {rep.energy_j:.6g} J over {rep.wall_time_s:.6g} s wall time "
          f"({rep.bio_time_s:.6g} s biological), {rep.synaptic_events} synaptic events")
    if rep.kind == "emulated":
        print(f"  static {rep.static_j:.6g} J; " + "; ".join(
            f"{k} {v:.4g} J" for k, v in rep.dynamic_j.items()))
    print(f"  power: {rep.kind}, {rep.power_source}")
    if out.get("e_syn_nj_at_reference_q_rtf") is not None:
        print(f"  energy model alone: at the reference q_RTF {out['reference_q_rtf']:.4g} of "
              f"the parameters' derivation this activity gives "
              f"{out['e_syn_nj_at_reference_q_rtf']:.4g} nJ per synaptic event")
    _write_json(args.json, out, source=out["source"])
    return 0


def compare_title(ours: list[dict]) -> str:
    """Return the compare plot's title: what the published rows are, and what ours are.

    Parameters
    ----------
    ours : list of dict
        Our rows, each with its ``source`` (model, scale, hardware configuration).
    """
    shown = sorted({f"{r['source']['model']} scale {r['source']['scale']:g}"
                    + (f" on {r['source']['hardware_config']}"
                       if r["source"]["hardware_config"] else "")
                    for r in ours if r["source"]["model"] and r["source"]["scale"]})
    return "published: full-scale cortical microcircuit" + (
        f"; ours: {', '.join(shown)}" if shown else "")


def _compare(args) -> int:
    from neuroaix.energy import RECORDS
    from neuroaix.energy.plot import plot_compare

    _check_outputs(args, args.plot)
    rows = [dict(r.to_dict(), label=r.label, kind="published", mean_power_w=None)
            for r in RECORDS]
    ours = []
    if args.hardware or args.from_emulation:
        rep, extra = _emulated_row(args)
        ours.append(rep.to_dict() | extra)
    for run_dir in args.from_run or ():
        rep, extra = _measured_row(run_dir, power_w=args.power_w,
                                   watts_per_core=args.watts_per_core)
        ours.append(rep.to_dict() | extra)
    print(_table(rows + ours))
    print("\nsources:")
    for r in RECORDS:
        print(f"  {r.label}: {r.citation}")
    for r in ours:
        print(f"  {r['label']}: {r['power_source']}")
    if args.plot:
        with outputs.atomic_path(args.plot) as tmp:
            plot_compare(rows + ours, tmp, title=compare_title(ours))
        print(f"plot written to {args.plot}")
    _write_json(args.json, {"published": rows, "ours": ours})
    return 0


def _project(args) -> int:
    from neuroaix.energy import load_energy_config
    from neuroaix.energy.project import (
        MICROCIRCUIT_RATE_HZ,
        calibrate,
        load_projection_hardware,
        project_brain,
    )

    _check_outputs(args)
    hw = load_projection_hardware(args.hardware, memory_gb=args.memory_gb)
    cfg = load_energy_config(_energy_path(args))
    choices = ("low", "high") if args.synapses == "both" else (args.synapses,)
    rate = args.rate_hz or MICROCIRCUIT_RATE_HZ
    factor = 1.0
    if args.from_emulation:
        result = _emulate(args)
        if "activity" not in result:
            raise ValueError(f"{args.from_emulation}: no 'activity' dict; pass the --json of "
                             "neuroaix emulate or neuroaix energy")
        factor = calibrate(hw, result["activity"])
    results = [project_brain(args.species, hw, cfg, synapses=c, rate_hz=rate,
                             target_acceleration=args.target, calibration=factor)
               for c in choices]
    first = results[0]
    print(f"{args.species}: {first.neurons:.3g} neurons ({first.sources['neurons']})")
    print(f"  synapses: {first.sources['synapses']}")
    print(f"  mean rate {first.rate_hz:.3g} Hz; hardware {hw.name}, {hw.memory_gb:g} GB "
          f"synapse memory per node; target acceleration {args.target:g}x")
    if args.from_emulation:
        print(f"  bounds calibrated by the emulation {args.from_emulation}: x{factor:.3f}")
    head = (f"{'synapses':>9} {'nodes':>9} {'memory':>9} {'target':>9} {'accel.':>9} "
            f"{'limit':<13} {'power kW':>10} {'E_syn nJ':>10} {'best':>16}")
    print(head)
    print("-" * len(head))
    for p in results:
        target = str(p.nodes_target) if p.target_reachable else "unreach."
        best = f"{p.best_acceleration:.3g}x@{p.best_nodes}"
        print(f"{p.synapses:>9.3g} {p.nodes:>9} {p.nodes_memory:>9} {target:>9} "
              f"{p.acceleration:>9.3g} {p.limit:<13} {p.power_w / 1e3:>10.4g} "
              f"{p.e_syn_nj:>10.4g} {best:>16}")
    print("  bounds on the acceleration at the projected size: " + "; ".join(
        f"{k} {v:.3g}x" for k, v in results[-1].bounds.items()))
    _write_json(args.json, {"species": args.species, "hardware": str(args.hardware),
                            "projections": [p.to_dict() for p in results]})
    return 0


# Parser --------------------------------------------------------------------------------------


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive number, not {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number, not {text!r}")
    return value


def _emulation_options(p) -> None:
    p.add_argument("--hardware", metavar="H.toml",
                   help="hardware configuration (e.g. configs/neuroaix-35.toml); its 'energy' "
                        "key names the energy parameters")
    p.add_argument("--energy", metavar="PATH",
                   help="energy parameter file; overrides the hardware config's 'energy' key")
    p.add_argument("--from-emulation", metavar="JSON",
                   help="a saved emulator result (neuroaix emulate --json) instead of running "
                        "the emulator")
    p.add_argument("--model", default=None,
                   help="network model to emulate (default: microcircuit)")
    p.add_argument("--network", metavar="FILE.npz", default=None,
                   help="emulate a saved network (Network.save, a PyNN or NIR model) instead "
                        "of --model, on --hardware's cluster (docs/io.md)")
    p.add_argument("--spikes", metavar="DIR", default=None,
                   help="with --network: emulate the raster of neuroaix run --network (its "
                        "--out folder) instead of simulating; its recorded window is used")
    add_emulated_model_options(p, number=_positive, inputs=("dc", "poisson"))
    p.add_argument("--power-w", type=_positive, metavar="W",
                   help="stated mean power of a measured run (labelled an estimate)")
    p.add_argument("--watts-per-core", type=_positive, metavar="W",
                   help="per-core power for the TDP estimate (default 10 W)")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    add_force_option(p)


def register(sub) -> None:
    """Add the ``energy`` subcommand and its ``compare`` and ``project`` forms."""
    p = sub.add_parser(
        "energy", help="energy per synaptic event and real-time factor (emulated or measured)",
        description="Turn emulator activity counts (energy model, docs/energy.md) or a "
                    "measured run (power from RAPL or nvidia-smi where readable, else a stated "
                    "TDP estimate) into energy, mean power, E_syn (nJ per synaptic event), "
                    "q_RTF and acceleration. --network FILE.npz emulates a saved network (a "
                    "PyNN or NIR model, Network.save) on the --hardware cluster instead of "
                    "--model, from a run's raster with --spikes DIR. Subcommands: 'compare' "
                    "(published platforms "
                    "beside ours, with a plot) and 'project' (whole-brain projection).",
        epilog="Examples: neuroaix energy --hardware configs/neuroaix-35.toml --model "
               "microcircuit; neuroaix energy --hardware configs/neuroaix-35.toml --network "
               "net.npz --spikes run; neuroaix energy --from-run results --power-w 65; neuroaix "
               "energy compare --plot build/compare.png; neuroaix energy project --species "
               "mouse --hardware configs/neuroaix-35.toml",
    )
    _emulation_options(p)
    p.add_argument("--from-run", metavar="DIR",
                   help="folder written by neuroaix run (reads DIR/summary.json)")
    p.set_defaults(func=_energy)
    subs = p.add_subparsers(dest="energy_command", metavar="{compare,project}")

    c = subs.add_parser(
        "compare", help="published platforms beside our emulated and measured rows",
        description="Print the published records for the full microcircuit (q_RTF, E_syn, "
                    "with citations) beside our emulated (--hardware or --from-emulation) and "
                    "measured (--from-run, repeatable) rows; --plot writes a log-log plot of "
                    "q_RTF against E_syn with one labelled point per platform.",
    )
    _emulation_options(c)
    c.add_argument("--from-run", metavar="DIR", action="append",
                   help="folder written by neuroaix run; repeat for several runs")
    c.add_argument("--plot", metavar="PATH", help="write the plot (.png, .pdf, .svg)")
    c.set_defaults(func=_compare)

    j = subs.add_parser(
        "project", help="whole-brain projection: nodes, acceleration and power",
        description="Scale a cluster of the hardware configuration's nodes to a whole brain "
                    "(neuron and synapse counts from the literature, cited in the output): "
                    "nodes needed (synapse memory, bandwidth), the acceleration and its "
                    "limiting bound, and the power (docs/energy.md).",
    )
    j.add_argument("--species", required=True, choices=("mouse", "marmoset", "human"))
    j.add_argument("--hardware", required=True, metavar="CONFIG",
                   help="hardware configuration, e.g. configs/neuroaix-35.toml")
    j.add_argument("--energy", metavar="PATH",
                   help="energy parameter file; overrides the hardware config's 'energy' key")
    j.add_argument("--synapses", choices=("low", "high", "both"), default="both",
                   help="end of the literature range of synapse counts (both)")
    j.add_argument("--rate-hz", type=_positive, default=None, metavar="HZ",
                   help="mean firing rate (default: the microcircuit's, 3.24 Hz)")
    j.add_argument("--target", type=_positive, default=1.0, metavar="X",
                   help="acceleration to size the cluster for (1 = real time)")
    j.add_argument("--memory-gb", type=_positive, default=None, metavar="GB",
                   help="synapse memory per node if the hardware config has none (8)")
    j.add_argument("--from-emulation", metavar="JSON",
                   help="calibrate the bounds by an emulated run (neuroaix emulate --json or "
                        "neuroaix energy --json): its acceleration over the model's")
    j.add_argument("--json", metavar="PATH", help="also write the projection as JSON")
    add_force_option(j)
    j.set_defaults(func=_project)

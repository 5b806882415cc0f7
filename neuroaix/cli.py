"""The ``neuroaix`` command: one subcommand per module in ``neuroaix.commands``.

Each command module defines ``register(subparsers)``, which adds its parser and sets
``func`` (called with the parsed arguments, returning the exit status).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings

from neuroaix import outputs
from neuroaix._version import __version__

__all__ = ["main", "build_parser"]

#: Command modules in the order ``--help`` lists them.
COMMANDS = ("run", "rtl", "emulate", "energy", "info")


def build_parser() -> argparse.ArgumentParser:
    """Return the top-level parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="neuroaix",
        description=(
            "Deterministic fixed-point spiking-network simulation (Numba engine), its RTL "
            "(Amaranth, verified on Verilator), a cycle-accurate emulator of an FPGA cluster "
            "and an energy model. Every command explains itself with --help."
        ),
        epilog="Example: neuroaix run microcircuit --scale 0.1 --t-sim 500 --out results",
    )
    parser.add_argument("--version", action="version", version=f"neuroaix {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"neuroaix.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"neuroaix.commands.{name}":
                raise
            continue
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0 if args.command is None else 2
    outputs.reset(args.command)

    def show(message, category, filename, lineno, file=None, line=None):
        print(f"neuroaix {args.command}: warning: {message}", file=sys.stderr)

    try:
        with outputs.signal_guard(), warnings.catch_warnings():
            warnings.showwarning = show
            return int(args.func(args) or 0)
    except KeyboardInterrupt as exc:  # SIGINT or SIGTERM, at any phase
        detail = str(exc) if isinstance(exc, outputs.Interrupted) else None
        print(outputs.interrupt_message(args.command, detail), file=sys.stderr)
        return outputs.exit_status()
    except (ValueError, TypeError, RuntimeError, OSError, MemoryError) as exc:
        if outputs.interrupt_lost():  # the error followed from an interrupt lost in a callback
            print(outputs.interrupt_message(args.command), file=sys.stderr)
            return outputs.exit_status()
        print(f"neuroaix {args.command}: error: {exc}", file=sys.stderr)
        return 2

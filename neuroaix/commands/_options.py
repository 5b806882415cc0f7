"""Command-line options shared by several commands."""

from __future__ import annotations

__all__ = ["add_emulated_model_options", "add_force_option", "parse_ids"]


def add_emulated_model_options(p, *, number, inputs: tuple[str, str]) -> None:
    """Add ``--scale``, ``--k-scale``, ``--input``, ``--t-sim``, ``--t-presim`` and ``--seed``.

    The model options of ``neuroaix emulate`` and ``neuroaix energy``, whose emulation runs
    the same network with the same defaults.

    Parameters
    ----------
    p : argparse.ArgumentParser
        The command's parser.
    number : callable
        The ``type`` of the scales and of ``--t-sim`` (``float``, or a converter that also
        refuses non-positive values).
    inputs : tuple of str
        The ``--input`` choices in the order the command lists them.
    """
    p.add_argument("--scale", type=number, default=1.0, help="neuron-count scale (default 1.0)")
    p.add_argument("--k-scale", type=number, default=None,
                   help="in-degree scale (microcircuit only; default 1.0)")
    p.add_argument("--input", choices=inputs, default=None,
                   help="background input (microcircuit only; default dc, as the paper)")
    p.add_argument("--t-sim", type=number, default=1000.0, metavar="MS",
                   help="emulated biological time in ms (default 1000)")
    p.add_argument("--t-presim", type=float, default=100.0, metavar="MS",
                   help="simulated but not emulated warm-up in ms (default 100)")
    p.add_argument("--seed", type=int, default=12345, help="network seed (default 12345)")


def add_force_option(p, help: str = "replace the files of a previous result") -> None:
    """Add ``--force``: replace what a previous run of the command wrote.

    Parameters
    ----------
    p : argparse.ArgumentParser
        The command's parser.
    help : str
        What the command replaces.
    """
    p.add_argument("--force", action="store_true", help=help)


def parse_ids(text: str) -> list[int]:
    """Return the sorted, distinct neuron ids of a list such as ``"0,5,10-20"``.

    Items are separated by commas; ``A-B`` is the range from A to B, both included.

    Raises
    ------
    argparse.ArgumentTypeError
        If an item is not a non-negative integer or an ascending range (one-line message).
    """
    import argparse

    ids: set[int] = set()
    for item in str(text).split(","):
        item = item.strip()
        lo, sep, hi = item.partition("-")
        try:
            a = int(lo)
            b = int(hi) if sep else a
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{item!r} in {text!r} is not an id or a range; give ids like 0,5,10-20"
            ) from None
        if a < 0 or b < a:
            raise argparse.ArgumentTypeError(
                f"{item!r} in {text!r} is not a non-negative id or an ascending range A-B")
        if b - a >= 1 << 20:
            raise argparse.ArgumentTypeError(
                f"{item!r} in {text!r} names {b - a + 1} neurons; record at most 2**20 at once")
        ids.update(range(a, b + 1))
    return sorted(ids)

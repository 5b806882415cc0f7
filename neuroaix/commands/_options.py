"""Command-line options shared by several commands."""

from __future__ import annotations

__all__ = ["T_PRESIM_MS", "T_SIM_MS", "add_emulated_model_options", "add_force_option",
           "emulated_window", "parse_ids", "read_run_spikes", "refuse_model_options"]

#: The emulated window of ``emulate`` and ``energy`` when ``--t-sim``/``--t-presim`` are not
#: given (ms): 1,000 ms emulated after 100 ms simulated but not emulated.
T_SIM_MS, T_PRESIM_MS = 1000.0, 100.0


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
    p.add_argument("--t-sim", type=number, default=None, metavar="MS",
                   help=f"emulated biological time in ms (default {T_SIM_MS:g}; not with "
                        "--spikes, which emulates its run's recorded window)")
    p.add_argument("--t-presim", type=float, default=None, metavar="MS",
                   help=f"simulated but not emulated warm-up in ms (default {T_PRESIM_MS:g}; "
                        "not with --spikes)")
    p.add_argument("--seed", type=int, default=12345, help="network seed (default 12345)")


def emulated_window(args) -> None:
    """Fill ``args.t_sim`` and ``args.t_presim`` with their defaults, or refuse them.

    With ``--spikes`` the emulated window is the run's recorded one, so an explicit
    ``--t-sim`` or ``--t-presim`` would be ignored: it is refused instead, before any work.

    Raises
    ------
    ValueError
        Naming the option given with ``--spikes``.
    """
    if getattr(args, "spikes", None):
        for option, value in (("--t-sim", args.t_sim), ("--t-presim", args.t_presim)):
            if value is not None:
                raise ValueError(f"{option} does not apply with --spikes: the run's recorded "
                                 "window is emulated (drop the option, or run again with "
                                 "the window you want)")
        return
    if args.t_sim is None:
        args.t_sim = T_SIM_MS
    if args.t_presim is None:
        args.t_presim = T_PRESIM_MS


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


def refuse_model_options(args, *, first=()) -> None:
    """Refuse the built-in model's options (``--scale``, ``--k-scale``, ``--input``) with
    ``--network``; ``first`` are more ``(option, value)`` pairs, named before those.

    Raises
    ------
    ValueError
        Naming the first option given.
    """
    given = [o for o, v in (*first, ("--scale", args.scale != 1.0), ("--k-scale", args.k_scale),
                            ("--input", args.input)) if v]
    if given:
        raise ValueError(f"{given[0]} applies to a built-in model, not to --network; the "
                         "saved network was built with its own")


def read_run_spikes(path: str, built, saved):
    """Return ``(senders, steps, t0, n)`` of a run's spikes.npz for the network ``built``.

    The raster is the run's recorded window ``[t0, t0 + n)`` (absolute steps); ``path`` is
    the run's --out folder or its spikes.npz (``--spikes`` of ``emulate`` and ``energy``). A
    run of a saved network must name the same network (its summary.json's fingerprint).
    """
    import json
    import os

    import numpy as np

    folder = path if os.path.isdir(path) else os.path.dirname(path)
    file = os.path.join(path, "spikes.npz") if os.path.isdir(path) else path
    if not os.path.isfile(file):
        raise ValueError(f"--spikes {path!r} holds no spikes.npz; give the --out folder of a "
                         "neuroaix run")
    try:
        with np.load(file, allow_pickle=False) as d:
            senders, steps = d["senders"].astype(np.int64), d["steps"].astype(np.int64)
            dt, t0 = float(d["dt_ms"]), int(d["t0_step"])
            t1 = int(d["t1_step"]) if "t1_step" in d.files else None
            bounds = d["population_bounds"].tolist()
    except (OSError, ValueError, KeyError) as exc:
        raise ValueError(f"--spikes {file!r} is not the spikes.npz of a neuroaix run "
                         f"({type(exc).__name__}: {exc})") from None
    if t1 is None:
        raise ValueError(f"--spikes {file!r} does not record its window (t1_step); run it "
                         "again with this version")
    mine = [[int(a), int(b)] for _, a, b in built.populations]
    if dt != float(built.dt) or bounds != mine:
        raise ValueError(f"--spikes {file!r} is a run of another network (dt {dt:g} ms, "
                         f"populations {bounds}); this one has dt {built.dt:g} ms and "
                         f"populations {mine}")
    summary = os.path.join(folder, "summary.json")
    if saved is not None and os.path.isfile(summary):
        with open(summary, encoding="utf-8") as fh:
            fp = json.load(fh).get("network_fingerprint")
        if fp != saved["fingerprint"]:
            raise ValueError(f"--spikes {path!r} is a run of another network (fingerprint "
                             f"{str(fp)[:12]}, --network {saved['fingerprint'][:12]}); run "
                             "this network with neuroaix run --network")
    keep = (steps >= t0) & (steps < t1)
    return senders[keep], steps[keep], t0, t1 - t0

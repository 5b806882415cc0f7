"""Plots of emulation results (matplotlib, Agg canvas; nothing is shown on screen).

``plot_timeline`` draws one step of the cluster: per node the neuron-update phase, the
arrival of every spike and the synapse pipeline's work on it (accept to last write), and the
step end. ``plot_sweep`` draws the acceleration of a design-space sweep.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from neuroaix.emulator.clock import FS_PER_NS

__all__ = ["plot_sweep", "plot_timeline"]


def _figure(width, height):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def plot_timeline(trace: dict, path, *, title: str = "") -> Path:
    """Draw the timeline of one step (from ``Emulator.trace_step``) into ``path``.

    Parameters
    ----------
    trace : dict
        The trace of one step.
    path : str or os.PathLike
        Output image (format from the suffix, e.g. ``.png``, ``.svg``).
    title : str
        Figure title.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    for key in ("arrival", "accept", "last_write", "update_end", "done", "step_fs"):
        if key not in trace:
            raise ValueError(f"trace lacks {key!r}; pass the dict of Emulator.trace_step")
    n_nodes = len(trace["done"])
    fig = _figure(10, max(3.0, 0.18 * n_nodes + 1.5))
    ax = fig.add_subplot()
    us = 1e-3 / FS_PER_NS
    for p in range(n_nodes):
        ax.barh(p, trace["update_end"][p] * us, left=0, height=0.8, color="#9ecae1",
                label="neuron update" if p == 0 else None)
        has = trace["last_write"][p] >= 0
        acc = trace["accept"][p][has] * us
        lw = trace["last_write"][p][has] * us
        if acc.size:
            ax.barh(np.full(acc.size, p), lw - acc, left=acc, height=0.5, color="#fd8d3c",
                    alpha=0.6, label="synapse pipeline" if p == 0 else None)
        arr = trace["arrival"][p] * us
        ax.plot(arr, np.full(arr.size, p), "|", color="k", ms=5,
                label="spike arrival" if p == 0 else None)
        ax.plot(trace["done"][p] * us, p, "o", color="#d62728", ms=3,
                label="node done" if p == 0 else None)
    ax.axvline(trace["step_fs"] * us, color="#d62728", lw=1, ls="--", label="step end")
    ax.set_xlabel("time in step (us)")
    ax.set_ylabel("node")
    ax.set_ylim(-1, n_nodes)
    ax.invert_yaxis()
    ax.set_title(title or f"one step: {len(trace.get('senders', []))} spikes, "
                          f"{trace['step_fs'] * us:.2f} us")
    ax.legend(loc="lower right", fontsize=7)
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    return out


def plot_sweep(key: str, values, accelerations, path, *, bottlenecks=None,
               title: str = "") -> Path:
    """Draw the acceleration against the swept values of ``key`` into ``path``.

    Parameters
    ----------
    key : str
        The swept dotted key.
    values : sequence
        The values (numbers are plotted as a line on a numeric axis, others as bars of
        categories).
    accelerations : sequence of float
        Emulated acceleration per value.
    path : str or os.PathLike
        Output image.
    bottlenecks : sequence of str, optional
        Dominant bottleneck per value, written above each point.
    title : str
        What was emulated (model, scale, configuration).

    Returns
    -------
    pathlib.Path
        The file written.
    """
    values = list(values)
    acc = [float(a) for a in accelerations]
    if len(values) != len(acc) or not values:
        raise ValueError(f"values and accelerations must be non-empty and of equal length, "
                         f"not {len(values)} and {len(acc)}")
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    x = values if numeric else list(range(len(values)))
    fig = _figure(6, 4)
    ax = fig.add_subplot()
    if numeric:
        ax.plot(x, acc, "o-")
    else:
        ax.bar(x, acc, width=0.6)
        ax.set_xticks(x, [str(v) for v in values])
    if bottlenecks is not None:
        for xi, a, b in zip(x, acc, bottlenecks):
            ax.annotate(b, (xi, a), textcoords="offset points", xytext=(0, 6), ha="center",
                        fontsize=7)
    ax.set_xlabel(key)
    ax.set_ylabel("acceleration (x real time)")
    if title:
        ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    return out

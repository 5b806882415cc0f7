"""The comparison plot: q_RTF against E_syn on log-log axes, one labelled point per platform."""

from __future__ import annotations

import math
from pathlib import Path

__all__ = ["plot_compare"]

_MARKERS = {"published": "o", "emulated": "s", "measured": "D", "estimate": "^"}
_COLOURS = {"published": "tab:gray", "emulated": "tab:blue", "measured": "tab:green",
            "estimate": "tab:orange"}


#: Label offsets (points) tried in order: right, above, below, left.
_OFFSETS = ((7, 0, "left", "center"), (7, 6, "left", "bottom"), (7, -6, "left", "top"),
            (0, 8, "center", "bottom"), (0, -8, "center", "top"), (-7, 0, "right", "center"),
            (-7, 6, "right", "bottom"), (-7, -6, "right", "top"))


def _place_labels(fig, ax, points) -> None:
    """Label every point at the first offset that overlaps no marker or label and stays inside.

    Where no offset is free, the last one tried is kept.
    """
    from matplotlib.transforms import Bbox

    renderer = fig.canvas.get_renderer()
    inside = ax.get_window_extent(renderer)
    # Markers are obstacles too: a box of 5 points' half-width around every point.
    half = 5 * fig.dpi / 72
    placed = []
    for _label, _kind, q, e in points:
        x, y = ax.transData.transform((q, e))
        placed.append(Bbox.from_extents(x - half, y - half, x + half, y + half))
    for label, _kind, q, e in points:
        text = None
        for dx, dy, ha, va in _OFFSETS:
            if text is not None:
                text.remove()
            text = ax.annotate(label, (q, e), xytext=(dx, dy), textcoords="offset points",
                               ha=ha, va=va, fontsize=7.5,
                               bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none",
                                     "alpha": 0.8})
            box = text.get_window_extent(renderer)
            fits = (box.x0 >= inside.x0 and box.x1 <= inside.x1 and box.y0 >= inside.y0
                    and box.y1 <= inside.y1)
            if fits and not any(box.overlaps(other) for other in placed):
                break
        placed.append(text.get_window_extent(renderer))


def plot_compare(rows, path, *, title: str = "Full-scale cortical microcircuit") -> Path:
    """Write a log-log plot of q_RTF (x) against E_syn (y) with one labelled point per row.

    Parameters
    ----------
    rows : iterable of dict
        Each with ``label``, ``kind`` (``"published"``, ``"emulated"``, ``"measured"`` or
        ``"estimate"``), ``q_rtf`` and ``e_syn_nj``; rows without both numbers are skipped.
    path : str or os.PathLike
        Output file; the format follows the suffix (``.png``, ``.pdf``, ``.svg``).
    title : str
        Plot title.

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    ValueError
        If no row has both numbers, or a kind is unknown.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = []
    for row in rows:
        q, e = row.get("q_rtf"), row.get("e_syn_nj")
        if q is None or e is None or not (math.isfinite(q) and math.isfinite(e)) \
                or q <= 0 or e <= 0:
            continue
        if row["kind"] not in _MARKERS:
            raise ValueError(f"row kind must be one of {', '.join(map(repr, _MARKERS))}, not "
                             f"{row['kind']!r}")
        points.append((row["label"], row["kind"], float(q), float(e)))
    if not points:
        raise ValueError("no row has both q_rtf and e_syn_nj; nothing to plot")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(7.5, 5.5), layout="constrained")
    seen = set()
    for label, kind, q, e in points:
        ax.scatter([q], [e], marker=_MARKERS[kind], color=_COLOURS[kind], s=46, zorder=3,
                   label=kind if kind not in seen else None)
        seen.add(kind)
    ax.axvline(1.0, color="black", lw=0.8, ls="--", zorder=1)
    ax.text(1.0, 0.02, " real time", transform=ax.get_xaxis_transform(), fontsize=8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    qs = [p[2] for p in points]
    es = [p[3] for p in points]
    ax.set_xlim(min(qs) / 2.5, max(max(qs) * 4, 2.0))
    ax.set_ylim(min(es) / 2.5, max(es) * 2.5)
    ax.set_xlabel("real-time factor q_RTF (wall-clock time / biological time)")
    ax.set_ylabel("energy per synaptic event E_syn (nJ)")
    ax.set_title(title)
    ax.grid(True, which="both", lw=0.3, alpha=0.6)
    ax.legend(title="source", loc="upper left", fontsize=8)
    _place_labels(fig, ax, points)
    fig.savefig(path, dpi=150)
    plt.close(fig)
    return path

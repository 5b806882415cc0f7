"""Figures people would rather look at than read: the raster with per-population rates."""

from __future__ import annotations

import numpy as np

__all__ = ["plot_raster"]


def plot_raster(path, senders, steps, populations, dt: float, *, t0: int = 0,
                max_neurons: int = 2000, title: str = "", rates=None) -> None:
    """Write a raster plot (left) and mean firing rate per population (right) to ``path``.

    Parameters
    ----------
    path : str or path-like
        Output file (PNG).
    senders, steps : array_like
        The raster.
    populations : sequence of (name, start, stop)
        Global-id ranges, drawn top to bottom in this order.
    dt : float
        Step in ms.
    t0 : int
        First step shown.
    max_neurons : int
        Neurons shown at most (an evenly spread subset of each population).
    title : str
        Figure title.
    rates : sequence of float, optional
        Mean rate per population (Hz), drawn as bars; computed from the raster if omitted.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    senders = np.asarray(senders)
    steps = np.asarray(steps)
    n_total = sum(stop - start for _, start, stop in populations)
    stride = max(1, int(np.ceil(n_total / max_neurons)))
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 5), width_ratios=[3, 1],
                                 constrained_layout=True)
    colors = plt.get_cmap("tab10")
    t_ms_total = (steps.max() + 1 - t0) * dt if len(steps) else 1.0
    ticks, names, heights, mean_rates = [], [], [], []
    y_offset = 0
    for k, (name, start, stop) in enumerate(populations):
        sel = (senders >= start) & (senders < stop) & (steps >= t0) & ((senders - start) % stride == 0)
        y = y_offset + (senders[sel] - start) // stride
        ax.scatter(steps[sel] * dt, -y, s=1.0, color=colors(k % 10), marker=".", linewidths=0)
        height = (stop - start + stride - 1) // stride
        ticks.append(-(y_offset + height / 2))
        names.append(name)
        heights.append(0.8 * height)
        y_offset += height
        if rates is None:
            n_spk = np.count_nonzero((senders >= start) & (senders < stop) & (steps >= t0))
            mean_rates.append(n_spk / max(stop - start, 1) / (t_ms_total * 1e-3))
    ax.set_yticks(ticks, names)
    ax.set_xlabel("time (ms)")
    ax.set_title(title or "spike raster" + (f" (every {stride}th neuron)" if stride > 1 else ""))
    rates = mean_rates if rates is None else list(rates)
    bx.barh(ticks, rates, height=heights, color=[colors(k % 10) for k in range(len(rates))])
    bx.set_yticks(ticks, names)
    bx.set_xlabel("mean rate (Hz)")
    bx.set_ylim(ax.get_ylim())
    fig.savefig(path, dpi=110)
    plt.close(fig)

"""Spike-train statistics per population: firing rate, ISI CV, spike-count correlation.

These are the statistics of the accepted microcircuit validation recipe (Senk et al. 2026,
Neuromorph Comput Eng 6:012001): per-population distributions of rate, coefficient of variation of
inter-spike intervals, and pairwise correlation coefficients of spike counts in 2 ms bins,
compared between simulators with the Kolmogorov-Smirnov distance, whose spread between seeds
of NEST is the tolerance (``compare_with_nest``).
"""

from __future__ import annotations

import itertools

import numpy as np

__all__ = ["STATISTICS", "compare_with_nest", "isi_cv", "ks_distance", "population_distributions",
           "population_statistics", "rates_hz", "spike_count_correlations"]

#: The per-population statistics, in table order: rate (Hz), ISI CV, spike-count correlation.
STATISTICS = ("rate", "cv_isi", "correlation")


def rates_hz(senders, first: int, stop: int, t_ms: float) -> np.ndarray:
    """Return the firing rate (Hz) of neurons ``first .. stop-1`` over ``t_ms`` milliseconds."""
    counts = np.bincount(np.asarray(senders)[(senders >= first) & (senders < stop)] - first,
                         minlength=stop - first)
    return counts / (t_ms * 1e-3) if t_ms > 0 else np.zeros(stop - first)


def isi_cv(senders, steps, first: int, stop: int) -> np.ndarray:
    """Return the ISI CV of every neuron in ``first .. stop-1`` with at least three spikes."""
    senders = np.asarray(senders)
    steps = np.asarray(steps)
    sel = (senders >= first) & (senders < stop)
    s, t = senders[sel], steps[sel]
    order = np.lexsort((t, s))
    s, t = s[order], t[order]
    if len(s) < 3:
        return np.zeros(0)
    isi = np.diff(t).astype(np.float64)
    same = s[1:] == s[:-1]
    neuron = s[1:][same]
    isi = isi[same]
    n_isi = np.bincount(neuron - first, minlength=stop - first)
    total = np.bincount(neuron - first, weights=isi, minlength=stop - first)
    total2 = np.bincount(neuron - first, weights=isi * isi, minlength=stop - first)
    ok = n_isi >= 2
    mean = total[ok] / n_isi[ok]
    var = total2[ok] / n_isi[ok] - mean * mean
    return np.sqrt(np.maximum(var, 0.0)) / mean


def spike_count_correlations(senders, steps, first: int, stop: int, t0: int, t1: int,
                             bin_steps: int, n_sample: int = 200, seed: int = 0) -> np.ndarray:
    """Return pairwise correlation coefficients of spike counts of a neuron sample.

    Neurons are drawn (without replacement, ``seed``) among those of ``first .. stop-1`` that
    fired in ``[t0, t1)``; counts are taken in bins of ``bin_steps`` steps. Returns the upper
    triangle (pairs), empty if fewer than two neurons fired.
    """
    senders = np.asarray(senders)
    steps = np.asarray(steps)
    sel = (senders >= first) & (senders < stop) & (steps >= t0) & (steps < t1)
    active = np.unique(senders[sel])
    if len(active) < 2 or t1 - t0 < 2 * bin_steps:
        return np.zeros(0)
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(active, size=min(n_sample, len(active)), replace=False))
    n_bins = (t1 - t0) // bin_steps
    keep = sel & np.isin(senders, chosen) & (steps < t0 + n_bins * bin_steps)
    row = np.searchsorted(chosen, senders[keep])
    col = (steps[keep] - t0) // bin_steps
    counts = np.zeros((len(chosen), n_bins))
    np.add.at(counts, (row, col), 1.0)
    cc = np.corrcoef(counts)
    return cc[np.triu_indices(len(chosen), k=1)]


def population_distributions(senders, steps, populations, t0: int, t1: int, dt: float,
                             bin_ms: float = 2.0, n_sample: int = 200
                             ) -> dict[str, dict[str, np.ndarray]]:
    """Return each population's distributions of rate, ISI CV and correlation in ``[t0, t1)``.

    Parameters
    ----------
    senders, steps : array_like
        The raster (global ids, steps).
    populations : sequence of (name, start, stop)
        Global-id ranges.
    t0, t1 : int
        Analysis window in steps.
    dt : float
        Step in ms.
    bin_ms : float
        Bin width of the spike-count correlation.
    n_sample : int
        Neurons per population sampled for correlations.

    Returns
    -------
    dict
        ``{name: {"rate": Hz per neuron, "cv_isi": per neuron with at least three spikes,
        "correlation": finite coefficients of the sampled pairs}}``, keys of ``STATISTICS``.
    """
    senders = np.asarray(senders)
    steps = np.asarray(steps)
    win = (steps >= t0) & (steps < t1)
    s, t = senders[win], steps[win]
    bin_steps = max(1, round(bin_ms / dt))
    out = {}
    for name, start, stop in populations:
        cc = spike_count_correlations(s, t, start, stop, t0, t1, bin_steps, n_sample)
        out[name] = {"rate": rates_hz(s, start, stop, (t1 - t0) * dt),
                     "cv_isi": isi_cv(s, t, start, stop), "correlation": cc[np.isfinite(cc)]}
    return out


def population_statistics(senders, steps, populations, t0: int, t1: int, dt: float,
                          bin_ms: float = 2.0, n_sample: int = 200) -> list[dict]:
    """Return per-population summary statistics of the spikes in steps ``[t0, t1)``.

    The arguments are those of ``population_distributions``. Returns one dict per
    population: ``name``, ``n``, ``rate_mean_hz``, ``rate_std_hz``, ``cv_isi_mean``,
    ``correlation_mean`` (means of its distributions; NaN for a CV or correlation without
    values).
    """
    dist = population_distributions(senders, steps, populations, t0, t1, dt, bin_ms, n_sample)
    out = []
    for name, start, stop in populations:
        r, cv, cc = (dist[name][k] for k in STATISTICS)
        out.append({
            "name": name, "n": int(stop - start),
            "rate_mean_hz": float(r.mean()) if len(r) else 0.0,
            "rate_std_hz": float(r.std()) if len(r) else 0.0,
            "cv_isi_mean": float(cv.mean()) if len(cv) else float("nan"),
            "correlation_mean": float(cc.mean()) if len(cc) else float("nan"),
        })
    return out


def ks_distance(a, b) -> float:
    """Return the two-sample Kolmogorov-Smirnov distance (NaN if either sample is empty).

    The largest difference between the empirical distribution functions, evaluated at every
    sample value (the statistic of ``scipy.stats.ks_2samp``).
    """
    a = np.sort(np.asarray(a, dtype=np.float64))
    b = np.sort(np.asarray(b, dtype=np.float64))
    if len(a) == 0 or len(b) == 0:
        return float("nan")
    x = np.concatenate([a, b])
    # Counts scaled to the common denominator len(a) * len(b): one rounding, at the end.
    ca = np.searchsorted(a, x, side="right").astype(np.int64) * len(b)
    cb = np.searchsorted(b, x, side="right").astype(np.int64) * len(a)
    return float(np.max(np.abs(ca - cb)) / (len(a) * len(b)))


def compare_with_nest(nest: list[dict], neuroaix: list[dict]) -> list[dict]:
    """Compare per-seed distributions of both simulators; return one row per (pop, stat).

    Parameters
    ----------
    nest, neuroaix : list of dict
        One ``population_distributions`` result per seed of each simulator (two or more
        NEST seeds).

    Returns
    -------
    list of dict
        Per (population, statistic): the mean over seeds of each simulator's population mean
        (``nest_mean``, ``neuroaix_mean``), the KS distances between seeds of NEST
        (``ks_nest_max``, ``ks_nest_mean`` over pairs) and of neuroaix (``ks_neuroaix_*``),
        between the simulators over all seed pairs (``ks_cross_mean``, ``ks_cross_max``),
        ``ok``: the mean cross distance is within the largest NEST-to-NEST distance, and
        ``ok_pooled``: within the largest seed-to-seed distance of either simulator (with few
        seeds, the largest NEST pair underestimates NEST's own variability).
    """
    rows = []
    for pop in nest[0]:
        for stat in STATISTICS:
            a = [d[pop][stat] for d in nest]
            b = [d[pop][stat] for d in neuroaix]
            within_nest = [ks_distance(x, y) for x, y in itertools.combinations(a, 2)]
            within_nx = [ks_distance(x, y) for x, y in itertools.combinations(b, 2)] or [np.nan]
            cross = [ks_distance(x, y) for x in a for y in b]
            tol = float(np.nanmax(within_nest))
            rows.append({
                "population": pop, "statistic": stat,
                "nest_mean": float(np.mean([x.mean() for x in a if len(x)] or [np.nan])),
                "neuroaix_mean": float(np.mean([x.mean() for x in b if len(x)] or [np.nan])),
                "ks_nest_max": tol, "ks_nest_mean": float(np.nanmean(within_nest)),
                "ks_neuroaix_max": float(np.nanmax(within_nx)),
                "ks_neuroaix_mean": float(np.nanmean(within_nx)),
                "ks_cross_mean": float(np.nanmean(cross)), "ks_cross_max": float(np.nanmax(cross)),
                "ok": bool(np.nanmean(cross) <= tol),
                "ok_pooled": bool(np.nanmean(cross) <= np.nanmax([tol, *within_nx])),
            })
    return rows

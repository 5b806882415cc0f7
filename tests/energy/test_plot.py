"""Tests of neuroaix.energy.plot: the q_RTF against E_syn comparison plot."""

from __future__ import annotations

import itertools
import math

import matplotlib
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from neuroaix.energy.platforms import RECORDS  # noqa: E402
from neuroaix.energy.plot import _place_labels, plot_compare  # noqa: E402


def rows():
    out = [{"label": r.label, "kind": "published", "q_rtf": r.q_rtf, "e_syn_nj": r.e_syn_nj}
           for r in RECORDS]
    out.append({"label": "ours (emulated)", "kind": "emulated", "q_rtf": 0.055,
                "e_syn_nj": 52.8})
    return out


def test_png_is_written(tmp_path):
    path = plot_compare(rows(), tmp_path / "sub" / "c.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_rows_without_numbers_are_skipped(tmp_path):
    extra = [{"label": "no events", "kind": "estimate", "q_rtf": 2.0, "e_syn_nj": None},
             {"label": "nan", "kind": "measured", "q_rtf": math.nan, "e_syn_nj": 3.0}]
    svg = plot_compare(rows() + extra, tmp_path / "c.svg").read_text()
    assert "ours (emulated)" in svg and "no events" not in svg and ">nan<" not in svg


def test_nothing_to_plot(tmp_path):
    with pytest.raises(ValueError, match=r"^no row has both q_rtf and e_syn_nj; nothing to "
                                         r"plot$"):
        plot_compare([{"label": "x", "kind": "emulated", "q_rtf": None, "e_syn_nj": 1.0}],
                     tmp_path / "c.png")


def test_unknown_kind(tmp_path):
    with pytest.raises(ValueError, match=r"^row kind must be one of 'published', 'emulated', "
                                         r"'measured', 'estimate', not 'guess'$"):
        plot_compare([{"label": "x", "kind": "guess", "q_rtf": 1.0, "e_syn_nj": 1.0}],
                     tmp_path / "c.png")


def test_labels_of_the_records_do_not_overlap():
    points = [(r["label"], r["kind"], r["q_rtf"], r["e_syn_nj"]) for r in rows()]
    fig, ax = plt.subplots(figsize=(7.5, 5.5), layout="constrained")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(0.02, 8.0)
    ax.set_ylim(8.0, 1500.0)
    for _, _, q, e in points:
        ax.scatter([q], [e])
    _place_labels(fig, ax, points)
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in ax.texts]
    plt.close(fig)
    assert len(boxes) == len(points)
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b)

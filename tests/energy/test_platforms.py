"""Tests of neuroaix.energy.platforms: the published records table."""

from __future__ import annotations

import pytest

from neuroaix.energy.platforms import RECORDS, record


def test_records_match_the_anchor_table():
    table = {r.system: (r.q_rtf, r.e_syn_nj) for r in RECORDS}
    assert table == {
        "neuroAIx, 35 FPGAs": (0.05, 47.6),
        "Lindqvist & Podobas, Agilex 7 FPGA": (0.8, 21.0),
        "GeNN, RTX 4090": (0.272, 74.0),
        "NEST GPU, RTX 4090": (0.386, 104.0),
        "IBM INC-3000, 345 nodes": (0.25, 284.0),
        "NEST, 2x EPYC 7702": (0.67, 330.0),
        "SpiNNaker 1": (1.0, 600.0),
        "GeNN, V100": (1.84, 470.0),
    }


def test_every_record_is_cited_and_sorted():
    for r in RECORDS:
        assert str(r.year) in r.citation, r.system
    assert [r.q_rtf for r in RECORDS] == sorted(r.q_rtf for r in RECORDS)


def test_qualifiers():
    lp = record("Lindqvist")
    assert (lp.q_rtf_qualifier, lp.e_syn_qualifier) == ("~", "<")
    assert record("neuroaix").q_rtf_qualifier == ""


def test_neuroaix_record_is_consistent_with_its_paper():
    r = record("neuroAIx")
    assert 1 / r.q_rtf == pytest.approx(20.36, rel=0.02)
    assert r.e_syn_nj == pytest.approx(47.55, abs=0.06)


def test_record_lookup_errors():
    with pytest.raises(ValueError, match=r"^system 'GeNN' matches 2 records; use one of "):
        record("GeNN")
    with pytest.raises(ValueError, match=r"^system 'Loihi' matches 0 records"):
        record("Loihi")


def test_to_dict_fields():
    assert set(RECORDS[0].to_dict()) == {"system", "year", "q_rtf", "e_syn_nj", "citation",
                                         "q_rtf_qualifier", "e_syn_qualifier"}

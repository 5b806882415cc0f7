"""Tests of neuroaix.energy.config: TOML loading, validation and the parameter derivation."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path

import pytest

from neuroaix.energy.config import (
    DERIVATION_UNITS,
    PARAMETER_UNITS,
    EnergyConfig,
    OperatingPoint,
    derive_parameters,
    load_energy_config,
    parse_energy_config,
)

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "neuroaix-35-energy.toml"


@pytest.fixture
def doc():
    with CONFIG.open("rb") as fh:
        return tomllib.load(fh)


def test_shipped_config_loads_with_a_source_per_value():
    cfg = load_energy_config(CONFIG)
    assert cfg.name == "neuroAIx, 35 NetFPGA SUME boards"
    assert set(cfg.sources) == set(PARAMETER_UNITS)
    assert all(s.strip() for s in cfg.sources.values())
    assert set(cfg.derivation.sources) == set(DERIVATION_UNITS)


def test_shipped_parameters_are_the_derivation_of_the_operating_point():
    cfg = load_energy_config(CONFIG)
    derived = derive_parameters(cfg.derivation)
    for name, value in derived.items():
        # The file holds the derived values rounded to 6 significant digits.
        assert getattr(cfg, name) == pytest.approx(value, rel=5e-6), name


def test_derivation_gives_the_published_power():
    cfg = load_energy_config(CONFIG)
    op = cfg.derivation
    # P = E_syn * r_syn / q_RTF = 47.55e-9 * 9.67e8 * 20.36 = 936.17 W for 35 boards.
    p_total = op.e_syn_nj * 1e-9 * op.r_syn_hz / op.q_rtf
    assert p_total == pytest.approx(936.17, abs=0.05)
    assert cfg.p_static_node_w * op.n_nodes == pytest.approx(op.static_fraction * p_total,
                                                               rel=1e-5)


def test_derivation_closes_at_the_operating_point():
    # One biological second at the operating point's rates costs E_syn * r_syn exactly.
    op = OperatingPoint(e_syn_nj=50.0, q_rtf=0.05, r_syn_hz=1e9, n_nodes=10,
                        neuron_updates_hz=1e8, spikes_hz=1e5, packets_per_spike=9.0,
                        hops_per_spike=12.0, bytes_per_syn_event=8.5, static_fraction=0.75,
                        share_neuron_update=0.2, share_packet=0.2, share_hop=0.2,
                        share_byte=0.2, share_syn_event=0.2)
    p = derive_parameters(op)
    energy = (op.q_rtf * op.n_nodes * p["p_static_node_w"]
              + op.neuron_updates_hz * p["e_neuron_update_j"]
              + op.spikes_hz * op.packets_per_spike * p["e_packet_j"]
              + op.spikes_hz * op.hops_per_spike * p["e_hop_j"]
              + op.r_syn_hz * op.bytes_per_syn_event * p["e_byte_j"]
              + op.r_syn_hz * p["e_syn_event_j"])
    assert energy / op.r_syn_hz * 1e9 == pytest.approx(50.0, rel=1e-12)
    assert p["p_static_node_w"] == pytest.approx(0.75 * 50e-9 * 1e9 / 0.05 / 10, rel=1e-12)


class _Rename(str):
    """The new name of the key an edit renames."""


_DELETE = object()

#: Edits that break the example document: (id, key path, new value or _DELETE or _Rename,
#: exception, message).
BAD_EDITS = [
    ("unknown top-level key", ("parameters",), _Rename("parameter"), ValueError,
     r"^unknown key 'parameter' in the energy config; did you mean 'parameters'\?$"),
    ("unknown parameter", ("parameters", "e_syn_event_j"), _Rename("e_syn_event_J"),
     ValueError, r"^unknown key 'e_syn_event_J' in \[parameters\]; "
                 r"did you mean 'e_syn_event_j'\?$"),
    ("unknown entry key", ("parameters", "e_hop_j", "sorce"), "typo", ValueError,
     r"^unknown key 'sorce' in \[parameters.e_hop_j\]; did you mean 'source'\?$"),
    ("missing parameter", ("parameters", "e_byte_j"), _DELETE, ValueError,
     r"^\[parameters\] lacks 'e_byte_j'; add \[parameters.e_byte_j\] with value, "
     r"unit = 'J' and source$"),
    ("missing source", ("parameters", "e_byte_j", "source"), _DELETE, ValueError,
     r"^\[parameters.e_byte_j\] lacks 'source'; every value states its value, unit and "
     r"source$"),
    ("empty source", ("parameters", "e_byte_j", "source"), "  ", ValueError,
     r"^\[parameters.e_byte_j\] source must be a non-empty string, not '  '$"),
    ("wrong unit", ("parameters", "e_syn_event_j", "unit"), "nJ", ValueError,
     r"^\[parameters.e_syn_event_j\] unit must be 'J', not 'nJ'; convert the value to J$"),
    ("negative energy", ("parameters", "e_packet_j", "value"), -1e-9, ValueError,
     r"^e_packet_j must be >= 0, not -1e-09; energies and powers are never negative$"),
    ("non-number", ("parameters", "p_static_node_w", "value"), "21 W", TypeError,
     r"^p_static_node_w must be a number, not '21 W'$"),
    ("shares not summing to one", ("derivation", "share_byte", "value"), 0.6, ValueError,
     r"^derivation shares must sum to 1, not 1\.1\d*; adjust the share_\* values$"),
    ("fraction above one", ("derivation", "static_fraction", "value"), 1.5, ValueError,
     r"^derivation static_fraction must be a fraction in \[0, 1\], not 1\.5$"),
    ("non-positive derivation rate", ("derivation", "q_rtf", "value"), 0, ValueError,
     r"^derivation q_rtf must be > 0, not 0\.0$"),
]


@pytest.mark.parametrize(("path", "value", "error", "message"),
                         [case[1:] for case in BAD_EDITS], ids=[case[0] for case in BAD_EDITS])
def test_bad_documents_are_rejected_with_the_fix(doc, path, value, error, message):
    *parents, key = path
    table = doc
    for name in parents:
        table = table[name]
    if value is _DELETE:
        del table[key]
    elif isinstance(value, _Rename):
        table[str(value)] = table.pop(key)
    else:
        table[key] = value
    with pytest.raises(error, match=message):
        parse_energy_config(doc)


def test_derivation_is_optional(doc):
    del doc["derivation"]
    cfg = parse_energy_config(doc)
    assert cfg.derivation is None
    assert cfg.p_static_node_w == 21.3982


def test_config_is_frozen():
    cfg = EnergyConfig(name="x", p_static_node_w=1.0)
    with pytest.raises(AttributeError):
        cfg.p_static_node_w = 2.0


def test_empty_name_is_rejected():
    with pytest.raises(ValueError, match=r"^energy config name must be a non-empty string, "
                                         r"not ''$"):
        EnergyConfig(name="", p_static_node_w=1.0)


def test_missing_file_names_the_fix(tmp_path):
    path = tmp_path / "none.toml"
    with pytest.raises(FileNotFoundError, match=r"does not exist; pass an existing TOML file"):
        load_energy_config(path)


def test_invalid_toml_names_the_file(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("name = \n")
    with pytest.raises(ValueError, match=r"bad\.toml' is not valid TOML"):
        load_energy_config(path)


def test_file_errors_are_prefixed_with_the_file_name(tmp_path, doc):
    bad = copy.deepcopy(doc)
    bad["parameters"]["e_hop_j"]["value"] = -2.0
    path = tmp_path / "neg.toml"
    lines = ["name = 'neg'"]
    for name, entry in bad["parameters"].items():
        lines += [f"[parameters.{name}]", f"value = {entry['value']!r}",
                  f"unit = {entry['unit']!r}", "source = 'test'"]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=r"^neg\.toml: e_hop_j must be >= 0, not -2\.0; "):
        load_energy_config(path)

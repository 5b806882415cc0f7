"""Energy parameters of a platform, loaded from TOML with a source for every value.

An energy file has three parts (see ``configs/neuroaix-35-energy.toml`` and docs/energy.md):

``name`` and ``description``
    Free text naming the platform.
``[parameters.<name>]``
    The six terms of the energy model (Ostrau et al. 2022), each a table
    ``{value, unit, source}``: ``p_static_node_w`` (W per node) and the energies per event
    ``e_neuron_update_j``, ``e_packet_j``, ``e_hop_j``, ``e_byte_j``, ``e_syn_event_j`` (J).
``[derivation.<name>]`` (optional)
    The published operating point the parameters were derived from, in the same
    ``{value, unit, source}`` form (:class:`OperatingPoint`). :func:`derive_parameters`
    turns it into parameter values, so the file documents, and a test checks, how every
    number was chosen.

Unknown keys are rejected by name, with a hint when they look like a typo.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path

from neuroaix.checks import check_fields, check_int, check_number, checked, did_you_mean, is_number

__all__ = [
    "DERIVATION_UNITS",
    "PARAMETER_UNITS",
    "EnergyConfig",
    "OperatingPoint",
    "derive_parameters",
    "load_energy_config",
    "parse_energy_config",
]

#: Parameters of the energy model and their units (the unit every TOML entry must state).
PARAMETER_UNITS: dict[str, str] = {
    "p_static_node_w": "W",
    "e_neuron_update_j": "J",
    "e_packet_j": "J",
    "e_hop_j": "J",
    "e_byte_j": "J",
    "e_syn_event_j": "J",
}

#: Inputs of :func:`derive_parameters` and their units.
DERIVATION_UNITS: dict[str, str] = {
    "e_syn_nj": "nJ",
    "q_rtf": "1",
    "r_syn_hz": "1/s",
    "n_nodes": "1",
    "neuron_updates_hz": "1/s",
    "spikes_hz": "1/s",
    "packets_per_spike": "1",
    "hops_per_spike": "1",
    "bytes_per_syn_event": "B",
    "static_fraction": "1",
    "share_neuron_update": "1",
    "share_packet": "1",
    "share_hop": "1",
    "share_byte": "1",
    "share_syn_event": "1",
}

_ENTRY_KEYS = ("value", "unit", "source")
_TOP_KEYS = ("name", "description", "parameters", "derivation")


def _reject_unknown(table: dict, allowed, where: str) -> None:
    for key in table:
        if key not in allowed:
            hint = did_you_mean(key, allowed) or "; allowed: " + ", ".join(map(repr, allowed))
            raise ValueError(f"unknown key {key!r} in {where}{hint}")


def _check_number(name: str, value, *, positive: bool = False) -> float:
    value = float(value) if is_number(value) else value
    if positive:
        return check_number(name, value, low=0, low_open=True)
    return check_number(name, value, low=0, fix="energies and powers are never negative")


@dataclass(frozen=True, slots=True, kw_only=True)
class OperatingPoint:
    """A published operating point and the assumptions that split its power into terms.

    The total power follows from the benchmark metrics (Senk et al. 2026):
    ``P = E_syn * r_syn / q_RTF``. A fraction ``static_fraction`` of it is static; the rest
    is shared among the five dynamic terms by the ``share_*`` fractions (which sum to 1),
    and each share is divided by its event rate (events per wall second).

    Parameters
    ----------
    e_syn_nj : float
        Energy per synaptic event (nJ).
    q_rtf : float
        Real-time factor: wall-clock time / biological time.
    r_syn_hz : float
        Synaptic events per biological second.
    n_nodes : int
        Nodes sharing the static power.
    neuron_updates_hz, spikes_hz : float
        Neuron updates and spikes per biological second.
    packets_per_spike, hops_per_spike : float
        Spike packets and link hops per spike.
    bytes_per_syn_event : float
        Bytes fetched from synapse memory per synaptic event (>= the word size, because of
        the fetch granularity).
    static_fraction : float
        Share of the total power that is static, in [0, 1].
    share_neuron_update, share_packet, share_hop, share_byte, share_syn_event : float
        Shares of the dynamic power per term, in [0, 1], summing to 1.
    sources : dict
        Source text per field.

    Raises
    ------
    TypeError, ValueError
        For a non-number, a non-positive rate, a fraction outside [0, 1] or shares that do
        not sum to 1.
    """

    e_syn_nj: float
    q_rtf: float
    r_syn_hz: float
    n_nodes: int
    neuron_updates_hz: float
    spikes_hz: float
    packets_per_spike: float
    hops_per_spike: float
    bytes_per_syn_event: float
    static_fraction: float
    share_neuron_update: float
    share_packet: float
    share_hop: float
    share_byte: float
    share_syn_event: float
    #: Source text per field.
    sources: dict = field(default_factory=dict, compare=False)

    def __post_init__(self):
        for f in fields(self):
            if f.name == "sources":
                continue
            value = getattr(self, f.name)
            if f.name == "n_nodes":
                check_int("derivation n_nodes", value, low=1)
                continue
            _check_number(f"derivation {f.name}", value, positive=not (
                f.name.startswith("share_") or f.name == "static_fraction"))
            if (f.name.startswith("share_") or f.name == "static_fraction") and value > 1:
                raise ValueError(f"derivation {f.name} must be a fraction in [0, 1], not "
                                 f"{value!r}")
        total = sum(getattr(self, n) for n in DERIVATION_UNITS if n.startswith("share_"))
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"derivation shares must sum to 1, not {total!r}; adjust the "
                             "share_* values")


def derive_parameters(op: OperatingPoint) -> dict[str, float]:
    """Return the energy parameters implied by an operating point (SI units).

    ``P = e_syn * r_syn / q_rtf`` is the mean power at the operating point. The static part
    ``static_fraction * P`` is divided among ``n_nodes``. The dynamic energy per biological
    second, ``(1 - static_fraction) * e_syn * r_syn``, is split by the ``share_*`` fractions
    and each part divided by its events per biological second.

    Parameters
    ----------
    op : OperatingPoint
        The operating point and split assumptions.

    Returns
    -------
    dict
        ``{name: value}`` for every key of :data:`PARAMETER_UNITS`.
    """
    e_syn = op.e_syn_nj * 1e-9
    p_total = e_syn * op.r_syn_hz / op.q_rtf
    e_dyn_per_bio_s = (1.0 - op.static_fraction) * e_syn * op.r_syn_hz
    return {
        "p_static_node_w": op.static_fraction * p_total / op.n_nodes,
        "e_neuron_update_j": op.share_neuron_update * e_dyn_per_bio_s / op.neuron_updates_hz,
        "e_packet_j": op.share_packet * e_dyn_per_bio_s / (op.spikes_hz * op.packets_per_spike),
        "e_hop_j": op.share_hop * e_dyn_per_bio_s / (op.spikes_hz * op.hops_per_spike),
        "e_byte_j": op.share_byte * e_dyn_per_bio_s / (op.r_syn_hz * op.bytes_per_syn_event),
        "e_syn_event_j": op.share_syn_event * e_dyn_per_bio_s / op.r_syn_hz,
    }


@dataclass(frozen=True, slots=True, kw_only=True)
class EnergyConfig:
    """Energy parameters of one platform (Ostrau et al. 2022 model form).

    ``E = T * n_nodes * p_static_node_w + N_update * e_neuron_update_j
    + N_packet * e_packet_j + N_hop * e_hop_j + N_byte * e_byte_j + N_syn * e_syn_event_j``.

    Parameters
    ----------
    name : str
        Platform name shown in tables and plots.
    p_static_node_w : float
        Static power per node (W), drawn for the whole wall time.
    e_neuron_update_j, e_packet_j, e_hop_j, e_byte_j, e_syn_event_j : float
        Energy (J) per neuron update, spike packet, link hop, byte fetched from synapse
        memory and synaptic event.
    description : str
        Free text.
    sources : dict
        Source text per parameter.
    derivation : OperatingPoint or None
        The operating point the parameters were derived from, if any.

    Raises
    ------
    TypeError, ValueError
        For a non-number, a negative or non-finite value or an empty name.
    """

    name: str
    p_static_node_w: float = checked(_check_number)
    e_neuron_update_j: float = checked(_check_number, 0.0)
    e_packet_j: float = checked(_check_number, 0.0)
    e_hop_j: float = checked(_check_number, 0.0)
    e_byte_j: float = checked(_check_number, 0.0)
    e_syn_event_j: float = checked(_check_number, 0.0)
    description: str = ""
    #: Source text per parameter.
    sources: dict = field(default_factory=dict, compare=False)
    #: The operating point the parameters were derived from (None if stated directly).
    derivation: OperatingPoint | None = None

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(f"energy config name must be a non-empty string, not "
                             f"{self.name!r}")
        check_fields(self)


def _entries(table, units: dict[str, str], section: str, *, required: bool):
    if not isinstance(table, dict):
        raise TypeError(f"[{section}] must be a table, not {table!r}")
    _reject_unknown(table, units, f"[{section}]")
    values, sources = {}, {}
    for name, unit in units.items():
        if name not in table:
            if required:
                raise ValueError(f"[{section}] lacks {name!r}; add [{section}.{name}] with "
                                 f"value, unit = {unit!r} and source")
            continue
        entry = table[name]
        where = f"[{section}.{name}]"
        if not isinstance(entry, dict):
            raise TypeError(f"{where} must be a table {{value, unit, source}}, not {entry!r}")
        _reject_unknown(entry, _ENTRY_KEYS, where)
        for key in _ENTRY_KEYS:
            if key not in entry:
                raise ValueError(f"{where} lacks {key!r}; every value states its value, unit "
                                 "and source")
        if entry["unit"] != unit:
            raise ValueError(f"{where} unit must be {unit!r}, not {entry['unit']!r}; convert "
                             f"the value to {unit}")
        if not isinstance(entry["source"], str) or not entry["source"].strip():
            raise ValueError(f"{where} source must be a non-empty string, not "
                             f"{entry['source']!r}")
        values[name] = entry["value"]
        sources[name] = entry["source"]
    return values, sources


def parse_energy_config(data: dict) -> EnergyConfig:
    """Build an :class:`EnergyConfig` from a parsed TOML document.

    Parameters
    ----------
    data : dict
        The document, as returned by ``tomllib.load``.

    Returns
    -------
    EnergyConfig

    Raises
    ------
    TypeError, ValueError
        For unknown or missing keys, wrong units, missing sources or invalid values.
    """
    if not isinstance(data, dict):
        raise TypeError(f"energy config must be a table, not {data!r}")
    _reject_unknown(data, _TOP_KEYS, "the energy config")
    if "name" not in data:
        raise ValueError("the energy config lacks 'name'; add name = \"<platform>\"")
    if "parameters" not in data:
        raise ValueError("the energy config lacks [parameters]; add one table per parameter: "
                         + ", ".join(PARAMETER_UNITS))
    values, sources = _entries(data["parameters"], PARAMETER_UNITS, "parameters",
                               required=True)
    derivation = None
    if "derivation" in data:
        dvalues, dsources = _entries(data["derivation"], DERIVATION_UNITS, "derivation",
                                     required=True)
        derivation = OperatingPoint(**dvalues, sources=dsources)
    description = data.get("description", "")
    if not isinstance(description, str):
        raise TypeError(f"description must be a string, not {description!r}")
    return EnergyConfig(name=data["name"], description=description, sources=sources,
                        derivation=derivation, **values)


def load_energy_config(path) -> EnergyConfig:
    """Load an energy parameter file (TOML).

    Parameters
    ----------
    path : str or os.PathLike
        The file.

    Returns
    -------
    EnergyConfig

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If it is not valid TOML or fails validation (the message names the file).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"energy config {str(path)!r} does not exist; pass an "
                                "existing TOML file, e.g. configs/neuroaix-35-energy.toml")
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"energy config {str(path)!r} is not valid TOML: {exc}") from None
    try:
        return parse_energy_config(data)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{path.name}: {exc}") from None

"""The energy model: activity counts (or a measured run) to energy, power, E_syn and q_RTF.

Model form (Ostrau et al. 2022, Front Neurosci 16:873935), one term per kind of work::

    E = T_wall * n_nodes * P_static
        + N_update * E_update + N_packet * E_packet + N_hop * E_hop
        + N_byte * E_byte + N_syn * E_syn_event

Metrics (Senk et al. 2026): ``q_RTF = T_wall / T_bio``, acceleration ``= 1 / q_RTF``,
``E_syn = E / N_syn`` (reported in nJ) and mean power ``E / T_wall``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields

from neuroaix.activity import Activity
from neuroaix.checks import check_choice, check_int, check_number
from neuroaix.energy.config import EnergyConfig

__all__ = [
    "REPORT_FIELDS",
    "EnergyReport",
    "energy_from_power",
    "estimate_energy",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class EnergyReport:
    """Energy metrics of one simulation (emulated, measured or estimated).

    Attributes
    ----------
    label : str
        Row label (platform and model).
    kind : str
        ``"emulated"`` (energy model on emulator counts), ``"measured"`` (power read from
        the machine) or ``"estimate"`` (power from a stated figure).
    energy_j, static_j : float
        Total and static energy (J).
    dynamic_j : dict
        Energy per dynamic term (J): ``neuron_updates``, ``packets``, ``hops``,
        ``bytes_fetched``, ``synaptic_events`` (empty for measured runs).
    mean_power_w : float
        ``energy_j / wall_time_s``.
    e_syn_nj : float
        Energy per synaptic event (nJ); NaN without synaptic events.
    q_rtf, acceleration : float
        ``wall_time_s / bio_time_s`` and its inverse.
    wall_time_s, bio_time_s : float
        Wall time of the simulation phase and simulated time (s).
    synaptic_events : int
        Synaptic events in the simulation phase.
    power_source : str
        Where the power figure came from (parameter file, RAPL, nvidia-smi, TDP).
    """

    label: str
    kind: str
    energy_j: float
    static_j: float
    mean_power_w: float
    e_syn_nj: float
    q_rtf: float
    acceleration: float
    wall_time_s: float
    bio_time_s: float
    synaptic_events: int
    power_source: str
    dynamic_j: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Return the report as a JSON-ready dict (NaN becomes None)."""
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, float) and math.isnan(value):
                out[key] = None
        return out


_TERMS = (("neuron_updates", "e_neuron_update_j"), ("packets", "e_packet_j"),
          ("hops", "e_hop_j"), ("bytes_fetched", "e_byte_j"),
          ("synaptic_events", "e_syn_event_j"))


def _e_syn_nj(energy_j: float, events: int) -> float:
    return energy_j / events * 1e9 if events > 0 else math.nan


def estimate_energy(activity: Activity, config: EnergyConfig, *, label: str = "") -> EnergyReport:
    """Return the energy of emulated activity under the parameters ``config``.

    Parameters
    ----------
    activity : Activity or dict
        Emulator counts (a dict is read with :meth:`Activity.from_dict`).
    config : EnergyConfig
        Energy parameters.
    label : str
        Row label; defaults to the config's name.

    Returns
    -------
    EnergyReport
        With ``kind="emulated"``.

    Raises
    ------
    TypeError
        If ``config`` is not an :class:`EnergyConfig`.
    """
    if isinstance(activity, dict):
        activity = Activity.from_dict(activity)
    if not isinstance(activity, Activity):
        raise TypeError(f"activity must be an Activity or dict, not {activity!r}")
    if not isinstance(config, EnergyConfig):
        raise TypeError(f"config must be an EnergyConfig, not {config!r}; load one with "
                        "load_energy_config(path)")
    static_j = activity.hw_time_s * activity.n_nodes * config.p_static_node_w
    dynamic = {count: getattr(activity, count) * getattr(config, param)
               for count, param in _TERMS}
    energy = static_j + math.fsum(dynamic.values())
    q_rtf = activity.hw_time_s / activity.bio_time_s
    return EnergyReport(
        label=label or config.name, kind="emulated", energy_j=energy, static_j=static_j,
        dynamic_j=dynamic, mean_power_w=energy / activity.hw_time_s,
        e_syn_nj=_e_syn_nj(energy, activity.synaptic_events), q_rtf=q_rtf,
        acceleration=1.0 / q_rtf, wall_time_s=activity.hw_time_s,
        bio_time_s=activity.bio_time_s, synaptic_events=activity.synaptic_events,
        power_source=f"energy model, parameters of {config.name!r}",
    )


def energy_from_power(*, wall_time_s: float, bio_time_s: float, synaptic_events: int,
                      power_w: float, kind: str, power_source: str, label: str,
                      energy_j: float | None = None) -> EnergyReport:
    """Return the metrics of a run on a real machine, given its power (or energy).

    Parameters
    ----------
    wall_time_s : float
        Wall time of the simulation phase (s).
    bio_time_s : float
        Simulated biological time (s).
    synaptic_events : int
        Synaptic events in the simulation phase.
    power_w : float
        Mean power during the simulation phase (W).
    kind : {"measured", "estimate"}
        Whether the power was read from the machine or estimated.
    power_source : str
        Where the power figure came from.
    label : str
        Row label.
    energy_j : float, optional
        Measured energy (J); defaults to ``power_w * wall_time_s``.

    Returns
    -------
    EnergyReport

    Raises
    ------
    ValueError
        For a non-positive time or power or an unknown ``kind``.
    """
    check_choice("kind", kind, ("measured", "estimate"))
    for name, value in (("wall_time_s", wall_time_s), ("bio_time_s", bio_time_s),
                        ("power_w", power_w)):
        check_number(name, value, low=0, low_open=True)
    synaptic_events = check_int("synaptic_events", synaptic_events, low=0)
    energy = power_w * wall_time_s if energy_j is None else float(energy_j)
    q_rtf = wall_time_s / bio_time_s
    return EnergyReport(
        label=label, kind=kind, energy_j=energy, static_j=math.nan,
        mean_power_w=energy / wall_time_s, e_syn_nj=_e_syn_nj(energy, synaptic_events),
        q_rtf=q_rtf, acceleration=1.0 / q_rtf, wall_time_s=wall_time_s,
        bio_time_s=bio_time_s, synaptic_events=synaptic_events, power_source=power_source,
    )


#: Keys of :meth:`EnergyReport.to_dict` (the JSON output's fields).
REPORT_FIELDS = tuple(f.name for f in fields(EnergyReport))

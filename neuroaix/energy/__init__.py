"""Energy model: emulator activity or measured runs to energy, E_syn and q_RTF.

``config`` (parameters in TOML, each with its source), ``model`` (the Ostrau et al. 2022 model
form), ``power`` (RAPL, nvidia-smi, TDP estimate), ``platforms`` (published records),
``project`` (whole-brain projection) and ``plot`` (the comparison plot). See docs/energy.md.
"""

from neuroaix.activity import ACTIVITY_KEYS, Activity
from neuroaix.energy.config import (
    EnergyConfig,
    OperatingPoint,
    derive_parameters,
    load_energy_config,
    parse_energy_config,
)
from neuroaix.energy.model import (
    EnergyReport,
    energy_from_power,
    estimate_energy,
)
from neuroaix.energy.platforms import RECORDS, PlatformRecord
from neuroaix.energy.power import EnergyMeter, PowerReading, estimate_power
from neuroaix.energy.project import SPECIES, BrainProjection, project_brain

__all__ = [
    "ACTIVITY_KEYS",
    "RECORDS",
    "SPECIES",
    "Activity",
    "BrainProjection",
    "EnergyConfig",
    "EnergyMeter",
    "EnergyReport",
    "OperatingPoint",
    "PlatformRecord",
    "PowerReading",
    "derive_parameters",
    "energy_from_power",
    "estimate_energy",
    "estimate_power",
    "load_energy_config",
    "parse_energy_config",
    "project_brain",
]

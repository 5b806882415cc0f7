"""Power of the machine running a simulation: measured where it can be read, else estimated.

Three sources, in order of preference:

``rapl``
    Linux powercap counters of Intel RAPL (also exposed for AMD Zen by the ``intel-rapl``
    driver): ``/sys/class/powercap/intel-rapl:<n>/energy_uj``, a cumulative package energy in
    microjoules that wraps at ``max_energy_range_uj``. Read before and after; often not
    readable by unprivileged users (the kernel restricts it since 2020).
``nvml``
    NVML's total-energy counter of each GPU (``nvmlDeviceGetTotalEnergyConsumption``,
    millijoules since the driver loaded; the ``nvidia-ml-py`` package, imported as
    ``pynvml``), read before and after: the board's energy over the interval.
``nvidia-smi``
    ``nvidia-smi --query-gpu=power.draw --format=csv,noheader,nounits``: the board power of
    each GPU in W, sampled at the start and the end; used only where NVML does not answer.
``tdp``
    An estimate: ``cores * watts_per_core``, from a stated figure (``--power-w``) or the
    default :data:`DEFAULT_WATTS_PER_CORE`. Always labelled ``"estimate"``.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from neuroaix.checks import check_int, check_number

__all__ = [
    "DEFAULT_WATTS_PER_CORE",
    "POWERCAP_ROOT",
    "EnergyMeter",
    "PowerReading",
    "estimate_power",
    "nvidia_smi_power_w",
    "nvml_energy_mj",
    "rapl_energy_j",
    "read_rapl",
]

logger = logging.getLogger(__name__)

#: Where Linux exposes the powercap counters.
POWERCAP_ROOT = Path("/sys/class/powercap")

#: Default estimate of CPU power per busy core (W). A round, deliberately generous figure:
#: server parts spend 3-8 W per core at TDP (e.g. AMD EPYC 7702: 200 W / 64 cores), desktop
#: parts 8-15 W per core, and a machine adds memory and board power on top.
DEFAULT_WATTS_PER_CORE = 10.0

_PACKAGE = re.compile(r"^intel-rapl:\d+$")


@dataclass(frozen=True, slots=True, kw_only=True)
class PowerReading:
    """Mean power over an interval, and where it came from.

    Attributes
    ----------
    power_w : float
        Mean power (W).
    energy_j : float or None
        Energy over the interval (J), where it was measured as energy.
    kind : str
        ``"measured"`` or ``"estimate"``.
    method : str
        ``"rapl"``, ``"nvidia-smi"``, ``"rapl+nvidia-smi"``, ``"stated"`` or ``"tdp"``.
    detail : str
        Human-readable provenance (domains read, cores and W per core, ...).
    """

    power_w: float
    energy_j: float | None
    kind: str
    method: str
    detail: str

    def to_dict(self) -> dict:
        """Return the reading as a JSON-ready dict."""
        return {"power_w": self.power_w, "energy_j": self.energy_j, "kind": self.kind,
                "method": self.method, "detail": self.detail}


def _packages(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if _PACKAGE.match(p.name))


def read_rapl(root=POWERCAP_ROOT) -> dict[str, tuple[int, int]] | None:
    """Return ``{package: (energy_uj, max_energy_range_uj)}``, or None where unreadable.

    Only top-level package zones (``intel-rapl:<n>``) are read; their sub-zones (cores,
    uncore, dram) are contained in them and would count twice.

    Parameters
    ----------
    root : str or os.PathLike
        The powercap directory (``/sys/class/powercap``).

    Returns
    -------
    dict or None
        None if there is no package zone or any of them cannot be read.
    """
    packages = _packages(Path(root))
    if not packages:
        return None
    out = {}
    for pkg in packages:
        try:
            energy = int((pkg / "energy_uj").read_text().strip())
            max_range = int((pkg / "max_energy_range_uj").read_text().strip())
        except (OSError, ValueError) as exc:
            logger.debug("RAPL zone %s not readable: %s", pkg, exc)
            return None
        out[pkg.name] = (energy, max_range)
    return out


def rapl_energy_j(before: dict, after: dict) -> float:
    """Return the energy (J) between two :func:`read_rapl` readings, across wrap-arounds.

    Parameters
    ----------
    before, after : dict
        Readings of the same zones, ``after`` taken later (at most one wrap per zone).

    Raises
    ------
    ValueError
        If the readings name different zones.
    """
    if set(before) != set(after):
        raise ValueError(f"RAPL readings name different zones: {sorted(before)!r} and "
                         f"{sorted(after)!r}; read the same powercap tree twice")
    total_uj = 0
    for zone, (e0, max_range) in before.items():
        e1 = after[zone][0]
        total_uj += e1 - e0 if e1 >= e0 else e1 + max_range + 1 - e0
    return total_uj * 1e-6


def nvidia_smi_power_w(executable: str | None = None) -> float | None:
    """Return the summed board power of all GPUs (W), or None without nvidia-smi.

    Parameters
    ----------
    executable : str, optional
        The nvidia-smi program; defaults to the one on ``PATH``.
    """
    exe = executable or shutil.which("nvidia-smi")
    if not exe or not os.path.exists(exe):
        return None
    try:
        out = subprocess.run([exe, "--query-gpu=power.draw", "--format=csv,noheader,nounits"],
                             capture_output=True, text=True, timeout=10, check=True).stdout
        values = [float(line) for line in out.split() if line.strip()]
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        logger.debug("nvidia-smi gave no power reading: %s", exc)
        return None
    return sum(values) if values else None


def nvml_energy_mj(nvml=None) -> list[int] | None:
    """Return NVML's total-energy counter (mJ) of every GPU, or None where NVML is unreadable.

    Parameters
    ----------
    nvml : module, optional
        The NVML binding (default: ``pynvml`` from nvidia-ml-py, where installed).
    """
    try:
        if nvml is None:
            import pynvml as nvml  # optional: nvidia-ml-py
        nvml.nvmlInit()
        return [int(nvml.nvmlDeviceGetTotalEnergyConsumption(
                    nvml.nvmlDeviceGetHandleByIndex(i)))
                for i in range(nvml.nvmlDeviceGetCount())] or None
    except Exception as exc:  # noqa: BLE001 - any NVML failure means: not readable here
        logger.debug("NVML gave no energy reading: %s", exc)
        return None


def estimate_power(cores: int, *, watts_per_core: float = DEFAULT_WATTS_PER_CORE,
                   power_w: float | None = None) -> PowerReading:
    """Return an estimated power: a stated figure, or ``cores * watts_per_core``.

    Parameters
    ----------
    cores : int
        Busy cores (threads of the run).
    watts_per_core : float
        Power per busy core (W).
    power_w : float, optional
        A stated total power (W); takes precedence.

    Returns
    -------
    PowerReading
        With ``kind="estimate"``.

    Raises
    ------
    ValueError
        For a non-positive figure.
    """
    if power_w is not None:
        check_number("power_w", power_w, low=0, low_open=True, unit="W")
        return PowerReading(power_w=float(power_w), energy_j=None, kind="estimate",
                            method="stated", detail=f"stated power {power_w:g} W")
    check_int("cores", cores, low=1)
    check_number("watts_per_core", watts_per_core, low=0, low_open=True, unit="W")
    return PowerReading(power_w=cores * watts_per_core, energy_j=None, kind="estimate",
                        method="tdp",
                        detail=f"{cores} cores x {watts_per_core:g} W per core (TDP estimate)")


class EnergyMeter:
    """Measure the energy of a block of code with RAPL and NVML (or nvidia-smi), where readable.

    Use as a context manager; afterwards :attr:`reading` is a measured
    :class:`PowerReading`, or None when neither source was readable (then fall back to
    :func:`estimate_power`).

    Parameters
    ----------
    powercap_root : str or os.PathLike
        The powercap directory.
    nvidia_smi : str or None
        The nvidia-smi program; ``""`` disables GPU sampling.
    nvml : module or False, optional
        The NVML binding (default: ``pynvml`` where installed); ``False`` disables it.

    Examples
    --------
    >>> with EnergyMeter() as meter:          # doctest: +SKIP
    ...     sim.run(t_sim)
    >>> meter.reading                         # doctest: +SKIP
    """

    def __init__(self, *, powercap_root=POWERCAP_ROOT, nvidia_smi: str | None = None,
                 nvml=None):
        self._root = Path(powercap_root)
        self._smi = nvidia_smi
        self._nvml = nvml
        self._t0 = self._rapl0 = self._gpu0 = self._nvml0 = None
        #: The measurement after the block (None before, or when nothing was readable).
        self.reading: PowerReading | None = None

    def _gpu(self):
        return None if self._smi == "" else nvidia_smi_power_w(self._smi)

    def __enter__(self) -> EnergyMeter:
        self.reading = None
        self._rapl0 = read_rapl(self._root)
        self._nvml0 = None if self._nvml is False else nvml_energy_mj(self._nvml)
        self._gpu0 = None if self._nvml0 is not None else self._gpu()
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        elapsed = time.perf_counter() - self._t0
        rapl1 = read_rapl(self._root) if self._rapl0 is not None else None
        gpu1 = self._gpu() if self._gpu0 is not None else None
        nvml1 = nvml_energy_mj(self._nvml) if self._nvml0 is not None else None
        energy, methods, details = 0.0, [], []
        if self._rapl0 is not None and rapl1 is not None and set(rapl1) == set(self._rapl0):
            e = rapl_energy_j(self._rapl0, rapl1)
            energy += e
            methods.append("rapl")
            details.append(f"RAPL {', '.join(sorted(rapl1))}: {e:.3f} J")
        if self._nvml0 is not None and nvml1 is not None and len(nvml1) == len(self._nvml0):
            e = sum(b - a for a, b in zip(self._nvml0, nvml1)) * 1e-3
            energy += e
            methods.append("nvml")
            details.append(f"NVML total energy of {len(nvml1)} GPU(s): {e:.3f} J")
        if self._gpu0 is not None and gpu1 is not None:
            p = 0.5 * (self._gpu0 + gpu1)
            energy += p * elapsed
            methods.append("nvidia-smi")
            details.append(f"nvidia-smi mean of start/end {p:.1f} W")
        if methods and elapsed > 0:
            self.reading = PowerReading(power_w=energy / elapsed, energy_j=energy,
                                        kind="measured", method="+".join(methods),
                                        detail="; ".join(details) + f" over {elapsed:.3f} s")

"""Published records for the full Potjans-Diesmann microcircuit: q_RTF and E_syn per platform.

The values are those collected in the project's anchor table (see docs/energy.md), which
follows the benchmark metrics of Senk et al. 2026 (Neuromorph Comput Eng 6:012001). Each
record names the publication it comes from; where a figure is approximate or a bound in the
source, ``q_rtf_qualifier`` / ``e_syn_qualifier`` say so (``"~"`` or ``"<"``).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RECORDS", "PlatformRecord", "record"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PlatformRecord:
    """One published (q_RTF, E_syn) pair for the full microcircuit.

    Attributes
    ----------
    system : str
        Simulator and hardware, short.
    year : int
        Year of the publication.
    q_rtf : float
        Wall-clock time / biological time of the simulation phase.
    e_syn_nj : float
        Energy per synaptic event (nJ).
    citation : str
        The publication.
    q_rtf_qualifier, e_syn_qualifier : str
        ``""`` (as published), ``"~"`` (approximate) or ``"<"`` (upper bound).
    """

    system: str
    year: int
    q_rtf: float
    e_syn_nj: float
    citation: str
    q_rtf_qualifier: str = ""
    e_syn_qualifier: str = ""

    @property
    def label(self) -> str:
        """Short label for tables and plots: system and year."""
        return f"{self.system} ({self.year})"

    def to_dict(self) -> dict:
        """Return the record as a JSON-ready dict."""
        return {"system": self.system, "year": self.year, "q_rtf": self.q_rtf,
                "e_syn_nj": self.e_syn_nj, "citation": self.citation,
                "q_rtf_qualifier": self.q_rtf_qualifier,
                "e_syn_qualifier": self.e_syn_qualifier}


#: The published records, fastest first.
RECORDS: tuple[PlatformRecord, ...] = (
    PlatformRecord(system="neuroAIx, 35 FPGAs", year=2023, q_rtf=0.05, e_syn_nj=47.6,
                   citation="Kauth, Stadtmann, Sobhani & Gemmeke 2023, Front Comput Neurosci "
                            "17:1144143 (20.36x, 47.55 nJ)"),
    PlatformRecord(system="IBM INC-3000, 345 nodes", year=2022, q_rtf=0.25, e_syn_nj=284.0,
                   citation="Heittmann et al. 2022, Front Neurosci 15:728460"),
    PlatformRecord(system="GeNN, RTX 4090", year=2023, q_rtf=0.272, e_syn_nj=74.0,
                   citation="GeNN on an RTX 4090 (2023), as tabulated by Senk et al. 2026, "
                            "Neuromorph Comput Eng 6:012001"),
    PlatformRecord(system="NEST GPU, RTX 4090", year=2023, q_rtf=0.386, e_syn_nj=104.0,
                   citation="NEST GPU on an RTX 4090 (Golosio et al. 2023), as tabulated by "
                            "Senk et al. 2026, Neuromorph Comput Eng 6:012001"),
    PlatformRecord(system="NEST, 2x EPYC 7702", year=2022, q_rtf=0.67, e_syn_nj=330.0,
                   citation="Kurth et al. 2022, Neuromorph Comput Eng 2:021001"),
    PlatformRecord(system="Lindqvist & Podobas, Agilex 7 FPGA", year=2024, q_rtf=0.8,
                   e_syn_nj=21.0, q_rtf_qualifier="~", e_syn_qualifier="<",
                   citation="Lindqvist & Podobas 2024, one Intel Agilex 7 FPGA, as tabulated "
                            "by Senk et al. 2026, Neuromorph Comput Eng 6:012001"),
    PlatformRecord(system="SpiNNaker 1", year=2019, q_rtf=1.0, e_syn_nj=600.0,
                   citation="Rhodes et al. 2019, Phil Trans R Soc A 378:20190160"),
    PlatformRecord(system="GeNN, V100", year=2018, q_rtf=1.84, e_syn_nj=470.0,
                   citation="Knight & Nowotny 2018, Front Neurosci 12:941"),
)


def record(system: str) -> PlatformRecord:
    """Return the record whose system name starts with ``system`` (case-insensitive).

    Parameters
    ----------
    system : str
        Start of the system name, e.g. ``"neuroAIx"`` or ``"SpiNNaker"``.

    Raises
    ------
    ValueError
        If no record, or more than one, matches.
    """
    hits = [r for r in RECORDS if r.system.lower().startswith(system.lower())]
    if len(hits) != 1:
        names = ", ".join(repr(r.system) for r in RECORDS)
        raise ValueError(f"system {system!r} matches {len(hits)} records; use one of {names}")
    return hits[0]

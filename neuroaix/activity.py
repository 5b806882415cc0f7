"""Activity counts of one simulation: the emulator's output and the energy model's input.

Below both in the layering (emulator <- energy), so that the emulator returns the energy
model's :class:`Activity` without importing the energy package; ``neuroaix.energy``
re-exports it.
"""

from __future__ import annotations

from dataclasses import dataclass

from neuroaix.checks import check_fields, check_int, check_number, checked

__all__ = ["ACTIVITY_KEYS", "Activity"]

#: Fields of :class:`Activity` (the keys of its dict form), in order.
ACTIVITY_KEYS = ("n_nodes", "steps", "bio_time_s", "hw_time_s", "neuron_updates", "spikes",
                 "packets", "hops", "bytes_fetched", "synaptic_events")


def _count():
    """Return an event-count field: an integer >= 0, 0 by default."""
    return checked(check_int, 0, low=0, store=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class Activity:
    """Work done by one simulation, as counted by the emulator (``EmulationResult.activity``).

    Parameters
    ----------
    n_nodes : int
        Nodes (boards) in the system.
    steps : int
        Time steps simulated.
    bio_time_s : float
        Simulated biological time (s).
    hw_time_s : float
        Wall time of the (emulated) hardware for those steps (s).
    neuron_updates, spikes, packets, hops, bytes_fetched, synaptic_events : int
        Event counts over the whole system.

    Raises
    ------
    TypeError, ValueError
        For non-integer counts, negative values or a non-positive time.
    """

    n_nodes: int = checked(check_int, low=1, store=True)
    steps: int = checked(check_int, low=0, store=True)
    bio_time_s: float = checked(check_number, low=0, low_open=True, unit="s")
    hw_time_s: float = checked(check_number, low=0, low_open=True, unit="s")
    neuron_updates: int = _count()
    spikes: int = _count()
    packets: int = _count()
    hops: int = _count()
    bytes_fetched: int = _count()
    synaptic_events: int = _count()

    def __post_init__(self):
        check_fields(self, "activity ")

    def to_dict(self) -> dict:
        """Return the activity as a dict with the keys :data:`ACTIVITY_KEYS`, in order."""
        return {key: getattr(self, key) for key in ACTIVITY_KEYS}

    @classmethod
    def from_dict(cls, data: dict) -> Activity:
        """Return the activity of a dict (the ``activity`` of an emulation's JSON).

        Parameters
        ----------
        data : dict
            Exactly the keys of :data:`ACTIVITY_KEYS`.

        Raises
        ------
        ValueError
            For a missing or unknown key.
        """
        if not isinstance(data, dict):
            raise TypeError(f"activity must be a dict, not {data!r}")
        missing = [k for k in ACTIVITY_KEYS if k not in data]
        unknown = [k for k in data if k not in ACTIVITY_KEYS]
        if missing or unknown:
            raise ValueError(f"activity keys must be exactly {', '.join(ACTIVITY_KEYS)}; "
                             f"missing {missing!r}, unknown {unknown!r}")
        return cls(**data)

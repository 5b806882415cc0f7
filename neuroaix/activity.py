"""Activity counts of one simulation: the emulator's output and the energy model's input.

Below both in the layering (emulator <- energy), so that the emulator returns the energy
model's :class:`Activity` without importing the energy package; ``neuroaix.energy``
re-exports it.
"""

from __future__ import annotations

from dataclasses import dataclass

from neuroaix.checks import check_int, check_number

__all__ = ["ACTIVITY_KEYS", "Activity"]

#: Fields of :class:`Activity` (the keys of its dict form), in order.
ACTIVITY_KEYS = ("n_nodes", "steps", "bio_time_s", "hw_time_s", "neuron_updates", "spikes",
                 "packets", "hops", "bytes_fetched", "synaptic_events")

_COUNT_KEYS = ("n_nodes", "steps", "neuron_updates", "spikes", "packets", "hops",
               "bytes_fetched", "synaptic_events")


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

    n_nodes: int
    steps: int
    bio_time_s: float
    hw_time_s: float
    neuron_updates: int = 0
    spikes: int = 0
    packets: int = 0
    hops: int = 0
    bytes_fetched: int = 0
    synaptic_events: int = 0

    def __post_init__(self):
        for name in _COUNT_KEYS:
            low = 1 if name == "n_nodes" else 0
            object.__setattr__(self, name, check_int(f"activity {name}", getattr(self, name),
                                                     low=low))
        for name in ("bio_time_s", "hw_time_s"):
            check_number(f"activity {name}", getattr(self, name), low=0, low_open=True,
                         unit="s")

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

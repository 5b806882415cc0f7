"""Shipped configurations (installed as ``neuroaix.configs``): hardware and energy TOML files.

``neuroaix emulate --hardware neuroaix-35`` finds ``neuroaix-35.toml`` here when no such file
exists relative to the working directory.
"""

from pathlib import Path

__all__ = ["shipped"]


def shipped(name: str) -> Path | None:
    """Return the path of a shipped configuration by file name or stem, or None."""
    here = Path(__file__).parent
    for candidate in (here / name, here / f"{name}.toml"):
        if candidate.is_file():
            return candidate
    return None

"""Shared fixtures and markers of the neuroaix test suite."""

import json
import pathlib

import pytest

DATA = pathlib.Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def numerics_vectors():
    """The contract's test vectors (tests/data/numerics_vectors.json)."""
    return json.loads((DATA / "numerics_vectors.json").read_text())

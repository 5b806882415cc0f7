"""A pytest plugin that adds ``neuroaix`` to the simulators of PyNN's system scenarios.

PyNN parametrises each scenario with ``run_with_simulators("nest", ...)``, one
``LazySimulator`` per name; this plugin appends one for ``neuroaix`` (``-p`` loads it),
so the scenarios run unchanged from PyNN's source distribution.
"""

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_generate_tests(metafunc):
    markers = metafunc.definition.own_markers
    for i, mark in enumerate(markers):
        if mark.name != "parametrize" or mark.args[0] != "sim":
            continue
        params = list(mark.args[1])
        if any(p.id == "neuroaix" for p in params):
            continue
        lazy = type(params[0].values[0])
        params.append(pytest.param(lazy("neuroaix"), id="neuroaix"))
        markers[i] = pytest.mark.parametrize("sim", params).mark

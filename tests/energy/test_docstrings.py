"""The numpydoc Parameters sections of neuroaix.energy match the signatures they document."""

from __future__ import annotations

import inspect
import re

import pytest

from neuroaix.energy import config, model, platforms, plot, power, project

MODULES = (config, model, platforms, plot, power, project)


def _documented(doc: str) -> list[str]:
    match = re.search(r"\n\s*Parameters\n\s*-+\n(.*?)(?:\n\s*\n\s*[A-Z][a-z]+\n\s*-+\n|\Z)",
                      doc, re.DOTALL)
    if not match:
        return []
    names = []
    for line in match.group(1).splitlines():
        m = re.match(r"^    (\w[\w, ]*?)\s*:", line) or re.match(r"^(\w[\w, ]*?)\s*:", line)
        if m and not line.startswith("        "):
            names += [n.strip() for n in m.group(1).split(",")]
    return names


def _public_callables():
    for mod in MODULES:
        for name in mod.__all__:
            obj = getattr(mod, name)
            if inspect.isfunction(obj) or inspect.isclass(obj):
                yield f"{mod.__name__}.{name}", obj


@pytest.mark.parametrize("name, obj", list(_public_callables()))
def test_documented_parameters_exist(name, obj):
    doc = inspect.getdoc(obj) or ""
    assert doc, f"{name} has no docstring"
    documented = _documented("\n" + doc)
    target = obj.__init__ if inspect.isclass(obj) else obj
    params = [p for p in inspect.signature(target).parameters if p not in ("self", "cls")]
    for p in documented:
        assert p in params, f"{name} documents {p!r}, which is not a parameter"


def test_every_module_declares_all():
    for mod in MODULES:
        assert mod.__all__ and all(hasattr(mod, n) for n in mod.__all__), mod.__name__

"""Documented parameters of the emulator's public callables match their signatures."""

import inspect
import re

import pytest

import neuroaix.emulator as emu
from neuroaix.emulator import plot, workload


def _documented(doc: str) -> list[str]:
    m = re.search(r"^Parameters\n-+\n(.*?)(\n\n[A-Z][a-z]+\n-+\n|\Z)", doc, re.S | re.M)
    if not m:
        return []
    names = []
    for line in m.group(1).splitlines():
        hit = re.match(r"^([A-Za-z_][\w, ]*?)\s*(:|$)", line)
        if hit:
            names += [n.strip() for n in hit.group(1).split(",")]
    return names


def _callables():
    seen = []
    for mod in (emu, plot, workload):
        for name in mod.__all__:
            obj = getattr(mod, name)
            if inspect.isfunction(obj):
                seen.append((f"{mod.__name__}.{name}", obj, obj))
            elif inspect.isclass(obj) and "__init__" in vars(obj):
                seen.append((f"{mod.__name__}.{name}", obj, obj.__init__))
    return seen


@pytest.mark.parametrize("name,obj,func", _callables(), ids=lambda x: x if isinstance(x, str)
                         else "")
def test_parameters_section_matches_signature(name, obj, func):
    documented = _documented(inspect.getdoc(obj) or "")
    if not documented:
        pytest.skip(f"{name} documents no parameters")
    params = [p for p in inspect.signature(func).parameters if p != "self"]
    assert documented == params, name

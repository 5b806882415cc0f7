"""Every documented ``Parameters`` list of ``neuroaix.rtl`` matches the signature it documents."""

import importlib
import inspect

import pytest

MODULES = ["layouts", "synapse_pipeline", "memory", "model", "sim", "workloads", "cycles",
           "generate", "synth"]


def _parameters_section(doc):
    """Return the names listed in a numpydoc Parameters section (``a, b : type`` lines)."""
    lines = doc.splitlines()
    if "Parameters" not in lines:
        return None
    i = lines.index("Parameters") + 2
    names = []
    while i < len(lines) and not (i + 1 < len(lines) and set(lines[i + 1]) == {"-"}):
        head = lines[i]
        if head and not head.startswith(" "):
            names += [n.strip().lstrip("*") for n in head.split(":")[0].split(",")]
        i += 1
    return names


def _documented():
    out = []
    for mod_name in MODULES:
        mod = importlib.import_module(f"neuroaix.rtl.{mod_name}")
        for name in mod.__all__:
            obj = getattr(mod, name)
            func = obj.__init__ if inspect.isclass(obj) else obj
            if not callable(func) or not inspect.getdoc(obj):
                continue
            names = _parameters_section(inspect.getdoc(obj))
            if names is not None:
                out.append(pytest.param(obj, func, names, id=f"{mod_name}.{name}"))
    return out


@pytest.mark.parametrize("obj, func, names", _documented())
def test_documented_parameters_match_signature(obj, func, names):
    params = [p for p in inspect.signature(func).parameters if p != "self"]
    assert names == params

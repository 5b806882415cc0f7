"""numpydoc Parameters sections of every public callable match the signatures they document.

One checker for the whole package: every module under ``neuroaix`` (``neuroaix.rtl`` and
``neuroaix.emulator`` included) that declares ``__all__``; its public functions and classes
(their ``__init__``) whose docstring has a Parameters section.
"""

import importlib
import inspect
import pkgutil
import re

import pytest

import neuroaix
import neuroaix.emulator  # noqa: F401
import neuroaix.rtl  # noqa: F401

#: Modules not imported here: cocotb testbench code runs only inside a simulator, the MPI
#: driver needs the optional mpi4py, and ``__main__`` runs the command line.
SKIP = re.compile(r"(_cocotb$|\.mpi$|\.__main__$)")


def _modules():
    # rtl/ and emulator/ are mapped into the package by the installer, so they are walked
    # from their own paths.
    for root in ("neuroaix", "neuroaix.rtl", "neuroaix.emulator"):
        pkg = importlib.import_module(root)
        yield pkg
        for info in pkgutil.walk_packages(pkg.__path__, root + "."):
            if not SKIP.search(info.name):
                yield importlib.import_module(info.name)


def _documented(doc: str) -> list[str]:
    match = re.search(r"^Parameters\n-+\n(.*?)(?:\n\n[A-Z][a-z]+\n-+\n|\Z)", doc, re.S | re.M)
    if not match:
        return []
    names = []
    for line in match.group(1).splitlines():
        hit = re.match(r"^([A-Za-z_*][\w, *]*?)\s*(:|$)", line)
        if hit:
            names += [n.strip().lstrip("*") for n in hit.group(1).split(",")]
    return names


def _callables():
    seen = set()
    for mod in _modules():
        for name in getattr(mod, "__all__", ()):
            obj = getattr(mod, name, None)
            if id(obj) in seen or not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue
            seen.add(id(obj))
            func = obj.__init__ if inspect.isclass(obj) else obj
            documented = _documented(inspect.getdoc(obj) or "")
            if documented and inspect.isfunction(func):
                yield pytest.param(obj, func, documented, id=f"{mod.__name__}.{name}")


CALLABLES = list(_callables())


def test_the_checker_sees_the_whole_package():
    ids = {c.id for c in CALLABLES}
    objects = {c.values[0] for c in CALLABLES}
    assert {neuroaix.Simulator, neuroaix.LIF, neuroaix.Network} <= objects
    assert any(i.startswith("neuroaix.rtl.") for i in ids)
    assert any(i.startswith("neuroaix.emulator.") for i in ids)
    assert any(i.startswith("neuroaix.energy.") for i in ids)


@pytest.mark.parametrize("obj,func,documented", CALLABLES)
def test_parameters_section_matches_signature(obj, func, documented):
    params = [p.name for p in inspect.signature(func).parameters.values()
              if p.name not in ("self", "cls")]
    assert documented == params


def test_every_public_callable_has_a_docstring():
    missing = [f"{mod.__name__}.{name}" for mod in _modules()
               for name in getattr(mod, "__all__", ())
               if (inspect.isfunction(obj := getattr(mod, name, None)) or inspect.isclass(obj))
               and not inspect.getdoc(obj)]
    assert missing == []

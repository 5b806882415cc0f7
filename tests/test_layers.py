"""The import layers of docs/architecture.md hold: nothing imports upward, imports are cheap.

Every import of a ``neuroaix`` module anywhere in the package (at module level or inside a
function) is read from the source with :mod:`ast` and checked against the layer table below;
a new module must be given a layer here, so the table and docs/architecture.md stay one.
"""

import ast
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
#: Installed package -> source folder (pyproject.toml's package-dir).
SOURCES = {"neuroaix": ROOT / "neuroaix", "neuroaix.rtl": ROOT / "rtl",
           "neuroaix.emulator": ROOT / "emulator", "neuroaix.configs": ROOT / "configs"}
#: Layers from the bottom up; a module may import only from its own layer or below.
LAYERS = (
    ("contract", ("neuroaix._version", "neuroaix.numerics", "neuroaix.formats", "neuroaix.checks",
                  "neuroaix.timing", "neuroaix.activity", "neuroaix.outputs",
                  "neuroaix._threads", "neuroaix.configs")),
    ("primitives", ("neuroaix.neuron", "neuroaix.distributions")),
    ("construction", ("neuroaix.construction",)),
    ("description", ("neuroaix.network", "neuroaix.models", "neuroaix.memory",
                     "neuroaix.quantisation", "neuroaix.nir")),
    ("consumers", ("neuroaix.engine", "neuroaix.reference", "neuroaix.rtl",
                   "neuroaix.emulator", "neuroaix.analysis", "neuroaix.plotting",
                   "neuroaix.recordings")),
    ("energy", ("neuroaix.energy",)),
    ("commands", ("neuroaix.commands", "neuroaix.cli", "neuroaix.__main__", "neuroaix",
                  "neuroaix.pynn")),
)
#: Layer names that stand for one module only, not for the modules below them.
EXACT = ("neuroaix",)
#: Modules of the model description and construction, and the emulator and energy model,
#: which import nothing of the package late at all (optional extras such as matplotlib may be).
NO_LATE_IMPORTS = ("neuroaix.numerics", "neuroaix.formats", "neuroaix.checks",
                   "neuroaix.neuron", "neuroaix.distributions", "neuroaix.construction",
                   "neuroaix.network", "neuroaix.models", "neuroaix.analysis",
                   "neuroaix.timing", "neuroaix.activity", "neuroaix.emulator",
                   "neuroaix.energy")


def _layer(module: str) -> int:
    best = None
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            below = module.startswith(prefix + ".") and prefix not in EXACT
            if (module == prefix or below) and (best is None or len(prefix) > best[1]):
                best = (index, len(prefix))
    assert best is not None, f"{module} has no layer in tests/test_layers.py; give it one"
    return best[0]


def _modules():
    for package, folder in SOURCES.items():
        for path in sorted(folder.rglob("*.py")):
            parts = [p for p in path.relative_to(folder).with_suffix("").parts
                     if p != "__init__"]
            if package == "neuroaix" and parts and parts[0] in ("rtl", "emulator", "configs"):
                continue
            yield ".".join([package, *parts]), path


def _imports(path: pathlib.Path):
    """Yield ``(imported module, inside a function)`` for every neuroaix import of a file."""
    tree = ast.parse(path.read_text())

    def visit(node, late):
        for child in ast.iter_child_nodes(node):
            inner = late or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield alias.name, inner
            elif isinstance(child, ast.ImportFrom) and not child.level and child.module:
                if child.module == "neuroaix":
                    for alias in child.names:
                        yield f"neuroaix.{alias.name}", inner
                else:
                    yield child.module, inner
            yield from visit(child, inner)

    for module, late in visit(tree, False):
        if module == "neuroaix" or module.startswith("neuroaix."):
            yield module, late


MODULES = dict(_modules())


def test_the_table_sees_every_layer():
    assert {"neuroaix.network", "neuroaix.construction.connectivity", "neuroaix.rtl",
            "neuroaix.emulator.engine", "neuroaix.commands.run"} <= set(MODULES)
    for module in MODULES:
        _layer(module)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_nothing_imports_upward(module):
    own = _layer(module)
    upward = [f"{target} ({LAYERS[_layer(target)][0]})"
              for target, _ in _imports(MODULES[module]) if _layer(target) > own]
    assert upward == [], f"{module} ({LAYERS[own][0]}) imports upward: {upward}"


def test_description_and_construction_import_nothing_late():
    late = [f"{module} -> {target}" for module, path in MODULES.items()
            if module.startswith(NO_LATE_IMPORTS) for target, inner in _imports(path) if inner]
    assert late == []


def test_only_the_commands_import_the_package_late():
    commands = ("neuroaix.commands", "neuroaix.cli", "neuroaix.__main__")
    late = [f"{module} -> {target}" for module, path in MODULES.items()
            if not module.startswith(commands) for target, inner in _imports(path) if inner]
    assert late == []


def _run(code: str, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, cwd=ROOT)


def test_contract_imports_without_numba():
    proc = _run("import sys; sys.modules['numba'] = None; "
                "import neuroaix.formats, neuroaix.numerics, neuroaix.checks, neuroaix.rtl, "
                "neuroaix.distributions, neuroaix.neuron; "
                "assert 'neuroaix.engine' not in sys.modules")
    assert proc.returncode == 0, proc.stderr


def test_import_neuroaix_is_cheap_and_leaves_the_environment_alone():
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    code = ("import os, sys; before = dict(os.environ); import neuroaix; "
            "assert dict(os.environ) == before, 'import neuroaix changed os.environ'; "
            "assert 'numba' not in sys.modules and 'numpy' not in sys.modules, "
            "sorted(m for m in sys.modules if m.startswith(('numba', 'numpy')))[:3]; "
            "import neuroaix.engine; "
            "assert dict(os.environ) == before, 'import neuroaix.engine changed os.environ'; "
            "print(neuroaix.Network.__module__, neuroaix.BuiltNetwork.__module__, "
            "neuroaix.Normal.__module__, neuroaix.Simulator.__name__, neuroaix.models.__name__)")
    proc = _run(code, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["neuroaix.network", "neuroaix.construction.built",
                                   "neuroaix.distributions", "Simulator", "neuroaix.models"]


def test_unknown_top_level_name_is_an_attribute_error():
    import neuroaix

    with pytest.raises(AttributeError, match=r"^module 'neuroaix' has no attribute 'Netwrk'$"):
        neuroaix.Netwrk  # noqa: B018
    assert {"Network", "Simulator", "models"} <= set(dir(neuroaix))

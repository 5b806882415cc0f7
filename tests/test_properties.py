"""Property-based tests (hypothesis): random inputs give a run or a named error, never a crash.

Strategies (docs/reliability.md):

- hardware TOML: every key of the shipped configuration, each kept, dropped, or replaced by a
  random scalar of any type, plus misspelt keys and sections -> ``load_hardware`` returns a
  configuration or raises ValueError/TypeError naming the file;
- model parameters: random scale, k_scale, input and seed for both models -> a Network or
  a ValueError/TypeError/MemoryError (nothing is built);
- command-line arguments of ``energy project`` (no simulation): random values of every
  option -> exit status 0 or 2 with a one-line error, never a traceback;
- byte damage: flipped, dropped or inserted bytes and truncation of an emulator result and a
  run summary -> ``energy`` exits 0 or 2 with a message naming the file.
"""

import json
import math
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from neuroaix import models
from neuroaix.cli import main
from neuroaix.emulator import load_hardware

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "neuroaix-35.toml"
FAST = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])

scalars = st.one_of(st.integers(-10**12, 10**12), st.floats(allow_nan=True),
                    st.booleans(), st.text(max_size=8))


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) \
            else repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return str(v)


def _toml(doc: dict) -> str:
    lines = [f"{k} = {_toml_value(v)}" for k, v in doc.items() if not isinstance(v, dict)]
    for name, sec in doc.items():
        if isinstance(sec, dict):
            lines.append(f"[{name}]")
            lines += [f"{k} = {_toml_value(v)}" for k, v in sec.items() if v is not None]
    return "\n".join(lines) + "\n"


BASE = load_hardware(CONFIG).to_dict()


@st.composite
def hardware_docs(draw):
    doc = {}
    for key, value in BASE.items():
        if draw(st.booleans()) and key != "name":
            continue  # dropped
        if isinstance(value, dict):
            sec = {}
            for k, v in value.items():
                choice = draw(st.integers(0, 4))
                if choice == 0:
                    continue
                sec[k] = draw(scalars) if choice == 1 else v
            if draw(st.integers(0, 5)) == 0:
                sec[draw(st.sampled_from(["typo", k + "s", k[:-1]]))] = 1
            doc[key] = sec
        elif value is not None:
            doc[key] = draw(scalars) if draw(st.integers(0, 3)) == 0 else value
    if draw(st.integers(0, 6)) == 0:
        doc[draw(st.sampled_from(["lnk", "nodes", "extra"]))] = {"x": 1}
    return doc


@FAST
@given(doc=hardware_docs())
def test_random_hardware_files_load_or_are_refused_by_name(tmp_path, doc):
    path = tmp_path / "hw.toml"
    path.write_text(_toml(doc))
    try:
        hw = load_hardware(path)
    except (ValueError, TypeError) as exc:
        assert str(path) in str(exc)
    else:
        assert hw.name == doc["name"] and hw.n_nodes >= 1


@FAST
@given(model=st.sampled_from(["microcircuit", "brunel", "nope"]),
       scale=st.one_of(st.none(), st.floats(), st.integers(-3, 3), st.text(max_size=3)),
       k_scale=st.one_of(st.none(), st.floats(), st.just(0.5)),
       input=st.one_of(st.none(), st.sampled_from(["dc", "poisson", "DC", ""])),
       seed=st.one_of(st.integers(-2**70, 2**70), st.floats(), st.text(max_size=3)))
def test_random_model_parameters_build_or_are_refused(model, scale, k_scale, input, seed):
    if isinstance(scale, float) and 0 < scale < 1e-3:
        scale = 1e-3
    try:
        net = models.build(model, scale=scale, k_scale=k_scale, input=input, seed=seed)
    except (ValueError, TypeError, MemoryError) as exc:
        assert str(exc)
    else:
        assert net.n_neurons >= 1


numbers = st.one_of(st.floats(), st.integers(-5, 10**6), st.sampled_from(["x", "", "1e400"]))


@FAST
@example(species="mouse", synapses="low",
         options={"--rate-hz": 2.4111308839140774e-265, "--target": 1.0,
                  "--memory-gb": 2.4111308839140774e-265})
@example(species="mouse", synapses="low", options={"--rate-hz": 1.8004637944316608e+298})
@given(species=st.sampled_from(["mouse", "marmoset", "human", "cat"]),
       options=st.dictionaries(st.sampled_from(["--rate-hz", "--target", "--memory-gb"]),
                               numbers, max_size=3),
       synapses=st.sampled_from(["low", "high", "both", "all"]))
def test_random_energy_project_arguments_run_or_say_why(capsys, species, options, synapses):
    argv = ["energy", "project", "--species", species, "--hardware", str(CONFIG),
            "--synapses", synapses]
    for k, v in options.items():
        argv += [k, str(v)]
    try:
        rc = main(argv)
    except SystemExit as exc:  # argparse: usage line and exit status 2
        rc = exc.code
    err = capsys.readouterr().err
    assert rc in (0, 2) and "Traceback" not in err
    assert rc == 0 or err.strip().splitlines()[-1].startswith(("neuroaix energy", "usage"))


ACTIVITY = {"n_nodes": 35, "steps": 100, "bio_time_s": 0.01, "hw_time_s": 0.0005,
            "neuron_updates": 7_716_900, "spikes": 2_500, "packets": 10_000, "hops": 85_000,
            "bytes_fetched": 80_164_300, "synaptic_events": 9_670_000}
GOOD = {"emulation": json.dumps({"q_rtf": 0.05, "model": "brunel", "activity": ACTIVITY}),
        "summary": json.dumps({"model": "brunel", "total": {
            "spikes": 1000, "synaptic_events": 10**8, "wall_s_sim": 50.0, "t_sim_ms": 1000.0,
            "threads": 2}})}


@st.composite
def damaged(draw, text):
    data = bytearray(text.encode())
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.integers(0, 3))
        i = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == 0 and data:
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif kind == 1 and data:
            del data[i]
        elif kind == 2:
            data.insert(i, draw(st.integers(0, 255)))
        else:
            data = data[:i]
    return bytes(data)


@FAST
@given(emulation=damaged(GOOD["emulation"]), summary=damaged(GOOD["summary"]))
def test_damaged_json_inputs_give_a_clean_error(tmp_path, capsys, emulation, summary):
    e = tmp_path / "e.json"
    e.write_bytes(emulation)
    run = tmp_path / "run"
    run.mkdir(exist_ok=True)
    (run / "summary.json").write_bytes(summary)
    shutil.copy(ROOT / "configs" / "neuroaix-35-energy.toml", tmp_path / "energy.toml")
    for argv, path in ((["energy", "--from-emulation", str(e), "--energy",
                         str(tmp_path / "energy.toml")], e),
                       (["energy", "--from-run", str(run)], run / "summary.json")):
        rc = main(argv)
        err = capsys.readouterr().err
        assert rc in (0, 2) and "Traceback" not in err, err
        if rc == 2:
            assert len(err.strip().splitlines()) == 1 and err.startswith("neuroaix energy"), err


def test_the_strategies_reach_both_outcomes(tmp_path):
    """The damage strategy can break a file and can leave a readable one: not vacuous."""
    bad = tmp_path / "bad.json"
    bad.write_bytes(GOOD["emulation"].encode()[:-1])
    assert main(["energy", "--from-emulation", str(bad), "--hardware", str(CONFIG)]) == 2
    good = tmp_path / "good.json"
    good.write_text(GOOD["emulation"])
    assert main(["energy", "--from-emulation", str(good), "--hardware", str(CONFIG)]) == 0


pytestmark = pytest.mark.backend_independent

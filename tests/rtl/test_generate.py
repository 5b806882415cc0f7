# amaranth: UnusedElaboratable=no
"""``neuroaix rtl generate`` writes deterministic Verilog with no source paths inside.

It checks its output folder and the simulation size before any work, says what it writes,
and its Verilog equals what Amaranth's unpatched back-end writes (``generate.convert`` only
builds memory initial values faster).
"""

import os

import pytest
from amaranth.back import verilog

from neuroaix.cli import main
from neuroaix.rtl.harness import generate
from neuroaix.rtl.harness.node_sim import node_core, node_verilog
from neuroaix.rtl.harness.synth import strip_zero_init
from neuroaix.rtl.hw.synapse_memory import PipelineWithMemory
from neuroaix.rtl.params import NodeParams, PipelineConfig

TINY = ["--n-neurons", "4", "--ring-depth", "2", "--n-sources", "3", "--memory-words", "2",
        "--max-burst", "1", "--fifo-words", "2", "--latency", "2"]
NAMES = ["synapse_pipeline.v", "synapse_pipeline_sim.v"]


def test_generate_twice_gives_identical_bytes(tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["rtl", "generate", "--out", str(a), "--sim", *TINY]) == 0
    assert main(["rtl", "generate", "--out", str(b), "--sim", *TINY]) == 0
    assert sorted(p.name for p in a.iterdir()) == NAMES
    for name in NAMES:
        text = (a / name).read_bytes()
        assert text == (b / name).read_bytes()
        module = name.removesuffix(".v")
        assert f"module {module}(".encode() in text
        for needle in (b"src =", str(tmp_path).encode(), b".py:", b"/home", b"/work"):
            assert needle not in text
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert len(lines) == 4
    for line, path in zip(lines, [d / n for d in (a, b) for n in NAMES]):
        size = path.stat().st_size / 1e6
        assert line.startswith(f"wrote {path} ({size:.1f} MB in ")
        assert line.endswith(f" s): {generate.FILES[path.name]}")
        assert f"neuroaix rtl: generation of {path}: {generate.FILES[path.name]}..." in (
            captured.err)


def test_generate_defaults_to_the_pipeline_alone(tmp_path, capsys):
    assert main(["rtl", "generate", "--out", str(tmp_path), *TINY]) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["synapse_pipeline.v"]
    assert capsys.readouterr().out.count("wrote ") == 1


def test_generate_names_the_ports_as_the_testbench_expects(tmp_path):
    assert main(["rtl", "generate", "--out", str(tmp_path), *TINY]) == 0
    text = (tmp_path / "synapse_pipeline.v").read_text()
    for port in ("i_spikes__valid", "i_spikes__ready", "i_spikes__payload", "o_mem_req__valid",
                 "i_mem_resp__payload", "i_clear__valid", "o_cleared__payload", "o_idle",
                 "clk", "rst"):
        assert f" {port};" in text or f" {port} " in text or f"{port}," in text


def test_generate_rejects_bad_parameters(tmp_path, capsys):
    assert main(["rtl", "generate", "--out", str(tmp_path), *TINY, "--ring-depth", "3"]) == 2
    err = capsys.readouterr().err
    assert "ring_depth must be a power of two in [2, 256], not 3" in err


def test_generate_needs_out():
    with pytest.raises(SystemExit) as exc:
        main(["rtl", "generate"])
    assert exc.value.code == 2


def _fails_before_work(argv, capsys):
    assert main(["rtl", "generate", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "generation" not in captured.err
    return captured.err.strip()


def test_generate_refuses_a_node_size_simulation_top_before_work(tmp_path, capsys):
    """The default memory (2**20 words of 512 bits) would go into the Verilog: refused."""
    err = _fails_before_work(["--out", str(tmp_path / "v"), "--sim"], capsys)
    assert err == ("neuroaix rtl: error: memory_words must be <= 65536 for a simulation top, "
                   "not 1048576: its behavioural memory is written into the Verilog; give a "
                   "simulation size (e.g. --memory-words 4096) or leave out the simulation top")
    assert not (tmp_path / "v").exists()


def test_generate_checks_the_folder_before_work(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("x")
    for out in (afile, afile / "v"):
        err = _fails_before_work(["--out", str(out), *TINY], capsys)
        assert err.startswith(f"neuroaix rtl: error: --out {str(out)!r}")
        assert "is a file" in err
    assert afile.read_text() == "x"


def test_generate_does_not_overwrite_without_force(tmp_path, capsys):
    assert main(["rtl", "generate", "--out", str(tmp_path), *TINY]) == 0
    before = (tmp_path / "synapse_pipeline.v").read_bytes()
    (tmp_path / "synapse_pipeline.v").write_text("old")
    capsys.readouterr()
    err = _fails_before_work(["--out", str(tmp_path), *TINY], capsys)
    assert err == (f"neuroaix rtl: error: --out {str(tmp_path)!r} holds a previous result "
                   "(synapse_pipeline.v); pass --force to replace it or choose another folder")
    assert (tmp_path / "synapse_pipeline.v").read_text() == "old"
    assert main(["rtl", "generate", "--out", str(tmp_path), "--force", *TINY]) == 0
    assert (tmp_path / "synapse_pipeline.v").read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["synapse_pipeline.v"]  # no temporary left
    # --sim adds a file to check: a previous simulation top is a previous result too.
    assert main(["rtl", "generate", "--out", str(tmp_path), "--sim", "--force", *TINY]) == 0
    capsys.readouterr()
    err = _fails_before_work(["--out", str(tmp_path), "--sim", *TINY], capsys)
    assert "(synapse_pipeline.v, synapse_pipeline_sim.v)" in err


def _pipeline_with_init():
    return PipelineWithMemory(n_neurons=5, ring_depth=4, n_sources=7, memory_words=9,
                              max_burst=2, fifo_words=4, latency=3,
                              init=[(k * 0x9E3779B97F4A7C15) ** 5 % (1 << 512)
                                    for k in range(9)])


def _tiny_node(**lanes):
    return node_core(NodeParams(n_neurons=6, n_populations=2, ring_depth=4, n_sources=9,
                                memory_words=3, latency=4, **lanes))


@pytest.mark.parametrize("make, name", [(_pipeline_with_init, "pipeline_with_init"),
                                        (_tiny_node, "node")])
def test_convert_equals_amaranths_own_back_end(make, name):
    assert generate.convert(make(), name) == verilog.convert(make(), name=name, emit_src=False)


@pytest.mark.parametrize("make, name", [
    (_pipeline_with_init, "pipeline_with_init"),
    (lambda: _tiny_node(synapse_lanes=2, update_lanes=3), "node"),
])
def test_convert_without_zero_init_drops_only_the_zero_initial_blocks(make, name):
    """``zero_init=False`` (the Verilator builds): the same Verilog, less the zeros."""
    full = generate.convert(make(), name)
    text = generate.convert(make(), name, zero_init=False)
    assert text == strip_zero_init(full)
    assert len(text) < len(full)
    if name == "pipeline_with_init":  # a memory with data keeps its initial value
        assert text.count("initial begin") == 1 and "512'h" in text
    else:
        assert "initial begin" in full and "initial begin" not in text


def test_node_verilog_passes_zero_init_on():
    config = NodeParams(n_neurons=6, n_populations=2, ring_depth=4, n_sources=9,
                        memory_words=3, latency=4)
    assert node_verilog(config, zero_init=False) == strip_zero_init(node_verilog(config))


def test_sim_verilog_refuses_a_node_size_memory():
    config = PipelineConfig(n_neurons=4, ring_depth=2, n_sources=3, memory_words=1 << 17)
    with pytest.raises(ValueError, match=r"^memory_words must be <= 65536 for a simulation "
                                         r"top, not 131072: "):
        generate.sim_verilog(config)

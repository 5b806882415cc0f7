"""``neuroaix rtl generate`` writes deterministic Verilog with no source paths inside."""

import pytest

from neuroaix.cli import main

TINY = ["--n-neurons", "4", "--ring-depth", "2", "--n-sources", "3", "--memory-words", "2",
        "--max-burst", "1", "--fifo-words", "2", "--latency", "2"]


def test_generate_twice_gives_identical_bytes(tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["rtl", "generate", "--out", str(a), *TINY]) == 0
    assert main(["rtl", "generate", "--out", str(b), *TINY]) == 0
    names = sorted(p.name for p in a.iterdir())
    assert names == ["synapse_pipeline.v", "synapse_pipeline_sim.v"]
    for name in names:
        text = (a / name).read_bytes()
        assert text == (b / name).read_bytes()
        module = name.removesuffix(".v")
        assert f"module {module}(".encode() in text
        for needle in (b"src =", str(tmp_path).encode(), b".py:", b"/home", b"/work"):
            assert needle not in text
    assert capsys.readouterr().out.split() == [str(a / n) for n in names] + \
        [str(b / n) for n in names]


def test_generate_names_the_ports_as_the_testbench_expects(tmp_path):
    assert main(["rtl", "generate", "--out", str(tmp_path), "--no-sim", *TINY]) == 0
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

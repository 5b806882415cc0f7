"""neuroaix.engine.checkpoint: versioned, checksummed checkpoints; every damage is named."""

import json

import numpy as np
import pytest

from neuroaix import LIF
from neuroaix.engine import Simulator
from neuroaix.engine.checkpoint import CHECKPOINT_VERSION, CheckpointError
from neuroaix.network import Network, Normal

from .conftest import small_network


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A checkpoint of the small network after 30 steps, and the built network."""
    built = small_network().build(partitions=2)
    sim = Simulator(built, threads=1, progress=False)
    sim.run_steps(30)
    path = tmp_path_factory.mktemp("ckpt") / "good.npz"
    sim.checkpoint(path)
    return built, path


def _rewrite(src, dst, **changes):
    """Copy a checkpoint's arrays into a new (well-formed) archive, with some replaced."""
    with np.load(src, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    arrays.update(changes)
    with open(dst, "wb") as fh:
        np.savez(fh, **arrays)


def _meta(path):
    with np.load(path, allow_pickle=False) as data:
        return json.loads(str(data["meta"]))


def _refused(built, path, message):
    with pytest.raises(CheckpointError) as info:
        Simulator.restore(built, path, threads=1, progress=False)
    text = str(info.value)
    assert isinstance(info.value, ValueError) and "\n" not in text
    assert text.startswith(f"checkpoint {str(path)!r} "), text
    assert message in text, text


def test_a_good_checkpoint_restores(saved):
    built, path = saved
    sim = Simulator.restore(built, path, threads=1, progress=False)
    assert sim.t == 30
    meta = _meta(path)
    assert meta["version"] == CHECKPOINT_VERSION and meta["t"] == 30
    assert set(meta["inputs"]) == {"E", "I"} and meta["inputs"]["E"].startswith("poisson ")
    assert meta["fingerprint"]["n_neurons"] == 100


def test_missing_empty_and_text_files(saved, tmp_path):
    built, _ = saved
    _refused(built, tmp_path / "nothing.npz", "does not exist")
    (tmp_path / "empty.npz").write_bytes(b"")
    _refused(built, tmp_path / "empty.npz", "is empty")
    (tmp_path / "notes.txt").write_text("not a checkpoint\n")
    _refused(built, tmp_path / "notes.txt", "is not a checkpoint (not a NumPy .npz archive)")
    np.save(tmp_path / "one.npy", np.arange(3))
    _refused(built, tmp_path / "one.npy", "is not a checkpoint (a single .npy array)")


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.99])
def test_truncated(saved, tmp_path, fraction):
    built, path = saved
    data = path.read_bytes()
    cut = tmp_path / "cut.npz"
    cut.write_bytes(data[:int(len(data) * fraction)])
    _refused(built, cut, "is damaged or not a checkpoint")


def test_corrupt_bytes(saved, tmp_path):
    built, path = saved
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # inside an array: the archive's CRC no longer matches
    bad = tmp_path / "flip.npz"
    bad.write_bytes(bytes(data))
    _refused(built, bad, "is damaged or not a checkpoint")


def test_changed_contents_fail_the_checksum(saved, tmp_path):
    built, path = saved
    with np.load(path, allow_pickle=False) as data:
        v = data["v"].copy()
    v[7] += 1
    _rewrite(path, tmp_path / "edited.npz", v=v)
    _refused(built, tmp_path / "edited.npz", "is corrupt (its checksum does not match")


def test_other_versions_and_old_format(saved, tmp_path):
    built, path = saved
    meta = _meta(path)
    meta["version"] = CHECKPOINT_VERSION + 1
    _rewrite(path, tmp_path / "future.npz", meta=np.array(json.dumps(meta)))
    _refused(built, tmp_path / "future.npz",
             f"has checkpoint format {CHECKPOINT_VERSION + 1}, not {CHECKPOINT_VERSION}")
    with np.load(path, allow_pickle=False) as data:  # the layout of format 1
        old = {k: data[k] for k in data.files if k != "meta"}
    np.savez(tmp_path / "old.npz", version=1, t=30, fingerprint=np.array([100, 1, 7, 32]),
             **old)
    _refused(built, tmp_path / "old.npz", "has the old checkpoint format 1, which this "
                                          f"version (format {CHECKPOINT_VERSION}) cannot")
    np.savez(tmp_path / "spikes.npz", senders=np.arange(3), steps=np.arange(3))
    _refused(built, tmp_path / "spikes.npz", "is an archive without checkpoint metadata")
    _rewrite(path, tmp_path / "nometa.npz", meta=np.array("{not json"))
    _refused(built, tmp_path / "nometa.npz", "is damaged or not a checkpoint")


def test_missing_arrays(saved, tmp_path):
    built, path = saved
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files if k != "ring"}
    np.savez(tmp_path / "noring.npz", **arrays)
    _refused(built, tmp_path / "noring.npz", "lacks the arrays ['ring']; it is damaged")


def _dc_twin():
    """The small network with a constant current instead of its Poisson input."""
    net = Network(dt=0.1, seed=7)
    for name, n in (("E", 80), ("I", 20)):
        net.add_population(name, n, LIF(I_e=400.0), v_init=Normal(-58.0, 5.0))
    return net


def test_poisson_checkpoint_refused_by_a_dc_network(saved, tmp_path):
    _, path = saved
    net = _dc_twin().build(partitions=2)
    assert not net.has_poisson.any()
    _refused(net, path, "was saved for a network with poisson input, this one has dc input; "
                        "build the network with the same input (e.g. --input)")


def test_other_rates_are_named(saved, tmp_path):
    _, path = saved
    other = small_network(rate_hz=9000.0).build(partitions=2)
    _refused(other, path, "with poisson (other rates or weights) input")


def test_another_network(saved):
    _, path = saved
    _refused(small_network(seed=8).build(partitions=2), path, "was saved for another network")


def test_alpha_state_moves_through_a_checkpoint(tmp_path):
    from .conftest import models_network

    net = models_network(min_delay=0.1)
    straight = Simulator(net.build(partitions=2), threads=1, progress=False)
    straight.run_steps(200)
    half = Simulator(net.build(partitions=2), threads=1, progress=False)
    half.run_steps(100)
    assert (half.state()["d_ex"] != 0).any()  # the alpha neurons' D is part of the state
    half.checkpoint(tmp_path / "models.npz")
    resumed = Simulator.restore(net.build(partitions=3), tmp_path / "models.npz",
                                backend="reference", progress=False)
    resumed.run_steps(100)
    assert resumed.spike_hash() == straight.spike_hash()
    for key, value in straight.state().items():
        np.testing.assert_array_equal(resumed.state()[key], value)
    # the step currents and sources are part of the network's fingerprint
    other = models_network(min_delay=0.1)
    other.step_currents.pop()
    _refused(other.build(partitions=2), tmp_path / "models.npz", "was saved for another network")


def test_format_2_checkpoints_still_restore(saved, tmp_path):
    """Format 2 had no d_ex, d_in (no iaf_psc_alpha then): it restores with both zero."""
    from neuroaix.engine import checkpoint as ckpt
    from neuroaix.outputs import archive_checksum

    built, path = saved
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files if k not in ("meta", "d_ex", "d_in")}
    meta = _meta(path)
    meta["version"] = 2
    meta["sha256"] = archive_checksum(arrays, ckpt._KEYS_OF[2])
    np.savez(tmp_path / "v2.npz", meta=np.array(json.dumps(meta)), **arrays)
    old = Simulator.restore(built, tmp_path / "v2.npz", threads=1, progress=False)
    new = Simulator.restore(built, path, threads=1, progress=False)
    for sim in (old, new):
        sim.run_steps(20)
    assert old.spike_hash() == new.spike_hash()
    for key, value in new.state().items():
        np.testing.assert_array_equal(old.state()[key], value)

"""neuroaix.construction.image: saved networks load into any partitioning, exactly."""

import dataclasses
import json
import zipfile

import numpy as np
import pytest

from neuroaix.construction.built import BuiltNetwork
from neuroaix.construction.image import (NetworkFileError, network_fingerprint, read_image,
                                         write_image)
from neuroaix.distributions import Normal
from neuroaix.engine import Simulator
from neuroaix.network import Network
from neuroaix.neuron import LIF


def _net():
    net = Network(dt=0.1, seed=21)
    e = net.add_population("E", 40, LIF(E_L=-65.0), v_init=Normal(-60.0, 3.0))
    i = net.add_population("I", 11, LIF(tau_m=5.0, E_L=-70.0))
    net.connect(e, i, "fixed_indegree", indegree=9, weight=Normal(90.0, 20.0),
                delay=Normal(1.5, 0.5, low=0.1, high=4.0))
    net.connect(i, e, "pairwise_bernoulli", p=0.3, weight=-300.0, delay=0.8)
    net.connect(e, e, "fixed_total_number", n=200, weight=60.0, delay=2.0)
    net.add_poisson_input(e, rate_hz=10.0, indegree=2000, weight=150.0)
    net.add_dc_input(i, amplitude_pa=600.0)
    return net


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    path = tmp_path_factory.mktemp("image") / "net.npz"
    net = _net()
    meta = net.save(path)
    return net, path, meta


@pytest.mark.parametrize("partitions", [1, 4])
def test_a_saved_network_loads_into_the_storage_of_a_fresh_build(saved, partitions):
    net, path, meta = saved
    built, back = read_image(path, partitions=partitions)
    fresh = net.build(partitions=partitions, threads=2)
    assert back["fingerprint"] == meta["fingerprint"] == network_fingerprint(fresh)
    assert built.n_partitions == partitions and built.n_synapses == meta["n_synapses"]
    for a, b in zip(built.partitions, fresh.partitions):
        assert np.array_equal(a.row_ptr, b.row_ptr) and np.array_equal(a.words, b.words)
    for f in dataclasses.fields(BuiltNetwork):
        if f.name not in ("partitions", "threads", "build_seconds"):
            x, y = getattr(built, f.name), getattr(fresh, f.name)
            assert (np.array_equal(x, y) if isinstance(x, np.ndarray) else x == y), f.name
    assert built.e_l.tolist() == [-65.0, -70.0]
    one, two = Simulator(built, threads=1), Simulator(fresh, threads=1)
    one.simulate(30.0)
    two.simulate(30.0)
    assert one.spike_hash() == two.spike_hash() and len(one.spikes()[0]) > 0


def test_the_file_is_plain_arrays_and_json(saved):
    _, path, meta = saved
    with np.load(path, allow_pickle=False) as data:  # no object arrays anywhere
        assert {"source", "target", "weight", "delay", "v0", "coefficients"} <= set(data.files)
        assert all(data[k].dtype != object for k in data.files)
        assert json.loads(str(data["meta"]))["version"] == 1
    assert meta["format"] == "neuroaix-network" and len(meta["sha256"]) == 64


def test_damaged_foreign_and_missing_files_are_refused_in_one_line(saved, tmp_path):
    _, path, _ = saved
    with pytest.raises(NetworkFileError, match="does not exist"):
        read_image(tmp_path / "none.npz")
    (tmp_path / "t.npz").write_text("text")
    with pytest.raises(NetworkFileError, match="not a NumPy .npz archive"):
        read_image(tmp_path / "t.npz")
    np.savez(tmp_path / "s.npz", senders=np.zeros(2), steps=np.zeros(2))
    with pytest.raises(NetworkFileError, match="a run's spikes.npz without network metadata"):
        read_image(tmp_path / "s.npz")
    with zipfile.ZipFile(path) as z:  # one array changed: the checksum catches it
        members = {n: z.read(n) for n in z.namelist()}
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    arrays["weight"] = arrays["weight"] + 1
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(NetworkFileError, match="is corrupt"):
        read_image(tmp_path / "bad.npz")
    cut = tmp_path / "cut.npz"
    cut.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(NetworkFileError, match="damaged"):
        read_image(cut)
    assert "meta.npy" in members
    with pytest.raises(NetworkFileError, match="use partitions >= 1"):
        read_image(path, partitions=0)


def test_a_partial_build_cannot_be_saved(tmp_path):
    built = _net().build(partitions=2, only=[0])
    with pytest.raises(ValueError, match="stores only the partitions"):
        write_image(tmp_path / "x.npz", built)
    assert not (tmp_path / "x.npz").exists()


def test_every_model_and_input_survives_saving(tmp_path):
    from neuroaix.neuron import LIFAlpha, LIFDelta

    net = Network(dt=0.1, seed=4)
    src = net.add_spike_source("S", [[1.0, 4.0], [2.5], []])
    a = net.add_population("A", 6, LIFAlpha(tau_syn_ex=1.0))
    d = net.add_population("D", 5, LIFDelta(t_ref=1.0))
    net.connect(src, a, "all_to_all", weight=900.0, delay=0.5)
    net.connect(a, d, "all_to_all", weight=4.0, delay=1.1)
    net.add_step_current(d, [2.0, 6.0], [500.0, 0.0], neurons=[0, 2])
    net.add_poisson_input(a, rate_hz=500.0, weight=100.0, indegree=4)
    net.save(tmp_path / "m.npz")
    built, _ = read_image(tmp_path / "m.npz", partitions=3)
    fresh = net.build(partitions=3, threads=1)
    one, two = Simulator(built, backend="reference"), Simulator(fresh, backend="reference")
    one.simulate(12.0)
    two.simulate(12.0)
    assert one.spike_hash() == two.spike_hash()
    senders = one.spikes()[0]
    assert {0, 1} <= set(senders.tolist()) and (senders >= 9).any()  # sources and D fire

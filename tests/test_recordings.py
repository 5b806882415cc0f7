"""neuroaix.recordings: spike times in ms, Neo blocks, NWB and NIX files of a small run.

neo, pynwb and nixio are the ``io`` extra that ``make test`` installs: a missing one fails
these tests at import (no skip).
"""

import neo
import numpy as np
import pynwb
import pytest
import quantities as pq
from neo.io import NixIO

import neuroaix
from neuroaix.recordings import spike_times_ms, to_neo_block, write_neo, write_nwb

E_L = -65.0


@pytest.fixture(scope="module")
def run():
    net = neuroaix.Network(dt=0.1, seed=3)
    e = net.add_population("E", 6, neuroaix.LIF(E_L=E_L))
    i = net.add_population("I", 3, neuroaix.LIF(E_L=-70.0))
    net.connect(e, i, rule="all_to_all", weight=80.0, delay=1.0)
    net.add_dc_input(e, amplitude_pa=450.0)
    built = net.build()
    sim = neuroaix.Simulator(built, probes=[1, 7], backend="reference")
    sim.simulate(5.0, record=False)
    sim.simulate(40.0)
    senders, steps = sim.spikes()
    return built, senders, steps, sim.probes(), 50, sim.t


def test_spike_times_are_the_end_of_the_step():
    assert spike_times_ms([0, 9, 10], 0.1).tolist() == [0.1, 1.0, (11) * 0.1]
    assert spike_times_ms(np.array([], np.int64), 0.25).shape == (0,)


def test_neo_block_holds_one_train_per_neuron_with_the_raster(run):
    built, senders, steps, probes, t0, t1 = run
    assert len(senders) > 0
    block = to_neo_block(senders, steps, dt=built.dt, populations=built.populations,
                         t_start=t0, t_stop=t1, probes=probes, e_l=[E_L, -70.0])
    assert len(block.segments) == 1
    trains = block.segments[0].spiketrains
    assert [st.annotations["source_id"] for st in trains] == list(range(9))
    assert [st.annotations["source_population"] for st in trains] == ["E"] * 6 + ["I"] * 3
    assert trains[7].annotations["source_index"] == 1
    for st in trains:
        gid = st.annotations["source_id"]
        assert st.units == pq.ms
        assert st.t_start == t0 * built.dt * pq.ms and st.t_stop == t1 * built.dt * pq.ms
        mine = np.sort(steps[senders == gid])
        assert np.array_equal(st.magnitude, (mine + 1) * built.dt)
    sig = {(a.name, a.annotations["source_population"]): a
           for a in block.segments[0].analogsignals}
    assert sorted(sig) == sorted((n, p) for n in ("v", "isyn_exc", "isyn_inh")
                                 for p in ("E", "I"))
    v_e = sig[("v", "E")]
    assert v_e.units == pq.mV and v_e.shape == (t1 - t0, 1)
    assert v_e.array_annotations["source_ids"].tolist() == [1]
    assert np.array_equal(v_e.magnitude[:, 0], probes["v_rel_mv"][0] + E_L)
    assert v_e.t_start == (t0 + 1) * built.dt * pq.ms
    i_i = sig[("isyn_exc", "I")]
    assert i_i.units == pq.nA
    assert np.array_equal(i_i.magnitude[:, 0], probes["i_ex_pa"][1] * 1e-3)
    assert i_i.magnitude.max() > 0  # the E spikes reached neuron 7


def test_neo_block_restricted_to_ids_and_window(run):
    built, senders, steps, _, t0, t1 = run
    block = to_neo_block(senders, steps, dt=built.dt, populations=built.populations,
                         t_start=t0 + 100, t_stop=t1, ids=[2, 8])
    trains = block.segments[0].spiketrains
    assert [st.annotations["source_id"] for st in trains] == [2, 8]
    assert all(st.magnitude.min(initial=np.inf) > (t0 + 100) * built.dt for st in trains)
    assert len(block.segments[0].analogsignals) == 0


def test_nwb_file_reads_back_with_pynwb(run, tmp_path):
    built, senders, steps, probes, t0, t1 = run
    path = tmp_path / "run.nwb"
    write_nwb(path, senders, steps, dt=built.dt, populations=built.populations, t_start=t0,
              t_stop=t1, probes=probes, e_l=[E_L, -70.0])
    with pynwb.NWBHDF5IO(str(path), "r") as io:
        f = io.read()
        units = f.units.to_dataframe()
        assert units["population"].tolist() == ["E"] * 6 + ["I"] * 3
        assert units["global_id"].tolist() == list(range(9))
        for gid in range(9):
            want = (np.sort(steps[senders == gid]) + 1) * built.dt * 1e-3
            assert np.array_equal(np.asarray(units["spike_times"].iloc[gid]), want)
        v = f.acquisition["v_E"]
        assert v.unit == "volts" and v.conversion == 1e-3
        assert np.array_equal(v.data[:, 0], probes["v_rel_mv"][0] + E_L)
        assert v.starting_time == pytest.approx((t0 + 1) * built.dt * 1e-3)


def test_nix_file_reads_back_with_neo(run, tmp_path):
    built, senders, steps, probes, t0, t1 = run
    block = to_neo_block(senders, steps, dt=built.dt, populations=built.populations,
                         t_start=t0, t_stop=t1, probes=probes)
    path = tmp_path / "run.nix"
    write_neo(path, block)
    with NixIO(str(path), "ro") as io:
        back = io.read_block()
    assert isinstance(back, neo.Block)
    trains = back.segments[0].spiketrains
    assert [int(st.annotations["source_id"]) for st in trains] == list(range(9))
    assert all(np.array_equal(a.magnitude, b.magnitude) for a, b in
               zip(trains, block.segments[0].spiketrains))
    v = [a for a in back.segments[0].analogsignals if a.name == "v"]
    assert len(v) == 2 and all(a.annotations["relative_to_e_l"] for a in v)

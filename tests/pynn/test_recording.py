"""Recording: Neo blocks of spikes and signals, their shapes, units and times, files."""

import neo
import numpy as np
import pytest
import quantities as pq
from pyNN.recording import get_io

from neuroaix.recordings import spike_times_ms


def test_signals_have_one_sample_per_step_plus_the_initial_state(sim):
    cells = sim.Population(4, sim.IF_curr_exp(i_offset=1.0), label="cells",
                           initial_values={"v": -60.0})
    cells[1:3].record(["v", "isyn_exc", "isyn_inh"])
    cells.record("spikes")
    sim.run(50.0)
    seg = cells.get_data().segments[0]
    names = sorted(s.name for s in seg.analogsignals)
    assert names == ["isyn_exc", "isyn_inh", "v"]
    v = next(s for s in seg.analogsignals if s.name == "v")
    assert v.shape == (501, 2) and v.units == pq.mV
    assert v.sampling_period == 0.1 * pq.ms and v.t_start == 0.0 * pq.ms
    assert v.magnitude[0].tolist() == [-60.0, -60.0]
    assert v.array_annotations["channel_index"].tolist() == [1, 2]
    isyn = next(s for s in seg.analogsignals if s.name == "isyn_exc")
    assert isyn.units == pq.nA and not isyn.magnitude.any()
    assert len(seg.spiketrains) == 4
    st = seg.spiketrains[0]
    assert st.units == pq.ms and st.t_stop == 50.0 * pq.ms and len(st) >= 1
    # a spike resets v: the sample of the spike's step is V_reset
    k = int(round(float(st.magnitude[0]) / 0.1))
    assert v.magnitude[k, 0] == -65.0 and v.magnitude[k - 1, 0] < -50.0


def test_sampling_interval_and_spike_times_follow_the_step_convention(sim):
    cells = sim.Population(1, sim.IF_curr_exp(i_offset=1.0))
    cells.record("v", sampling_interval=1.0)
    cells.record("spikes")
    other = sim.Population(1, sim.IF_curr_exp())
    with pytest.raises(ValueError, match=r"^sampling_interval must be a multiple of dt=0.1 ms, "
                                         r"not 0.25$"):
        other.record("v", sampling_interval=0.25)
    sim.run(20.0)
    sim.run(10.0)
    seg = cells.get_data().segments[0]
    assert seg.analogsignals[0].shape == (31, 1)
    assert seg.analogsignals[0].sampling_period == 1.0 * pq.ms
    assert spike_times_ms(np.array([277]), 0.1).tolist() == [27.8]
    assert seg.spiketrains[0].magnitude.tolist()[:1] == [27.8]


def test_write_data_through_pynn_io_reads_back(sim, tmp_path):
    cells = sim.Population(3, sim.IF_curr_exp(i_offset=1.2))
    cells.record(["spikes", "v"])
    sim.run(40.0)
    path = tmp_path / "cells.pkl"
    cells.write_data(str(path))
    block = get_io(str(path)).read_block()
    seg = block.segments[0]
    assert [len(st) for st in seg.spiketrains] == [len(st) for st in
                                                   cells.get_data().segments[0].spiketrains]
    assert seg.analogsignals[0].shape == (401, 3)
    assert block.annotations["simulator"] == "neuroaix"


def test_spike_counts_and_clear(sim):
    cells = sim.Population(2, sim.IF_curr_exp(i_offset=1.0))
    cells.record("spikes")
    sim.run(100.0)
    counts = cells.get_spike_counts()
    assert set(counts.values()) == {3}
    data = cells.get_data(clear=True)
    assert isinstance(data, neo.Block)
    sim.run(100.0)
    later = cells.get_data().segments[0].spiketrains[0]
    assert later.t_start == 100.0 * pq.ms and (later.magnitude > 100.0).all()


def test_analog_recording_after_the_first_run_is_refused(sim):
    cells = sim.Population(2, sim.IF_curr_exp())
    sim.run(1.0)
    with pytest.raises(RuntimeError, match=r"^neuroaix chooses the recorded cells of 'v' at "
                                           r"the first run\(\)"):
        cells.record("v")


def test_spike_sources_record_spikes_only(sim):
    src = sim.Population(2, sim.SpikeSourcePoisson(rate=10.0))
    from pyNN.errors import RecordingError
    with pytest.raises(RecordingError):
        src.record("v")


def test_recorded_data_stay_readable_after_end(sim):
    cells = sim.Population(2, sim.IF_curr_exp(i_offset=1.0))
    cells.record(["spikes", "v"])
    sim.run(30.0)
    before = cells.get_data().segments[0]
    sim.end()
    after = cells.get_data().segments[0]
    assert after.filter(name="v")[0].shape == (301, 2)
    assert [st.magnitude.tolist() for st in after.spiketrains] == \
        [st.magnitude.tolist() for st in before.spiketrains] != [[], []]

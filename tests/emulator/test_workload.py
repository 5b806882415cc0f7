import numpy as np
import pytest
from neuroaix.emulator import Emulator, HardwareConfig, counts_from_built
from neuroaix.emulator.config import TopologyConfig
from neuroaix.emulator.workload import emulate_model, simulate_raster

from neuroaix import models
from neuroaix.activity import ACTIVITY_KEYS

SMALL = HardwareConfig(topology=TopologyConfig(shape=(2, 2)))


def test_counts_follow_the_built_row_pointers():
    built = models.build("brunel", scale=0.02, seed=3).build(partitions=4)
    counts = counts_from_built(built)
    assert counts.shape == (4, built.n_neurons)
    for p, part in enumerate(built.partitions):
        np.testing.assert_array_equal(counts[p], np.diff(part.row_ptr))


def test_emulate_model_activity_matches_the_raster():
    out = emulate_model("brunel", SMALL, scale=0.02, t_sim_ms=20.0, t_presim_ms=10.0, seed=3)
    act = out["activity"]
    assert list(act) == list(ACTIVITY_KEYS)
    assert act["n_nodes"] == 4 and act["steps"] == 200
    assert act["bio_time_s"] == pytest.approx(0.02)
    # the same raster, emulated by hand, gives the same counts
    built = models.build("brunel", scale=0.02, seed=3).build(partitions=4)
    senders, steps = simulate_raster(built, 30.0)
    keep = steps >= 100
    counts = counts_from_built(built)
    res = Emulator(SMALL).run(counts, senders[keep], steps[keep] - 100, n_steps=200)
    assert res.activity.to_dict() == act
    assert act["spikes"] == int(keep.sum()) > 0
    assert act["synaptic_events"] == int(counts[:, senders[keep]].sum())
    assert act["neuron_updates"] == built.n_neurons * 200
    assert out["workload"]["model"] == "brunel"


def test_bad_model_arguments():
    with pytest.raises(ValueError, match=r"^model must be one of 'microcircuit', 'brunel', not "
                                         r"'brunell'; did you mean 'brunel'\?$"):
        emulate_model("brunell", SMALL)
    with pytest.raises(ValueError, match=r"^k_scale=0\.5 does not apply to the brunel model"):
        emulate_model("brunel", SMALL, k_scale=0.5)
    with pytest.raises(ValueError, match=r"^input='dc' does not apply to the brunel model"):
        emulate_model("brunel", SMALL, input="dc")
    with pytest.raises(ValueError, match=r"^input must be one of 'poisson', 'dc', not 'ac'$"):
        emulate_model("microcircuit", SMALL, input="ac")
    with pytest.raises(ValueError, match=r"^scale applies to a model name, not to a Network"):
        emulate_model(models.brunel(0.02), SMALL, scale=0.02)
    with pytest.raises(ValueError, match=r"^built network has 4 partitions but the cluster"):
        from neuroaix.emulator.workload import emulate_network
        emulate_network(models.build("brunel", scale=0.02).build(partitions=4), HardwareConfig(),
                        t_sim_ms=1.0)

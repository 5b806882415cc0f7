"""The CPU engine's two deliveries (gather by delay, immediate from the canonical rows), its
group table and its two schedules of partitions on threads: all leave the reference's raster,
rings, state and counters."""

import numpy as np
import pytest
from numba.typed import List

from neuroaix.engine import Simulator
from neuroaix.engine import _kernels as _k
from neuroaix.engine._cpu import (DELIVERIES, SCHEDULES, choose_delivery, choose_schedule,
                                  delay_rows)

from .conftest import assert_same_run, small_network


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("delivery", DELIVERIES)
def test_each_delivery_equals_the_reference_across_runs(delivery, threads):
    """Saturating weights (clamped additions, channels read at their bound), runs of 7, 13, 1
    and 39 steps that end with synapses in flight, and the delivery switched between runs."""
    built = small_network(w=60_000.0, rate_hz=20_000.0).build(partitions=3)
    ref = Simulator(built, backend="reference", progress=False)
    ref.run_steps(60)
    sim = Simulator(built, threads=threads, progress=False)
    other = next(d for d in DELIVERIES if d != delivery)
    for n, mode in ((7, delivery), (13, other), (1, delivery), (39, delivery)):
        sim.backend.delivery = mode
        sim.run_steps(n)
    assert ref.counters["saturations"] > 0
    assert_same_run(sim, ref)


def test_an_unknown_delivery_is_refused():
    sim = Simulator(small_network().build(partitions=2), threads=1, progress=False)
    sim.backend.delivery = "scatter"
    with pytest.raises(ValueError, match="delivery must be one of"):
        sim.run_steps(1)


def test_the_choice_is_a_known_delivery():
    assert {choose_delivery(p) for p in (1, 2, 4, 8, 16, 32, 35, 64)} <= set(DELIVERIES)


def test_a_partition_beyond_the_int32_group_table_is_refused():
    row_ptr = np.array([0, 1 << 31], np.int64)  # one source with 2**31 synapses
    syn = _k.SynapseRows(row_ptrs=List([row_ptr]), words=List([np.zeros(0, np.uint64)]))
    with pytest.raises(ValueError, match="int32 group table"):
        delay_rows(syn, np.array([1], np.int64))


@pytest.mark.parametrize("delivery", DELIVERIES)
@pytest.mark.parametrize("schedule", SCHEDULES)
def test_each_schedule_equals_the_reference(schedule, delivery):
    """Seven partitions on two threads, taken one by one or in fixed shares, runs of 11
    and 29 steps."""
    built = small_network(w=60_000.0, rate_hz=20_000.0).build(partitions=7)
    ref = Simulator(built, backend="reference", progress=False)
    ref.run_steps(40)
    sim = Simulator(built, threads=2, progress=False)
    assert sim.backend.schedule == "dynamic"  # more partitions than threads
    sim.backend.schedule, sim.backend.delivery = schedule, delivery
    sim.run_steps(11)
    sim.run_steps(29)
    assert ref.counters["spikes"] > 0
    assert_same_run(sim, ref)


def test_the_schedule_is_dynamic_only_with_more_partitions_than_threads():
    assert [choose_schedule(p, 4) for p in (1, 4, 5, 16)] == ["static", "static", "dynamic",
                                                              "dynamic"]


def test_an_unknown_schedule_is_refused():
    sim = Simulator(small_network().build(partitions=2), threads=1, progress=False)
    sim.backend.schedule = "guided"
    with pytest.raises(ValueError, match="schedule must be one of"):
        sim.run_steps(1)

"""Fixtures of the RTL tests: the scoreboard that checks a run against the reference."""

import numpy as np
import pytest

from neuroaix.rtl.model import RingReference, spike_timing


def check_run(workload, result, *, timing=True):
    """Assert a simulation result equal to the reference ring buffers and the cycle rule.

    Every slot read before a step's delivery, and every slot after the last step, must equal
    :class:`RingReference` exactly; the event counter too (the pipeline counts no
    saturations: the node counts the values read at their bound); with ``timing``,
    each step's accept/done cycles and length must equal :func:`spike_timing` given the cycles
    the driver offered each spike.
    """
    c = workload.config
    ref = RingReference(c.n_neurons, c.ring_depth)
    mask = c.ring_depth - 1
    for t, sources in enumerate(workload.spikes):
        np.testing.assert_array_equal(result.readouts[t], ref.read_and_clear(t & mask),
                                      err_msg=f"slot read before step {t}")
        ref.deliver(t, sources, workload.row_start, workload.row_length,
                    workload.synapse_words)
        if timing:
            n = c.n_sources
            starts = [int(workload.row_start[s]) if s < n else 0 for s in sources]
            lengths = [int(workload.row_length[s]) if s < n else 0 for s in sources]
            expect = spike_timing(c, starts, lengths, valid=result.valid[t])
            assert result.timing[t] == expect, f"step {t}"
    final = np.stack([ref.read_and_clear(s) for s in range(c.ring_depth)])
    np.testing.assert_array_equal(result.final, final, err_msg="ring after the last step")
    assert result.events == ref.events
    return ref


@pytest.fixture
def scoreboard():
    """Return :func:`check_run`."""
    return check_run

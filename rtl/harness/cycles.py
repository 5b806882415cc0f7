"""The calibration workloads and their measured cycle counts (``tests/data/rtl_cycles.json``).

:data:`CYCLE_WORKLOADS` names deterministic workloads; :func:`measure` runs one through the
RTL (amaranth.sim) and returns a JSON-ready record with the parameters, the spikes with
their row pointers, and the measured accept/done cycles per spike and cycles per step.
:func:`cycles_document` gathers all of them. The tests regenerate the document and compare it
with the committed file, and check every record against the cycle rule in
:func:`neuroaix.rtl.model.spike_timing`.
"""

from neuroaix.rtl.harness import workloads
from neuroaix.rtl.harness.pipeline_sim import Workload, simulate

__all__ = ["CYCLE_WORKLOADS", "measure", "cycles_document", "workload_record"]

#: Schema version of the cycle document.
SCHEMA = 1

#: Named calibration workloads: name -> zero-argument factory.
CYCLE_WORKLOADS = {
    "random_rows": lambda: workloads.random_workload(
        seed=11, n_neurons=32, ring_depth=16, n_sources=64, max_row=40, n_steps=3,
        spikes_per_step=12, max_burst=4, fifo_words=16, latency=12),
    "long_latency": lambda: workloads.random_workload(
        seed=12, n_neurons=64, ring_depth=32, n_sources=96, max_row=120, n_steps=2,
        spikes_per_step=10, max_burst=8, fifo_words=64, latency=40),
    "short_rows_credit_bound": lambda: workloads.random_workload(
        seed=13, n_neurons=16, ring_depth=8, n_sources=80, max_row=6, n_steps=2,
        spikes_per_step=40, max_burst=2, fifo_words=4, latency=20),
    "one_target_saturating": lambda: workloads.hazard_workload(
        seed=14, n_neurons=8, ring_depth=4, n_sources=6, row=21, n_steps=3, saturate=True,
        max_burst=2, fifo_words=8, latency=6),
    "brunel_partition": lambda: workloads.network_sample(
        workloads.small_brunel(), 1, seed=15, n_steps=2, spikes_per_step=12,
        max_burst=8, fifo_words=32, latency=40),
    "microcircuit_partition": lambda: workloads.network_sample(
        workloads.small_microcircuit(), 2, seed=16, n_steps=2, spikes_per_step=40,
        max_burst=8, fifo_words=32, latency=40),
}


def workload_record(workload: Workload) -> dict:
    """Return the JSON-ready description of a workload's steps (sources and row pointers)."""
    steps = []
    for t, sources in enumerate(workload.spikes):
        n = workload.config.n_sources
        steps.append({
            "step": t,
            "sources": [int(s) for s in sources],
            "row_start": [int(workload.row_start[s]) if s < n else 0 for s in sources],
            "row_length": [int(workload.row_length[s]) if s < n else 0 for s in sources],
        })
    return {"parameters": workload.config.to_dict(), "steps": steps}


def measure(workload: Workload) -> dict:
    """Simulate a workload in amaranth.sim and return its record with measured cycles.

    Each step gains ``accept`` and ``done`` (cycle per spike, counted from the first cycle
    of the step's delivery phase; ``done`` is -1 for a spike without local synapses) and
    ``cycles`` (the length of the delivery phase).
    """
    record = workload_record(workload)
    result = simulate(workload)
    for step, timing in zip(record["steps"], result.timing):
        step["accept"] = list(map(int, timing.accept))
        step["done"] = list(map(int, timing.done))
        step["cycles"] = int(timing.cycles)
    record["synaptic_events"] = int(result.events)
    return record


def cycles_document(names=None) -> dict:
    """Measure the named calibration workloads (all by default) and return the document."""
    names = list(CYCLE_WORKLOADS) if names is None else list(names)
    return {
        "schema": SCHEMA,
        "description": (
            "Cycle counts of the neuroaix synapse pipeline (RTL, amaranth.sim) per spike and "
            "per step; the rule is in docs/rtl.md and neuroaix.rtl.model.spike_timing."
        ),
        "workloads": {name: measure(CYCLE_WORKLOADS[name]()) for name in names},
    }

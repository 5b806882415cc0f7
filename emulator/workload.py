"""Workloads: run a model on the engine and emulate its raster on a cluster.

``emulate_model("microcircuit", "configs/neuroaix-35.toml", input="dc", t_sim_ms=1000.0)``
builds the network with one partition per node, simulates ``t_presim_ms + t_sim_ms`` on the
Numba engine, drops the spikes of the pre-simulation and emulates the rest; it returns
``EmulationResult.to_json()`` (with the ``activity`` dict of the energy model).
"""

from __future__ import annotations

import logging

import numpy as np

from neuroaix import models
from neuroaix.checks import check_number
from neuroaix.emulator.config import HardwareConfig, load_hardware
from neuroaix.emulator.engine import (
    EmulationResult,
    Emulator,
    counts_from_built,
    targets_from_built,
)
from neuroaix.engine import Simulator

__all__ = ["DEFAULTS", "emulate_model", "emulate_network", "simulate_raster"]

logger = logging.getLogger(__name__)

#: The emulator's defaults per model (``neuroaix.models.build(defaults=...)``): the full
#: scale, and the DC input of the paper for the microcircuit.
DEFAULTS = {"microcircuit": {"scale": 1.0, "k_scale": 1.0, "input": "dc"},
            "brunel": {"scale": 1.0}}


def _hardware(hardware) -> HardwareConfig:
    if isinstance(hardware, HardwareConfig):
        return hardware
    if isinstance(hardware, str) or hasattr(hardware, "__fspath__"):
        return load_hardware(hardware)
    raise TypeError(f"hardware must be a HardwareConfig or a TOML path, not {hardware!r}")


def _steps(name: str, ms: float, dt: float) -> int:
    check_number(name, ms, low=0, unit="ms")
    n = ms / dt
    if abs(n - round(n)) > 1e-9:
        raise ValueError(f"{name}={ms!r} ms must be a multiple of dt={dt!r} ms")
    return int(round(n))


def simulate_raster(built, t_ms: float, *, threads=None):
    """Simulate ``t_ms`` on the Numba engine; return ``(senders, steps)``."""
    sim = Simulator(built, threads=threads)
    sim.simulate(t_ms)
    senders, steps = sim.spikes()
    return np.asarray(senders, np.int64), np.asarray(steps, np.int64)


def emulate_network(built, hardware, *, t_sim_ms: float, t_presim_ms: float = 0.0,
                    threads=None) -> EmulationResult:
    """Simulate a built network and emulate its raster after the pre-simulation.

    Parameters
    ----------
    built : BuiltNetwork
        Built with ``partitions`` equal to the cluster's node count.
    hardware : HardwareConfig or path
        The cluster.
    t_sim_ms, t_presim_ms : float
        Emulated and discarded simulation time (ms, multiples of dt).
    threads : int, optional
        Engine threads.
    """
    hw = _hardware(hardware)
    n_parts = len(built.partitions)
    if n_parts != hw.n_nodes:
        raise ValueError(f"built network has {n_parts} partitions but the cluster has "
                         f"{hw.n_nodes} nodes; build with partitions={hw.n_nodes}")
    dt = float(built.dt)
    pre = _steps("t_presim_ms", t_presim_ms, dt)
    n = _steps("t_sim_ms", t_sim_ms, dt)
    if n == 0:
        raise ValueError("t_sim_ms must be > 0; give the time to emulate")
    senders, steps = simulate_raster(built, (pre + n) * dt, threads=threads)
    keep = steps >= pre
    counts = counts_from_built(built)
    targets = targets_from_built(built) if hw.node.model == "rtl" else None
    return Emulator(hw).run(counts, senders[keep], steps[keep] - pre, n_steps=n,
                            targets=targets)


def emulate_model(model, hardware, *, scale: float | None = None, k_scale: float | None = None,
                  input: str | None = None, t_sim_ms: float = 1000.0, t_presim_ms: float = 100.0,
                  seed: int = 12345, threads=None) -> dict:
    """Build, simulate and emulate a model; return ``EmulationResult.to_json()``.

    Parameters
    ----------
    model : str or Network
        ``"microcircuit"``, ``"brunel"``, or a ``neuroaix.Network``.
    hardware : HardwareConfig or path
        The cluster (a TOML file such as ``configs/neuroaix-35.toml``).
    scale, k_scale : float, optional
        Neuron and in-degree scaling of a named model (``DEFAULTS``: 1.0); brunel has no
        ``k_scale``.
    input : {"dc", "poisson"}, optional
        Background input of the microcircuit (``DEFAULTS``: dc); brunel has its own Poisson
        drive and refuses it.
    t_sim_ms, t_presim_ms : float
        Emulated time and discarded warm-up (ms).
    seed : int
        Network seed.
    threads : int, optional
        Engine threads.

    Returns
    -------
    dict
        The result as data, including ``activity`` (``neuroaix.energy.Activity.to_dict``).

    Raises
    ------
    ValueError
        For an unknown model, a parameter the model does not have, or model parameters
        given with a ``Network``.
    """
    hw = _hardware(hardware)
    if isinstance(model, str):
        net = models.build(model, scale=scale, k_scale=k_scale, input=input, seed=seed,
                           defaults=DEFAULTS)
    elif hasattr(model, "build"):
        given = [k for k, v in (("scale", scale), ("k_scale", k_scale), ("input", input))
                 if v is not None]
        if given:
            raise ValueError(f"{given[0]} applies to a model name, not to a Network; build "
                             "the Network with it instead")
        net = model
    else:
        raise TypeError(f"model must be a model name or a Network, not {model!r}")
    built = net.build(partitions=hw.n_nodes)
    result = emulate_network(built, hw, t_sim_ms=t_sim_ms, t_presim_ms=t_presim_ms,
                             threads=threads)
    out = result.to_json()
    # scale, k_scale and input as recorded before brunel refused the last two: the defaults
    out["workload"] = {"model": model if isinstance(model, str) else type(model).__name__,
                       "scale": 1.0 if scale is None else scale,
                       "k_scale": 1.0 if k_scale is None else k_scale,
                       "input": "dc" if input is None else input,
                       "t_sim_ms": t_sim_ms, "t_presim_ms": t_presim_ms, "seed": seed}
    return out

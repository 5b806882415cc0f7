"""Checkpoint files: the whole state of a run, restorable into any partitioning.

A checkpoint is a NumPy ``.npz`` archive (read with ``allow_pickle=False``) of the arrays
``v``, ``i_ex``, ``i_in``, ``ref``, ``rng``, ``ring``, ``d_ex``, ``d_in`` (global order),
``counters``,
``senders``, ``steps`` and one ``meta`` string: JSON with the format name and version, the
step, the network fingerprint, the network's inputs and the sha256 checksum of the arrays.
It is written to a temporary name, flushed to disk and renamed, so a crash never leaves a
half-written file under the final name. Reading checks, in order: that the file is an
archive, a neuroaix checkpoint of this format version, intact (checksum), and saved for
this network and these inputs; anything else raises ``CheckpointError`` with one line that
names the file and what is wrong. Format 2 (before ``d_ex``, ``d_in``, which only
``iaf_psc_alpha`` neurons use) still restores: its networks had none, so both are zero.
"""

from __future__ import annotations

import hashlib
import json
import os

import numpy as np

from neuroaix.engine.backend import STATE_KEYS
from neuroaix.engine.state import COUNTERS
from neuroaix.outputs import ARCHIVE_ERRORS, archive_checksum, archive_error, archive_problem

__all__ = ["CHECKPOINT_VERSION", "CheckpointError", "fingerprint", "inputs",
           "read_checkpoint", "write_checkpoint"]

#: Version of the checkpoint file layout (1: before the meta record, refused; 2: before
#: ``d_ex``, ``d_in``, read with both zero).
CHECKPOINT_VERSION = 3
_FORMAT = "neuroaix-checkpoint"
#: The arrays of a checkpoint, in checksum order.
ARRAY_KEYS = STATE_KEYS + ("counters", "senders", "steps")
#: The arrays added by format 3.
_NEW_IN_3 = ("d_ex", "d_in")
#: The arrays of each format that still restores.
_KEYS_OF = {2: tuple(k for k in ARRAY_KEYS if k not in _NEW_IN_3), 3: ARRAY_KEYS}


class CheckpointError(ValueError):
    """A checkpoint that cannot be restored: damaged, of another version or network."""


def fingerprint(network, n_synapses: int) -> dict:
    """Return what identifies a network across partitionings (saved in checkpoints).

    Parameters
    ----------
    network : BuiltNetwork
        The built network.
    n_synapses : int
        Its synapses in total (all ranks of a distributed build).
    """
    h = hashlib.sha256()
    h.update(repr((float(network.dt), int(network.max_delay),
                   [list(p) for p in network.populations])).encode())
    for name in ("pop_of", "v0", "coefficients"):
        h.update(np.ascontiguousarray(getattr(network, name)).tobytes())
    if network.engine_only() or network.source_step.size:
        # models and inputs beyond iaf_psc_exp with Poisson/DC (not hashed otherwise, so the
        # fingerprints of such networks are those of earlier versions)
        for name in ("model_kind", "alpha_coefficients", "stim_of", "stim_ptr", "stim_step",
                     "stim_value", "source_step", "source_gid"):
            h.update(np.ascontiguousarray(getattr(network, name)).tobytes())
    return {"n_neurons": int(network.n_neurons), "n_synapses": int(n_synapses),
            "seed": int(network.seed), "ring_depth": int(network.ring_depth),
            "parameters": h.hexdigest()}


def inputs(network) -> dict:
    """Return the background input of every population: ``{name: description}``.

    A description is ``"poisson <digest>"`` (Poisson input; the digest of its rate table and
    weight), ``"dc"`` (a constant current I_e) or ``"none"``.
    """
    out = {}
    for k, (name, _, _) in enumerate(network.populations):
        if bool(network.has_poisson[k]):
            h = hashlib.sha256(np.ascontiguousarray(network.poisson_table[k]).tobytes())
            h.update(np.int64(network.poisson_weight[k]).tobytes())
            out[name] = f"poisson {h.hexdigest()[:16]}"
        else:
            out[name] = "dc" if int(network.coefficients[k][8]) != 0 else "none"
    return out


def write_checkpoint(path, *, t: int, fingerprint: dict, inputs: dict,
                     arrays: dict[str, np.ndarray]) -> None:
    """Write a checkpoint to ``path`` atomically (temporary name, fsync, rename).

    Parameters
    ----------
    path : str or os.PathLike
        Destination.
    t : int
        The next step to simulate.
    fingerprint, inputs : dict
        ``fingerprint(network, n_synapses)`` and ``inputs(network)``.
    arrays : dict
        ``ARRAY_KEYS``: the state in global order, the counters, the raster.
    """
    path = os.fspath(path)
    arrays = {k: np.ascontiguousarray(arrays[k]) for k in ARRAY_KEYS}
    meta = {"format": _FORMAT, "version": CHECKPOINT_VERSION, "t": int(t),
            "fingerprint": fingerprint, "inputs": inputs,
            "sha256": archive_checksum(arrays, ARRAY_KEYS)}
    tmp = path + ".partial"
    try:
        with open(tmp, "wb") as fh:
            np.savez(fh, meta=np.array(json.dumps(meta, sort_keys=True)), **arrays)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def read_checkpoint(path, *, fingerprint: dict, inputs: dict) -> dict:
    """Return a checkpoint's arrays and step ``t`` after checking it fits the network.

    Parameters
    ----------
    path : str or os.PathLike
        The checkpoint.
    fingerprint, inputs : dict
        Those of the network to restore into (``fingerprint``, ``inputs``).

    Returns
    -------
    dict
        ``ARRAY_KEYS`` and ``t``.

    Raises
    ------
    CheckpointError
        If the file is missing, not a checkpoint, damaged (truncated, corrupt, empty),
        of another format version, or saved for another network or other inputs.
    """
    path = os.fspath(path)

    def fail(what: str) -> CheckpointError:
        return CheckpointError(f"checkpoint {path!r} {what}")

    problem = archive_problem(path)
    if problem and problem.startswith("does not exist"):
        raise fail(f"{problem}; give the path of a checkpoint written with --checkpoint")
    if problem == "is empty":
        raise fail("is empty; it was not written completely, use another checkpoint")
    if problem:
        raise fail(f"is not a checkpoint ({problem.removeprefix('is ')}); give the path of a "
                   "checkpoint written with --checkpoint")
    try:
        with np.load(path, allow_pickle=False) as data:
            keys = set(data.files)
            if "meta" not in keys:
                if "version" in keys and "fingerprint" in keys:
                    raise fail(f"has the old checkpoint format {int(data['version'])}, which "
                               f"this version (format {CHECKPOINT_VERSION}) cannot restore; "
                               "rerun the simulation with --checkpoint to write a new one")
                raise fail("is an archive without checkpoint metadata, not a neuroaix "
                           "checkpoint")
            meta = json.loads(str(data["meta"]))
            if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
                raise fail("is not a neuroaix checkpoint (unknown metadata)")
            version = meta.get("version")
            if version not in _KEYS_OF:
                raise fail(f"has checkpoint format {version!r}, not "
                           f"{CHECKPOINT_VERSION}; write it again with this version")
            saved = _KEYS_OF[version]
            missing = [k for k in saved if k not in keys]
            if missing:
                raise fail(f"lacks the arrays {missing}; it is damaged")
            arrays = {k: data[k] for k in saved}
    except CheckpointError:
        raise
    except ARCHIVE_ERRORS as exc:
        reason = archive_error(exc)
        raise fail(f"is damaged or not a checkpoint ({reason}); use another checkpoint") \
            from None
    if archive_checksum(arrays, saved) != meta.get("sha256"):
        raise fail("is corrupt (its checksum does not match its contents); use another "
                   "checkpoint")
    for k in ARRAY_KEYS:
        if k not in arrays:  # format 2: no iaf_psc_alpha neurons, D was zero
            arrays[k] = np.zeros_like(arrays["v"])
    if meta.get("inputs") != inputs:
        saved, here = _input_text(meta.get("inputs")), _input_text(inputs)
        if saved == here:
            saved, here = f"{saved} (other rates or weights)", f"{here} (these)"
        raise fail(f"was saved for a network with {saved} input, this one has {here} input; "
                   "build the network with the same input (e.g. --input) to restore it")
    if meta.get("fingerprint") != fingerprint:
        raise fail(f"was saved for another network ({_fingerprint_text(meta.get('fingerprint'))}"
                   f"; this one has {_fingerprint_text(fingerprint)}); build the same network "
                   "(model, scale, seed) to restore it")
    n = fingerprint["n_neurons"]
    shapes = {"v": (n,), "i_ex": (n,), "i_in": (n,), "ref": (n,), "rng": (n,),
              "d_ex": (n,), "d_in": (n,),
              "ring": (fingerprint["ring_depth"], 2, n), "counters": (len(COUNTERS),)}
    bad = [k for k, shape in shapes.items() if arrays[k].shape != shape]
    if bad or arrays["senders"].shape != arrays["steps"].shape:
        raise fail(f"has arrays of the wrong shape ({bad or ['senders', 'steps']}); it is "
                   "damaged")
    arrays["t"] = meta.get("t")
    if not isinstance(arrays["t"], int) or arrays["t"] < 0:
        raise fail(f"has an invalid step {arrays['t']!r}; it is damaged")
    return arrays


def _input_text(desc) -> str:
    if not isinstance(desc, dict):
        return repr(desc)
    kinds = sorted({str(v).split()[0] for v in desc.values()})
    return "/".join(kinds) if kinds != ["poisson"] else "poisson"


def _fingerprint_text(fp) -> str:
    if not isinstance(fp, dict):
        return repr(fp)
    return ", ".join(f"{k} {v if k != 'parameters' else str(v)[:12]}" for k, v in fp.items())

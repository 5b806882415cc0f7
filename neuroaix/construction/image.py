"""Saved networks: a ``BuiltNetwork`` as a file, loadable into any number of partitions.

A network built once (through the Network API, PyNN or a NIR graph) is saved with
``write_image`` and run, emulated or energy-estimated later from the file
(``neuroaix run --network``, ``neuroaix emulate --network``; docs/io.md). The file is a NumPy
``.npz`` archive read with ``allow_pickle=False``: every array of the ``BuiltNetwork``
(neuron tables, initial potentials, coefficients, input tables) in global order, the
synapses as global arrays ``source``, ``target``, ``weight``, ``delay`` (already quantised:
I-format weights, delays in steps) and one ``meta`` string, JSON with the format name and
version, the scalars and populations, the network's fingerprint and the sha256 checksum of
the arrays. It is written atomically (``neuroaix.outputs.atomic_path``).

``read_image(path, partitions=P)`` repacks the synapses for ``P`` partitions: each
partition's rows keep the saved order, so a network saved from a one-partition build loads
into the very storage a fresh build with ``P`` partitions has; the synapse hash is equal for
every ``P``. Reading checks that the file is an archive, of this format and version, and
intact (checksum); anything else raises ``NetworkFileError`` with one line naming the file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os

import numpy as np

from neuroaix import formats
from neuroaix.construction.built import BuiltNetwork, Partition
from neuroaix.outputs import (ARCHIVE_ERRORS, archive_checksum, archive_error, archive_problem,
                              atomic_path)

__all__ = ["IMAGE_VERSION", "NetworkFileError", "network_fingerprint", "read_image",
           "write_image"]

#: Version of the saved-network layout.
IMAGE_VERSION = 1
_FORMAT = "neuroaix-network"
#: BuiltNetwork fields that a file does not keep: the partitioning is chosen on loading.
_NOT_SAVED = ("partitions", "threads", "build_seconds", "owned")
_SYNAPSES = ("source", "target", "weight", "delay")


class NetworkFileError(ValueError):
    """A saved network that cannot be loaded: missing, damaged, of another version."""


def _fields():
    return [f.name for f in dataclasses.fields(BuiltNetwork) if f.name not in _NOT_SAVED]


def network_fingerprint(built: BuiltNetwork) -> str:
    """Return the sha256 that identifies a built network for every partitioning.

    It covers dt, the seed, the populations, every neuron table and input table and the
    synapse hash (``BuiltNetwork.synapse_hash``): equal for the network a file was saved
    from and the network loaded from it, in any number of partitions.
    """
    h = hashlib.sha256()
    tables = {}
    for name in _fields():
        value = getattr(built, name)
        if isinstance(value, np.ndarray):
            a = np.ascontiguousarray(value)
            h.update(f"{name} {a.dtype.str} {a.shape}\n".encode())
            h.update(a.tobytes())
        else:
            tables[name] = value
    h.update(json.dumps(_plain(tables), sort_keys=True).encode())
    h.update(built.synapse_hash().encode())
    return h.hexdigest()


def _plain(value):
    """Return ``value`` as JSON data (tuples as lists, NumPy scalars as numbers)."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"a saved network cannot hold {type(value).__name__} values")


def write_image(path: str | os.PathLike, built: BuiltNetwork) -> dict:
    """Save ``built`` to ``path`` atomically and return the file's metadata.

    Parameters
    ----------
    path : str or os.PathLike
        The file (``.npz``); missing folders are created.
    built : BuiltNetwork
        A network with all partitions stored (not a ``build(only=...)`` part).

    Raises
    ------
    ValueError
        If ``built`` stores only some partitions.
    """
    if built.owned is not None:
        raise ValueError("this network stores only the partitions "
                         f"{list(built.owned)}; save a full build (build without only=...)")
    arrays, scalars = {}, {}
    for name in _fields():
        value = getattr(built, name)
        if isinstance(value, np.ndarray):
            arrays[name] = np.ascontiguousarray(value)
        else:
            scalars[name] = _plain(value)
    src, tgt, w, d = built.synapses()
    arrays.update(source=src.astype(np.int64), target=tgt.astype(np.int64),
                  weight=w.astype(np.int32), delay=d.astype(np.int32))
    meta = {"format": _FORMAT, "version": IMAGE_VERSION, "fields": scalars,
            "arrays": sorted(arrays), "n_synapses": int(src.size),
            "fingerprint": network_fingerprint(built), "sha256": archive_checksum(arrays)}
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, meta=np.array(json.dumps(meta, sort_keys=True)), **arrays)
    return meta


def read_image(path: str | os.PathLike, *, partitions: int = 1) -> tuple[BuiltNetwork, dict]:
    """Load a saved network into ``partitions`` partitions; return it and the metadata.

    Parameters
    ----------
    path : str or os.PathLike
        A file written by ``write_image``.
    partitions : int
        Number of partitions P of the loaded network (neuron ``gid`` on ``gid % P``).

    Raises
    ------
    NetworkFileError
        If the file is missing, not a saved network, damaged or of another version, or
        ``partitions`` puts more neurons on a partition than the synapse format addresses.
    """
    path = os.fspath(path)

    def fail(what: str) -> NetworkFileError:
        return NetworkFileError(f"network file {path!r} {what}")

    problem = archive_problem(path)
    if problem and problem.startswith("does not exist"):
        raise fail(f"{problem}; give a network saved with Network.save "
                   "(neuroaix.construction.image.write_image)")
    if problem:
        raise fail(f"is not a saved network ({problem.removeprefix('is ')})")
    try:
        with np.load(path, allow_pickle=False) as data:
            if "meta" not in data.files:
                kind = "a run's spikes.npz" if "senders" in data.files else "an archive"
                raise fail(f"is {kind} without network metadata, not a saved network")
            meta = json.loads(str(data["meta"]))
            if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
                raise fail("is not a saved network (unknown metadata; a checkpoint?)")
            if meta.get("version") != IMAGE_VERSION:
                raise fail(f"has network format {meta.get('version')!r}, not {IMAGE_VERSION}; "
                           "save it again with this version")
            names = meta.get("arrays", [])
            missing = [k for k in names if k not in data.files]
            if missing:
                raise fail(f"lacks the arrays {missing}; it is damaged")
            arrays = {k: data[k] for k in names}
    except NetworkFileError:
        raise
    except ARCHIVE_ERRORS as exc:
        reason = archive_error(exc)
        raise fail(f"is damaged or not a saved network ({reason})") from None
    if archive_checksum(arrays) != meta.get("sha256"):
        raise fail("is corrupt (its checksum does not match its contents)")
    fields = dict(meta["fields"])
    known = set(_fields())
    unknown = sorted((set(fields) | set(arrays)) - known - set(_SYNAPSES))
    absent = sorted(f.name for f in dataclasses.fields(BuiltNetwork)
                    if f.name in known and f.name not in fields and f.name not in arrays
                    and f.default is dataclasses.MISSING
                    and f.default_factory is dataclasses.MISSING)
    if unknown or absent:
        raise fail(f"does not match this version's networks (unknown {unknown}, missing "
                   f"{absent}); save it again with this version")
    n = int(fields["n_neurons"])
    if partitions < 1 or -(-n // partitions) > formats.MAX_LOCAL_TARGETS:
        need = -(-n // formats.MAX_LOCAL_TARGETS)
        raise fail(f"cannot be loaded into {partitions} partitions; use partitions >= "
                   f"{max(need, 1)}")
    fields["populations"] = [tuple(p) for p in fields["populations"]]
    src, tgt = arrays["source"], arrays["target"]
    parts = []
    for p in range(partitions):
        mine = np.flatnonzero(tgt % partitions == p)  # saved order kept within each row
        row_ptr = np.zeros(n + 1, np.int64)
        np.cumsum(np.bincount(src[mine], minlength=n), out=row_ptr[1:])
        words = formats.pack_synapses(tgt[mine] // partitions, arrays["weight"][mine],
                                      arrays["delay"][mine])
        parts.append(Partition(index=p, n_parts=partitions, n_neurons=n, row_ptr=row_ptr,
                               words=words))
    tables = {k: v for k, v in arrays.items() if k not in _SYNAPSES}
    built = BuiltNetwork(**fields, **tables, partitions=parts)
    return built, meta

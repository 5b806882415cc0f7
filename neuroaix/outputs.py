"""Output safety of the commands: preflight, no silent overwrite, atomic writes, signals.

Every command names its outputs before it starts work and checks them with ``check_file`` and
``check_folder``: a file where a folder is meant (or the reverse), a place that cannot be
written and a previous result (unless ``force``) are refused at once, with the path and the
fix, instead of after a long run. Results are written with ``atomic_path`` (or
``write_bytes`` / ``write_json``): a temporary name in the same folder, flushed to disk,
then renamed over the final name, so a crash, a signal or SIGKILL mid-write leaves the old
file or the new one, never a torn one. ``signal_guard`` turns SIGTERM (what ``kill`` and
batch schedulers send) into the same path as Ctrl-C, and ``interrupt_message`` says in one
line which signal came, in which phase, and what was kept (docs/reliability.md).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import pickle
import secrets
import signal
import sys
import tempfile
import threading
import zipfile
import zlib
from collections.abc import Iterable, Iterator

from neuroaix._version import __version__

__all__ = ["ARCHIVE_ERRORS", "Interrupted", "acknowledge_interrupt", "archive_error",
           "archive_checksum", "archive_problem", "atomic_path", "check_file", "check_folder",
           "current_phase", "exit_status", "format_duration", "interrupt_lost",
           "interrupt_message", "note_written", "phase", "provenance", "read_json", "reset",
           "signal_guard", "write_bytes", "write_json", "written"]

#: Exit status of a run ended by a signal: 128 + the signal number (shell convention).
_EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143}


class Interrupted(KeyboardInterrupt):
    """A command stopped by a signal after keeping what it had; the argument says what."""


class _State:
    """What the running command has written, in which phase it is, and what stopped it."""

    command: str | None = None
    written: list[str] = []
    phase: str | None = None
    signum: int | None = None
    signal_phase: str | None = None  #: the phase when the first signal came


def reset(command: str | None = None) -> None:
    """Start a command: forget the written files, the phase and the signal.

    Parameters
    ----------
    command : str or None
        The command's name; with one, each ``phase`` says on stderr that it starts.
    """
    _State.command = command
    _State.written = []
    _State.phase = None
    _State.signum = None
    _State.signal_phase = None


def written() -> list[str]:
    """Return the paths written so far by the running command, in order."""
    return list(_State.written)


def note_written(path: str | os.PathLike) -> None:
    """Record that ``path`` was written atomically by other code (e.g. a checkpoint)."""
    _State.written.append(os.fspath(path))


def current_phase() -> str | None:
    """Return the phase the running command is in (None outside ``phase``)."""
    return _State.phase


@contextlib.contextmanager
def phase(name: str, detail: str = "") -> Iterator[None]:
    """Label the work inside the block (``"build"``, ``"presimulation"``, ...) for messages.

    Under a command (``reset(command)``) the start of the phase is announced on stderr, so
    that a long build or emulation is not silent.

    Parameters
    ----------
    name : str
        Phase name as it reads in "interrupted during the NAME".
    detail : str
        What the phase works on, appended to the announcement.
    """
    if _State.command:
        print(f"neuroaix {_State.command}: {name}{' ' + detail if detail else ''}...",
              file=sys.stderr, flush=True)
    previous, _State.phase = _State.phase, name
    yield  # an exception leaves the phase set: the message names where it happened
    _State.phase = previous


def format_duration(seconds: float) -> str:
    """Return a duration for people: ``"42 s"``, ``"3 min 20 s"``, ``"2 h 05 min"``.

    Parameters
    ----------
    seconds : float
        The duration; NaN or negative reads ``"unknown"``, beyond a year ``"over a year"``.
    """
    if not (seconds >= 0):  # NaN too
        return "unknown"
    if seconds < 60:
        return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"
    if seconds < 3600:
        m, sec = divmod(round(seconds), 60)
        return f"{m} min {sec:02d} s"
    if seconds < 86400:
        h, m = divmod(round(seconds / 60), 60)
        return f"{h} h {m:02d} min"
    if seconds < 365 * 86400:
        return f"{seconds / 86400:.1f} days"
    return "over a year"


# Preflight -------------------------------------------------------------------------------


def _nearest_existing(path: str) -> str:
    """Return the nearest existing ancestor of ``path`` (``path`` itself if it exists)."""
    path = os.path.abspath(path)
    while not os.path.lexists(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return path


def _check_creatable(folder: str, path: str, option: str) -> None:
    """Refuse ``folder`` (the folder of output ``path``) if it cannot be created or written."""
    base = _nearest_existing(folder)
    if not os.path.isdir(base):
        raise ValueError(f"{option} {path!r}: {base!r} is a file, not a folder; choose a path "
                         "whose folders are folders")
    try:  # root passes os.access everywhere: try the folder itself
        fd, probe = tempfile.mkstemp(prefix=".neuroaix-probe-", dir=base)
    except OSError as exc:
        raise ValueError(f"{option} {path!r}: cannot write in {base!r} ({exc.strerror}); "
                         "choose a writable place") from None
    os.close(fd)
    os.unlink(probe)


def check_file(path: str | os.PathLike | None, *, option: str, force: bool = False) -> None:
    """Check an output file before any work: writable, not a folder, no previous result.

    Missing folders on the way are created when the file is written.

    Parameters
    ----------
    path : str, os.PathLike or None
        The output file; None (output not requested) passes.
    option : str
        The option that named it (``"--json"``), for the message.
    force : bool
        Allow replacing an existing file.

    Raises
    ------
    ValueError
        If the path is a folder, lies below a file or in a place that cannot be written, or
        names an existing file and ``force`` is false.
    """
    if path is None:
        return
    path = os.fspath(path)
    if os.path.isdir(path):
        raise ValueError(f"{option} {path!r} is a folder; name a file")
    if os.path.lexists(path) and not force:
        raise ValueError(f"{option} {path!r} exists (a previous result); pass --force to "
                         "replace it or choose another name")
    _check_creatable(os.path.dirname(os.path.abspath(path)), path, option)


def check_folder(path: str | os.PathLike, names: Iterable[str], *, option: str,
                 force: bool = False) -> None:
    """Check an output folder before any work: a folder (or creatable), no previous result.

    Parameters
    ----------
    path : str or os.PathLike
        The output folder.
    names : iterable of str
        The files the command writes into it.
    option : str
        The option that named it (``"--out"``), for the message.
    force : bool
        Allow replacing files of a previous result.

    Raises
    ------
    ValueError
        If the path is a file, lies below a file or in a place that cannot be written, or
        holds one of ``names`` and ``force`` is false.
    """
    path = os.fspath(path)
    if os.path.lexists(path) and not os.path.isdir(path):
        raise ValueError(f"{option} {path!r} is a file; name a folder")
    old = [n for n in names if os.path.lexists(os.path.join(path, n))]
    if old and not force:
        raise ValueError(f"{option} {path!r} holds a previous result ({', '.join(old)}); pass "
                         "--force to replace it or choose another folder")
    for n in names:
        if os.path.isdir(os.path.join(path, n)):
            raise ValueError(f"{option} {path!r}: {n!r} in it is a folder; remove it or "
                             "choose another folder")
    _check_creatable(os.path.abspath(path), path, option)


# Atomic writes ---------------------------------------------------------------------------


def _fsync_folder(folder: str) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _create_beside(folder: str, stem: str, ext: str) -> str:
    """Create an empty file with a fresh hidden name in ``folder`` (mode 0666 less umask)."""
    for _ in range(100):
        tmp = os.path.join(folder, f".{stem}.{secrets.token_hex(4)}.partial{ext}")
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return tmp
    raise FileExistsError(f"no free temporary name beside {stem + ext!r} in {folder!r}")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[str]:
    """Yield a temporary path beside ``path``; on success move it onto ``path`` atomically.

    The temporary name keeps the extension (writers such as matplotlib choose the format by
    it). After the block the file is flushed to disk (``fsync``) and renamed with
    ``os.replace``; on an exception (or a signal) it is removed and ``path`` is untouched.
    Missing folders are created.

    Parameters
    ----------
    path : str or os.PathLike
        Final name.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    base = os.path.basename(path)
    stem, ext = os.path.splitext(base)
    tmp = _create_beside(folder, stem, ext)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_folder(folder)
    _State.written.append(path)


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see ``atomic_path``)."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fh.write(data)


def _null_nonfinite(doc):
    if isinstance(doc, float):
        return doc if math.isfinite(doc) else None
    if isinstance(doc, dict):
        return {k: _null_nonfinite(v) for k, v in doc.items()}
    if isinstance(doc, (list, tuple)):
        return [_null_nonfinite(v) for v in doc]
    return doc


def write_json(path: str | os.PathLike, doc, *, indent: int = 2,
               nonfinite_as_null: bool = False) -> None:
    """Write ``doc`` as strict JSON (no NaN or infinity) to ``path`` atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Final name.
    doc : object
        JSON-serialisable document.
    indent : int
        Indentation.
    nonfinite_as_null : bool
        Write NaN and infinities as ``null`` (statistics that are undefined, e.g. the ISI
        CV of a silent population) instead of refusing them with ValueError.
    """
    if nonfinite_as_null:
        doc = _null_nonfinite(doc)
    write_bytes(path, (json.dumps(doc, indent=indent, allow_nan=False) + "\n").encode())


def read_json(path: str | os.PathLike, *, what: str):
    """Return the JSON document in ``path``, or raise one clean error naming the file.

    Parameters
    ----------
    path : str or os.PathLike
        The input file.
    what : str
        What the file should hold and which command writes it, for the message (e.g.
        ``"an emulator result (neuroaix emulate --json)"``).

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If it is not UTF-8 JSON (damaged, truncated, empty) or is not a JSON object.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path!r} does not exist or is not a file; it should hold "
                                f"{what}")
    try:
        with open(path, "rb") as fh:
            doc = json.loads(fh.read().decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path!r} is not text (byte {exc.start} is not UTF-8); it should "
                         f"hold {what}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path!r} is not valid JSON ({exc.msg} at line {exc.lineno} column "
                         f"{exc.colno}); it should hold {what}") from None
    if not isinstance(doc, dict):
        raise ValueError(f"{path!r} holds a JSON {type(doc).__name__}, not an object; it "
                         f"should hold {what}")
    return doc


#: What reading a damaged or foreign ``.npz`` archive raises (``numpy.load`` with
#: ``allow_pickle=False``): truncated, corrupt or not an archive at all.
ARCHIVE_ERRORS = (OSError, EOFError, ValueError, KeyError, TypeError, zipfile.BadZipFile,
                  zlib.error, pickle.UnpicklingError, UnicodeDecodeError)


def archive_problem(path: str | os.PathLike) -> str | None:
    """Return what keeps ``path`` from being a NumPy ``.npz`` archive, or None if it is one.

    The answers complete "FILE ...": ``"does not exist (or is not a file)"``, ``"is empty"``,
    ``"is a single .npy array"`` or ``"is not a NumPy .npz archive"``.
    """
    if not os.path.isfile(path):
        return "does not exist (or is not a file)"
    if os.path.getsize(path) == 0:
        return "is empty"
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic[:2] == b"PK":
        return None
    return "is a single .npy array" if magic == b"\x93NUM" else "is not a NumPy .npz archive"


def archive_checksum(arrays, keys: Iterable[str] | None = None) -> str:
    """Return the SHA-256 (hex) that saved archives store over their arrays.

    Each array in turn contributes the line ``"KEY DTYPE SHAPE\\n"`` (NumPy's dtype string and
    the shape as a tuple, a 0-d array counted as shape ``(1,)``) and then its bytes in C order.

    Parameters
    ----------
    arrays : dict
        Name -> NumPy array.
    keys : iterable of str, optional
        The names to hash, in that order; all of ``arrays`` in sorted order if omitted.
    """
    h = hashlib.sha256()
    for key in sorted(arrays) if keys is None else keys:
        a = arrays[key]
        shape = a.shape if a.ndim else (1,)
        h.update(f"{key} {a.dtype.str} {shape}\n".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def archive_error(exc: BaseException) -> str:
    """Return one of ``ARCHIVE_ERRORS`` as one line: ``"Kind: message"``."""
    return " ".join(f"{type(exc).__name__}: {exc}".split())


# Records ---------------------------------------------------------------------------------


def provenance(*, model: str | None = None, scale: float | None = None,
               seed: int | None = None, input: str | None = None,
               hardware: str | None = None, restored: str | None = None,
               network: str | None = None, network_fingerprint: str | None = None) -> dict:
    """Return the fields every JSON output carries: what produced it, from what.

    Parameters
    ----------
    model, scale, seed, input : optional
        The network as built (None where it does not apply, e.g. ``input`` of Brunel's
        model, which has no choice of background input).
    hardware : str or None
        Name of the hardware configuration, or None without one.
    restored : str or None
        The checkpoint a run continued from, or None.
    network, network_fingerprint : str or None
        The saved network file a run or emulation loaded (``--network``) and its
        fingerprint, or None for a built-in model.
    """
    return {"neuroaix_version": __version__, "model": model, "scale": scale, "seed": seed,
            "input": input, "hardware_config": hardware, "restored": restored is not None,
            "restored_from": restored, "network_file": network,
            "network_fingerprint": network_fingerprint}


# Signals ---------------------------------------------------------------------------------


@contextlib.contextmanager
def signal_guard() -> Iterator[None]:
    """Treat SIGTERM as Ctrl-C inside the block, remembering which of them came.

    SIGTERM is handed to the SIGINT handler in force when it arrives, so code that defers
    Ctrl-C to a safe point (the engine stops after the current chunk of steps) stops there
    on SIGTERM too; elsewhere both raise ``KeyboardInterrupt``. An interrupt raised where
    Python discards exceptions (a callback of the JIT compiler) would be lost: until it is
    caught (``acknowledge_interrupt``) or the block ends, the signal is delivered again
    every second. A signal that is ignored when the block starts (SIGINT of a background
    job) stays ignored. Outside the main thread the block runs unguarded.
    """
    def on_signal(signum, frame):
        if _State.signum is None:
            _State.signal_phase = _State.phase
        _State.signum = signum
        if not _Guard.active:  # a redelivery that arrives as the block ends
            return
        handler = signal.getsignal(signal.SIGINT)
        if signum == signal.SIGTERM and callable(handler) and handler is not on_signal:
            handler(signal.SIGINT, frame)  # e.g. the engine's stop-after-this-chunk flag
            return
        with _Guard.lock:
            _Guard.pending = signum
            if _Guard.active and _Guard.watcher is None:
                _Guard.watcher = threading.Thread(target=_redeliver, daemon=True)
                _Guard.watcher.start()
        raise KeyboardInterrupt

    before = {}
    for s in (signal.SIGINT, signal.SIGTERM):
        try:
            if signal.getsignal(s) is not signal.SIG_IGN:
                before[s] = signal.signal(s, on_signal)
        except ValueError:  # not the main thread
            break
    with _Guard.lock:
        _Guard.active, _Guard.pending = bool(before), None
        _Guard.done.clear()
    previous_hook = sys.unraisablehook

    def quiet_interrupts(unraisable):  # the lost interrupt is delivered again: no traceback
        if not issubclass(unraisable.exc_type, KeyboardInterrupt):
            previous_hook(unraisable)

    sys.unraisablehook = quiet_interrupts
    try:
        yield
    finally:
        sys.unraisablehook = previous_hook
        with _Guard.lock:
            _Guard.active = False  # no more redeliveries
            watcher, _Guard.watcher = _Guard.watcher, None
        _Guard.done.set()
        if watcher is not None:
            watcher.join()
        _let_handlers_run()  # one already sent runs here, still ignored
        for s, h in before.items():
            signal.signal(s, h)


def _let_handlers_run() -> None:
    """Give Python a point to run the handlers of signals already received (a call)."""


class _Guard:
    lock = threading.Lock()
    active = False  #: inside signal_guard
    pending: int | None = None  #: a signal whose KeyboardInterrupt is not yet caught
    watcher: threading.Thread | None = None  #: the redelivery thread
    done = threading.Event()  #: set when the block ends


def _redeliver() -> None:
    """Send the pending signal again each second while no one has caught its interrupt."""
    while not _Guard.done.wait(1.0):
        with _Guard.lock:
            if not _Guard.active:
                return
            if _Guard.pending is not None:
                signal.pthread_kill(threading.main_thread().ident, _Guard.pending)


def acknowledge_interrupt() -> None:
    """Say that a ``KeyboardInterrupt`` was caught and is being handled (no redelivery).

    Called inside the phase that was interrupted, which the message then names.
    """
    with _Guard.lock:
        _Guard.pending = None
    _State.signal_phase = _State.signal_phase or _State.phase


def interrupt_lost() -> bool:
    """Return whether a signal came whose ``KeyboardInterrupt`` no one caught.

    Then an error that ends the command is the interrupt's consequence (an interrupt lost in
    a callback of the JIT compiler leaves it half done), and the command reports the signal.
    """
    return _Guard.pending is not None


def exit_status() -> int:
    """Return the exit status of an interrupted command: 143 after SIGTERM, else 130."""
    return _EXIT.get(_State.signum, 130)


def interrupt_message(command: str, detail: str | None = None) -> str:
    """Return the one line that says what stopped ``command``, where, and what was kept.

    Parameters
    ----------
    command : str
        The command name (``"run"``).
    detail : str or None
        What the command kept, when it knows more than the list of written files.
    """
    name = "SIGTERM" if _State.signum == signal.SIGTERM else "SIGINT (Ctrl-C)"
    at = _State.phase or _State.signal_phase
    where = f" during the {at}" if at else ""
    files = written()
    if not detail:
        detail = ("wrote " + ", ".join(files)) if files else "nothing written"
    return f"neuroaix {command}: interrupted by {name}{where}; {detail}"

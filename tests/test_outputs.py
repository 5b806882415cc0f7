"""neuroaix.outputs: preflight of outputs, atomic writes under SIGKILL, signal handling."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from neuroaix import outputs


def test_check_file_refuses_folders_files_on_the_way_and_old_results(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(ValueError, match="is a folder; name a file"):
        outputs.check_file(tmp_path, option="--json")
    with pytest.raises(ValueError, match="is a file, not a folder"):
        outputs.check_file(tmp_path / "f" / "a" / "b.json", option="--json")
    with pytest.raises(ValueError, match=r"--json '.*f' exists \(a previous result\)"):
        outputs.check_file(tmp_path / "f", option="--json")
    outputs.check_file(tmp_path / "f", option="--json", force=True)
    outputs.check_file(tmp_path / "new" / "deeper" / "x.json", option="--json")
    assert sorted(os.listdir(tmp_path)) == ["f"]  # preflight creates nothing


def test_check_folder_names_the_old_files(tmp_path):
    (tmp_path / "a.txt").write_text("x")
    with pytest.raises(ValueError, match=r"holds a previous result \(a\.txt\)"):
        outputs.check_folder(tmp_path, ["a.txt", "b.txt"], option="--out")
    outputs.check_folder(tmp_path, ["b.txt"], option="--out")
    (tmp_path / "b.txt").mkdir()
    with pytest.raises(ValueError, match="'b.txt' in it is a folder"):
        outputs.check_folder(tmp_path, ["b.txt"], option="--out", force=True)


def test_atomic_path_leaves_the_old_file_on_error(tmp_path):
    target = tmp_path / "r.json"
    outputs.write_json(target, {"v": 1})
    with pytest.raises(RuntimeError), outputs.atomic_path(target) as tmp:
        with open(tmp, "w") as fh:
            fh.write('{"v": 2')
        raise RuntimeError("crash mid-write")
    assert json.loads(target.read_text()) == {"v": 1}
    assert os.listdir(tmp_path) == ["r.json"]  # no temporary file left
    assert oct(target.stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask():
    old = os.umask(0)
    os.umask(old)
    return old


def test_write_json_is_strict_unless_asked(tmp_path):
    with pytest.raises(ValueError):
        outputs.write_json(tmp_path / "a.json", {"x": float("nan")})
    assert not (tmp_path / "a.json").exists()
    outputs.write_json(tmp_path / "a.json", {"x": [float("nan"), 1.5]}, nonfinite_as_null=True)
    assert json.loads((tmp_path / "a.json").read_text()) == {"x": [None, 1.5]}


def test_archive_checksum_covers_names_types_shapes_order_and_bytes():
    import hashlib

    import numpy as np

    a = {"x": np.arange(6, dtype=np.int32), "y": np.zeros((2, 3), dtype=np.int64)}
    expected = hashlib.sha256()
    for key in ("x", "y"):
        expected.update(f"{key} {a[key].dtype.str} {a[key].shape}\n".encode())
        expected.update(a[key].tobytes())
    assert outputs.archive_checksum(a) == expected.hexdigest()
    assert outputs.archive_checksum(a, ["x", "y"]) == expected.hexdigest()
    assert outputs.archive_checksum(a, ["y", "x"]) != expected.hexdigest()
    variants = [{**a, "x": a["x"].astype(np.int64)}, {**a, "y": a["y"].reshape(3, 2)},
                {**a, "x": a["x"] + np.eye(1, 6, 5, dtype=np.int32)[0]}, {"z": a["x"], "y": a["y"]}]
    sums = {outputs.archive_checksum(v) for v in variants}
    assert len(sums) == len(variants) and expected.hexdigest() not in sums
    # a Fortran-ordered copy hashes as its C-ordered values; a 0-d array as shape (1,)
    assert outputs.archive_checksum({"y": np.asfortranarray(a["y"])}) == \
        outputs.archive_checksum({"y": a["y"]})
    assert outputs.archive_checksum({"s": np.array(5)}) == \
        outputs.archive_checksum({"s": np.array([5])})


def test_read_json_names_the_file_and_the_damage(tmp_path):
    p = tmp_path / "e.json"
    for data, message in ((b"", "not valid JSON"), (b'{"a": 1', "not valid JSON"),
                          (b"\xff\xfe", "not text"), (b"[1, 2]", "holds a JSON list")):
        p.write_bytes(data)
        with pytest.raises(ValueError, match=message) as exc:
            outputs.read_json(p, what="an emulator result")
        assert repr(str(p)) in str(exc.value) and "an emulator result" in str(exc.value)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        outputs.read_json(tmp_path / "none.json", what="x")


_WRITER = """
import sys
from neuroaix import outputs
path, n = sys.argv[1], int(sys.argv[2])
print("ready", flush=True)
i = 0
while True:
    i += 1
    outputs.write_bytes(path, (str(i % 2) * n).encode())
"""


def test_sigkill_at_random_moments_never_leaves_a_torn_file(tmp_path):
    """Kill a process that rewrites a 4 MB file in a loop: the file is whole, old or new."""
    target = tmp_path / "result.bin"
    n = 4 << 20
    kills = 0
    rng = __import__("random").Random(18)
    while kills < 8:
        proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(target), str(n)],
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline() == "ready\n"
        time.sleep(rng.uniform(0.0, 0.4))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills += 1
        if target.exists():
            data = target.read_bytes()
            assert len(data) == n and data in (b"0" * n, b"1" * n)
    assert target.exists()
    names = [p.name for p in tmp_path.iterdir()]
    assert all(nm == "result.bin" or nm.startswith(".result.") for nm in names), names


_SWALLOWED = """
import ctypes, time
from neuroaix import outputs

def busy():  # Python discards an exception raised in a ctypes callback
    print("ready", flush=True)
    end = time.time() + 2
    while time.time() < end:
        pass

callback = ctypes.CFUNCTYPE(None)(busy)
try:
    with outputs.signal_guard():
        callback()
        time.sleep(30)
        print("not interrupted", flush=True)
except KeyboardInterrupt:
    print("interrupted", outputs.exit_status(), flush=True)
"""


def test_an_interrupt_lost_in_a_callback_is_delivered_again():
    proc = subprocess.Popen([sys.executable, "-c", _SWALLOWED], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "ready\n"
    proc.send_signal(signal.SIGTERM)
    start = time.monotonic()
    out, err = proc.communicate(timeout=20)
    assert out == "interrupted 143\n", (out, err)
    assert err == ""  # the first interrupt, lost in the callback, is not reported
    assert time.monotonic() - start < 6


def test_an_interrupt_lost_in_a_callback_is_known_until_caught():
    import ctypes

    callback = ctypes.CFUNCTYPE(None)(lambda: signal.raise_signal(signal.SIGINT))
    outputs.reset()
    # Ctrl-C as in a terminal: a suite started as a background job inherits SIGINT ignored,
    # which the guard keeps ignored (by design), and then no interrupt would come at all
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with outputs.signal_guard():
            assert not outputs.interrupt_lost()
            callback()  # the KeyboardInterrupt raised inside is discarded by ctypes
            assert outputs.interrupt_lost()  # so an error that follows is reported as the signal
            outputs.acknowledge_interrupt()
            assert not outputs.interrupt_lost()
    finally:
        signal.signal(signal.SIGINT, previous)
    assert outputs.exit_status() == 130

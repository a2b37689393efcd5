"""io.atomic: a killed or failing writer leaves the old output or the new one, never a mix."""


from pathlib import Path

import pytest

from sunspotter.io import atomic


def test_a_killed_writer_never_leaves_a_partial_file(tmp_path):
    """SIGKILL a process in the middle of rewriting a 64 MB file: the file is whole, old or new, never a mix."""
    import random
    import signal
    import subprocess
    import sys
    import time

    target = tmp_path / "20140105.1800.HW.R.P.rdc.fits.gz"
    size = 64 << 20
    atomic.write_bytes(target, b"a" * size)
    child = subprocess.Popen([sys.executable, "-c", f"""
from pathlib import Path

from sunspotter.io import atomic
print("ready", flush=True)
for i in range(1000):
    atomic.write_bytes(Path({str(target)!r}), (b"b" if i % 2 == 0 else b"c") * {size})
"""], stdout=subprocess.PIPE)
    assert child.stdout.readline().strip() == b"ready"
    time.sleep(random.Random(1).uniform(0.3, 1.0))
    assert child.poll() is None
    child.send_signal(signal.SIGKILL)
    child.wait()
    payload = target.read_bytes()
    assert len(payload) == size and payload.count(payload[:1]) == size
    # What the killed writer left is hidden (a dot name), which every reader of a raw folder skips.
    assert all(p.name.startswith(".") for p in tmp_path.iterdir() if p != target)


def test_a_failing_folder_writer_leaves_the_old_folder_and_no_workspace(tmp_path):
    target = tmp_path / "tiles"
    target.mkdir()
    (target / "shard").write_bytes(b"old")
    with pytest.raises(RuntimeError, match="disk full"):
        with atomic.replacing(target, folder=True) as staging:
            staging.mkdir()
            (staging / "shard").write_bytes(b"new, half")
            raise RuntimeError("disk full")
    assert (target / "shard").read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["tiles"]


def test_a_finished_folder_replaces_the_old_one_whole(tmp_path):
    target = tmp_path / "tiles"
    target.mkdir()
    (target / "stale").write_bytes(b"old")
    with atomic.replacing(target, folder=True) as staging:
        staging.mkdir()
        (staging / "shard").write_bytes(b"new")
    assert sorted(p.name for p in target.iterdir()) == ["shard"]
    assert [p.name for p in tmp_path.iterdir()] == ["tiles"]


def test_the_temporary_path_keeps_the_target_name_so_writers_choose_the_format_by_suffix(tmp_path):
    target = tmp_path / "model.keras"
    with atomic.replacing(target) as temporary:
        assert temporary.name == "model.keras" and temporary.parent.name.startswith(".")
        temporary.write_bytes(b"k")
    assert target.read_bytes() == b"k"


def test_json_is_written_one_way_sorted_and_indented(tmp_path):
    atomic.write_json(tmp_path / "m.json", {"b": 1, "a": {"d": 2, "c": 3}})
    assert (tmp_path / "m.json").read_text() == '{\n  "a": {\n    "c": 3,\n    "d": 2\n  },\n  "b": 1\n}\n'


def test_a_folder_writer_that_made_nothing_keeps_the_old_folder(tmp_path):
    target = tmp_path / "profiles"
    target.mkdir()
    (target / "manifest.csv").write_bytes(b"old")
    with pytest.raises(FileNotFoundError, match="made nothing"):
        with atomic.replacing(target, folder=True):
            pass
    assert (target / "manifest.csv").read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["profiles"]


def test_a_failed_swap_puts_the_old_folder_back(tmp_path, monkeypatch):
    import os

    target = tmp_path / "tiles"
    target.mkdir()
    (target / "shard").write_bytes(b"old")
    real_replace = os.replace

    def failing_second_rename(source, destination):
        # The new folder's rename onto the target fails; moving the old one back is allowed.
        if str(destination) == str(target) and Path(source).name == "tiles":
            raise PermissionError("not allowed")
        return real_replace(source, destination)

    monkeypatch.setattr(atomic.os, "replace", failing_second_rename)
    with pytest.raises(PermissionError):
        with atomic.replacing(target, folder=True) as staging:
            staging.mkdir()
            (staging / "shard").write_bytes(b"new")
    monkeypatch.undo()
    assert (target / "shard").read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["tiles"]

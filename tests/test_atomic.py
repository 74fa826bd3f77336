"""ringrift.atomic: the mode of new files, and stale temporaries of killed writers."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ringrift.atomic import atomic_path, atomic_write_text, clean_stale_temporaries, temp_prefix


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_written_file_gets_the_umask_mode_not_0600(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "a.json", "{}")
        os.umask(0o027)
        atomic_write_text(tmp_path / "b.json", "{}")
    finally:
        os.umask(old)
    assert (tmp_path / "a.json").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "b.json").stat().st_mode & 0o777 == 0o640


def test_stale_temporary_of_a_dead_writer_is_removed_on_the_next_write(tmp_path):
    target = tmp_path / "out.npz"
    stale = tmp_path / f"{temp_prefix(target, _dead_pid())}abcd.npz.tmp"
    stale.write_bytes(b"half")
    live = tmp_path / f"{temp_prefix(target, os.getppid())}efgh.npz.tmp"  # a live process
    live.write_bytes(b"busy")
    foreign = tmp_path / ".out.npz.someone-else.tmp"  # not our naming: left alone
    foreign.write_bytes(b"theirs")
    atomic_write_text(target, "new")
    assert target.read_text() == "new"
    assert not stale.exists()
    assert live.exists() and foreign.exists()
    assert clean_stale_temporaries(target) == []


def test_failed_write_leaves_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "keep.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("partial")
        raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]

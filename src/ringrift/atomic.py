"""Atomic file writes: write to a temporary name in the same folder, fsync, rename into place.

A process killed at any moment leaves either the old file or the new one, never half of one.
Temporaries carry a distinctive name with the writer's pid (`.NAME.ringrift-tmp-PID-XXXX.tmp`),
so the next write to the same file removes those a killed writer left behind, and only those.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from ringrift.errors import UserError

TEMP_MARKER = ".ringrift-tmp-"
_UMASK_LOCK = threading.Lock()


def temp_prefix(target: Path, pid: int | None = None) -> str:
    """The name prefix of `target`'s temporaries written by process `pid` (default: this one)."""
    return f".{target.name}{TEMP_MARKER}{os.getpid() if pid is None else pid}-"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):  # (another user's process: alive)
        return True
    return True


def clean_stale_temporaries(target: str | os.PathLike[str]) -> list[Path]:
    """Remove the temporaries of `target` whose writing process is gone (a killed write).
    Files of other naming, and those of live writers, are never touched. Returns those removed."""
    target = Path(target)
    pattern = re.compile(re.escape(f".{target.name}{TEMP_MARKER}") + r"(\d+)-[^/]*\.tmp\Z")
    removed: list[Path] = []
    with contextlib.suppress(OSError):
        for path in target.parent.iterdir():
            match = pattern.match(path.name)
            if match and int(match.group(1)) != os.getpid() and not _pid_alive(
                    int(match.group(1))):
                with contextlib.suppress(OSError):
                    path.unlink()
                    removed.append(path)
    return removed


def _umask() -> int:
    with _UMASK_LOCK:  # (os.umask can only be read by setting it)
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success rename it onto `path`, else delete it."""
    target = Path(path)
    try:
        if target.is_dir():
            raise IsADirectoryError(21, "is a folder")
        target.parent.mkdir(parents=True, exist_ok=True)
        clean_stale_temporaries(target)
        fd, tmp_name = tempfile.mkstemp(prefix=temp_prefix(target), suffix=f"{suffix}.tmp",
                                        dir=target.parent)
    except OSError as exc:  # (a path under a file, a read-only folder: the user's to fix)
        raise UserError(f"{target}: cannot write here ({exc.strerror or exc})") from None
    # mkstemp creates 0600; the file should get the mode any other new file would
    os.fchmod(fd, 0o666 & ~_umask())
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write `data` to `path` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write `text` (UTF-8) to `path` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

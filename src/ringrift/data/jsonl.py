"""Game records as JSON lines: one `GameRecord.to_json()` object per line, optionally gzipped.

Appending (`append_game_jsonl`) is safe against a writer being killed and against several
writers sharing one file:

* Each line is written with one os.write on an O_APPEND descriptor, then fsynced. On a local
  file system an O_APPEND write places its bytes at the end under the inode lock, so lines of
  concurrent writers never interleave. A write can still end short if the process is killed
  during it (Linux stops a large buffered write between pages on a fatal signal) or the disk
  fills, which leaves a last line without its newline.
* So readers treat a last line without a newline that does not parse as a torn write: they
  warn (`TruncatedLineWarning`) and stop, instead of failing. A bad line anywhere else is a
  UserError naming the line number.
* And writers repair before appending: under an exclusive flock (held by every appender for
  its whole write, so the tail they see is never another live writer's line in progress) a
  file not ending in a newline is cut back to its last newline, dropping the torn fragment of
  a game that never finished being written, so the next line starts clean.
"""

from __future__ import annotations

import contextlib
import fcntl
import gzip
import json
import os
import warnings
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from ringrift.atomic import atomic_path
from ringrift.data.records import GameRecord
from ringrift.errors import UserError

_GZIP_MAGIC = b"\x1f\x8b"


class TruncatedLineWarning(UserWarning):
    """The last line of a JSONL file was cut short (a writer was killed); it was skipped."""


def encode_game_line(record: GameRecord) -> bytes:
    """One validated record as a compact JSON line (UTF-8, ending in a newline)."""
    record.validate()
    text = json.dumps(record.to_json(), separators=(",", ":"), allow_nan=False)
    return text.encode("utf-8") + b"\n"


def append_game_jsonl(path: str | os.PathLike[str], record: GameRecord) -> None:
    """Append one game as one line; returns once the line is on disk (fsync)."""
    target = Path(path)
    if target.suffix == ".gz":
        raise UserError(f"{target}: cannot append to a gzip file; append to a plain .jsonl "
                        "file (or use write_games_jsonl for a whole .gz file)")
    line = encode_game_line(record)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        _cut_torn_tail(fd, target)
        written = os.write(fd, line)
        if written != len(line):
            # Short write (disk full): the torn tail is cut by the next appender or skipped by
            # readers; report it rather than leaving a silently partial game.
            raise OSError(f"{target}: short write ({written} of {len(line)} bytes)")
        os.fsync(fd)
    finally:
        os.close(fd)  # also releases the flock


def _cut_torn_tail(fd: int, target: Path) -> None:
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return
    # Find the last newline, scanning back in blocks.
    end = size
    keep = 0
    while end > 0:
        start = max(0, end - 65536)
        block = os.pread(fd, end - start, start)
        cut = block.rfind(b"\n")
        if cut >= 0:
            keep = start + cut + 1
            break
        end = start
    warnings.warn(f"{target}: dropping {size - keep} bytes of a torn last line "
                  "(a writer was killed mid-line)", TruncatedLineWarning, stacklevel=3)
    os.ftruncate(fd, keep)


def write_games_jsonl(path: str | os.PathLike[str], records: Iterable[GameRecord]) -> int:
    """Write a whole JSONL file atomically (gzipped if `path` ends in .gz); return the count."""
    target = Path(path)
    count = 0
    with atomic_path(target) as tmp:
        opener = gzip.open if target.suffix == ".gz" else open
        with opener(tmp, "wb") as fh:
            for record in records:
                fh.write(encode_game_line(record))
                count += 1
    return count


def read_games_jsonl(path: str | os.PathLike[str]) -> Iterator[GameRecord]:
    """Yield the games of a JSONL file (plain or gzip), one line at a time.

    A torn last line is skipped with a TruncatedLineWarning; any other bad line is a UserError
    `<path>:<line>: <problem>`. Blank lines are ignored.
    """
    source = Path(path)
    if not source.exists():
        raise UserError(f"{source}: no such file")
    if source.is_dir():
        raise UserError(f"{source}: is a directory, not a JSONL file")
    with open(source, "rb") as probe:
        gzipped = probe.read(2) == _GZIP_MAGIC
    with _open_lines(source, gzipped) as fh:
        lineno = 0
        lines = iter(fh)
        while True:
            try:
                raw = next(lines)
            except StopIteration:
                return
            except EOFError as exc:
                # A gzip stream cut short (killed writer): like a torn last line.
                warnings.warn(f"{source}: compressed data ends early after line {lineno} "
                              f"({exc}); the rest is skipped", TruncatedLineWarning,
                              stacklevel=2)
                return
            except (zlib.error, gzip.BadGzipFile) as exc:
                raise UserError(f"{source}:{lineno + 1}: corrupt gzip data ({exc})") from None
            lineno += 1
            if not raw.strip():
                continue
            torn = not raw.endswith(b"\n")
            try:
                obj = json.loads(raw, parse_constant=_reject_constant)
            except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, NaN/Infinity
                if torn:
                    warnings.warn(f"{source}:{lineno}: last line is incomplete (a writer was "
                                  "probably killed mid-line); skipped", TruncatedLineWarning,
                                  stacklevel=2)
                    return
                raise UserError(f"{source}:{lineno}: not valid JSON ({exc})") from None
            try:
                record = GameRecord.from_json(obj)
            except UserError as exc:
                raise UserError(f"{source}:{lineno}: {exc}") from None
            yield record


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not allowed in a game record")


def _open_lines(source: Path, gzipped: bool) -> contextlib.AbstractContextManager[IO[bytes]]:
    if gzipped:
        return gzip.open(source, "rb")
    return open(source, "rb")

"""JSONL game files: round trips, gzip, torn last lines, corrupt lines, killed appenders."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from ringrift.data.jsonl import (
    TruncatedLineWarning,
    append_game_jsonl,
    read_games_jsonl,
    write_games_jsonl,
)
from ringrift.errors import UserError

from .synthetic import make_record

SYNTHETIC = Path(__file__).with_name("synthetic.py")


def _read_all(path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning fails the test here
        return list(read_games_jsonl(path))


def test_append_round_trip(tmp_path):
    path = tmp_path / "out" / "games.jsonl"
    records = [make_record(seed=i, num_moves=i, num_players=2 + i % 3) for i in range(5)]
    for record in records:
        append_game_jsonl(path, record)
    assert _read_all(path) == records
    lines = path.read_bytes().split(b"\n")
    assert len(lines) == 6 and lines[-1] == b""
    assert json.loads(lines[0])["format"] == "ringrift-game"


@pytest.mark.parametrize("name", ["games.jsonl", "games.jsonl.gz"])
def test_write_whole_file(tmp_path, name):
    path = tmp_path / name
    records = [make_record(seed=i, num_moves=4) for i in range(3)]
    assert write_games_jsonl(path, records) == 3
    assert _read_all(path) == records
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == name.endswith(".gz")
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temporary left behind


def test_blank_lines_are_ignored(tmp_path):
    path = tmp_path / "games.jsonl"
    record = make_record()
    path.write_text("\n" + json.dumps(record.to_json()) + "\n\n")
    assert _read_all(path) == [record]


def test_truncated_last_line_is_skipped_with_a_warning(tmp_path):
    path = tmp_path / "games.jsonl"
    records = [make_record(seed=i) for i in range(3)]
    for record in records:
        append_game_jsonl(path, record)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 500])  # cut the last line short
    with pytest.warns(TruncatedLineWarning, match=r"games.jsonl:3: last line is incomplete"):
        assert list(read_games_jsonl(path)) == records[:2]


def test_complete_last_line_without_newline_is_read(tmp_path):
    path = tmp_path / "games.jsonl"
    record = make_record()
    path.write_text(json.dumps(record.to_json()))
    assert _read_all(path) == [record]


def test_corrupt_middle_line_names_the_line(tmp_path):
    path = tmp_path / "games.jsonl"
    lines = [json.dumps(make_record(seed=i).to_json()) for i in range(3)]
    lines[1] = lines[1][:100]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(UserError, match=r"games.jsonl:2: not valid JSON"):
        list(read_games_jsonl(path))


def test_nan_is_refused(tmp_path):
    path = tmp_path / "games.jsonl"
    obj = make_record().to_json()
    obj["result"]["timings"]["total_s"] = float("nan")
    path.write_text(json.dumps(obj) + "\n")
    with pytest.raises(UserError, match=r"games.jsonl:1: not valid JSON \(NaN is not allowed"):
        list(read_games_jsonl(path))


def test_invalid_record_names_line_and_field(tmp_path):
    path = tmp_path / "games.jsonl"
    objs = [make_record(seed=i).to_json() for i in range(3)]
    objs[2]["game"]["seed"] = "seven"
    path.write_text("".join(json.dumps(o) + "\n" for o in objs))
    games = read_games_jsonl(path)
    assert next(games).seed == 0 and next(games).seed == 1  # streamed, line by line
    with pytest.raises(UserError, match=r"games.jsonl:3: game.seed: expected an integer"):
        next(games)


def test_append_after_a_torn_tail_cuts_it(tmp_path):
    path = tmp_path / "games.jsonl"
    first, second = make_record(seed=1), make_record(seed=2)
    append_game_jsonl(path, first)
    whole = path.read_bytes()
    with open(path, "ab") as fh:
        fh.write(b'{"format": "ringrift-game", "game": {"ga')  # a writer killed mid-line
    with pytest.warns(TruncatedLineWarning, match="dropping 40 bytes"):
        append_game_jsonl(path, second)
    assert path.read_bytes().startswith(whole)
    assert _read_all(path) == [first, second]


def test_truncated_gzip_is_skipped_with_a_warning(tmp_path):
    path = tmp_path / "games.jsonl.gz"
    records = [make_record(seed=i, num_moves=60) for i in range(4)]
    write_games_jsonl(path, records)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 3 // 4])
    with pytest.warns(TruncatedLineWarning, match="compressed data ends early"):
        got = list(read_games_jsonl(path))
    assert got == records[: len(got)] and len(got) < 4


def test_bad_paths(tmp_path):
    with pytest.raises(UserError, match="no such file"):
        list(read_games_jsonl(tmp_path / "missing.jsonl"))
    with pytest.raises(UserError, match="is a directory"):
        list(read_games_jsonl(tmp_path))
    gz = tmp_path / "games.jsonl.gz"
    gz.write_bytes(gzip.compress(b""))
    before = gz.read_bytes()
    with pytest.raises(UserError, match="cannot append to a gzip file"):
        append_game_jsonl(gz, make_record())
    assert gz.read_bytes() == before
    gz.write_bytes(b"\x1f\x8b" + b"\x00" * 40)
    with pytest.raises(UserError, match="corrupt gzip data"):
        list(read_games_jsonl(gz))


def test_invalid_record_is_not_appended(tmp_path):
    path = tmp_path / "games.jsonl"
    record = make_record()
    record.winner = 9
    with pytest.raises(UserError, match="result.winner"):
        append_game_jsonl(path, record)
    assert not path.exists() or path.read_bytes() == b""


def test_killed_and_concurrent_appenders(tmp_path):
    """Two processes append to one file; one is SIGKILLed; every line is a whole game."""
    path = tmp_path / "games.jsonl"
    procs = [subprocess.Popen([sys.executable, str(SYNTHETIC), "jsonl", str(path), str(tag),
                               "150"], stdout=subprocess.PIPE, text=True) for tag in (1, 2)]
    try:
        committed = [procs[0].stdout.readline().strip() for _ in range(5)]
        os.kill(procs[0].pid, signal.SIGKILL)
        procs[0].wait(timeout=30)
        committed += [line.strip() for line in procs[0].stdout]
        committed += [procs[1].stdout.readline().strip() for _ in range(8)]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=30)
            proc.stdout.close()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TruncatedLineWarning)  # the kill may tear a line
        games = list(read_games_jsonl(path))
    ids = [g.game_id for g in games]
    assert set(committed) <= set(ids) and len(ids) == len(set(ids))
    assert all(len(g.moves) == 150 for g in games)
    extra = make_record(seed=77)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TruncatedLineWarning)
        append_game_jsonl(path, extra)
    assert _read_all(path)[-1] == extra

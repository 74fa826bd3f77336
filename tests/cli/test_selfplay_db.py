"""`ringrift selfplay` and `ringrift db` end to end."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from ringrift.cli.main import main
from ringrift.data.gamedb import GameDB
from ringrift.data.jsonl import read_games_jsonl


def _selfplay(out, *extra):
    return main(["selfplay", "--board-type", "square8", "--num-players", "2", "--output-dir",
                 str(out), "--quiet", *extra])


def test_selfplay_writes_replayable_games_and_appends(tmp_path, capsys):
    assert _selfplay(tmp_path, "--engine", "heuristic", "--num-games", "3", "--seed", "4") == 0
    summary = capsys.readouterr().out
    assert "wins by seat" in summary and "games/s" in summary
    assert _selfplay(tmp_path, "--engine", "random", "--num-games", "2", "--seed", "4") == 0
    with GameDB(tmp_path / "games.db", readonly=True) as db:
        records = list(db.iter_games())
    assert len(records) == 5
    assert [r.metadata["game_index"] for r in records] == [0, 1, 2, 3, 4]
    assert main(["db", "verify", str(tmp_path / "games.db")]) == 0
    assert "5 replay exactly" in capsys.readouterr().out
    assert main(["db", "stats", str(tmp_path / "games.db"), "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["configs"]["square8_2p"]["games"] == 5


def test_games_are_reproducible_from_seed_with_workers(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert _selfplay(a, "--num-games", "4", "--seed", "9", "--workers", "2") == 0
    assert _selfplay(b, "--num-games", "4", "--seed", "9") == 0

    def games(folder):
        with GameDB(folder / "games.db", readonly=True) as db:
            return sorted((r.seed, [m.move for m in r.moves]) for r in db.iter_games())

    assert games(a) == games(b)


def test_jsonl_format_and_import(tmp_path, capsys):
    assert _selfplay(tmp_path, "--engine", "mixed", "--mix", "heuristic:1,random:1",
                     "--mix-per", "seat", "--num-games", "3", "--format", "jsonl",
                     "--temperature-schedule", "alphazero:moves=10") == 0
    records = list(read_games_jsonl(tmp_path / "games.jsonl"))
    assert len(records) == 3
    assert records[0].temperature_schedule.startswith("alphazero:moves=10")
    db = tmp_path / "imported.db"
    assert main(["db", "import", str(tmp_path / "games.jsonl"), "--db", str(db)]) == 0
    assert main(["db", "import", str(tmp_path / "games.jsonl"), "--db", str(db)]) == 0
    assert "0 games added, 3 already present" in capsys.readouterr().out
    assert main(["db", "verify", str(db)]) == 0


def test_reference_traces_import_and_verify(tmp_path, shared_dir, capsys):
    db = tmp_path / "traces.db"
    trace = shared_dir / "traces" / "hex8_2p.jsonl.gz"
    assert main(["db", "import", str(trace), "--db", str(db)]) == 0
    assert "30 games added" in capsys.readouterr().out
    assert main(["db", "verify", str(db)]) == 0


@pytest.mark.parametrize("args,message", [
    (["selfplay", "--board-type", "square9", "--num-players", "2"], "unknown board type"),
    (["selfplay", "--board-type", "square8", "--num-players", "5"], "--num-players"),
    (["selfplay", "--board-type", "square8", "--num-players", "2", "--engine", "alphago"],
     "unknown engine"),
    (["selfplay", "--board-type", "square8", "--num-players", "2", "--engine", "mixed",
      "--mix", "heuristic:1,alphago:1"], "unknown engine"),
    (["selfplay", "--board-type", "square8", "--num-players", "2",
      "--temperature-schedule", "warm"], "warm"),
])
def test_bad_selfplay_flags_write_nothing(tmp_path, capsys, args, message):
    out = tmp_path / "out"
    assert main([*args, "--output-dir", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err
    assert not out.exists()


def test_db_commands_reject_foreign_files_without_touching_them(tmp_path, capsys):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    for cmd in (["db", "stats", str(text)], ["db", "verify", str(text)],
                ["db", "import", str(text), "--db", str(text)]):
        assert main(cmd) == 2
        assert capsys.readouterr().err.count("\n") == 1
    assert text.read_text() == "hello"


def test_selfplay_killed_with_sigkill_keeps_finished_games(tmp_path):
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "ringrift", "selfplay", "--board-type", "square8",
           "--num-players", "2", "--engine", "random", "--num-games", "100000",
           "--output-dir", str(out), "--quiet", "--workers", "2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    db_path = out / "games.db"
    deadline = time.time() + 60
    count = 0
    while time.time() < deadline and count < 5:
        time.sleep(0.3)
        if db_path.exists():
            try:
                with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
                    count = conn.execute("SELECT COUNT(*) FROM games").fetchone()[0]
            except sqlite3.Error:
                pass
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert count >= 5
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with GameDB(db_path) as db:
        assert db.check() == []
        before = db.count_games()
        assert before >= count
    assert main(["db", "verify", str(db_path)]) == 0
    assert _selfplay(out, "--engine", "random", "--num-games", "1") == 0
    with GameDB(db_path, readonly=True) as db:
        assert db.count_games() == before + 1

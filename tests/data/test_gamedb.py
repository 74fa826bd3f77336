"""GameDB: round trips, filters, streaming, stats, refusal of foreign files, durability."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from ringrift.data import gamedb
from ringrift.data.gamedb import GameDB, open_readonly
from ringrift.errors import UserError

from .synthetic import make_record, write_games

SYNTHETIC = Path(__file__).with_name("synthetic.py")


@pytest.fixture
def db(tmp_path):
    with GameDB(tmp_path / "games.db") as handle:
        yield handle


def test_round_trip_and_append_on_reopen(tmp_path):
    path = tmp_path / "sub" / "games.db"
    records = [make_record(seed=i, num_moves=5 + i, num_players=2 + i % 3, winner=None if i == 3
                           else 1) for i in range(6)]
    with GameDB(path) as db:
        for record in records[:4]:
            assert db.add_game(record) is True
    with GameDB(path) as db:  # reopening appends
        for record in records[4:]:
            db.add_game(record)
        assert [g.game_id for g in db.iter_games()] == [r.game_id for r in records]
        assert list(db.iter_games()) == records
        assert db.get_game(records[2].game_id) == records[2]
        assert db.has_game(records[0].game_id) and not db.has_game("nope")
        assert db.check() == []
    with contextlib.closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert dict(conn.execute("SELECT key, value FROM schema_info"))["schema_version"] == "2"


def test_get_missing_game_is_a_user_error(db):
    with pytest.raises(UserError, match="no game with id abc"):
        db.get_game("abc")


def test_duplicate_id_is_refused_or_skipped(db):
    record = make_record(seed=1)
    db.add_game(record)
    with pytest.raises(UserError, match="already in the database"):
        db.add_game(make_record(seed=2, game_id=record.game_id))
    assert db.add_game(make_record(seed=2, game_id=record.game_id), skip_existing=True) is False
    assert db.count_games() == 1 and db.get_game(record.game_id) == record
    assert db.check() == []


def test_invalid_record_writes_nothing(db):
    record = make_record(num_moves=4)
    record.moves[2].index = 7
    with pytest.raises(UserError, match=r"moves\[2\]\.index"):
        db.add_game(record)
    assert db.count_games() == 0


def test_filters_count_ids_and_limit(db):
    specs = [("square8", 2, "selfplay", "2025-01-01T00:00:00Z", 1),
             ("square8", 3, "selfplay", "2025-02-01T00:00:00Z", 2),
             ("hex8", 2, "evaluation", "2025-03-01T00:00:00+00:00", None),
             ("square8", 2, "import", "2025-04-01T12:00:00Z", 2),
             ("square8", 2, "selfplay", "2025-05-01T00:00:00Z", 1)]
    records = [make_record(seed=i, num_moves=3, board_type=b, num_players=n, source=s,
                           created_at=c, winner=w) for i, (b, n, s, c, w) in enumerate(specs)]
    for record in records:
        db.add_game(record)

    def ids(**filters):
        return [g.game_id for g in db.iter_games(**filters)]

    def expect(*indexes):
        return [records[i].game_id for i in indexes]

    assert ids(board_type="square8", num_players=2) == expect(0, 3, 4)
    assert ids(source="selfplay") == expect(0, 1, 4)
    assert ids(since="2025-03-01") == expect(2, 3, 4)
    assert ids(since="2025-04-01T14:00:00+02:00") == expect(3, 4)  # 12:00 UTC, inclusive
    assert ids(status="max_moves") == expect(2)
    assert ids(board_type="square8", limit=2) == expect(0, 1)
    assert ids(limit=0) == []
    assert db.count_games(board_type="square8") == 4
    assert db.count_games(num_players=3, source="selfplay") == 1
    assert db.game_ids(source="selfplay", limit=2) == expect(0, 1)
    assert db.game_ids(since="2030-01-01") == []
    with pytest.raises(UserError, match="since"):
        db.count_games(since="last tuesday")


def test_outcomes_are_the_games_results_without_reading_their_moves(db):
    records = [make_record(seed=i, num_moves=4, num_players=2 + i % 2, source=source,
                           winner=None if i == 2 else 1, metadata={"i": i})
               for i, source in enumerate(["evaluation", "selfplay", "evaluation",
                                           "evaluation"])]
    for record in records:
        db.add_game(record)
    outcomes = list(db.iter_outcomes(num_players=2, source="evaluation"))
    assert outcomes == [(r.game_id, r.engines, r.final_ranks, r.metadata)
                        for r in (records[0], records[2])]
    assert outcomes[1].final_ranks is None  # (unfinished: no ranks)
    statements = []
    db._conn.set_trace_callback(statements.append)
    assert len(list(db.iter_outcomes())) == 4
    assert not any("moves" in sql for sql in statements)


def test_iteration_streams_in_batches(db):
    for i in range(gamedb._BATCH * 2 + 5):
        db.add_game(make_record(seed=i, num_moves=2, with_search=False))
    statements = []
    db._conn.set_trace_callback(statements.append)
    games = db.iter_games()
    first = next(games)
    assert first.seed == 0
    assert len(statements) == 2  # one batch of game rows + the first game's moves
    assert sum(1 for _ in games) == gamedb._BATCH * 2 + 4
    assert db.count_games() == gamedb._BATCH * 2 + 5


def test_games_added_during_iteration_are_seen_once(db):
    for i in range(3):
        db.add_game(make_record(seed=i, num_moves=1))
    seen = []
    for game in db.iter_games():
        seen.append(game.seed)
        if game.seed == 0:
            db.add_game(make_record(seed=99, num_moves=1))
    assert seen == [0, 1, 2, 99]


def test_stats(db):
    db.add_game(make_record(seed=1, num_moves=10, winner=1))
    db.add_game(make_record(seed=2, num_moves=20, winner=2))
    db.add_game(make_record(seed=3, num_moves=30, winner=1, victory_reason="territory"))
    db.add_game(make_record(seed=4, num_moves=40, winner=None))
    db.add_game(make_record(seed=5, num_moves=7, board_type="hex8", num_players=3, winner=3,
                            source="evaluation"))
    stats = db.stats()
    assert stats["games"] == 5
    square = stats["configs"]["square8_2p"]
    assert square["games"] == 4 and square["board_type"] == "square8"
    assert square["wins_by_seat"] == [2, 1] and square["no_winner"] == 1
    assert square["victory_reasons"] == {"elimination": 2, "territory": 1}
    assert square["statuses"] == {"completed": 3, "max_moves": 1}
    assert square["moves"] == {"mean": 25.0, "min": 10, "max": 40}
    hexa = stats["configs"]["hex8_3p"]
    assert hexa["wins_by_seat"] == [0, 0, 1] and hexa["moves"]["mean"] == 7.0
    assert db.stats(source="evaluation")["games"] == 1
    assert db.stats(status="max_moves")["configs"]["square8_2p"]["games"] == 1


def test_open_readonly(tmp_path):
    path = tmp_path / "games.db"
    record = make_record()
    with GameDB(path) as db:
        db.add_game(record)
    before = path.read_bytes()
    with open_readonly(path) as db:
        assert db.get_game(record.game_id) == record
        with pytest.raises(UserError, match="read-only"):
            db.add_game(make_record(seed=5))
    assert path.read_bytes() == before


def test_readonly_missing_file_is_not_created(tmp_path):
    path = tmp_path / "missing.db"
    with pytest.raises(UserError, match="no such game database"):
        open_readonly(path)
    assert list(tmp_path.iterdir()) == []


def _sqlite_file(path: Path, statements: list[str]) -> None:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        for statement in statements:
            conn.execute(statement)
        conn.commit()


def _text_file(path):
    path.write_text("game_id,winner\nabc,1\n" * 50)


def _foreign_sqlite(path):
    _sqlite_file(path, ["CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)",
                        "INSERT INTO users (name) VALUES ('ann')"])


def _other_version(path):
    _sqlite_file(path, ["CREATE TABLE schema_info (key TEXT PRIMARY KEY, value TEXT)",
                        "INSERT INTO schema_info VALUES ('format', 'ringrift-gamedb')",
                        "INSERT INTO schema_info VALUES ('schema_version', '99')",
                        "CREATE TABLE games (id TEXT)", "CREATE TABLE moves (id TEXT)"])


def _other_format(path):
    _sqlite_file(path, ["CREATE TABLE schema_info (key TEXT PRIMARY KEY, value TEXT)",
                        "INSERT INTO schema_info VALUES ('format', 'something-else')"])


def _garbage_with_sqlite_header(path):
    path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 3000)


@pytest.mark.parametrize("make, message", [
    (_text_file, "not a SQLite database"),
    (_garbage_with_sqlite_header, "not a SQLite database"),
    (_foreign_sqlite, "not a ringrift game database"),
    (_other_version, "schema version 99"),
    (_other_format, "not a ringrift game database"),
])
@pytest.mark.parametrize("readonly", [False, True])
def test_bad_files_are_refused_and_left_untouched(tmp_path, make, message, readonly):
    path = tmp_path / "games.db"
    make(path)
    before = path.read_bytes()
    with pytest.raises(UserError) as info:
        GameDB(path, readonly=readonly)
    text = str(info.value)
    assert message in text and str(path) in text and "\n" not in text
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["games.db"]


def test_directory_and_empty_file(tmp_path):
    with pytest.raises(UserError, match="is a directory"):
        GameDB(tmp_path)
    empty = tmp_path / "empty.db"
    empty.touch()
    with pytest.raises(UserError, match="empty database"):
        open_readonly(empty)
    assert empty.read_bytes() == b""
    with GameDB(empty) as db:  # a writer may initialise an empty file, as SQLite would
        db.add_game(make_record())
        assert db.count_games() == 1


def test_bad_synchronous_setting(tmp_path):
    with pytest.raises(UserError, match="synchronous"):
        GameDB(tmp_path / "x.db", synchronous="OFF")
    assert not (tmp_path / "x.db").exists()


def test_processes_creating_one_new_database_at_once(tmp_path):
    context = multiprocessing.get_context("fork")
    for attempt in range(3):
        path = tmp_path / f"games{attempt}.db"
        procs = [context.Process(target=write_games, args=(str(path), tag, 3))
                 for tag in range(4)]
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join(timeout=60)
        assert [proc.exitcode for proc in procs] == [0] * 4
        with open_readonly(path) as db:
            assert db.count_games() == 12 and db.check() == []


def _start_writer(path: Path, *args: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(SYNTHETIC), "db", str(path),
                             *map(str, args)], stdout=subprocess.PIPE, text=True)


def test_concurrent_writers_survive_sigkill(tmp_path):
    """Two processes append to one new database; one is SIGKILLed inside a transaction."""
    path = tmp_path / "games.db"
    victim, survivor = _start_writer(path, 1, 150, 6), _start_writer(path, 2, 150)
    try:
        lines = [victim.stdout.readline().strip() for _ in range(7)]
        assert lines[-1] == "hanging inside a transaction"
        committed_by_victim = lines[:-1]
        # The victim holds the write lock right now.
        with (contextlib.closing(sqlite3.connect(path, timeout=0)) as conn,
              pytest.raises(sqlite3.OperationalError, match="locked")):
            conn.execute("BEGIN IMMEDIATE")
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(timeout=30)
        committed_by_survivor = [survivor.stdout.readline().strip() for _ in range(12)]
    finally:
        for proc in (victim, survivor):
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=30)
            proc.stdout.close()
    assert victim.returncode == -signal.SIGKILL
    assert all(committed_by_victim) and all(committed_by_survivor)

    with contextlib.closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with open_readonly(path) as db:
        assert db.check() == []
        stored = set(db.game_ids())
        assert set(committed_by_victim) == {g for g in stored if g.startswith("w1-")}
        assert set(committed_by_survivor) <= stored
        for game in db.iter_games():  # every game whole: all 150 moves, each readable
            assert game.move_count == 150 == len(game.moves)
    with GameDB(path) as db:  # a new writer appends
        extra = make_record(seed=123, num_moves=150)
        db.add_game(extra)
        assert db.count_games() == len(stored) + 1 and db.get_game(extra.game_id) == extra
        assert db.check() == []


def test_policies_are_stored_compressed_and_plain_json_still_reads(tmp_path):
    record = make_record(seed=3, num_moves=6, legal=40)
    path = tmp_path / "games.db"
    with GameDB(path) as db:
        db.add_game(record)
    with contextlib.closing(sqlite3.connect(path)) as conn:
        rows = conn.execute("SELECT move_index, policy FROM moves WHERE game_id = ?",
                            (record.game_id,)).fetchall()
        for index, stored in rows:
            plain = gamedb._dumps([[mv, p] for mv, p in record.moves[index].policy])
            assert isinstance(stored, bytes) and len(stored) < len(plain) / 3
        # a database written before policies were compressed holds JSON text: still read
        conn.execute("UPDATE moves SET policy = ? WHERE game_id = ? AND move_index = 2",
                     (gamedb._dumps([[mv, p] for mv, p in record.moves[2].policy]),
                      record.game_id))
        conn.execute("UPDATE schema_info SET value = '1' WHERE key = 'schema_version'")
        conn.commit()

    def version():
        with contextlib.closing(sqlite3.connect(path)) as conn:
            return dict(conn.execute("SELECT key, value FROM schema_info"))["schema_version"]

    with GameDB(path, readonly=True) as db:
        assert db.get_game(record.game_id) == record
    assert version() == "1"  # reading leaves the file as it is
    with GameDB(path) as db:  # opened to write: marked version 2 (older readers refuse it)
        db.add_game(make_record(seed=5, num_moves=2))
        assert db.get_game(record.game_id) == record
    assert version() == "2"


def test_a_corrupt_policy_is_a_one_line_error(tmp_path):
    record = make_record(seed=4, num_moves=3)
    path = tmp_path / "games.db"
    with GameDB(path) as db:
        db.add_game(record)
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("UPDATE moves SET policy = ? WHERE move_index = 1", (b"\x78\x9cnot zlib",))
        conn.commit()
    with GameDB(path, readonly=True) as db, pytest.raises(UserError) as caught:
        db.get_game(record.game_id)
    assert "move 1: unreadable move, policy or value" in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("table, column, where", [
    ("moves", "move", "move 2: unreadable move, policy or value"),
    ("moves", "value", "move 2: unreadable move, policy or value"),
    ("games", "engines", "unreadable result or setup"),
    ("games", "final_ranks", "unreadable result or setup"),
    ("games", "metadata", "unreadable result or setup"),
])
def test_corrupt_json_in_a_column_is_a_one_line_error(tmp_path, table, column, where):
    """(iter_outcomes reads the games row alone: it reports a broken one the same way)"""
    record = make_record(seed=4, num_moves=3)
    path = tmp_path / "games.db"
    with GameDB(path) as db:
        db.add_game(record)
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute(f"UPDATE {table} SET {column} = '[not json'"
                     + (" WHERE move_index = 2" if table == "moves" else ""))
        conn.commit()
    with GameDB(path, readonly=True) as db:
        readers = [lambda: db.get_game(record.game_id)]
        if table == "games":
            readers.append(lambda: list(db.iter_outcomes()))
        for read in readers:
            with pytest.raises(UserError) as caught:
                read()
            assert f"game {record.game_id}: {where}" in str(caught.value)
            assert "\n" not in str(caught.value)

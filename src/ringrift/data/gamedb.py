"""The game database: SQLite, the default selfplay output.

Durability. The database runs in WAL mode with `synchronous=NORMAL`, and each finished game is
one transaction (`add_game`). In WAL mode a commit appends the transaction's pages to the
`-wal` file with write() before COMMIT returns, so once `add_game` returns the game survives
the process being killed (SIGKILL included): the data is in the kernel, and the next opener
replays the WAL. What NORMAL gives up against FULL is only the per-commit fsync, so a power
failure or kernel crash may lose the last few games, never the database's integrity. FULL
(pass `synchronous="FULL"`) costs one fsync per game; selfplay games take seconds, so either is
affordable, but imports of many games would pay it for nothing.

Concurrency. Several processes may write at once: each write is `BEGIN IMMEDIATE` (takes the
write lock up front, so waiting is handled by the busy timeout rather than failing with a
deadlock), and readers never block writers (WAL).

Safety. A file that is not a SQLite database, a SQLite database that is not ours, or one of
another schema version is refused with a one-line UserError before anything is written to it.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple, Self

from ringrift.data.records import GameRecord, MoveRecord, normalize_timestamp
from ringrift.data.sqlite_damage import NamedConnection
from ringrift.errors import UserError

SCHEMA_NAME = "ringrift-gamedb"
# where game databases live unless told otherwise: selfplay writes under it, export
# --use-discovery and quality --all search it
DEFAULT_GAMES_DIR = "data/games"
SCHEMA_VERSION = 2  # 2: search policies stored zlib-compressed (version 1: JSON text)
_READABLE_VERSIONS = ("1", "2")  # a version-1 file is upgraded when opened for writing
_SQLITE_MAGIC = b"SQLite format 3\x00"
_BATCH = 64  # games fetched per read query while streaming
_PAGE_SIZE = 16384

_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_info (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS games (
    id TEXT PRIMARY KEY,
    board_type TEXT NOT NULL,
    num_players INTEGER NOT NULL,
    engines TEXT NOT NULL,             -- JSON list, one engine spec per seat
    seed INTEGER NOT NULL,
    status TEXT NOT NULL,              -- completed | max_moves | aborted
    winner INTEGER,                    -- seat number, NULL when none
    victory_reason TEXT,
    final_ranks TEXT,                  -- JSON list per seat (1 = best) or NULL
    move_count INTEGER NOT NULL,
    timings TEXT NOT NULL,             -- JSON object
    created_at TEXT NOT NULL,          -- YYYY-MM-DDTHH:MM:SS.ffffffZ (sorts as time)
    source TEXT NOT NULL,
    temperature_schedule TEXT,
    metadata TEXT NOT NULL,            -- JSON object
    initial_state TEXT NOT NULL        -- JSON, canonical state (RULES.md §6.3)
);
CREATE TABLE IF NOT EXISTS moves (
    game_id TEXT NOT NULL REFERENCES games(id),
    move_index INTEGER NOT NULL,
    player INTEGER NOT NULL,
    phase TEXT NOT NULL,
    move TEXT NOT NULL,                -- JSON, canonical move (RULES.md §6.5)
    policy TEXT,                       -- JSON [[move, probability], ...], zlib-compressed
                                       -- (a BLOB, plain JSON text in older files) or NULL
    value TEXT,                        -- JSON [float per seat] or NULL
    think_time REAL NOT NULL,
    PRIMARY KEY (game_id, move_index)
);
CREATE INDEX IF NOT EXISTS games_by_config ON games (board_type, num_players);
CREATE INDEX IF NOT EXISTS games_by_created_at ON games (created_at);
CREATE INDEX IF NOT EXISTS games_by_source ON games (source);
"""

_GAME_COLUMNS = ("id, board_type, num_players, engines, seed, status, winner, victory_reason, "
                 "final_ranks, move_count, timings, created_at, source, temperature_schedule, "
                 "metadata, initial_state")


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


def _pack_policy(policy: list) -> bytes:
    """A search policy as zlib-compressed JSON: its move objects repeat the same keys over and
    over (64 gumbel games: the database shrank from 21.5 to 4.0 MB)."""
    return zlib.compress(_dumps([[mv, p] for mv, p in policy]).encode("utf-8"))


def _unpack_policy(stored: bytes | str) -> list:
    """A stored policy: a compressed BLOB, or plain JSON text (databases written before)."""
    if isinstance(stored, bytes):
        stored = zlib.decompress(stored).decode("utf-8")
    return json.loads(stored)


@dataclass(frozen=True)
class _Filter:
    board_type: str | None = None
    num_players: int | None = None
    source: str | None = None
    since: str | datetime | None = None
    status: str | None = None

    def where(self) -> tuple[str, list[Any]]:
        """SQL condition (never empty) and its parameters."""
        clauses, params = ["1"], []
        for column in ("board_type", "num_players", "source", "status"):
            value = getattr(self, column)
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if self.since is not None:
            try:
                since = normalize_timestamp(self.since)
            except (TypeError, ValueError):
                raise UserError(f"since: {self.since!r} is not an ISO-8601 timestamp") from None
            clauses.append("created_at >= ?")
            params.append(since)
        return " AND ".join(clauses), params


class GameOutcome(NamedTuple):
    """Who played a stored game and how it ended: what a rating fit reads (no moves)."""

    game_id: str
    engines: list[str]
    final_ranks: list[int] | None
    metadata: dict[str, Any]


class GameDB:
    """A SQLite game database. `GameDB(path)` opens or creates it for appending games."""

    def __init__(self, path: str | os.PathLike[str], *, readonly: bool = False,
                 busy_timeout_s: float = 60.0, synchronous: str = "NORMAL") -> None:
        if synchronous not in ("NORMAL", "FULL"):
            raise UserError(f"synchronous: {synchronous!r} is not NORMAL or FULL")
        self.path = Path(path)
        self.readonly = readonly
        self._busy_timeout_s = busy_timeout_s
        _check_file(self.path, readonly)
        if readonly:
            uri = f"{self.path.resolve().as_uri()}?mode=ro"
            self._conn = sqlite3.connect(uri, uri=True, timeout=busy_timeout_s,
                                         isolation_level=None, factory=NamedConnection)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(self.path, timeout=busy_timeout_s,
                                         isolation_level=None, factory=NamedConnection)
        try:
            self._open(synchronous)
        except BaseException:
            self._conn.close()
            raise
        self._conn.path = str(self.path)  # (damage found by any later query names the file)

    def _open(self, synchronous: str) -> None:
        conn = self._conn
        conn.execute("PRAGMA foreign_keys = ON")
        # Read-only checks first: nothing is written to a file until we know it is ours.
        try:
            tables = {row[0] for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as exc:
            raise UserError(f"{self.path}: not a SQLite database ({exc})") from None
        version = None
        if tables:
            version = self._check_schema(tables)
        elif self.readonly:
            raise UserError(f"{self.path}: empty database, not a ringrift game database")
        if self.readonly:
            return
        if not tables:
            # Both persistent, and only settable before the first table. Move rows with a
            # policy run to a few KB; with the default 4 KiB pages most of them spill into
            # half-empty overflow pages (measured: 16 KiB pages store the same games in 20%
            # less space).
            conn.execute(f"PRAGMA page_size = {_PAGE_SIZE}")
            self._enable_wal()
            conn.execute("BEGIN IMMEDIATE")
            try:
                # Another process may have created the schema meanwhile: IF NOT EXISTS + IGNORE.
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.executemany("INSERT OR IGNORE INTO schema_info (key, value) VALUES (?, ?)",
                                 [("format", SCHEMA_NAME), ("schema_version", str(SCHEMA_VERSION))])
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            self._check_schema({row[0] for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")})
        else:
            self._enable_wal()
        if version == "1":
            # Version 1 differs only in how policies are stored, and both are read: mark the
            # file version 2 before it gets compressed policies an older ringrift cannot read.
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("UPDATE schema_info SET value = ? WHERE key = 'schema_version' "
                         "AND value = '1'", (str(SCHEMA_VERSION),))
            conn.execute("COMMIT")
        conn.execute(f"PRAGMA synchronous = {synchronous}")

    def _enable_wal(self) -> None:
        # Changing the journal mode needs an exclusive lock and SQLite does not wait for it
        # (no busy handler), so two processes creating the same new database race here: retry.
        deadline = time.monotonic() + self._busy_timeout_s
        while True:
            try:
                mode = self._conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
        if mode != "wal":
            raise UserError(f"{self.path}: could not switch to WAL mode (got {mode})")

    def _check_schema(self, tables: set[str]) -> str:
        """The file's schema version, once it is known to be a game database this reads."""
        if "schema_info" not in tables:
            raise UserError(f"{self.path}: a SQLite database but not a ringrift game database "
                            "(no schema_info table)")
        info = dict(self._conn.execute("SELECT key, value FROM schema_info"))
        if info.get("format") != SCHEMA_NAME:
            raise UserError(f"{self.path}: not a ringrift game database "
                            f"(format {info.get('format')!r})")
        if info.get("schema_version") not in _READABLE_VERSIONS:
            raise UserError(f"{self.path}: game database schema version "
                            f"{info.get('schema_version')}, this ringrift reads versions "
                            f"{' and '.join(_READABLE_VERSIONS)}")
        missing = {"games", "moves"} - tables
        if missing:
            raise UserError(f"{self.path}: damaged game database (missing tables: "
                            f"{', '.join(sorted(missing))})")
        return info["schema_version"]

    # --- lifecycle ----------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection (a writer's close also checkpoints the WAL)."""
        self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writing ------------------------------------------------------------------------------

    def add_game(self, record: GameRecord, *, skip_existing: bool = False) -> bool:
        """Insert a game and all its moves in one transaction; return True if inserted.

        A game id already in the database is a UserError, or, with `skip_existing=True`
        (for imports that may be re-run), is left as it is and False is returned.
        """
        if self.readonly:
            raise UserError(f"{self.path}: opened read-only, cannot add games")
        record.validate()
        game_row = (record.game_id, record.board_type, record.num_players,
                    _dumps(record.engines), record.seed, record.status, record.winner,
                    record.victory_reason,
                    None if record.final_ranks is None else _dumps(record.final_ranks),
                    record.move_count, _dumps(record.timings), record.created_at, record.source,
                    record.temperature_schedule, _dumps(record.metadata),
                    _dumps(record.initial_state))
        move_rows = [(record.game_id, m.index, m.player, m.phase, _dumps(m.move),
                      None if m.policy is None else _pack_policy(m.policy),
                      None if m.value is None else _dumps(m.value), m.think_time_s)
                     for m in record.moves]
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            verb = "INSERT OR IGNORE" if skip_existing else "INSERT"
            try:
                cursor = conn.execute(
                    f"{verb} INTO games ({_GAME_COLUMNS}) VALUES ({', '.join('?' * 16)})",
                    game_row)
            except sqlite3.IntegrityError:
                raise UserError(f"{self.path}: game {record.game_id} is already in the "
                                "database") from None
            if cursor.rowcount == 0:
                conn.execute("ROLLBACK")
                return False
            conn.executemany("INSERT INTO moves (game_id, move_index, player, phase, move, "
                             "policy, value, think_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                             move_rows)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return True

    # --- reading ------------------------------------------------------------------------------

    def iter_games(self, board_type: str | None = None, num_players: int | None = None,
                   source: str | None = None, since: str | datetime | None = None,
                   status: str | None = None, limit: int | None = None) -> Iterator[GameRecord]:
        """Yield matching games (moves loaded) in insertion order, a few at a time.

        Games are fetched in small batches by rowid, so no read snapshot stays open between
        batches (writers' WAL can be checkpointed during a long export).
        """
        for row in self._game_rows(_Filter(board_type, num_players, source, since, status),
                                   limit):
            yield self._record_from_row(row)

    def iter_outcomes(self, board_type: str | None = None, num_players: int | None = None,
                      source: str | None = None) -> Iterator[GameOutcome]:
        """Per matching game in insertion order, its seats' engines, final ranks and metadata,
        without reading its moves (a rating fit over thousands of evaluation games would
        otherwise decode every move and search policy)."""
        for row in self._game_rows(_Filter(board_type, num_players, source), None):
            record = self._record_from_row(row, with_moves=False)
            yield GameOutcome(record.game_id, record.engines, record.final_ranks,
                              record.metadata)

    def _game_rows(self, where_filter: _Filter, limit: int | None) -> Iterator[tuple]:
        """Rows of `_GAME_COLUMNS`, fetched in small batches by rowid so that no read snapshot
        stays open between batches."""
        where, params = where_filter.where()
        remaining = limit
        last_rowid = -1
        while remaining is None or remaining > 0:
            batch = _BATCH if remaining is None else min(_BATCH, remaining)
            rows = self._conn.execute(
                f"SELECT rowid, {_GAME_COLUMNS} FROM games WHERE {where} AND rowid > ? "
                "ORDER BY rowid LIMIT ?", [*params, last_rowid, batch]).fetchall()
            if not rows:
                return
            for row in rows:
                last_rowid = row[0]
                yield row[1:]
            if remaining is not None:
                remaining -= len(rows)

    def get_game(self, game_id: str) -> GameRecord:
        """The game with this id; UserError if there is none."""
        row = self._conn.execute(f"SELECT {_GAME_COLUMNS} FROM games WHERE id = ?",
                                 (game_id,)).fetchone()
        if row is None:
            raise UserError(f"{self.path}: no game with id {game_id}")
        return self._record_from_row(row)

    def has_game(self, game_id: str) -> bool:
        """Whether a game with this id is stored."""
        return self._conn.execute("SELECT 1 FROM games WHERE id = ?",
                                  (game_id,)).fetchone() is not None

    def has_same_game(self, record: GameRecord) -> bool:
        """Whether a game of the same board, players, seed and engines is stored: a selfplay
        game is a function of these, so it would be the same game stored twice."""
        return self._conn.execute(
            "SELECT 1 FROM games WHERE seed = ? AND board_type = ? AND num_players = ? AND "
            "engines = ? AND source = ? LIMIT 1",
            (record.seed, record.board_type, record.num_players, _dumps(record.engines),
             record.source)).fetchone() is not None

    def stored_seeds(self, source: str = "selfplay") -> set[int]:
        """The seeds of the stored games of `source` (selfplay games are functions of them)."""
        return {row[0] for row in self._conn.execute("SELECT seed FROM games WHERE source = ?",
                                                     (source,))}

    def count_games(self, board_type: str | None = None, num_players: int | None = None,
                    source: str | None = None, since: str | datetime | None = None,
                    status: str | None = None) -> int:
        """Number of matching games."""
        where, params = _Filter(board_type, num_players, source, since, status).where()
        return self._conn.execute(f"SELECT COUNT(*) FROM games WHERE {where}",
                                  params).fetchone()[0]

    def game_ids(self, board_type: str | None = None, num_players: int | None = None,
                 source: str | None = None, since: str | datetime | None = None,
                 status: str | None = None, limit: int | None = None) -> list[str]:
        """Ids of matching games, in insertion order."""
        where, params = _Filter(board_type, num_players, source, since, status).where()
        sql = f"SELECT id FROM games WHERE {where} ORDER BY rowid"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [row[0] for row in self._conn.execute(sql, params)]

    def game_lengths(self, board_type: str | None = None,
                     num_players: int | None = None) -> list[tuple[str, int, dict[str, Any]]]:
        """(id, number of moves, metadata) of the matching games in insertion order, without
        reading their moves (selfplay samples start positions from these)."""
        where, params = _Filter(board_type, num_players).where()
        out = []
        for game_id, move_count, metadata in self._conn.execute(
                f"SELECT id, move_count, metadata FROM games WHERE {where} ORDER BY rowid",
                params):
            try:
                meta = json.loads(metadata)
            except (TypeError, json.JSONDecodeError) as exc:
                raise UserError(f"{self.path}: game {game_id}: unreadable metadata "
                                f"({exc})") from None
            out.append((game_id, int(move_count), meta if isinstance(meta, dict) else {}))
        return out

    def stats(self, source: str | None = None, since: str | datetime | None = None,
              status: str | None = None) -> dict[str, Any]:
        """Counts, results and lengths per configuration.

        Returns {"games": total, "configs": {"<board>_<n>p": {"board_type", "num_players",
        "games", "statuses": {status: n}, "wins_by_seat": [n per seat], "no_winner": n,
        "victory_reasons": {reason: n}, "moves": {"mean", "min", "max"}}}}.
        """
        where, params = _Filter(None, None, source, since, status).where()
        configs: dict[str, dict[str, Any]] = {}
        for board, players, games, mean, low, high in self._conn.execute(
                "SELECT board_type, num_players, COUNT(*), AVG(move_count), MIN(move_count), "
                f"MAX(move_count) FROM games WHERE {where} GROUP BY board_type, num_players "
                "ORDER BY board_type, num_players", params):
            configs[f"{board}_{players}p"] = {
                "board_type": board, "num_players": players, "games": games,
                "statuses": {}, "wins_by_seat": [0] * players, "no_winner": 0,
                "victory_reasons": {}, "moves": {"mean": mean, "min": low, "max": high}}
        for column in ("status", "winner", "victory_reason"):
            for board, players, value, count in self._conn.execute(
                    f"SELECT board_type, num_players, {column}, COUNT(*) FROM games "
                    f"WHERE {where} GROUP BY board_type, num_players, {column}", params):
                entry = configs[f"{board}_{players}p"]
                if column == "status":
                    entry["statuses"][value] = count
                elif column == "victory_reason":
                    if value is not None:
                        entry["victory_reasons"][value] = count
                elif value is None:
                    entry["no_winner"] += count
                elif 1 <= value <= players:
                    entry["wins_by_seat"][value - 1] += count
        return {"games": sum(c["games"] for c in configs.values()), "configs": configs}

    def check(self) -> list[str]:
        """Problems found: SQLite's integrity check, then games whose move rows are incomplete."""
        problems = [row[0] for row in self._conn.execute("PRAGMA integrity_check")]
        if problems == ["ok"]:
            problems = []
        for game_id, expected, found in self._conn.execute(
                "SELECT g.id, g.move_count, COUNT(m.move_index) FROM games g "
                "LEFT JOIN moves m ON m.game_id = g.id GROUP BY g.id "
                "HAVING COUNT(m.move_index) != g.move_count"):
            problems.append(f"game {game_id}: {found} move rows, move_count says {expected}")
        return problems

    def _record_from_row(self, row: tuple[Any, ...], with_moves: bool = True) -> GameRecord:
        """The validated record of a `_GAME_COLUMNS` row; without its moves (an empty list,
        for readers of the header only) unless `with_moves`."""
        (game_id, board_type, num_players, engines, seed, status, winner, victory_reason,
         final_ranks, move_count, timings, created_at, source, temperature_schedule,
         metadata, initial_state) = row
        moves = []
        move_rows = self._conn.execute(
            "SELECT move_index, player, phase, move, policy, value, think_time FROM moves "
            "WHERE game_id = ? ORDER BY move_index", (game_id,)) if with_moves else ()
        for index, player, phase, move, policy, value, think in move_rows:
            try:
                move = json.loads(move)
                policy = None if policy is None else _unpack_policy(policy)
                value = None if value is None else json.loads(value)
            except (TypeError, zlib.error, UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise UserError(f"{self.path}: game {game_id}: move {index}: unreadable move, "
                                f"policy or value ({exc})") from None
            moves.append(MoveRecord(index=index, player=player, phase=phase, move=move,
                                    policy=policy, value=value, think_time_s=think))
        if with_moves and len(moves) != move_count:
            raise UserError(f"{self.path}: game {game_id} has {len(moves)} move rows but "
                            f"move_count {move_count}")
        try:
            engines, timings, metadata, initial_state = (
                json.loads(text) for text in (engines, timings, metadata, initial_state))
            final_ranks = None if final_ranks is None else json.loads(final_ranks)
        except (TypeError, json.JSONDecodeError) as exc:
            raise UserError(f"{self.path}: game {game_id}: unreadable result or setup "
                            f"({exc})") from None
        record = GameRecord(
            game_id=game_id, board_type=board_type, num_players=num_players,
            engines=engines, seed=seed, status=status, winner=winner,
            victory_reason=victory_reason, final_ranks=final_ranks,
            timings=timings, created_at=created_at, source=source,
            temperature_schedule=temperature_schedule, metadata=metadata,
            initial_state=initial_state, moves=moves)
        try:
            record.validate()
        except UserError as exc:
            raise UserError(f"{self.path}: game {game_id}: {exc}") from None
        return record


def open_readonly(path: str | os.PathLike[str]) -> GameDB:
    """Open an existing game database for reading only; never creates or changes the file."""
    return GameDB(path, readonly=True)


def _check_file(path: Path, readonly: bool) -> None:
    """Refuse paths that cannot be our database before SQLite touches them."""
    if not path.exists():
        if readonly:
            raise UserError(f"{path}: no such game database")
        return
    if path.is_dir():
        raise UserError(f"{path}: is a directory, not a game database")
    if path.stat().st_size == 0:
        return  # SQLite treats an empty file as an empty database
    with open(path, "rb") as fh:
        header = fh.read(len(_SQLITE_MAGIC))
    if header != _SQLITE_MAGIC:
        raise UserError(f"{path}: not a SQLite database")
    if not readonly and not os.access(path, os.W_OK):
        raise UserError(f"{path}: the database file is read-only; games cannot be added")

"""The registry's SQLite schema, and opening a database file safely.

An existing file is checked first, by reading only (SQLite header, then the schema_version table),
so a file that is not a registry of a known schema version is refused without being changed. A
file of an older version is migrated on open, in one transaction (all rows and history kept).

Version history:
  1  models.board_type had a CHECK listing the four boards (and num_players BETWEEN 2 AND 4),
     stored inside every registry file, so a new board would have needed a migration.
  2  no board list in the file: the store validates board and player count with rules.GameSpec.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ringrift.errors import UserError

SCHEMA_VERSION = 2
_SQLITE_HEADER = b"SQLite format 3\x00"
_STAGES = "('development', 'staging', 'production', 'archived', 'rejected')"

_MODEL_COLUMNS = ("id, name, version, board_type, num_players, architecture, encoder_version, "
                  "sha256, path, parent_id, parent_sha256, training_data, metrics, rating, "
                  "rating_low, rating_high, stage, created_at, updated_at")


def _models_table(name: str) -> str:
    return f"""
CREATE TABLE IF NOT EXISTS {name} (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL CHECK (name <> ''),
    version INTEGER NOT NULL CHECK (version >= 1),
    board_type TEXT NOT NULL CHECK (board_type <> ''),
    num_players INTEGER NOT NULL,
    architecture TEXT NOT NULL,
    encoder_version TEXT NOT NULL,
    sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
    path TEXT NOT NULL,
    parent_id INTEGER REFERENCES models(id),
    parent_sha256 TEXT,
    training_data TEXT CHECK (training_data IS NULL OR json_valid(training_data)),
    metrics TEXT CHECK (metrics IS NULL OR json_valid(metrics)),
    rating REAL,
    rating_low REAL,
    rating_high REAL,
    stage TEXT NOT NULL DEFAULT 'development' CHECK (stage IN {_STAGES}),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (name, version),
    UNIQUE (name, sha256)
)"""


_MODEL_INDEXES = """
-- The database itself guarantees at most one production model per configuration.
CREATE UNIQUE INDEX IF NOT EXISTS one_production_per_config
    ON models (board_type, num_players) WHERE stage = 'production';
CREATE INDEX IF NOT EXISTS models_sha256 ON models (sha256)
"""

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
{_models_table("models")};
{_MODEL_INDEXES};
CREATE TABLE IF NOT EXISTS transitions (
    id INTEGER PRIMARY KEY,
    model_id INTEGER NOT NULL REFERENCES models(id),
    from_stage TEXT CHECK (from_stage IS NULL OR from_stage IN {_STAGES}),
    to_stage TEXT NOT NULL CHECK (to_stage IN {_STAGES}),
    reason TEXT NOT NULL,
    evidence TEXT CHECK (evidence IS NULL OR json_valid(evidence)),
    at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS transitions_model ON transitions (model_id);
"""


def open_registry_db(path: Path, create: bool = True) -> sqlite3.Connection:
    """Connection to the registry at `path` (WAL, foreign keys on), creating it if allowed."""
    if path.is_dir():
        raise UserError(f"registry {path} is a directory, not a database file")
    existing = path.is_file() and path.stat().st_size > 0
    version = SCHEMA_VERSION
    if existing:
        version = _check_existing(path)
    elif not create:
        raise UserError(f"no model registry at {path}")
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None, timeout=30.0)
    try:
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA journal_mode = WAL")
        if not existing:
            _create_schema(conn)
        elif version < SCHEMA_VERSION:
            _MIGRATIONS[version](conn)
    except BaseException:
        conn.close()
        raise
    return conn


def _check_existing(path: Path) -> int:
    try:
        with open(path, "rb") as fh:
            header = fh.read(len(_SQLITE_HEADER))
    except OSError as exc:
        raise UserError(f"cannot read registry {path}: {exc.strerror}") from None
    if header != _SQLITE_HEADER:
        raise UserError(f"registry {path} is not a SQLite database")
    try:
        # mode=rw, not ro: a read-only connection to a WAL database leaves -wal/-shm files
        # behind, while a read-write one that only reads removes them again on close.
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True)
        try:
            tables = {row[0] for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            if "schema_version" not in tables:
                raise UserError(f"{path} is a SQLite database but not a ringrift model registry")
            rows = conn.execute("SELECT version FROM schema_version").fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise UserError(f"registry {path} is not a usable SQLite database: {exc}") from None
    versions = {row[0] for row in rows}
    if len(versions) != 1 or not versions <= {SCHEMA_VERSION, *_MIGRATIONS}:
        found = ", ".join(str(v) for v in sorted(versions, key=str)) or "none"
        raise UserError(f"registry {path} has schema version {found}; this ringrift reads "
                        f"version {SCHEMA_VERSION} (and migrates older versions)")
    return int(versions.pop())


def _create_schema(conn: sqlite3.Connection) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                conn.execute(statement)
        if conn.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0] == 0:
            conn.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _migrate_1_to_2(conn: sqlite3.Connection) -> None:
    """Rebuild `models` without the board-list CHECK (SQLite cannot drop a CHECK in place),
    keeping every row, id and transition. One transaction: a failure leaves version 1."""
    conn.execute("PRAGMA foreign_keys = OFF")  # the table swap must not cascade; outside a txn
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            if conn.execute("SELECT version FROM schema_version").fetchone()[0] != 1:
                conn.execute("ROLLBACK")  # another process migrated it meanwhile
                return
            conn.execute("DROP TABLE IF EXISTS models_v2")
            conn.execute(_models_table("models_v2"))
            conn.execute(f"INSERT INTO models_v2 ({_MODEL_COLUMNS}) "
                         f"SELECT {_MODEL_COLUMNS} FROM models")
            conn.execute("DROP TABLE models")
            conn.execute("ALTER TABLE models_v2 RENAME TO models")
            for statement in _MODEL_INDEXES.split(";"):
                if statement.strip():
                    conn.execute(statement)
            broken = conn.execute("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise sqlite3.IntegrityError(f"foreign keys broken by the migration: {broken[:3]}")
            conn.execute("UPDATE schema_version SET version = 2")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    finally:
        conn.execute("PRAGMA foreign_keys = ON")


# schema version -> the step that brings a file of that version to the next one
_MIGRATIONS = {1: _migrate_1_to_2}

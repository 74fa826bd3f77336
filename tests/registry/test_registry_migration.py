"""Schema version 1 (a CHECK listing the four boards inside every file) migrates to version 2 on
open: all rows and history kept, and a row for any board GameSpec knows is accepted."""

from __future__ import annotations

import hashlib
import sqlite3

import pytest

from ringrift.errors import UserError
from ringrift.registry import ModelRegistry
from ringrift.registry.schema import SCHEMA_VERSION
from ringrift.rules import spec as spec_module
from ringrift.rules.spec import BoardSpec, GameSpec
from tests.registry.registry_helpers import FIELDS, make_model

# The version-1 DDL exactly as ringrift wrote it into registry files.
_STAGES = "('development', 'staging', 'production', 'archived', 'rejected')"
OLD_DDL = f"""
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS models (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL CHECK (name <> ''),
    version INTEGER NOT NULL CHECK (version >= 1),
    board_type TEXT NOT NULL CHECK (board_type IN ('square8', 'square19', 'hex8', 'hexagonal')),
    num_players INTEGER NOT NULL CHECK (num_players BETWEEN 2 AND 4),
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
);
CREATE UNIQUE INDEX IF NOT EXISTS one_production_per_config
    ON models (board_type, num_players) WHERE stage = 'production';
CREATE INDEX IF NOT EXISTS models_sha256 ON models (sha256);
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
INSERT INTO schema_version (version) VALUES (1);
"""
T = "2026-01-01T00:00:00+00:00"


def make_v1_registry(folder):
    """A version-1 registry with a parent and a child model and a production promotion."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "registry.db"
    conn = sqlite3.connect(path)
    conn.executescript(OLD_DDL)
    files = [make_model(folder, f"old{i}.pt") for i in range(2)]
    shas = [hashlib.sha256(f.read_bytes()).hexdigest() for f in files]
    conn.execute("INSERT INTO models (id, name, version, board_type, num_players, architecture, "
                 "encoder_version, sha256, path, training_data, rating, rating_low, rating_high, "
                 "stage, created_at, updated_at) VALUES (1, 'sq8', 1, 'square8', 2, 'v2', '3', "
                 "?, 'old0.pt', '{\"games\": 10}', 1510.0, 1490.0, 1530.0, 'production', ?, ?)",
                 (shas[0], T, T))
    conn.execute("INSERT INTO models (id, name, version, board_type, num_players, architecture, "
                 "encoder_version, sha256, path, parent_id, parent_sha256, stage, created_at, "
                 "updated_at) VALUES (2, 'sq8', 2, 'square8', 2, 'v2', '3', ?, 'old1.pt', 1, ?, "
                 "'development', ?, ?)", (shas[1], shas[0], T, T))
    conn.executemany("INSERT INTO transitions (model_id, from_stage, to_stage, reason, at) "
                     "VALUES (?, ?, ?, ?, ?)",
                     [(1, None, "development", "registered", T),
                      (1, "development", "production", "gauntlet passed", T),
                      (2, None, "development", "registered", T)])
    conn.commit()
    with pytest.raises(sqlite3.IntegrityError):  # the trap: a board the file does not list
        conn.execute("INSERT INTO models (name, version, board_type, num_players, architecture, "
                     "encoder_version, sha256, path, created_at, updated_at) VALUES ('x', 1, "
                     "'square10', 2, 'v2', '3', ?, 'x.pt', ?, ?)", ("0" * 64, T, T))
    conn.close()
    return path


def test_v1_registry_is_migrated_keeping_rows_and_history(tmp_path):
    path = make_v1_registry(tmp_path / "models")
    with ModelRegistry(path, create=False) as reg:
        models = reg.list_models()
        assert [(m.id, m.name, m.version, str(m.stage)) for m in models] == [
            (1, "sq8", 1, "production"), (2, "sq8", 2, "development")]
        assert models[1].parent_id == 1
        assert [m.id for m in reg.lineage(2)] == [2, 1]
        assert reg.get_production("square8", 2).id == 1
        assert [t.to_stage for t in reg.history(1)] == ["development", "production"]
        reg.verify(models[0])  # relative paths still resolve
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
    ddl = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'models'").fetchone()[0]
    assert "square8" not in ddl and "BETWEEN 2 AND 4" not in ddl
    indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert {"one_production_per_config", "models_sha256", "transitions_model"} <= indexes
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()


def test_migrated_registry_accepts_any_board_gamespec_knows(tmp_path, monkeypatch):
    path = make_v1_registry(tmp_path / "models")
    with ModelRegistry(path) as reg:
        for i, spec in enumerate(GameSpec.all()):
            model = make_model(tmp_path / "models", f"new{i}.pt")
            entry = reg.register(model, f"m-{spec.board_type}-{spec.num_players}",
                                 **{**FIELDS, "board_type": spec.board_type,
                                    "num_players": spec.num_players}).entry
            assert (entry.board_type, entry.num_players) == (spec.board_type, spec.num_players)
        # A board added to GameSpec's table later needs no change to the file.
        monkeypatch.setitem(spec_module.BOARDS, "square10",
                            BoardSpec("square10", 10, False, 24, (4, 4, 4)))
        model = make_model(tmp_path / "models", "sq10.pt")
        entry = reg.register(model, "sq10", **{**FIELDS, "board_type": "square10"}).entry
        assert entry.board_type == "square10"
        monkeypatch.delitem(spec_module.BOARDS, "square10")
        with pytest.raises(UserError, match="unknown board type 'square11'"):
            reg.register(make_model(tmp_path / "models", "sq11.pt"), "sq11",
                         **{**FIELDS, "board_type": "square11"})
        with pytest.raises(UserError, match="num_players must be 2, 3 or 4, got 5"):
            reg.register(make_model(tmp_path / "models", "p5.pt"), "p5",
                         **{**FIELDS, "num_players": 5})
        assert len(reg.list_models()) == 2 + 12 + 1


def test_a_failed_migration_leaves_version_1(tmp_path, monkeypatch):
    path = make_v1_registry(tmp_path / "models")
    from ringrift.registry import schema

    def broken_table(name):
        return "CREATE TABLE models_v2 (id INTEGER PRIMARY KEY)"  # too few columns: INSERT fails

    monkeypatch.setattr(schema, "_models_table", broken_table)
    with pytest.raises(sqlite3.OperationalError):
        ModelRegistry(path)
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT version FROM schema_version").fetchall() == [(1,)]
    assert conn.execute("SELECT COUNT(*) FROM models").fetchone() == (2,)
    assert conn.execute("SELECT COUNT(*) FROM transitions").fetchone() == (3,)
    conn.close()

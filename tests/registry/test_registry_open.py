import sqlite3

import pytest

from ringrift.errors import UserError
from ringrift.registry import ModelRegistry


def snapshot(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def test_text_file_is_refused_untouched(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("just some notes\n")
    before = snapshot(tmp_path)
    with pytest.raises(UserError, match="not a SQLite database"):
        ModelRegistry(path)
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("journal", ["delete", "wal"])
def test_foreign_sqlite_database_is_refused_untouched(tmp_path, journal):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA journal_mode = {journal}")
    conn.execute("CREATE TABLE games (id INTEGER)")
    conn.commit()
    conn.close()
    before = snapshot(tmp_path)
    with pytest.raises(UserError, match="not a ringrift model registry"):
        ModelRegistry(path)
    assert snapshot(tmp_path) == before


def test_other_schema_version_is_refused_untouched(tmp_path):
    path = tmp_path / "registry.db"
    ModelRegistry(path).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE schema_version SET version = 99")
    conn.commit()
    conn.close()
    before = snapshot(tmp_path)
    with pytest.raises(UserError, match="schema version 99; this ringrift reads version 2"):
        ModelRegistry(path)
    assert snapshot(tmp_path) == before


def test_missing_registry_without_create(tmp_path):
    with pytest.raises(UserError, match="no model registry at"):
        ModelRegistry(tmp_path / "nope" / "registry.db", create=False)
    assert not (tmp_path / "nope").exists()


def test_directory_is_refused(tmp_path):
    with pytest.raises(UserError, match="is a directory"):
        ModelRegistry(tmp_path)


def test_reopen_keeps_data(tmp_path):
    path = tmp_path / "r" / "registry.db"
    with ModelRegistry(path) as reg:
        assert reg.list_models() == []
    with ModelRegistry(path, create=False) as reg:
        assert reg.list_models() == []

import hashlib
import shutil
import sqlite3

import pytest

from ringrift.errors import UserError
from ringrift.registry import ModelRegistry, Stage
from tests.registry.registry_helpers import FIELDS, make_model


def test_register_assigns_ids_and_versions_per_name(registry, tmp_path):
    a = registry.register(make_model(tmp_path, "a.pt"), "sq8", **FIELDS)
    b = registry.register(make_model(tmp_path, "b.pt"), "sq8", **FIELDS)
    c = registry.register(make_model(tmp_path, "c.pt"), "hex", **{**FIELDS, "board_type": "hex8"})
    assert (a.id, a.version, b.id, b.version, c.id, c.version) == (1, 1, 2, 2, 3, 1)
    assert a.created and b.created
    e = a.entry
    assert e.sha256 == hashlib.sha256((tmp_path / "a.pt").read_bytes()).hexdigest()
    assert e.path == (tmp_path / "a.pt").resolve()
    assert e.stage == "development" and e.rating is None
    assert (e.board_type, e.num_players, e.architecture, e.encoder_version) == (
        "square8", 2, "resnet-s", "3")


def test_same_file_same_name_returns_existing_entry(registry, tmp_path):
    path = make_model(tmp_path, "a.pt")
    first = registry.register(path, "sq8", **FIELDS)
    again = registry.register(path, "sq8")  # no fields needed: nothing new is written
    assert not again.created and again.entry == first.entry
    copy = tmp_path / "copy.pt"
    shutil.copy(path, copy)
    assert registry.register(copy, "sq8").id == first.id  # identified by content
    other = registry.register(path, "other-name", **FIELDS)
    assert other.created and other.version == 1
    assert len(registry.list_models()) == 2


def test_json_fields_rating_and_parent(registry, tmp_path):
    parent = registry.register(make_model(tmp_path, "p.pt"), "sq8", **FIELDS).entry
    child = registry.register(
        make_model(tmp_path, "c.pt"), "sq8", **FIELDS, parent=parent.id,
        training_data={"db": "games.db", "games": 5000}, metrics={"policy_loss": 1.25},
        rating=(310.0, 280.0, 340.0)).entry
    assert child.parent_id == parent.id and child.parent_sha256 == parent.sha256
    assert child.training_data == {"db": "games.db", "games": 5000}
    assert child.metrics == {"policy_loss": 1.25}
    assert (child.rating, child.rating_low, child.rating_high) == (310.0, 280.0, 340.0)
    by_sha = registry.register(make_model(tmp_path, "g.pt"), "sq8", **FIELDS,
                               parent=child.sha256.upper()).entry
    assert by_sha.parent_id == child.id
    assert [e.id for e in registry.lineage(by_sha.id)] == [by_sha.id, child.id, parent.id]
    unknown_sha = "ab" * 32
    orphan = registry.register(make_model(tmp_path, "o.pt"), "sq8", **FIELDS,
                               parent=unknown_sha).entry
    assert orphan.parent_id is None and orphan.parent_sha256 == unknown_sha
    rated = registry.set_rating(orphan.id, 12.5, 1.0, 24.0)
    assert (rated.rating, rated.rating_low, rated.rating_high) == (12.5, 1.0, 24.0)


def test_sidecar_metadata_and_overrides(registry, tmp_path):
    meta = {"model_version": "v5-small", "board_type": "hex8", "num_players": 3,
            "encoder_version": 2, "epochs": 4}
    path = make_model(tmp_path, "s.pt", metadata=meta)
    e = registry.register(path, "hex3").entry
    assert (e.board_type, e.num_players, e.architecture, e.encoder_version) == (
        "hex8", 3, "v5-small", "2")
    path2 = make_model(tmp_path, "t.pt", metadata={**meta, "architecture": "resnet-l"})
    e2 = registry.register(path2, "hex3", num_players=4).entry
    assert e2.architecture == "resnet-l"  # "architecture" wins over "model_version"
    assert e2.num_players == 4  # explicit argument overrides the sidecar


def test_missing_field_is_named(registry, tmp_path):
    path = make_model(tmp_path, "s.pt", metadata={"board_type": "square8", "num_players": 2,
                                                  "architecture": "x"})
    with pytest.raises(UserError, match="^encoder_version is not known for .*: give it"):
        registry.register(path, "sq8")
    with pytest.raises(UserError, match="^board_type is not known"):
        registry.register(make_model(tmp_path, "bare.pt"), "sq8")
    assert registry.list_models() == []


@pytest.mark.parametrize("overrides,message", [
    ({"board_type": "square9"}, "unknown board type"),
    ({"num_players": 5}, "num_players must be 2, 3 or 4"),
    ({"parent": 99}, "no model with id 99"),
    ({"parent": "not-a-sha"}, "parent must be"),
])
def test_bad_register_arguments(registry, tmp_path, overrides, message):
    with pytest.raises(UserError, match=message):
        registry.register(make_model(tmp_path, "a.pt"), "sq8", **{**FIELDS, **overrides})
    assert registry.list_models() == []


def test_bad_sidecars(registry, tmp_path):
    path = make_model(tmp_path, "a.pt")
    (tmp_path / "a.pt.json").write_text("{broken")
    with pytest.raises(UserError, match="sidecar .*a.pt.json"):
        registry.register(path, "sq8", **FIELDS)
    (tmp_path / "a.pt.json").write_text('{"sha256": "' + "0" * 64 + '", "metadata": {}}')
    with pytest.raises(UserError, match="records SHA-256 000000000000"):
        registry.register(path, "sq8", **FIELDS)
    (tmp_path / "a.pt.json").write_text('{"metadata": {"num_players": "two"}}')
    with pytest.raises(UserError, match="num_players"):
        registry.register(path, "sq8", **FIELDS)
    with pytest.raises(UserError, match="does not exist"):
        registry.register(tmp_path / "missing.pt", "sq8", **FIELDS)
    with pytest.raises(UserError, match="name"):
        registry.register(make_model(tmp_path, "b.pt"), " ", **FIELDS)
    assert registry.list_models() == []


def test_list_filters_and_get(add, registry):
    a = add()
    b = add(name="hex", board_type="hex8", num_players=3)
    registry.transition(b.id, "staging")
    assert [e.id for e in registry.list_models()] == [a.id, b.id]
    assert [e.id for e in registry.list_models(board_type="hex8")] == [b.id]
    assert [e.id for e in registry.list_models(num_players=2)] == [a.id]
    assert [e.id for e in registry.list_models(stage=Stage.STAGING)] == [b.id]
    assert registry.list_models(name="nope") == []
    assert registry.get(a.id) == a
    with pytest.raises(UserError, match="no model with id 42"):
        registry.get(42)
    with pytest.raises(UserError, match="no model with id 42"):
        registry.history(42)


def test_verify_and_load_path(add, registry):
    entry = add()
    registry.verify(entry)
    assert registry.load_path(entry) == entry.path
    entry.path.write_bytes(entry.path.read_bytes() + b"tampered")
    with pytest.raises(UserError, match="does not match its recorded SHA-256"):
        registry.load_path(entry)
    entry.path.unlink()
    with pytest.raises(UserError, match="missing"):
        registry.verify(entry)


def test_paths_inside_registry_folder_are_relative(tmp_path):
    folder = tmp_path / "store"
    with ModelRegistry(folder / "registry.db") as reg:
        entry = reg.register(make_model(folder / "sq8", "a.pt"), "sq8", **FIELDS).entry
        row = reg._conn.execute("SELECT path FROM models").fetchone()
        assert row[0] == "sq8/a.pt"
    moved = tmp_path / "moved"
    folder.rename(moved)
    with ModelRegistry(moved / "registry.db", create=False) as reg:
        moved_entry = reg.get(entry.id)
        assert moved_entry.path == (moved / "sq8" / "a.pt").resolve()
        reg.verify(moved_entry)


def test_database_settings(registry):
    conn = registry._conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO transitions (model_id, to_stage, reason, at) "
                     "VALUES (999, 'staging', '', 'now')")

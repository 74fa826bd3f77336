import itertools
import sqlite3

import pytest

from ringrift.errors import UserError
from ringrift.registry import ALLOWED_TRANSITIONS, Stage, can_transition

DOCUMENTED = {
    "development": {"staging", "rejected", "archived"},
    "staging": {"production", "rejected", "archived", "development"},
    "production": {"archived"},
    "rejected": {"archived"},
    "archived": {"development"},
}
# A path of legal moves from development to each stage.
ROUTE = {
    "development": [],
    "staging": ["staging"],
    "production": ["staging", "production"],
    "rejected": ["rejected"],
    "archived": ["archived"],
}


def dump(registry):
    return list(registry._conn.iterdump())


def test_table_matches_documentation():
    assert {s.value: {t.value for t in ts} for s, ts in ALLOWED_TRANSITIONS.items()} == DOCUMENTED
    for a, b in itertools.product(Stage, Stage):
        assert can_transition(a, b) == (b.value in DOCUMENTED[a.value])


@pytest.mark.parametrize("source,target", list(itertools.product(DOCUMENTED, DOCUMENTED)))
def test_every_transition_through_the_store(add, registry, source, target):
    entry = add()
    for stage in ROUTE[source]:
        registry.transition(entry.id, stage, reason="setup")
    assert registry.get(entry.id).stage == source
    before = dump(registry)
    if target in DOCUMENTED[source]:
        moved = registry.transition(entry.id, target, reason="because", evidence={"llr": 3.1})
        assert moved.stage == target
        last = registry.history(entry.id)[-1]
        assert (last.from_stage, last.to_stage, last.reason, last.evidence) == (
            source, target, "because", {"llr": 3.1})
    else:
        with pytest.raises(UserError, match=f"is in {source}; it cannot move to {target}"):
            registry.transition(entry.id, target, reason="nope")
        assert dump(registry) == before  # nothing changed


def test_history_starts_with_registration(add, registry):
    entry = add()
    registry.transition(entry.id, "staging", reason="gauntlet passed")
    history = registry.history(entry.id)
    assert [(t.from_stage, t.to_stage, t.reason) for t in history] == [
        (None, "development", "registered"), ("development", "staging", "gauntlet passed")]
    assert history[0].at <= history[1].at


def test_unknown_stage_and_model(add, registry):
    entry = add()
    before = dump(registry)
    with pytest.raises(UserError, match="unknown stage 'live'"):
        registry.transition(entry.id, "live")
    with pytest.raises(UserError, match="no model with id 77"):
        registry.transition(77, "staging")
    assert dump(registry) == before


def test_one_production_per_configuration(add, registry):
    models = [add() for _ in range(4)]
    other = add(name="sq8-3p", num_players=3)
    registry.transition(other.id, "staging")
    registry.transition(other.id, "production")
    previous = None
    for m in models:
        registry.transition(m.id, "staging")
        registry.transition(m.id, "production", reason="won the gate")
        production = registry.list_models(stage="production", num_players=2)
        assert [e.id for e in production] == [m.id]
        assert registry.get_production("square8", 2).id == m.id
        if previous is not None:
            assert registry.get(previous.id).stage == "archived"
            last = registry.history(previous.id)[-1]
            assert (last.from_stage, last.to_stage) == ("production", "archived")
            assert last.reason == f"superseded by {m.id}"
        previous = m
    assert registry.get_production("square8", 3).id == other.id  # untouched
    assert registry.get_production("hex8", 2) is None
    # The database refuses a second production model even when code bypasses the store.
    with pytest.raises(sqlite3.IntegrityError):
        registry._conn.execute("UPDATE models SET stage = 'production' WHERE id = ?",
                               (models[0].id,))


def test_archive_from_production_leaves_none(add, registry):
    m = add()
    registry.transition(m.id, "staging")
    registry.transition(m.id, "production")
    registry.archive(m.id, reason="retired")
    assert registry.get_production("square8", 2) is None
    assert registry.history(m.id)[-1].reason == "retired"

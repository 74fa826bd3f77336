"""GameRecord / MoveRecord: JSON round trips and validation of every field."""

from __future__ import annotations

import copy
import json

import pytest

from ringrift.data.records import GameRecord, MoveRecord
from ringrift.errors import UserError

from .synthetic import make_record


def test_json_round_trip_is_exact():
    record = make_record(seed=3, num_moves=12, num_players=3, winner=2)
    text = json.dumps(record.to_json())
    again = GameRecord.from_json(json.loads(text))
    assert again == record
    assert json.dumps(again.to_json()) == text


def test_layout_of_json_object():
    obj = make_record(num_moves=2).to_json()
    assert obj["format"] == "ringrift-game" and obj["format_version"] == 1
    assert set(obj) == {"format", "format_version", "game", "initial_state", "moves", "result"}
    assert obj["result"]["move_count"] == 2
    assert set(obj["moves"][0]) == {"index", "player", "phase", "move", "policy", "value",
                                    "think_time_s"}
    bare = make_record(num_moves=2, with_search=False).to_json()
    assert "policy" not in bare["moves"][0] and "value" not in bare["moves"][0]
    assert GameRecord.from_json(bare).moves[0].policy is None


def test_defaults_and_derived_fields():
    record = GameRecord(board_type="hex8", num_players=2, engines=["random", "random"], seed=7,
                        initial_state={})
    assert len(record.game_id) == 32 and record.game_id != GameRecord(
        board_type="hex8", num_players=2, engines=["a", "b"], seed=7, initial_state={}).game_id
    assert record.created_at.endswith("Z") and record.move_count == 0
    record.validate()


def test_policy_is_sorted_by_probability_descending():
    move = MoveRecord(index=0, player=1, phase="movement", move={"type": "a"},
                      policy=[({"type": "a"}, 0.2), ({"type": "b"}, 0.5), ({"type": "c"}, 0.3)])
    assert [m["type"] for m, _ in move.policy] == ["b", "c", "a"]


@pytest.mark.parametrize("given, canonical", [
    ("2025-11-26T03:25:00Z", "2025-11-26T03:25:00.000000Z"),
    ("2025-11-26T03:25:00.5+02:00", "2025-11-26T01:25:00.500000Z"),
    ("2025-11-26", "2025-11-26T00:00:00.000000Z"),
])
def test_created_at_is_normalised_to_utc(given, canonical):
    assert make_record(created_at=given).created_at == canonical


def _without(obj, path):
    obj = copy.deepcopy(obj)
    *parents, last = path
    target = obj
    for key in parents:
        target = target[key]
    del target[last]
    return obj


def _with(obj, path, value):
    obj = copy.deepcopy(obj)
    *parents, last = path
    target = obj
    for key in parents:
        target = target[key]
    target[last] = value
    return obj


@pytest.mark.parametrize("path, field", [
    (("format",), "format"),
    (("game",), "game"),
    (("game", "seed"), "game.seed"),
    (("game", "board_type"), "game.board_type"),
    (("game", "created_at"), "game.created_at"),
    (("initial_state",), "initial_state"),
    (("moves",), "moves"),
    (("moves", 1, "phase"), "moves[1].phase"),
    (("moves", 0, "move"), "moves[0].move"),
    (("result", "status"), "result.status"),
    (("result", "move_count"), "result.move_count"),
])
def test_missing_field_is_named(path, field):
    obj = _without(make_record(num_moves=3).to_json(), path)
    with pytest.raises(UserError) as info:
        GameRecord.from_json(obj)
    assert str(info.value).startswith(f"{field}:")


@pytest.mark.parametrize("path, value, field", [
    (("format_version",), 2, "format_version"),
    (("game", "seed"), "12", "game.seed"),
    (("game", "seed"), 2**64, "game.seed"),
    (("game", "num_players"), True, "game.num_players"),
    (("game", "engines"), ["random"], "game.engines"),
    (("game", "created_at"), "yesterday", "game.created_at"),
    (("game", "metadata"), [], "game.metadata"),
    (("result", "status"), "won", "result.status"),
    (("result", "winner"), 3, "result.winner"),
    (("result", "final_ranks"), [1], "result.final_ranks"),
    (("result", "move_count"), 2, "result.move_count"),
    (("moves", 1, "index"), 5, "moves[1].index"),
    (("moves", 1, "player"), 0, "moves[1].player"),
    (("moves", 0, "value"), [0.5], "moves[0].value"),
    (("moves", 0, "value"), "high", "moves[0].value"),
    (("moves", 0, "policy"), [[{"type": "a"}, 1.5]], "moves[0].policy[0]"),
    (("moves", 0, "policy"), [["a", 0.5]], "moves[0].policy[0]"),
    (("moves", 0, "think_time_s"), -1, "moves[0].think_time_s"),
])
def test_invalid_field_is_named(path, value, field):
    obj = _with(make_record(num_moves=3).to_json(), path, value)
    with pytest.raises(UserError) as info:
        GameRecord.from_json(obj)
    message = str(info.value)
    assert message.startswith(f"{field}:") and "\n" not in message


def test_not_an_object():
    with pytest.raises(UserError, match="expected a JSON object"):
        GameRecord.from_json([1, 2])


def test_validate_rejects_non_finite_values():
    record = make_record(num_moves=2)
    record.moves[1].value = [float("nan"), 0.0]
    with pytest.raises(UserError, match=r"moves\[1\]\.value"):
        record.validate()

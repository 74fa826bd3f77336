"""Canonical JSON: round trips and clear errors on malformed input."""

from __future__ import annotations

import copy
import random
import re

import pytest

from ringrift import rules
from ringrift.rules.errors import IllegalMoveError, RulesError


def _mid_game(board: str = "square8", n: int = 2, moves: int = 60) -> rules.GameState:
    rng = random.Random(7)
    state = rules.new_game(board, n)
    for _ in range(moves):
        legal = rules.legal_moves(state)
        rules.apply_move(state, legal[rng.randrange(len(legal))])
    return state


@pytest.mark.parametrize("board", ["square8", "hex8", "square19", "hexagonal"])
def test_state_round_trip_keeps_state_and_legal_moves(board):
    state = _mid_game(board)
    data = rules.state_to_json(state)
    clone = rules.state_from_json(data)
    assert rules.state_to_json(clone) == data
    assert [m.key() for m in rules.legal_moves(clone)] == [m.key() for m in rules.legal_moves(state)]


def test_move_round_trip_for_every_legal_move_along_a_game():
    rng = random.Random(3)
    for board in ("square8", "hex8"):
        state = rules.new_game(board, 3)
        while not state.is_over:
            legal = rules.legal_moves(state)
            for m in legal:
                back = rules.move_from_json(state.geo, rules.move_to_json(state.geo, m), state.phase)
                assert back == m
            rules.apply_move(state, legal[rng.randrange(len(legal))])


def _base() -> dict:
    return rules.state_to_json(_mid_game())


@pytest.mark.parametrize("mutate,message", [
    (lambda d: d["board"].__setitem__("type", "square9"), "unknown board type"),
    (lambda d: d.__setitem__("players", d["players"][:1]), "2-4 players"),
    (lambda d: d["board"]["stacks"].__setitem__("9,9", {"rings": [1]}), "off the square8 board"),
    (lambda d: d["board"]["stacks"].__setitem__("1,x", {"rings": [1]}), "bad position"),
    (lambda d: d["players"][0].__setitem__("ringsInHand", 99), r"ringsInHand must be in 0\.\.18, got 99"),
    (lambda d: d["players"][0].__setitem__("ringsInHand", -1), r"ringsInHand must be in 0\.\.18"),
    (lambda d: d.__setitem__("currentPhase", "dancing"), "currentPhase must be one of"),
    (lambda d: d.__setitem__("currentPlayer", 5), "currentPlayer"),
])
def test_malformed_states_are_rejected_with_a_clear_error(mutate, message):
    data = _base()
    mutate(data)
    with pytest.raises(RulesError, match=message):
        rules.state_from_json(data)


def test_stack_fields_must_match_rings():
    data = _base()
    key, st = next(iter(data["board"]["stacks"].items()))
    st["stackHeight"] = st["stackHeight"] + 1
    with pytest.raises(RulesError, match=re.escape(f"stacks['{key}'].stackHeight is")):
        rules.state_from_json(data)


def test_hex_positions_need_valid_cube_coordinates():
    state = rules.new_game("hex8", 2)
    with pytest.raises(RulesError, match="x \\+ y \\+ z"):
        rules.move_from_json(state.geo, {"type": "place_ring", "player": 1,
                                         "to": {"x": 1, "y": 1, "z": 1}})
    two_part = rules.move_from_json(state.geo, {"type": "place_ring", "player": 1, "to": "1,-1"})
    assert state.geo.coords[two_part.to] == (1, -1, 0)


def test_wrong_phase_and_wrong_player_moves_are_rejected():
    state = rules.new_game("square8", 2)
    move = rules.move_from_json(state.geo, {"type": "move_stack", "player": 1,
                                            "from": {"x": 0, "y": 0}, "to": {"x": 0, "y": 1}})
    with pytest.raises(IllegalMoveError, match="not legal in phase ring_placement"):
        rules.apply_move(state, move)
    place = rules.move_from_json(state.geo, {"type": "place_ring", "player": 2,
                                             "to": {"x": 0, "y": 0}})
    with pytest.raises(IllegalMoveError, match="player 1 is to move"):
        rules.apply_move(state, place)
    with pytest.raises(RulesError, match="unknown move type"):
        rules.move_from_json(state.geo, {"type": "teleport", "player": 1})
    before = copy.deepcopy(rules.state_to_json(state))
    assert rules.state_to_json(state) == before  # rejected moves change nothing


def test_legacy_move_aliases_are_accepted():
    state = rules.new_game("square8", 2)
    m = rules.move_from_json(state.geo, {"type": "move_ring", "player": 1, "from": "0,0", "to": "0,1"})
    assert m.type == "move_stack"

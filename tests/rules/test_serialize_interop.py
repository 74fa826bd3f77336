"""Interop with the reference engine's JSON (issue 20 §1): history, the reference's bookkeeping
fields, decision moves without payload, order-free lines, counters loaded as given."""

from __future__ import annotations

import gzip
import json
import os
import random
from collections.abc import Callable

import pytest

from ringrift import rules
from ringrift.rules import lines, territory
from ringrift.rules import moves as mv
from ringrift.rules.errors import RulesError
from ringrift.rules.serialize import position_json


def _first_state(board: str, n: int, want: Callable[[rules.GameState], bool],
                 seeds: int = 60) -> rules.GameState:
    """The first state of seeded random games for which `want` holds."""
    for seed in range(seeds):
        rng = random.Random(seed)
        state = rules.new_game(board, n)
        for _ in range(400):
            if state.is_over:
                break
            if want(state):
                return state
            legal = rules.legal_moves(state)
            rules.apply_move(state, legal[rng.randrange(len(legal))], validate=False)
    raise AssertionError("no such state in the seeded games")


def _lines_open(count: int) -> Callable[[rules.GameState], bool]:
    return lambda s: (s.phase == "line_processing" and not s.pending_line_reward
                      and len(lines.find_lines(s, s.current_player)) == count)


def _regions_open(count: int) -> Callable[[rules.GameState], bool]:
    return lambda s: (s.phase == "territory_processing" and not s.pending_region
                      and len(territory.processable_regions(s, s.current_player)) == count)


def _bare(move: rules.Move, state: rules.GameState, **fields) -> dict:
    """The move's JSON without its decision payload, plus `fields`."""
    data = rules.move_to_json(state.geo, move)
    for key in ("formedLines", "collapsedMarkers", "disconnectedRegions"):
        data.pop(key, None)
    data.update(fields)
    return data


# --------------------------------------------------------------------------- minimal move forms
def test_territory_choice_without_regions_resolves_the_only_candidate():
    state = _first_state("square8", 2, _regions_open(1))
    (region,) = territory.processable_regions(state, state.current_player)
    move = rules.move_from_json(state, {"type": "choose_territory_option",
                                        "player": state.current_player, "to": {"x": 0, "y": 0}})
    assert move.region == region
    rules.apply_move(state, move)


def test_territory_choice_without_regions_by_first_cell_then_by_id():
    state = _first_state("square8", 2, _regions_open(2))
    player = state.current_player
    first, second = territory.processable_regions(state, player)
    geo = state.geo
    by_to = rules.move_from_json(state, {"type": "choose_territory_option", "player": player,
                                         "to": position_json(geo, second[0])})
    assert by_to.region == second
    by_id = rules.move_from_json(state, {"type": "choose_territory_option", "player": player,
                                         "id": f"process-region-0-{geo.keys[first[0]]}"})
    assert by_id.region == first
    with pytest.raises(RulesError, match="none of the 2 candidate regions matches"):
        rules.move_from_json(state, {"type": "choose_territory_option", "player": player,
                                     "id": "process-region-0-x"})
    with pytest.raises(RulesError, match="pass the state"):
        rules.move_from_json(geo, {"type": "choose_territory_option", "player": player})


def test_line_decisions_without_formed_lines():
    state = _first_state("square8", 3, _lines_open(1))
    player = state.current_player
    (line,) = lines.find_lines(state, player)
    for mtype in ("process_line", "choose_line_option"):
        if mtype == "process_line" and len(line) != state.line_length:
            continue
        move = rules.move_from_json(state, {"type": mtype, "player": player})
        assert move.line == line
        assert move in rules.legal_moves(state)


def test_line_decisions_without_formed_lines_by_to_line_index_and_id():
    state = _first_state("square8", 3, _lines_open(2))
    player = state.current_player
    found = lines.find_lines(state, player)
    geo = state.geo
    by_to = rules.move_from_json(state, {"type": "choose_line_option", "player": player,
                                         "to": position_json(geo, found[1][-1])})  # either end
    assert by_to.line == found[1]
    by_index = rules.move_from_json(state, {"type": "choose_line_option", "player": player,
                                            "lineIndex": 1})
    assert by_index.line == found[1]
    keys = "|".join(geo.keys[c] for c in found[0])
    by_id = rules.move_from_json(state, {"type": "choose_line_option", "player": player,
                                         "id": f"choose-line-option-0-{keys}-all"})
    assert by_id.line == found[0] and by_id.collapse == found[0]
    with pytest.raises(RulesError, match="none of player .* lines matches"):
        rules.move_from_json(state, {"type": "process_line", "player": player, "lineIndex": 7})


def test_a_line_listed_backwards_is_the_same_move():
    state = _first_state("square8", 3, _lines_open(1))
    move = next(m for m in rules.legal_moves(state) if m.type == mv.CHOOSE_LINE_OPTION)
    data = rules.move_to_json(state.geo, move)
    data["formedLines"][0]["positions"].reverse()
    data["collapsedMarkers"].reverse()
    back = rules.move_from_json(state, data)
    assert back == move and back.to == move.to
    rules.apply_move(state, back)


def test_a_line_that_is_not_straight_is_rejected():
    state = rules.new_game("square8", 2)
    data = {"type": "process_line", "player": 1, "formedLines": [{"positions": [
        {"x": 0, "y": 0}, {"x": 1, "y": 0}, {"x": 3, "y": 0}]}]}
    with pytest.raises(RulesError, match="not form one straight line"):
        rules.move_from_json(state, data)


# --------------------------------------------------------------------------- state fields
def test_history_and_reference_fields_are_written_and_read_back():
    state = _first_state("square8", 2, lambda s: s.phase == "capture")
    data = rules.state_to_json(state)
    assert len(data["moveHistory"]) == state.move_count
    assert [rules.move_from_json(state.geo, m) for m in data["moveHistory"]] == state.moves_played()
    assert data["turnNumber"] == len(data["moveHistory"]) + 1
    for key in ("pendingLineRewardElimination", "lpsRoundIndex", "lpsCurrentRoundActorMask",
                "lpsConsecutiveExclusiveRounds", "lpsConsecutiveExclusivePlayer",
                "lpsCurrentRoundFirstPlayer", "territoryVictoryMinimum"):
        assert key in data
    # Without our extension object, the history and the reference's fields carry the turn.
    bare = {k: v for k, v in data.items() if k != "ringrift"}
    clone = rules.state_from_json(bare)
    assert clone.position_hash() == state.position_hash()
    assert clone.capture_origin == state.capture_origin >= 0
    assert clone.lps.as_tuple() == state.lps.as_tuple()
    assert [m.key() for m in rules.legal_moves(clone)] == [m.key() for m in rules.legal_moves(state)]


def test_a_position_without_history_still_loads_to_the_same_position():
    # Replay frames ask for the position alone (a frame per move with the history would cost
    # O(n^2) for a game of n moves); our extension object still carries the turn.
    state = _first_state("square8", 2, lambda s: s.phase == "capture")
    data = rules.state_to_json(state, history=False)
    assert data["moveHistory"] == []
    clone = rules.state_from_json(data)
    assert clone.position_hash() == state.position_hash()
    assert [m.key() for m in rules.legal_moves(clone)] == [m.key() for m in rules.legal_moves(state)]


def test_history_is_per_state_across_copies():
    state = rules.new_game("hex8", 2)
    for _ in range(5):
        rules.apply_move(state, rules.legal_moves(state)[0])
    a, b = state.copy(), state.copy()
    ma = rules.legal_moves(a)[0]
    rules.apply_move(a, ma)
    mb = rules.legal_moves(b)[-1]
    rules.apply_move(b, mb)
    assert a.moves_played()[-1] is ma and b.moves_played()[-1] is mb
    assert a.moves_played()[:-1] == b.moves_played()[:-1] == state.moves_played()
    assert len(state.moves_played()) == 5


def test_pie_rule_gate_comes_from_the_history():
    state = rules.new_game("square8", 2)
    while state.current_player == 1:
        rules.apply_move(state, rules.legal_moves(state)[0])
    data = rules.state_to_json(state)
    del data["ringrift"]
    clone = rules.state_from_json(data)
    assert any(m.type == mv.SWAP_SIDES for m in rules.legal_moves(clone))
    data["moveHistory"] = []
    assert not any(m.type == mv.SWAP_SIDES for m in rules.legal_moves(rules.state_from_json(data)))


def test_counters_above_the_supply_load_as_given():
    state = _first_state("square8", 2, lambda s: s.phase == "ring_placement"
                         and s.ring_count[1] > 3 and s.current_player == 1)
    data = rules.state_to_json(state)
    data["players"][0]["ringsInHand"] = 18  # plus the rings on the board: above the supply
    clone = rules.state_from_json(data)
    assert clone.hand[1] == 18
    rules.apply_move(clone, rules.legal_moves(clone)[0])


def test_what_is_still_rejected_and_why():
    data = rules.state_to_json(rules.new_game("square8", 2))
    bad = json.loads(json.dumps(data))
    bad["players"][0]["territorySpaces"] = 3  # the victory test counts the board
    with pytest.raises(RulesError, match="territorySpaces is 3, but the board has 0"):
        rules.state_from_json(bad)
    bad = json.loads(json.dumps(data))
    bad["board"]["stacks"] = {f"{x},0": {"rings": [1] * 3} for x in range(7)}
    with pytest.raises(RulesError, match="21 rings of player 1 on the board, more than the 18"):
        rules.state_from_json(bad)
    bad = json.loads(json.dumps(data))
    bad["board"]["size"] = 10**9
    with pytest.raises(RulesError, match="not a size of a square8 board"):
        rules.state_from_json(bad)
    bad = json.loads(json.dumps(data))
    bad["currentPhase"] = "chain_capture"
    with pytest.raises(RulesError, match="chainCapturePosition"):
        rules.state_from_json(bad)


@pytest.mark.parametrize("kwargs,swap,rings", [
    ({}, True, 18),
    ({"swap_rule": False}, False, 18),
    ({"rings_per_player": 10}, True, 10),
])
def test_new_game_takes_the_rules_options(kwargs, swap, rings):
    state = rules.new_game("square8", 2, **kwargs)
    assert state.swap_enabled is swap
    assert state.rings_per_player == rings and state.hand[1:] == [rings, rings]
    back = rules.state_from_json(rules.state_to_json(state))
    assert (back.swap_enabled, back.rings_per_player) == (swap, rings)


@pytest.mark.parametrize("args,message", [
    (("square9", 2), "unknown board type"),
    ((["square8"], 2), "unknown board type"),
    (("square8", 2.0), "num_players"),
    (("square8", True), "num_players"),
    (("square8", 5), "num_players"),
])
def test_new_game_rejects_bad_arguments(args, message):
    with pytest.raises(RulesError, match=message):
        rules.new_game(*args)


@pytest.mark.parametrize("kwargs", [{"rings_per_player": 0}, {"rings_per_player": 2.5},
                                    {"swap_rule": "yes"}])
def test_new_game_rejects_bad_options(kwargs):
    with pytest.raises(RulesError):
        rules.new_game("square8", 2, **kwargs)


# --------------------------------------------------------------------------- reference games
GAMES_PER_FILE = int(os.environ.get("RINGRIFT_TRACE_GAMES", "1"))  # per trace file; CI: 1


def _trace_games(shared_dir, per_file: int = GAMES_PER_FILE):
    for path in sorted((shared_dir / "traces").glob("*.jsonl.gz")):
        header, steps, count = None, [], 0
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                rec = json.loads(line)
                if rec["type"] == "game":
                    header, steps = rec, []
                elif rec["type"] == "step":
                    steps.append(rec)
                elif rec["type"] == "final":
                    yield path.name, header, steps
                    count += 1
                    if count >= per_file:
                        break


def _applied(state: rules.GameState, raw: dict, next_ref: rules.GameState | None):
    """Our move for a recorded one (RULES.md deviations of the reference, traces/README.md:
    1 = process_line on an overlength line is a no-op, 5 = recovery without extraction stack)."""
    played = rules.move_from_json(state, raw)
    if played.type == mv.PROCESS_LINE and len(played.line) > state.line_length:
        return None
    legal = rules.legal_moves(state)
    exact = [m for m in legal if m == played]
    if exact:
        return exact[0]
    loose = [m for m in legal if m.type == mv.RECOVERY_SLIDE and not played.extract
             and (m.frm, m.to, m.mode, m.option) == (played.frm, played.to, played.mode,
                                                     played.option)]
    for m in loose:
        trial = state.copy()
        rules.apply_move(trial, m, validate=False)
        if next_ref is None or trial.position_hash() == next_ref.position_hash():
            return m
    raise AssertionError(f"recorded {played!r} is not legal for us")


@pytest.mark.slow
def test_json_round_trips_at_every_step_of_the_reference_games(shared_dir):
    """At every step: the reference's state plus its history loads to our state (same position
    hash and legal moves); our JSON loads back the same, with and without our extension."""
    games = list(_trace_games(shared_dir))
    assert games, "no reference games in ../shared/traces"
    checked = 0
    for name, header, steps in games:
        state = rules.state_from_json(header["initialState"], header.get("initialStateExtras"))
        history: list[dict] = []
        refs = []
        for step in steps:
            ref_json = dict(step["state"], moveHistory=list(history))
            refs.append(rules.state_from_json(ref_json, step.get("stateExtras")))
            history.append(step["move"])
        for i, step in enumerate(steps):
            where = f"{name} {header['gameId']} step {i}"
            ref = refs[i]
            assert ref.position_hash() == state.position_hash(), where
            ours = {m.key() for m in rules.legal_moves(state)}
            assert {m.key() for m in rules.legal_moves(ref)} == ours, where
            data = rules.state_to_json(state)
            back = rules.state_from_json(json.loads(json.dumps(data)))
            assert rules.state_to_json(back) == data, where
            bare = rules.state_from_json({k: v for k, v in data.items() if k != "ringrift"})
            assert bare.position_hash() == state.position_hash(), where
            assert {m.key() for m in rules.legal_moves(bare)} == ours, where
            move = _applied(state, step["move"], refs[i + 1] if i + 1 < len(steps) else None)
            if move is not None:
                rules.apply_move(state, move)
            checked += 1
    assert checked > 500


def test_a_board_symmetry_maps_the_history_too():
    from ringrift.nn.symmetry import transform_move, transform_state

    state = _first_state("hex8", 2, lambda s: s.phase == "capture")
    image = transform_state(state, 3)
    assert image.moves_played() == [transform_move(m, 3, state.geo) for m in state.moves_played()]
    bare = {k: v for k, v in rules.state_to_json(image).items() if k != "ringrift"}
    assert rules.state_from_json(bare).position_hash() == image.position_hash()


@pytest.mark.parametrize("data", [{"type": "process_line", "player": 4},
                                  {"type": "choose_territory_option", "player": 3},
                                  {"type": "place_ring", "player": 3, "to": "0,0"}])
def test_a_move_for_a_seat_the_state_lacks_is_a_rules_error(data):
    with pytest.raises(RulesError, match="player must be in 1..2"):
        rules.move_from_json(rules.new_game("square8", 2), data)

"""Items of the RULES.md §7 checklist (plus §4.9 pie rule and the §4.12 S invariant) as tests.

States are contract-format JSON dicts (§6.3/§6.4, rings listed top to bottom) loaded with
`rules.state_from_json`; moves are built with `rules.move_from_json` and applied with the
validating `rules.apply_move`. Test names carry the checklist item number.
"""

from __future__ import annotations

import random

import pytest

from ringrift import rules

# --------------------------------------------------------------------------- helpers


def pos(key: str) -> dict[str, int]:
    x, y = (int(v) for v in key.split(","))
    return {"x": x, "y": y}


def make_state(*, board="square8", size=8, players=2, stacks=None, markers=None, collapsed=None,
               hands=None, eliminated=None, current=1, phase="movement", history=None,
               rules_options=None, status="active", winner=None):
    """Build a contract-format state dict (§6.3/§6.4) and load it. Stacks are top -> bottom."""
    stacks = stacks or {}
    markers = markers or {}
    collapsed = collapsed or {}
    hands = hands or [0] * players
    eliminated = eliminated or [0] * players
    data = {
        "gameId": "edge-case",
        "board": {
            "type": board, "size": size,
            "stacks": {k: {"position": pos(k), "rings": list(r)} for k, r in stacks.items()},
            "markers": {k: {"position": pos(k), "player": p, "type": "regular"}
                        for k, p in markers.items()},
            "collapsedSpaces": dict(collapsed),
            "eliminatedRings": {str(i + 1): eliminated[i] for i in range(players)},
        },
        "players": [
            {"playerNumber": i + 1, "ringsInHand": hands[i], "eliminatedRings": eliminated[i],
             "territorySpaces": sum(1 for o in collapsed.values() if o == i + 1),
             "isActive": True}
            for i in range(players)
        ],
        "currentPlayer": current, "currentPhase": phase, "gameStatus": status,
        "moveHistory": history or [],
    }
    if winner is not None:
        data["winner"] = winner
    if rules_options is not None:
        data["rulesOptions"] = rules_options
    return rules.state_from_json(data)


def cell(state, key: str) -> int:
    x, y = (int(v) for v in key.split(","))
    return state.geo.index[(x, y)]


def stack_at(state, key):
    return state.stacks[cell(state, key)]


def board_collapsed(state):
    return {state.geo.keys[c]: o for c, o in enumerate(state.collapsed) if o}


def board_markers(state):
    return {state.geo.keys[c]: m for c, m in enumerate(state.markers) if m}


def s_value(state) -> int:
    return (sum(1 for m in state.markers if m) + sum(1 for o in state.collapsed if o)
            + sum(state.eliminated[1:]))


def mk(state, data: dict) -> rules.Move:
    data = dict(data)
    data.setdefault("player", state.current_player)
    data.setdefault("to", {"x": 0, "y": 0})
    return rules.move_from_json(state.geo, data, state.phase)


def play(state, data: dict) -> rules.Move:
    move = mk(state, data)
    rules.apply_move(state, move)
    return move


def only(state, move_type: str) -> None:
    moves = rules.legal_moves(state)
    assert [m.type for m in moves] == [move_type], moves
    rules.apply_move(state, moves[0])


def legal_set(state) -> set:
    return set(rules.legal_moves(state))


def legal_types(state) -> set[str]:
    return {m.type for m in rules.legal_moves(state)}


def moves_of(state, move_type: str) -> set:
    return {m for m in rules.legal_moves(state) if m.type == move_type}


def step(frm, to):
    return {"type": "move_stack", "from": pos(frm), "to": pos(to)}


def cap(frm, target, to, first=True):
    return {"type": "overtaking_capture" if first else "continue_capture_segment",
            "from": pos(frm), "captureTarget": pos(target), "to": pos(to)}


def place(to, n=1):
    return {"type": "place_ring", "to": pos(to), "placementCount": n}


def region_move(keys):
    return {"type": "choose_territory_option",
            "disconnectedRegions": [{"spaces": [pos(k) for k in keys]}]}


def all_keys(size=8):
    return [f"{x},{y}" for x in range(size) for y in range(size)]


# --------------------------------------------------------------------------- representation


def test_01_rings_top_first_placement_on_top():
    s = make_state(stacks={"3,3": [2, 1], "7,7": [1]}, hands=[1, 0], phase="ring_placement")
    assert stack_at(s, "3,3") == (2, 1)  # JSON rings[0] is the top ring
    play(s, place("3,3"))
    assert stack_at(s, "3,3") == (1, 2, 1)
    out = rules.state_to_json(s)
    assert out["board"]["stacks"]["3,3"]["rings"] == [1, 2, 1]
    assert out["board"]["stacks"]["3,3"]["capHeight"] == 1


def test_03_hex_two_part_keys_are_completed():
    data = {
        "board": {"type": "hex8", "size": 9,
                  "stacks": {"1,-1": {"position": {"x": 1, "y": -1}, "rings": [1]}},
                  "markers": {}, "collapsedSpaces": {}},
        "players": [{"playerNumber": 1, "ringsInHand": 17, "eliminatedRings": 0,
                     "territorySpaces": 0},
                    {"playerNumber": 2, "ringsInHand": 18, "eliminatedRings": 0,
                     "territorySpaces": 0}],
        "currentPlayer": 1, "currentPhase": "ring_placement", "gameStatus": "active",
    }
    s = rules.state_from_json(data)
    c = s.geo.index[(1, -1, 0)]
    assert s.stacks[c] == (1,)
    assert s.geo.keys[c] == "1,-1,0"
    assert "1,-1,0" in rules.state_to_json(s)["board"]["stacks"]


@pytest.mark.parametrize("board, n, length", [
    ("square8", 2, 4), ("square8", 3, 3), ("square8", 4, 3),
    ("hex8", 2, 4), ("hex8", 3, 3), ("hex8", 4, 3),
    ("square19", 2, 4), ("square19", 3, 4), ("square19", 4, 4),
    ("hexagonal", 2, 4), ("hexagonal", 4, 4),
])
def test_04_line_length_by_board_and_player_count(board, n, length):
    assert rules.new_game(board, n).line_length == length


@pytest.mark.parametrize("board, count", [
    ("square8", 192), ("hex8", 183), ("square19", 1083), ("hexagonal", 1407),
])
def test_opening_placement_counts(board, count):
    s = rules.new_game(board, 2)
    moves = rules.legal_moves(s)
    assert len(moves) == count
    assert {m.type for m in moves} == {"place_ring"}
    assert {m.count for m in moves} == {1, 2, 3}


# --------------------------------------------------------------------------- placement (5)


def _placements(state) -> dict[str, set[int]]:
    out: dict[str, set[int]] = {}
    for m in moves_of(state, "place_ring"):
        out.setdefault(state.geo.keys[m.to], set()).add(m.count)
    return out


def test_05_placement_rules_and_no_dead_placement_per_count():
    # (0,0): one ring would be dead (walls of collapsed cells, the only target (1,1) has cap 2),
    # but two or three rings can capture it. (1,1) holds a stack: exactly one ring. (4,4) holds a
    # marker: nothing. Collapsed cells: nothing.
    s = make_state(stacks={"1,1": [2, 2], "7,7": [1]}, markers={"4,4": 1},
                   collapsed={"1,0": 2, "0,1": 2}, hands=[5, 0], phase="ring_placement")
    p = _placements(s)
    assert p["0,0"] == {2, 3}
    assert p["1,1"] == {1}
    assert p["7,7"] == {1}
    assert "4,4" not in p and "1,0" not in p and "0,1" not in p
    assert p["5,5"] == {1, 2, 3}
    with pytest.raises(rules.IllegalMoveError):
        play(s.copy(), place("0,0", 1))
    with pytest.raises(rules.IllegalMoveError):
        play(s.copy(), place("1,1", 2))
    with pytest.raises(rules.IllegalMoveError):
        play(s.copy(), place("4,4", 1))
    play(s, place("0,0", 2))
    assert stack_at(s, "0,0") == (1, 1)
    assert s.hand[1] == 3


def test_05_placement_count_limited_by_hand():
    s = make_state(stacks={"7,7": [2]}, hands=[2, 0], phase="ring_placement")
    assert {m.count for m in moves_of(s, "place_ring")} == {1, 2}


# --------------------------------------------------------------------------- must-move (6, 12)


def test_06_must_move_from_placed_stack_and_key_follows_it():
    s = make_state(stacks={"0,0": [1], "0,2": [2], "5,2": [2]}, hands=[1, 0],
                   phase="ring_placement")
    play(s, place("5,5"))
    assert s.phase == "movement"
    assert s.must_move == cell(s, "5,5")
    moves = rules.legal_moves(s)
    assert moves and {m.frm for m in moves} == {cell(s, "5,5")}
    # (0,0) could capture (0,2) but is not the placed stack
    assert mk(s, cap("0,0", "0,2", "0,3")) not in legal_set(s)
    play(s, step("5,5", "5,4"))
    assert s.phase == "capture"
    assert s.must_move == cell(s, "5,4")
    assert legal_set(s) == {
        mk(s, cap("5,4", "5,2", "5,1")), mk(s, cap("5,4", "5,2", "5,0")),
        mk(s, {"type": "skip_capture"}),
    }
    play(s, {"type": "skip_capture"})
    assert s.phase == "line_processing"
    assert s.must_move == -1


def test_12_captures_from_any_stack_in_movement():
    s = make_state(stacks={"0,0": [1], "0,2": [2], "5,5": [1], "5,3": [2]})
    caps = moves_of(s, "overtaking_capture")
    assert {m.frm for m in caps} == {cell(s, "0,0"), cell(s, "5,5")}


# --------------------------------------------------------------------------- movement (7, 8, 9)


def test_07_distance_at_least_height_markers_pass_stacks_and_collapsed_block():
    s = make_state(stacks={"0,0": [1, 2, 2], "0,4": [2, 2]}, markers={"1,0": 2},
                   collapsed={"5,0": 2})
    assert legal_set(s) == {mk(s, step("0,0", k)) for k in (
        "3,0", "4,0", "0,3", "3,3", "4,4", "5,5", "6,6", "7,7")}
    play(s, step("0,0", "4,0"))
    assert board_markers(s) == {"0,0": 1, "1,0": 1}  # departure marker; opponent marker flipped


def test_08_landing_on_own_marker():
    s = make_state(stacks={"0,0": [1, 1], "7,7": [2]}, markers={"0,2": 1})
    s0 = s_value(s)
    play(s, step("0,0", "0,2"))
    assert stack_at(s, "0,2") == (1,)
    assert board_markers(s) == {"0,0": 1}
    assert board_collapsed(s) == {}
    assert s.eliminated[1] == 1
    assert s_value(s) - s0 == 1


# --------------------------------------------------------------------------- captures (10, 11, 13)


def test_10_own_stacks_capturable_cap_vs_cap_distance_vs_height():
    # attacker (2,2) [1,2,2]: height 3, cap 1
    s = make_state(stacks={"2,2": [1, 2, 2], "2,3": [1], "3,3": [2, 2], "7,0": [2]})
    caps = {m for m in moves_of(s, "overtaking_capture") if m.frm == cell(s, "2,2")}
    # own stack (2,3) is capturable; landing distance >= 3 (height), so (2,4) is too close;
    # (3,3) has cap 2 > 1 and cannot be captured
    assert caps == {mk(s, cap("2,2", "2,3", f"2,{y}")) for y in (5, 6, 7)}
    play(s, cap("2,2", "2,3", "2,5"))
    assert stack_at(s, "2,3") is None
    assert stack_at(s, "2,5") == (1, 2, 2, 1)  # the captured ring goes to the bottom


def test_10_cap_two_captures_cap_two_and_takes_one_ring():
    s = make_state(stacks={"0,0": [1, 1], "0,2": [2, 2], "7,7": [2]})
    play(s, cap("0,0", "0,2", "0,4"))
    assert stack_at(s, "0,2") == (2,)
    assert stack_at(s, "0,4") == (1, 1, 2)


def _chain_control_state():
    return make_state(stacks={"0,0": [1, 2], "0,2": [2], "0,5": [2]}, markers={"0,3": 2})


def test_13_chain_ends_when_landing_elimination_loses_control():
    s = _chain_control_state()
    play(s, cap("0,0", "0,2", "0,3"))
    assert stack_at(s, "0,3") == (2, 2)
    assert s.eliminated[1] == 1
    assert s.phase == "line_processing"


def test_13_chain_continues_when_control_kept():
    s = _chain_control_state()
    play(s, cap("0,0", "0,2", "0,4"))
    assert stack_at(s, "0,4") == (1, 2, 2)
    assert s.phase == "chain_capture"
    assert legal_set(s) == {mk(s, cap("0,4", "0,5", "0,7", first=False))}


def test_13_chain_may_choose_a_dead_end_segment():
    s = make_state(stacks={"0,0": [1], "0,1": [2], "2,2": [2], "3,6": [2]})
    play(s, cap("0,0", "0,1", "0,2"))
    assert s.phase == "chain_capture"
    assert legal_set(s) == {mk(s, cap("0,2", "2,2", f"{x},2", first=False))
                            for x in range(3, 8)}
    assert legal_types(s) == {"continue_capture_segment"}  # no skip, no end-chain move
    branch = s.copy()
    play(branch, cap("0,2", "2,2", "3,2", first=False))
    assert branch.phase == "chain_capture"  # (3,6) is capturable from (3,2)
    play(s, cap("0,2", "2,2", "4,2", first=False))
    assert s.phase == "line_processing"  # dead end chosen: the chain is over


# --------------------------------------------------------------------------- lines (14-17)

ROW0 = ["0,0", "1,0", "2,0", "3,0"]


def _line(keys, player=1):
    return {"positions": [pos(k) for k in keys], "player": player, "length": len(keys)}


def test_14_only_the_current_players_lines():
    s = make_state(stacks={"5,5": [1], "7,7": [2]}, markers={k: 2 for k in ROW0},
                   phase="line_processing")
    assert legal_set(s) == {mk(s, {"type": "no_line_action"})}


def test_15_exact_line_then_single_ring_elimination_then_no_line_action():
    s = make_state(stacks={"5,5": [1, 1, 2], "7,7": [2]}, markers={k: 1 for k in ROW0},
                   phase="line_processing")
    proc = {"type": "process_line", "formedLines": [_line(ROW0)]}
    assert mk(s, proc) in legal_set(s)
    # no Option-2 window for an exact-length line
    assert all(len(m.collapse or m.line) == 4 for m in moves_of(s, "choose_line_option"))
    s0 = s_value(s)
    play(s, proc)
    assert board_collapsed(s) == {k: 1 for k in ROW0}
    assert s_value(s) == s0
    assert s.pending_line_reward is True
    assert legal_set(s) == {mk(s, {"type": "eliminate_rings_from_stack", "to": pos("5,5"),
                                   "eliminationContext": "line"})}
    play(s, {"type": "eliminate_rings_from_stack", "to": pos("5,5"),
             "eliminationContext": "line"})
    assert stack_at(s, "5,5") == (1, 2)  # one ring, not the cap
    assert s.eliminated[1] == 1
    assert s_value(s) == s0 + 1
    assert s.phase == "line_processing"
    only(s, "no_line_action")
    assert s.phase == "territory_processing"


def test_02_line_reward_elimination_can_pass_control():
    s = make_state(stacks={"5,5": [1, 2], "7,7": [2]}, markers={k: 1 for k in ROW0},
                   phase="line_processing")
    play(s, {"type": "process_line", "formedLines": [_line(ROW0)]})
    play(s, {"type": "eliminate_rings_from_stack", "to": pos("5,5"),
             "eliminationContext": "line"})
    assert stack_at(s, "5,5") == (2,)


def test_14_lines_recomputed_after_each_collapse():
    col0 = ["0,0", "0,1", "0,2", "0,3"]
    s = make_state(stacks={"5,5": [1, 1], "7,7": [2]},
                   markers={k: 1 for k in ROW0 + col0}, phase="line_processing")
    assert {frozenset(m.line) for m in moves_of(s, "process_line")} == {
        frozenset(cell(s, k) for k in ROW0), frozenset(cell(s, k) for k in col0)}
    play(s, {"type": "process_line", "formedLines": [_line(ROW0)]})
    play(s, {"type": "eliminate_rings_from_stack", "to": pos("5,5"),
             "eliminationContext": "line"})
    # (0,0) collapsed: the column is now 3 markers long, not a line any more
    assert legal_set(s) == {mk(s, {"type": "no_line_action"})}


def test_15_option_2_must_be_l_consecutive_markers():
    line = ["0,3", "1,3", "2,3", "3,3", "4,3"]
    s = make_state(stacks={"4,4": [1], "7,7": [2]}, markers={k: 1 for k in line},
                   phase="line_processing")
    bad = {"type": "choose_line_option", "formedLines": [_line(line)],
           "collapsedMarkers": [pos(k) for k in ("0,3", "1,3", "2,3", "4,3")]}
    with pytest.raises(rules.IllegalMoveError):
        play(s, bad)
    short = {"type": "choose_line_option", "formedLines": [_line(line)],
             "collapsedMarkers": [pos(k) for k in ("0,3", "1,3", "2,3")]}
    with pytest.raises(rules.IllegalMoveError):
        play(s, short)


def test_16_17_line_cost_waived_without_stack_and_no_no_line_action():
    # The departure marker at (3,2) completes the row; the landing on P2's marker at (3,4)
    # eliminates P1's only top ring, leaving [2]: P1 controls no stack, the cost is waived.
    s = make_state(stacks={"3,2": [1, 2], "7,7": [2]},
                   markers={"0,2": 1, "1,2": 1, "2,2": 1, "3,4": 2})
    play(s, step("3,2", "3,4"))
    assert stack_at(s, "3,4") == (2,)
    assert s.phase == "line_processing"
    row = ["0,2", "1,2", "2,2", "3,2"]
    play(s, {"type": "process_line", "formedLines": [_line(row)]})
    assert s.pending_line_reward is False
    assert board_collapsed(s) == {k: 1 for k in row}
    assert s.eliminated[1] == 1  # only the landing elimination
    # no lines left: line processing is exited without a recorded no_line_action
    assert s.phase == "territory_processing"
    assert "eliminate_rings_from_stack" not in legal_types(s)


# --------------------------------------------------------------------------- territory (18-24)


def test_18_territory_adjacency_is_von_neumann_on_square():
    # (0,0) is sealed by the two orthogonal P1 markers; the diagonal (1,1) is empty.
    s = make_state(stacks={"5,5": [1], "6,2": [2]}, markers={"1,0": 1, "0,1": 1},
                   phase="territory_processing")
    corner = mk(s, region_move(["0,0"]))
    assert corner in legal_set(s)
    s0 = s_value(s)
    rules.apply_move(s, corner)
    assert board_collapsed(s) == {"0,0": 1, "1,0": 1, "0,1": 1}
    assert s.territory[1] == 3
    assert s_value(s) - s0 == 1  # one empty cell; border markers are neutral
    assert legal_set(s) == {mk(s, {"type": "eliminate_rings_from_stack", "to": pos("5,5"),
                                   "eliminationContext": "territory"})}


def test_18_border_of_two_marker_colours_does_not_seal():
    s = make_state(stacks={"5,5": [1], "6,2": [2]}, markers={"1,0": 1, "0,1": 2},
                   phase="territory_processing")
    assert legal_set(s) == {mk(s, {"type": "no_territory_action"})}


R19 = ["0,0", "1,0"]
M19 = {"2,0": 1, "0,1": 1, "1,1": 1, "3,1": 2}


def test_19_22_colour_disconnection_counts_buried_rings_and_flood_collapse():
    # 3 players; R holds stacks of P1 and P2; P3's only ring is buried outside -> R lacks P3.
    s = make_state(players=3, stacks={"0,0": [1], "1,0": [2], "5,5": [1, 3]}, markers=M19,
                   phase="territory_processing")
    move = mk(s, region_move(R19))
    assert move in legal_set(s)
    rules.apply_move(s, move)
    assert stack_at(s, "0,0") is None and stack_at(s, "1,0") is None
    assert s.eliminated[1] == 2  # own ring included, all credited to the processor
    # seeds (2,0) (0,1) (1,1) plus the P2 marker (3,1) reached by the Moore flood
    assert board_collapsed(s) == {k: 1 for k in R19 + ["2,0", "0,1", "1,1", "3,1"]}
    assert s.territory[1] == 6
    assert board_markers(s) == {}
    play(s, {"type": "eliminate_rings_from_stack", "to": pos("5,5"),
             "eliminationContext": "territory"})
    assert stack_at(s, "5,5") == (3,)


def test_19_region_with_every_active_colour_is_not_disconnected():
    s = make_state(players=3, stacks={"0,0": [1], "1,0": [2], "5,5": [1]}, markers=M19,
                   phase="territory_processing")
    assert mk(s, region_move(R19)) not in legal_set(s)


def test_23_24_each_region_needs_its_own_elimination_and_can_be_declined():
    s = make_state(stacks={"3,3": [1, 1], "5,2": [1], "3,6": [2]},
                   markers={"1,0": 1, "0,1": 1, "6,7": 1, "7,6": 1},
                   phase="territory_processing")
    r1, r2 = mk(s, region_move(["0,0"])), mk(s, region_move(["7,7"]))
    skip = mk(s, {"type": "skip_territory_processing"})
    assert legal_set(s) == {r1, r2, skip}
    rules.apply_move(s, r1)
    assert legal_types(s) == {"eliminate_rings_from_stack"}  # immediate, mandatory
    play(s, {"type": "eliminate_rings_from_stack", "to": pos("5,2"),
             "eliminationContext": "territory"})
    assert s.phase == "territory_processing" and s.current_player == 1
    assert legal_set(s) == {r2, skip}  # re-evaluated; the second region may be declined
    rules.apply_move(s, skip)
    assert (s.current_player, s.phase) == (2, "ring_placement")


def test_24_turn_ends_after_last_self_elimination():
    s = make_state(stacks={"3,3": [1, 1], "3,6": [2, 1]}, markers={"1,0": 1, "0,1": 1},
                   phase="territory_processing")
    play(s, region_move(["0,0"]))
    play(s, {"type": "eliminate_rings_from_stack", "to": pos("3,3"),
             "eliminationContext": "territory"})
    assert stack_at(s, "3,3") is None
    assert (s.current_player, s.phase) == (2, "ring_placement")


def test_20_recovery_context_territory_uses_buried_ring_extraction():
    # P1 made a recovery slide this turn (history): it controls no stack; its buried ring in
    # (6,6) is outside the corner region, so the region is processable and the
    # self-elimination is one extraction of P1's bottommost ring there.
    history = [{"type": "no_placement_action", "player": 1, "to": pos("0,0")},
               {"type": "recovery_slide", "player": 1, "from": pos("2,1"), "to": pos("1,0"),
                "recoveryMode": "fallback", "extractionStacks": ["3,6"]},
               {"type": "no_line_action", "player": 1, "to": pos("0,0")}]
    s = make_state(stacks={"6,6": [2, 1, 2, 1], "3,6": [2]}, markers={"1,0": 1, "0,1": 1},
                   phase="territory_processing", history=history)
    assert s.recovery_context
    move = mk(s, region_move(["0,0"]))
    assert legal_set(s) == {move, mk(s, {"type": "skip_territory_processing"})}
    rules.apply_move(s, move)
    assert legal_set(s) == {mk(s, {"type": "eliminate_rings_from_stack", "to": pos("6,6"),
                                   "eliminationContext": "recovery"})}
    play(s, {"type": "eliminate_rings_from_stack", "to": pos("6,6"),
             "eliminationContext": "recovery"})
    assert stack_at(s, "6,6") == (2, 1, 2)  # P1's bottommost ring extracted
    assert s.eliminated[1] == 1
    assert (s.current_player, s.phase) == (2, "ring_placement")


def test_20_recovery_context_region_needs_buried_ring_outside():
    history = [{"type": "recovery_slide", "player": 1, "from": pos("2,1"), "to": pos("1,0"),
                "recoveryMode": "fallback", "extractionStacks": ["3,6"]}]
    # P1's only buried ring is inside the (now larger) region: not processable
    s = make_state(stacks={"0,0": [2, 1], "3,6": [2]}, markers={"1,0": 1, "0,1": 1},
                   phase="territory_processing", history=history)
    assert mk(s, region_move(["0,0"])) not in legal_set(s)


# --------------------------------------------------------------------------- turn flow (25-30)


def test_26_skip_placement_with_movable_stack():
    s = make_state(stacks={"3,3": [1], "7,7": [2]}, hands=[3, 0], phase="ring_placement")
    assert legal_types(s) == {"place_ring", "skip_placement"}


def test_26_no_skip_when_own_stacks_cannot_move():
    s = make_state(stacks={"0,0": [1, 1, 1, 1, 1, 1, 1, 1], "7,7": [2]}, hands=[3, 0],
                   phase="ring_placement")
    assert legal_types(s) == {"place_ring"}


def test_26_no_skip_without_stack_when_not_recovery_eligible():
    s = make_state(stacks={"7,7": [2, 1]}, hands=[3, 0], phase="ring_placement")  # no markers
    assert legal_types(s) == {"place_ring"}


def test_25_empty_hand_records_no_placement_action_even_with_movable_stack():
    s = make_state(stacks={"3,3": [1], "7,7": [2]}, phase="ring_placement")
    assert legal_set(s) == {mk(s, {"type": "no_placement_action"})}
    only(s, "no_placement_action")
    assert s.phase == "movement"


def test_26_movable_stack_but_no_legal_placement_only_skip():
    collapsed = {k: 2 for k in all_keys() if k not in ("0,0", "1,0")}
    s = make_state(stacks={"0,0": [1]}, collapsed=collapsed, hands=[1, 1],
                   phase="ring_placement")
    assert legal_set(s) == {mk(s, {"type": "skip_placement"})}


def test_26_nothing_possible_gives_no_placement_action():
    collapsed = {k: 2 for k in all_keys() if k not in ("0,0", "7,7")}
    s = make_state(stacks={"7,7": [2]}, collapsed=collapsed, hands=[1, 0],
                   phase="ring_placement")
    assert legal_set(s) == {mk(s, {"type": "no_placement_action"})}


def test_28_voluntary_skips_do_not_count_as_action():
    # Blocked stack, one region available but declined -> forced elimination (§3.5 row).
    s = make_state(stacks={"0,0": [1] * 8, "7,7": [2]}, collapsed={"1,0": 2, "0,1": 2},
                   phase="ring_placement")
    for t in ("no_placement_action", "no_movement_action", "no_line_action"):
        only(s, t)
    play(s, {"type": "skip_territory_processing"})
    assert s.phase == "forced_elimination"


@pytest.mark.parametrize("p3_stack, next_player", [([3], 3), ([3, 2], 2)])
def test_30_rotation_skips_only_permanently_eliminated(p3_stack, next_player):
    s = make_state(players=3, stacks={"0,0": [1], "7,7": p3_stack}, phase="movement")
    play(s, step("0,0", "1,0"))
    only(s, "no_line_action")
    only(s, "no_territory_action")
    assert s.status == "active"
    assert (s.current_player, s.phase) == (next_player, "ring_placement")
    if next_player == 2:
        # temporarily inactive P2 (one buried ring) records a full turn of no-op moves
        for t in ("no_placement_action", "no_movement_action", "no_line_action",
                  "no_territory_action"):
            only(s, t)
        assert (s.current_player, s.phase) == (3, "ring_placement")


# --------------------------------------------------------------------------- pie rule (31)


def _after_p1_first_turn(swap=None):
    s = rules.new_game("square8", 2, swap_rule=swap)
    play(s, place("3,3"))
    play(s, step("3,3", "3,4"))
    only(s, "no_line_action")
    only(s, "no_territory_action")
    assert (s.current_player, s.phase) == (2, "ring_placement")
    return s


def test_31_swap_sides_gate_and_effect():
    s = rules.new_game("square8", 2)
    assert "swap_sides" not in legal_types(s)  # P1's opening decision
    s = _after_p1_first_turn()
    assert "swap_sides" in legal_types(s)
    before = rules.state_to_json(s)
    s0 = s_value(s)
    play(s, {"type": "swap_sides"})
    assert (s.current_player, s.phase) == (2, "ring_placement")
    after = rules.state_to_json(s)
    assert after["board"] == before["board"]
    assert after["players"] == before["players"]
    assert s_value(s) == s0
    assert "swap_sides" not in legal_types(s)  # once per game
    play(s, place("5,5"))
    assert "swap_sides" not in legal_types(s)


def test_31_swap_sides_only_at_p2_first_placement_decision():
    s = _after_p1_first_turn()
    play(s, place("0,7"))  # declines the swap by placing
    assert "swap_sides" not in legal_types(s)
    play(s, step("0,7", "1,7"))
    only(s, "no_line_action")
    only(s, "no_territory_action")
    # P1's second turn, then P2's second turn: never again
    assert "swap_sides" not in legal_types(s)
    play(s, place("7,0"))
    play(s, step("7,0", "7,1"))
    only(s, "no_line_action")
    only(s, "no_territory_action")
    assert s.current_player == 2 and s.phase == "ring_placement"
    assert "swap_sides" not in legal_types(s)


def test_31_swap_sides_disabled_or_not_two_players():
    assert "swap_sides" not in legal_types(_after_p1_first_turn(swap=False))
    s = rules.new_game("square8", 3, swap_rule=True)
    play(s, place("3,3"))
    play(s, step("3,3", "3,4"))
    only(s, "no_line_action")
    only(s, "no_territory_action")
    assert s.current_player == 2 and "swap_sides" not in legal_types(s)
    # loaded state with the option on but without any P1 move in the history
    s = make_state(stacks={"3,3": [1]}, hands=[17, 18], current=2, phase="ring_placement",
                   rules_options={"swapRuleEnabled": True})
    assert "swap_sides" not in legal_types(s)


# --------------------------------------------------------------------------- victory (34-38)


def _territory_state(p1, p2, p3):
    keys = [f"{x},{y}" for y in range(8) for x in range(8)][: p1 + p2 + p3]
    owners = [1] * p1 + [2] * p2 + [3] * p3
    collapsed = dict(zip(keys, owners))
    assert "0,7" not in collapsed and "7,7" not in collapsed and "7,6" not in collapsed
    return make_state(players=3, stacks={"0,7": [1], "7,7": [2], "7,6": [3]},
                      collapsed=collapsed)


@pytest.mark.parametrize("p1, p2, p3, wins", [
    (22, 11, 11, False),  # minimum reached but not more than the opponents combined
    (23, 11, 11, True),
    (21, 10, 10, False),  # more than the opponents combined but below the 3p minimum 22
])
def test_35_territory_victory_needs_minimum_and_majority(p1, p2, p3, wins):
    s = _territory_state(p1, p2, p3)
    assert s.territory_minimum == 22
    play(s, step("0,7", "1,7"))
    only(s, "no_line_action")
    only(s, "no_territory_action")
    if wins:
        assert s.status == "completed"
        assert s.winner == 1 and s.victory_reason == "territory_control"
    else:
        assert s.status == "active"
        assert s.current_player == 2


def test_34_round_based_lps_declared_at_turn_start():
    # P2's only ring is buried under P1's stack: P2 has no real action, P1 always has one.
    s = make_state(stacks={"1,1": [1, 2]})
    route = ["1,1", "1,3", "1,5", "3,5", "5,5"]
    p1_turns = 0
    for frm, to in zip(route, route[1:]):
        if p1_turns:
            only(s, "no_placement_action")
        play(s, step(frm, to))
        only(s, "no_line_action")
        only(s, "no_territory_action")
        p1_turns += 1
        assert s.status == "active" and s.current_player == 2
        for t in ("no_placement_action", "no_movement_action", "no_line_action",
                  "no_territory_action"):
            only(s, t)
    # three full rounds with P1 the only player able to act: P1 wins at the start of its turn,
    # before recording anything
    assert p1_turns == 4
    assert s.status == "completed"
    assert s.winner == 1 and s.victory_reason == "last_player_standing"
    assert stack_at(s, "5,5") == (1, 2)


def test_37_stalemate_converts_hands_and_breaks_ties_by_territory():
    rest = [k for k in all_keys() if k != "0,0"]
    collapsed = {k: (1 if i < 32 else 2) for i, k in enumerate(rest)}
    s = make_state(stacks={"0,0": [1]}, collapsed=collapsed, hands=[0, 1],
                   phase="ring_placement")
    assert s.territory[1] == 32 and s.territory[2] == 31
    for t in ("no_placement_action", "no_movement_action", "no_line_action"):
        only(s, t)
    assert s.phase == "forced_elimination"
    play(s, {"type": "forced_elimination", "to": pos("0,0")})
    assert s.status == "completed"
    assert s.hand[2] == 0 and s.eliminated[2] == 1  # hand converted
    assert s.eliminated[1] == 1
    assert s.winner == 1 and s.victory_reason == "territory_control"
    assert rules.final_ranks(s) == [1, 2]


def test_38_final_ranking_ties_share_a_rank():
    s = make_state(players=4, stacks={"0,0": [1], "2,2": [2], "4,4": [3], "6,6": [4]},
                   markers={"0,7": 2, "1,7": 3}, collapsed={"7,0": 1},
                   eliminated=[3, 1, 1, 0], status="completed", winner=1)
    assert rules.final_ranks(s) == [1, 2, 2, 4]


# --------------------------------------------------------------------------- S invariant (39)


def _expected_delta(state, move) -> int:
    t = move.type
    if t in ("move_stack", "overtaking_capture", "continue_capture_segment"):
        return 1
    if t == "eliminate_rings_from_stack":
        if move.context in ("line", "recovery"):
            return 1
        rings = state.stacks[move.to]
        return rules.state.cap_height(rings)
    if t == "forced_elimination":
        return rules.state.cap_height(state.stacks[move.to])
    if t == "choose_territory_option":
        return sum((0 if state.markers[c] else 1) + len(state.stacks[c] or ())
                   for c in move.region)
    if t == "recovery_slide":
        return 0 if (move.mode == "line" and move.option == 2) else 1
    return 0  # placement, swap, skips, no-ops, line collapses


@pytest.mark.parametrize("board, n, seed", [
    ("square8", 2, 1), ("square8", 3, 2), ("square8", 4, 3), ("hex8", 3, 4), ("hex8", 2, 5),
])
def test_39_s_invariant_deltas_per_move_type_in_random_games(board, n, seed):
    rng = random.Random(seed)
    seen: set[str] = set()
    for _ in range(20):
        s = rules.new_game(board, n)
        for _ in range(3000):
            if s.is_over:
                break
            move = rng.choice(rules.legal_moves(s))
            expected = _expected_delta(s, move)
            before, hands = s_value(s), sum(s.hand[1:])
            rules.apply_move(s, move)
            # a stalemate ending converts the remaining hands into eliminated rings
            converted = hands - sum(s.hand[1:]) if move.type != "place_ring" else 0
            assert s_value(s) - before == expected + converted, move
            assert s.total_eliminated == sum(s.eliminated[1:])
            seen.add(move.type)
    assert {"place_ring", "move_stack", "overtaking_capture", "continue_capture_segment",
            "choose_territory_option", "eliminate_rings_from_stack"} <= seen

"""The worked micro-examples of RULES.md §5, encoded as executable tests.

Every state is built as a contract-format JSON dict (§6.3/§6.4, rings listed top to bottom) and
loaded with `rules.state_from_json`; moves are built with `rules.move_from_json` (or picked from
`rules.legal_moves`) and applied with the validating `rules.apply_move`. The assertions are the
exact outcomes the document states: cells, counts, phases, legal-move sets, recorded sequences
and the S-invariant delta (§4.12).
"""

from __future__ import annotations

import pytest

from ringrift import rules

# --------------------------------------------------------------------------- helpers


def pos(key: str) -> dict[str, int]:
    x, y = (int(v) for v in key.split(","))
    return {"x": x, "y": y}


def make_state(
    *,
    board: str = "square8",
    size: int = 8,
    players: int = 2,
    stacks: dict[str, list[int]] | None = None,
    markers: dict[str, int] | None = None,
    collapsed: dict[str, int] | None = None,
    hands: list[int] | None = None,
    eliminated: list[int] | None = None,
    current: int = 1,
    phase: str = "movement",
    history: list[dict] | None = None,
    rules_options: dict | None = None,
) -> rules.GameState:
    """Build a contract-format state dict (§6.3/§6.4) and load it. Stacks are top -> bottom."""
    stacks = stacks or {}
    markers = markers or {}
    collapsed = collapsed or {}
    hands = hands or [0] * players
    eliminated = eliminated or [0] * players
    data = {
        "gameId": "worked-example",
        "board": {
            "type": board,
            "size": size,
            "stacks": {
                k: {"position": pos(k), "rings": list(r), "stackHeight": len(r),
                    "controllingPlayer": r[0]}
                for k, r in stacks.items()
            },
            "markers": {k: {"position": pos(k), "player": p, "type": "regular"}
                        for k, p in markers.items()},
            "collapsedSpaces": dict(collapsed),
            "eliminatedRings": {str(i + 1): eliminated[i] for i in range(players)},
            "formedLines": [],
            "territories": {},
        },
        "players": [
            {"playerNumber": i + 1, "ringsInHand": hands[i], "eliminatedRings": eliminated[i],
             "territorySpaces": sum(1 for o in collapsed.values() if o == i + 1),
             "isActive": True}
            for i in range(players)
        ],
        "currentPlayer": current,
        "currentPhase": phase,
        "gameStatus": "active",
        "moveHistory": history or [],
    }
    if rules_options is not None:
        data["rulesOptions"] = rules_options
    return rules.state_from_json(data)


def cell(state: rules.GameState, key: str) -> int:
    x, y = (int(v) for v in key.split(","))
    return state.geo.index[(x, y)]


def stack_at(state: rules.GameState, key: str):
    return state.stacks[cell(state, key)]


def marker_at(state: rules.GameState, key: str) -> int:
    return state.markers[cell(state, key)]


def collapsed_at(state: rules.GameState, key: str) -> int:
    return state.collapsed[cell(state, key)]


def board_stacks(state) -> dict[str, tuple[int, ...]]:
    return {state.geo.keys[c]: r for c, r in enumerate(state.stacks) if r is not None}


def board_markers(state) -> dict[str, int]:
    return {state.geo.keys[c]: m for c, m in enumerate(state.markers) if m}


def board_collapsed(state) -> dict[str, int]:
    return {state.geo.keys[c]: o for c, o in enumerate(state.collapsed) if o}


def s_value(state) -> int:
    """S = markers + collapsed + total eliminated (§4.12), computed from the public fields."""
    markers = sum(1 for m in state.markers if m)
    collapsed = sum(1 for o in state.collapsed if o)
    return markers + collapsed + sum(state.eliminated[1:])


def mk(state, data: dict) -> rules.Move:
    """A move from its JSON (§6.5); the player defaults to the player to move."""
    data = dict(data)
    data.setdefault("player", state.current_player)
    data.setdefault("to", {"x": 0, "y": 0})
    return rules.move_from_json(state.geo, data, state.phase)


def legal_set(state) -> set[rules.Move]:
    return set(rules.legal_moves(state))


def legal_types(state) -> set[str]:
    return {m.type for m in rules.legal_moves(state)}


class Game:
    """A state plus the list of move types recorded on it."""

    def __init__(self, state: rules.GameState) -> None:
        self.s = state
        self.record: list[str] = []

    def play(self, data: dict) -> rules.Move:
        move = mk(self.s, data)
        rules.apply_move(self.s, move)  # validates legality
        self.record.append(move.type)
        return move

    def only(self, move_type: str) -> rules.Move:
        """Assert that the single legal move is of `move_type`, then apply it."""
        moves = rules.legal_moves(self.s)
        assert [m.type for m in moves] == [move_type], moves
        rules.apply_move(self.s, moves[0])
        self.record.append(move_type)
        return moves[0]


def cap_segment(frm: str, target: str, to: str, first: bool = False) -> dict:
    return {"type": "overtaking_capture" if first else "continue_capture_segment",
            "from": pos(frm), "captureTarget": pos(target), "to": pos(to)}


def line_json(keys: list[str], player: int = 1) -> dict:
    return {"positions": [pos(k) for k in keys], "player": player, "length": len(keys)}


# --------------------------------------------------------------------------- 5.1


def _state_5_1():
    return make_state(stacks={"1,1": [1, 1], "1,3": [2], "3,4": [2], "4,2": [2, 2]})


def test_5_1_chain_capture_with_180_degree_reversal():
    g = Game(_state_5_1())
    s = g.s
    s0 = s_value(s)
    assert s.must_move == -1  # hand empty, loaded state: no must-move restriction

    # Step 1: the capture over (1,3); landings (1,4)...(1,7) are all legal.
    captures = {m for m in legal_set(s) if m.type == "overtaking_capture"}
    assert captures == {mk(s, cap_segment("1,1", "1,3", f"1,{y}", first=True))
                        for y in (4, 5, 6, 7)}
    g.play(cap_segment("1,1", "1,3", "1,4", first=True))
    assert marker_at(s, "1,1") == 1
    assert stack_at(s, "1,3") is None
    assert stack_at(s, "1,4") == (1, 1, 2)
    assert s.phase == "chain_capture"
    assert s.chain_pos == cell(s, "1,4")
    # continuation is mandatory: only continue_capture_segment moves, no skip / end-chain
    assert legal_types(s) == {"continue_capture_segment"}

    # Step 2: east over (3,4) to (4,4)
    assert mk(s, cap_segment("1,4", "3,4", "4,4")) in legal_set(s)
    g.play(cap_segment("1,4", "3,4", "4,4"))
    assert marker_at(s, "1,4") == 1
    assert stack_at(s, "3,4") is None
    assert stack_at(s, "4,4") == (1, 1, 2, 2)
    # the only continuation: north over (4,2) landing (4,0) ((4,1) is too close)
    assert legal_set(s) == {mk(s, cap_segment("4,4", "4,2", "4,0"))}

    # Step 3: north over (4,2) to (4,0)
    g.play(cap_segment("4,4", "4,2", "4,0"))
    assert marker_at(s, "4,4") == 1
    assert stack_at(s, "4,2") == (2,)
    assert stack_at(s, "4,0") == (1, 1, 2, 2, 2)
    assert s.phase == "chain_capture"
    # 180-degree reversal over the same stack; (4,3) and (4,4) are too short
    assert legal_set(s) == {mk(s, cap_segment("4,0", "4,2", f"4,{y}")) for y in (5, 6, 7)}

    # Step 4: back south over (4,2) to (4,5); the own marker at (4,4) collapses on the way
    g.play(cap_segment("4,0", "4,2", "4,5"))
    assert marker_at(s, "4,0") == 1
    assert stack_at(s, "4,2") is None
    assert stack_at(s, "4,5") == (1, 1, 2, 2, 2, 2)
    assert marker_at(s, "4,4") == 0 and collapsed_at(s, "4,4") == 1
    assert s.territory[1] == 1
    assert s.phase == "line_processing"
    assert s.chain_pos == -1

    assert board_stacks(s) == {"4,5": (1, 1, 2, 2, 2, 2)}
    assert board_markers(s) == {"1,1": 1, "1,4": 1, "4,0": 1}
    assert board_collapsed(s) == {"4,4": 1}
    assert s_value(s) - s0 == 4

    g.only("no_line_action")
    assert s.phase == "territory_processing"
    g.only("no_territory_action")  # candidate region exists but P1 has no stack outside it
    assert g.record == ["overtaking_capture"] + ["continue_capture_segment"] * 3 + [
        "no_line_action", "no_territory_action"]
    # turn over; P2 (only buried rings) still takes its turn
    assert s.status == "active"
    assert (s.current_player, s.phase) == (2, "ring_placement")
    assert s_value(s) - s0 == 4


# --------------------------------------------------------------------------- 5.2


def test_5_2_landing_on_a_marker():
    s = make_state(stacks={"2,2": [1, 1], "7,7": [2]},
                   markers={"2,3": 1, "2,4": 2, "2,5": 2})
    legal = legal_set(s)
    for y in (4, 5, 6, 7):
        assert mk(s, {"type": "move_stack", "from": pos("2,2"), "to": pos(f"2,{y}")}) in legal
    assert mk(s, {"type": "move_stack", "from": pos("2,2"), "to": pos("2,3")}) not in legal
    s0 = s_value(s)
    g = Game(s)
    g.play({"type": "move_stack", "from": pos("2,2"), "to": pos("2,5")})
    assert marker_at(s, "2,2") == 1  # departure marker
    assert collapsed_at(s, "2,3") == 1 and marker_at(s, "2,3") == 0  # own marker collapsed
    assert marker_at(s, "2,4") == 1  # opponent marker flipped
    assert marker_at(s, "2,5") == 0 and collapsed_at(s, "2,5") == 0  # removed, not collapsed
    assert stack_at(s, "2,5") == (1,)
    assert s.eliminated[1] == 1 and s.eliminated[2] == 0
    assert s.territory[1] == 1
    assert sum(1 for m in s.markers if m) == 2
    assert s_value(s) - s0 == 1
    assert s.phase == "line_processing"


def test_5_2_variant_landing_elimination_passes_control_no_capture_window():
    # Stack [1,2]: the landing elimination leaves [2]; a target at (4,5) would be capturable by a
    # P1-controlled height-1 stack on (2,5), but P1 no longer controls it -> no capture window.
    base = {"markers": {"2,3": 1, "2,4": 2, "2,5": 2}}
    s = make_state(stacks={"2,2": [1, 2], "4,5": [2], "7,7": [2]}, **base)
    Game(s).play({"type": "move_stack", "from": pos("2,2"), "to": pos("2,5")})
    assert stack_at(s, "2,5") == (2,)
    assert s.eliminated[1] == 1
    assert s.phase == "line_processing"

    # Control: with [1,1] the landed stack [1] keeps control and the capture window opens.
    s = make_state(stacks={"2,2": [1, 1], "4,5": [2], "7,7": [2]}, **base)
    Game(s).play({"type": "move_stack", "from": pos("2,2"), "to": pos("2,5")})
    assert stack_at(s, "2,5") == (1,)
    assert s.phase == "capture"
    assert legal_set(s) == {
        mk(s, cap_segment("2,5", "4,5", "5,5", first=True)),
        mk(s, cap_segment("2,5", "4,5", "6,5", first=True)),
        mk(s, cap_segment("2,5", "4,5", "7,5", first=True)),
        mk(s, {"type": "skip_capture"}),
    }


# --------------------------------------------------------------------------- 5.3

LINE_5_3 = ["0,3", "1,3", "2,3", "3,3", "4,3"]


def _game_5_3() -> Game:
    s = make_state(stacks={"4,3": [1], "7,7": [2]},
                   markers={"0,3": 1, "1,3": 1, "2,3": 1, "3,3": 1},
                   phase="ring_placement")
    g = Game(s)
    g.only("no_placement_action")
    assert s.phase == "movement"
    g.play({"type": "move_stack", "from": pos("4,3"), "to": pos("4,4")})
    assert marker_at(s, "4,3") == 1
    assert s.phase == "line_processing"
    return g


def test_5_3_overlength_line_offers_option_1_and_every_option_2_window():
    g = _game_5_3()
    s = g.s
    line = line_json(LINE_5_3)
    expected = {
        mk(s, {"type": "choose_line_option", "formedLines": [line],
               "collapsedMarkers": [pos(k) for k in LINE_5_3]}),
        mk(s, {"type": "choose_line_option", "formedLines": [line],
               "collapsedMarkers": [pos(k) for k in LINE_5_3[:4]]}),
        mk(s, {"type": "choose_line_option", "formedLines": [line],
               "collapsedMarkers": [pos(k) for k in LINE_5_3[1:]]}),
    }
    assert legal_set(s) == expected
    # process_line is not a legal move for an overlength line (§4.6)
    assert "process_line" not in legal_types(s)


def test_5_3_overlength_line_option_2():
    g = _game_5_3()
    s = g.s
    s0 = s_value(s)
    window = ["1,3", "2,3", "3,3", "4,3"]
    g.play({"type": "choose_line_option", "formedLines": [line_json(LINE_5_3)],
            "collapsedMarkers": [pos(k) for k in window]})
    assert board_collapsed(s) == {k: 1 for k in window}
    assert s.territory[1] == 4
    assert marker_at(s, "0,3") == 1
    assert s.eliminated == [0, 0, 0]
    assert s.pending_line_reward is False
    assert stack_at(s, "4,4") == (1,)
    # no lines remain: exit line processing without recording no_line_action
    assert s.phase == "territory_processing"
    assert s_value(s) == s0
    g.only("no_territory_action")
    assert g.record == ["no_placement_action", "move_stack", "choose_line_option",
                        "no_territory_action"]
    assert s.status == "active"
    assert (s.current_player, s.phase) == (2, "ring_placement")


def test_5_3_overlength_line_option_1_ends_in_early_lps():
    g = _game_5_3()
    s = g.s
    g.play({"type": "choose_line_option", "formedLines": [line_json(LINE_5_3)],
            "collapsedMarkers": [pos(k) for k in LINE_5_3]})
    assert board_collapsed(s) == {k: 1 for k in LINE_5_3}
    assert s.territory[1] == 5
    assert s.pending_line_reward is True
    assert s.phase == "line_processing"
    assert legal_set(s) == {mk(s, {"type": "eliminate_rings_from_stack", "to": pos("4,4"),
                                   "eliminationContext": "line"})}
    g.play({"type": "eliminate_rings_from_stack", "to": pos("4,4"), "eliminationContext": "line"})
    assert stack_at(s, "4,4") is None
    assert s.eliminated[1] == 1
    assert s.phase == "line_processing"
    g.only("no_line_action")  # required after the reward elimination
    g.only("no_territory_action")  # board-changing moves were made: no forced elimination
    assert g.record == ["no_placement_action", "move_stack", "choose_line_option",
                        "eliminate_rings_from_stack", "no_line_action", "no_territory_action"]
    assert s.status == "completed"
    assert s.phase == "game_over"
    assert s.winner == 2
    assert s.victory_reason == "last_player_standing"
    assert rules.final_ranks(s) == [2, 1]


# --------------------------------------------------------------------------- 5.4

REGION_5_4 = ["0,0", "1,0", "0,1"]


def _game_5_4(extra_stacks: dict | None = None) -> Game:
    stacks = {"1,1": [1], "5,5": [1, 1], "0,0": [2], "7,7": [2]}
    stacks.update(extra_stacks or {})
    s = make_state(stacks=stacks, markers={"2,0": 1, "0,2": 1}, phase="ring_placement")
    return Game(s)


def test_5_4_territory_region_with_self_elimination():
    g = _game_5_4()
    s = g.s
    s0 = s_value(s)
    g.only("no_placement_action")
    g.play({"type": "move_stack", "from": pos("1,1"), "to": pos("3,1")})
    assert marker_at(s, "1,1") == 1
    assert s.phase == "line_processing"  # no capture; the 3-marker diagonal is not a line
    g.only("no_line_action")
    assert s.phase == "territory_processing"
    region = {"spaces": [pos(k) for k in REGION_5_4], "controllingPlayer": 1,
              "isDisconnected": True}
    choose = {"type": "choose_territory_option", "disconnectedRegions": [region]}
    assert legal_set(s) == {mk(s, choose), mk(s, {"type": "skip_territory_processing"})}

    g.play(choose)
    assert stack_at(s, "0,0") is None
    assert s.eliminated[1] == 1
    assert board_collapsed(s) == {k: 1 for k in REGION_5_4 + ["2,0", "1,1", "0,2"]}
    assert s.territory[1] == 6
    assert board_markers(s) == {}
    assert s.phase == "territory_processing"
    # pending self-elimination: the two P1 stacks outside R, whole cap
    assert legal_set(s) == {
        mk(s, {"type": "eliminate_rings_from_stack", "to": pos("3,1"),
               "eliminationContext": "territory"}),
        mk(s, {"type": "eliminate_rings_from_stack", "to": pos("5,5"),
               "eliminationContext": "territory"}),
    }
    g.play({"type": "eliminate_rings_from_stack", "to": pos("5,5"),
            "eliminationContext": "territory"})
    assert stack_at(s, "5,5") is None
    assert s.eliminated[1] == 3
    # no processable region left: the turn ends with nothing further recorded
    assert g.record == ["no_placement_action", "move_stack", "no_line_action",
                        "choose_territory_option", "eliminate_rings_from_stack"]
    assert s.status == "active"
    assert (s.current_player, s.phase) == (2, "ring_placement")
    assert s.territory[1] == 6
    assert s_value(s) - s0 == 7


def test_5_4_region_holding_the_only_own_stack_is_not_processable():
    # Same corner sealed by P1 markers, but P1's only stack is inside R.
    s = make_state(stacks={"0,0": [1], "7,7": [2]},
                   markers={"2,0": 1, "1,1": 1, "0,2": 1}, phase="territory_processing",
                   history=[{"type": "move_stack", "player": 1, "from": pos("3,3"),
                             "to": pos("0,0")}])
    region = {"spaces": [pos(k) for k in REGION_5_4]}
    choose_r = {"type": "choose_territory_option", "disconnectedRegions": [region]}
    # (the rest of the board, holding only P2's stack, is a region P1 *can* process: its stack
    # in R is outside that one; R itself is not processable)
    assert mk(s, choose_r) not in legal_set(s)
    # ... while P2 (a stack outside R) may process the very same region (border colour irrelevant)
    s2 = make_state(stacks={"0,0": [1], "7,7": [2]},
                    markers={"2,0": 1, "1,1": 1, "0,2": 1}, phase="territory_processing",
                    current=2)
    assert mk(s2, choose_r) in legal_set(s2)


# --------------------------------------------------------------------------- 5.5

FE_STACK = [1, 1, 1, 1, 1, 2, 2, 2]


def test_5_5_forced_elimination():
    s = make_state(stacks={"0,0": FE_STACK, "5,5": [2, 1], "7,7": [2]}, phase="ring_placement")
    g = Game(s)
    s0 = s_value(s)
    g.only("no_placement_action")
    g.only("no_movement_action")
    g.only("no_line_action")
    assert s.phase == "forced_elimination"
    assert legal_set(s) == {mk(s, {"type": "forced_elimination", "to": pos("0,0")})}
    g.play({"type": "forced_elimination", "to": pos("0,0")})
    assert stack_at(s, "0,0") == (2, 2, 2)
    assert s.eliminated[1] == 5
    assert g.record == ["no_placement_action", "no_movement_action", "no_line_action",
                        "forced_elimination"]
    assert s_value(s) - s0 == 5
    assert s.status == "active"  # P1 still has a buried ring: no early LPS
    assert (s.current_player, s.phase) == (2, "ring_placement")
    assert s.control_count[1] == 0 and s.hand[1] == 0
    assert stack_at(s, "5,5") == (2, 1)


def test_5_5_temporarily_eliminated_player_still_takes_turns():
    s = make_state(stacks={"0,0": FE_STACK, "5,5": [2, 1], "7,7": [2]}, phase="ring_placement")
    g = Game(s)
    for t in ("no_placement_action", "no_movement_action", "no_line_action"):
        g.only(t)
    g.play({"type": "forced_elimination", "to": pos("0,0")})
    # P2 plays a quiet move: (7,7) -> (7,6)
    g.only("no_placement_action")
    g.play({"type": "move_stack", "from": pos("7,7"), "to": pos("7,6")})
    g.only("no_line_action")
    g.only("no_territory_action")
    # rotation does not skip P1 (one buried ring left)
    assert (s.current_player, s.phase) == (1, "ring_placement")
    assert legal_set(s) == {mk(s, {"type": "no_placement_action"})}


def _walled_5_5():
    # P1's stack sealed off (Von Neumann) by collapsed cells: the rest of the board is a region.
    return make_state(stacks={"0,0": FE_STACK, "5,5": [2, 1], "7,7": [2]},
                      collapsed={"1,0": 2, "0,1": 2}, phase="ring_placement")


def test_5_5_caution_walled_stack_goes_to_territory_not_forced_elimination():
    s = _walled_5_5()
    g = Game(s)
    g.only("no_placement_action")
    g.only("no_movement_action")
    g.only("no_line_action")
    assert s.phase == "territory_processing"
    rest = sorted(k for k in (f"{x},{y}" for x in range(8) for y in range(8))
                  if k not in ("0,0", "1,0", "0,1"))
    choose = {"type": "choose_territory_option",
              "disconnectedRegions": [{"spaces": [pos(k) for k in rest]}]}
    assert legal_set(s) == {mk(s, choose), mk(s, {"type": "skip_territory_processing"})}

    # processing the region avoids forced elimination
    g.play(choose)
    assert s.status == "active"  # no victory mid-turn, even past the territory minimum
    assert s.territory[1] == 61
    assert legal_set(s) == {mk(s, {"type": "eliminate_rings_from_stack", "to": pos("0,0"),
                                   "eliminationContext": "territory"})}
    g.play({"type": "eliminate_rings_from_stack", "to": pos("0,0"),
            "eliminationContext": "territory"})
    assert stack_at(s, "0,0") == (2, 2, 2)
    assert g.record == ["no_placement_action", "no_movement_action", "no_line_action",
                        "choose_territory_option", "eliminate_rings_from_stack"]
    assert s.status == "completed"
    assert s.winner == 1 and s.victory_reason == "territory_control"


def test_5_5_caution_declining_the_region_still_forces_elimination():
    s = _walled_5_5()
    g = Game(s)
    for t in ("no_placement_action", "no_movement_action", "no_line_action"):
        g.only(t)
    g.play({"type": "skip_territory_processing"})
    assert s.phase == "forced_elimination"
    g.play({"type": "forced_elimination", "to": pos("0,0")})
    assert g.record == ["no_placement_action", "no_movement_action", "no_line_action",
                        "skip_territory_processing", "forced_elimination"]
    assert (s.current_player, s.phase) == (2, "ring_placement")


# --------------------------------------------------------------------------- 5.6


def _recovery_state(markers: dict[str, int]) -> rules.GameState:
    return make_state(players=3, stacks={"6,6": [2, 1], "0,7": [3, 3, 1]}, markers=markers,
                      phase="ring_placement")


def _slide(frm, to, mode="line", option=1, collapse=(), extract=()):
    return {"type": "recovery_slide", "from": pos(frm), "to": pos(to), "recoveryMode": mode,
            "recoveryOption": option, "collapsePositions": [pos(k) for k in collapse],
            "extractionStacks": list(extract)}


def test_5_6_recovery_exact_line_option_1():
    s = _recovery_state({"2,2": 1, "3,2": 1, "5,3": 1})
    assert s.line_length == 3
    g = Game(s)
    g.only("no_placement_action")
    assert s.phase == "movement"
    # line mode available -> fallback / stack-strike forbidden; no no_movement_action
    assert legal_set(s) == {
        mk(s, _slide("5,3", "4,2", extract=["6,6"])),
        mk(s, _slide("5,3", "4,2", extract=["0,7"])),
        mk(s, {"type": "skip_recovery"}),
    }
    s0 = s_value(s)
    g.play(_slide("5,3", "4,2", extract=["6,6"]))
    assert marker_at(s, "5,3") == 0 and collapsed_at(s, "5,3") == 0
    assert board_collapsed(s) == {"2,2": 1, "3,2": 1, "4,2": 1}
    assert s.territory[1] == 3
    assert board_markers(s) == {}
    assert stack_at(s, "6,6") == (2,)
    assert stack_at(s, "0,7") == (3, 3, 1)
    assert s.eliminated[1] == 1
    assert s_value(s) - s0 == 1
    g.only("no_line_action")
    g.only("no_territory_action")
    assert g.record == ["no_placement_action", "recovery_slide", "no_line_action",
                        "no_territory_action"]
    assert s.status == "active"
    assert (s.current_player, s.phase) == (2, "ring_placement")


def test_5_6_recovery_with_rings_in_hand_uses_skip_placement():
    s = make_state(players=3, stacks={"6,6": [2, 1], "0,7": [3, 3, 1]},
                   markers={"2,2": 1, "3,2": 1, "5,3": 1}, hands=[1, 0, 0],
                   phase="ring_placement")
    types = legal_types(s)
    assert "skip_placement" in types and "place_ring" in types
    assert "no_placement_action" not in types
    rules.apply_move(s, mk(s, {"type": "skip_placement"}))
    assert s.phase == "movement"
    assert mk(s, _slide("5,3", "4,2", extract=["6,6"])) in legal_set(s)


OVERLONG = {"1,2": 1, "2,2": 1, "3,2": 1, "5,3": 1}


def _overlong_movement():
    s = _recovery_state(OVERLONG)
    rules.apply_move(s, mk(s, {"type": "no_placement_action"}))
    return s


def test_5_6_recovery_overlength_offers_option_1_and_every_option_2_window():
    s = _overlong_movement()
    slides = {m for m in legal_set(s) if m.frm == cell(s, "5,3") and m.to == cell(s, "4,2")}
    assert slides == {
        mk(s, _slide("5,3", "4,2", extract=["6,6"])),
        mk(s, _slide("5,3", "4,2", extract=["0,7"])),
        mk(s, _slide("5,3", "4,2", option=2, collapse=["2,2", "3,2", "4,2"])),
        mk(s, _slide("5,3", "4,2", option=2, collapse=["1,2", "2,2", "3,2"])),
    }


@pytest.mark.parametrize("window, stays", [
    (["2,2", "3,2", "4,2"], "1,2"),
    (["1,2", "2,2", "3,2"], "4,2"),  # the window that excludes `to` (TS would reject it)
])
def test_5_6_recovery_overlength_option_2_is_free(window, stays):
    s = _overlong_movement()
    s0 = s_value(s)
    rules.apply_move(s, mk(s, _slide("5,3", "4,2", option=2, collapse=window)))
    assert board_collapsed(s) == {k: 1 for k in window}
    assert board_markers(s) == {stays: 1}
    assert s.eliminated[1] == 0
    assert stack_at(s, "6,6") == (2, 1) and stack_at(s, "0,7") == (3, 3, 1)
    assert s_value(s) == s0
    assert legal_set(s) == {mk(s, {"type": "no_line_action"})}


def test_5_6_recovery_overlength_option_1_collapses_all_four():
    s = _overlong_movement()
    rules.apply_move(s, mk(s, _slide("5,3", "4,2", extract=["0,7"])))
    assert board_collapsed(s) == {k: 1 for k in ("1,2", "2,2", "3,2", "4,2")}
    assert board_markers(s) == {}
    assert stack_at(s, "0,7") == (3, 3)
    assert s.eliminated[1] == 1


def _no_line_recovery():
    s = _recovery_state({"0,0": 1, "7,7": 1})
    rules.apply_move(s, mk(s, {"type": "no_placement_action"}))
    return s


def test_5_6_recovery_without_line_slide_offers_fallback_and_stack_strike():
    s = _no_line_recovery()
    expected = {mk(s, {"type": "skip_recovery"})}
    for frm, tos in (("0,0", ["1,0", "0,1", "1,1"]), ("7,7", ["6,7", "7,6"])):
        for to in tos:
            for ext in ("6,6", "0,7"):
                expected.add(mk(s, _slide(frm, to, mode="fallback", extract=[ext])))
    for ext in ("6,6", "0,7"):
        expected.add(mk(s, _slide("7,7", "6,6", mode="stack_strike", extract=[ext])))
    assert legal_set(s) == expected


def test_5_6_recovery_fallback_slide():
    s = _no_line_recovery()
    s0 = s_value(s)
    rules.apply_move(s, mk(s, _slide("0,0", "1,1", mode="fallback", extract=["0,7"])))
    assert board_markers(s) == {"1,1": 1, "7,7": 1}  # no departure marker
    assert board_collapsed(s) == {}
    assert stack_at(s, "0,7") == (3, 3)
    assert s.eliminated[1] == 1
    assert s_value(s) - s0 == 1
    assert s.phase == "line_processing"


def test_5_6_recovery_stack_strike():
    s = _no_line_recovery()
    s0 = s_value(s)
    rules.apply_move(s, mk(s, _slide("7,7", "6,6", mode="stack_strike", extract=["0,7"])))
    assert board_markers(s) == {"0,0": 1}  # the striking marker is removed
    assert stack_at(s, "6,6") == (1,)  # P2's top ring eliminated, credited to P1
    assert stack_at(s, "0,7") == (3, 3)
    assert s.eliminated == [0, 2, 0, 0]
    assert s_value(s) - s0 == 1
    assert s.phase == "line_processing"


def test_5_6_skip_recovery():
    s = _no_line_recovery()
    g = Game(s)
    g.play({"type": "skip_recovery"})
    g.only("no_line_action")
    g.only("no_territory_action")
    assert (s.current_player, s.phase) == (2, "ring_placement")
    assert board_markers(s) == {"0,0": 1, "7,7": 1}

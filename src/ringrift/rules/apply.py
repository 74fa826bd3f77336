"""Applying moves: effects on the board (§4) and the phase machine (§3.3)."""

from __future__ import annotations

from ringrift.rules import lines as lines_mod
from ringrift.rules import movegen, territory, victory
from ringrift.rules import moves as mv
from ringrift.rules.errors import IllegalMoveError
from ringrift.rules.moves import Move
from ringrift.rules.state import (
    CAPTURE,
    CHAIN_CAPTURE,
    FORCED_ELIMINATION_PHASE,
    LAST_PLAYER_STANDING,
    LINE_PROCESSING,
    MOVEMENT,
    RING_PLACEMENT,
    TERRITORY_PROCESSING,
    GameState,
    cap_height,
)


def apply_move(state: GameState, move: Move, *, validate: bool = True) -> None:
    """Apply `move` to `state` in place. With `validate`, reject anything not in legal_moves."""
    if validate:
        check_legal(state, move)
    player = state.current_player
    # Flags first: the handler may end the turn, which resets them for the next player.
    if move.type not in mv.NON_ACTION_TYPES:
        state.turn_had_action = True
    if player == 1:
        state.p1_has_moved = True
    elif player == 2:
        state.p2_has_moved = True
    state.move_count += 1
    state.record_move(move)
    _HANDLERS[move.type](state, move, player)


def check_legal(state: GameState, move: Move) -> None:
    """Raise IllegalMoveError with a reason unless `move` is legal in `state`."""
    if state.is_over:
        raise IllegalMoveError(f"{move.type}: the game is over")
    if move.type not in _HANDLERS:
        raise IllegalMoveError(f"unknown move type {move.type!r}")
    if move.player != state.current_player:
        raise IllegalMoveError(
            f"{move.type} by player {move.player}, but player {state.current_player} is to move")
    legal = movegen.legal_moves(state)
    key = move.key()
    if any(m.key() == key for m in legal):
        return
    if not any(m.type == move.type for m in legal):
        kinds = sorted({m.type for m in legal})
        raise IllegalMoveError(
            f"{move.type} is not legal in phase {state.phase} (legal here: {', '.join(kinds)})")
    raise IllegalMoveError(f"{move!r} is not legal in this position (phase {state.phase})")


# --------------------------------------------------------------------------- board effects
def _path_markers(state: GameState, cells: tuple[int, ...], player: int) -> None:
    """Flip opponents' markers and collapse own markers on intermediate cells (§4.3)."""
    markers = state.markers
    for c in cells:
        owner = markers[c]
        if owner == 0:
            continue
        if owner == player:
            state.set_marker(c, 0)
            state.set_collapsed(c, player)
        else:
            state.set_marker(c, player)


def _land(state: GameState, cell: int, rings: tuple[int, ...], player: int) -> None:
    """Put a moving stack on `cell`; landing on a marker costs the top ring (§4.3)."""
    if state.markers[cell]:
        state.set_marker(cell, 0)
        rings = rings[1:]
        state.credit_elimination(player, 1)
    state.set_stack(cell, rings)


def _remove_top(state: GameState, cell: int, count: int, player: int) -> None:
    rings = state.stacks[cell]
    state.set_stack(cell, rings[count:])
    state.credit_elimination(player, count)


def _extract_buried(state: GameState, cell: int, player: int) -> None:
    """Remove the player's bottommost ring from the stack on `cell` (§4.5)."""
    rings = state.stacks[cell]
    idx = len(rings) - 1 - rings[::-1].index(player)
    state.set_stack(cell, rings[:idx] + rings[idx + 1:])
    state.credit_elimination(player, 1)


# --------------------------------------------------------------------------- phase changes
def _enter_line_processing(state: GameState) -> None:
    state.phase = LINE_PROCESSING
    state.must_move = -1
    state.chain_pos = -1
    state.capture_origin = -1


def _exit_line_processing(state: GameState, player: int) -> None:
    if (not state.turn_had_action
            and state.control_count[player] > 0
            and not territory.processable_regions(state, player)):
        state.phase = FORCED_ELIMINATION_PHASE
    else:
        state.phase = TERRITORY_PROCESSING


def _territory_complete(state: GameState, player: int) -> None:
    if not state.turn_had_action and state.control_count[player] > 0:
        state.phase = FORCED_ELIMINATION_PHASE
    else:
        end_turn(state)


def end_turn(state: GameState) -> None:
    """Victory check, rotation to the next seat, new-turn bookkeeping and the LPS check (§3.3)."""
    player = state.current_player
    state.last_turn[player] = state.turn_index
    state.turn_index += 1
    victory.record_permanent_eliminations(state)
    if victory.check_end_of_turn(state):
        return
    n = state.num_players
    nxt = player
    for _ in range(n):
        nxt = nxt % n + 1
        if state.has_rings_anywhere(nxt):
            break
    state.current_player = nxt
    state.phase = RING_PLACEMENT
    state.must_move = -1
    state.capture_origin = -1
    state.chain_pos = -1
    state.pending_line_reward = False
    state.pending_region = ()
    state.recovery_context = False
    state.turn_had_action = False
    _update_lps(state, nxt)


def _update_lps(state: GameState, current: int) -> None:
    """Round-based last-player-standing tracker and victory test (§4.10.4)."""
    n = state.num_players
    active = [p for p in range(1, n + 1) if state.has_rings_anywhere(p)]
    if current not in active:
        return
    lps = state.lps
    if lps.first == 0 or lps.first not in active:
        lps.round_index += 1
        lps.first = current
        lps.mask = {}
        if lps.exclusive == 0 or lps.exclusive not in active:
            lps.consecutive = 0
            lps.exclusive = 0
    elif current == lps.first and lps.mask:
        holders = [p for p in active if lps.mask.get(p)]
        if len(holders) == 1:
            if holders[0] == lps.exclusive:
                lps.consecutive += 1
            else:
                lps.exclusive = holders[0]
                lps.consecutive = 1
        else:
            lps.consecutive = 0
            lps.exclusive = 0
        lps.round_index += 1
        lps.mask = {}
        lps.first = current
    has_action = movegen.has_real_action(state, current)
    lps.mask[current] = has_action
    if (lps.consecutive >= state.lps_rounds_required and current == lps.exclusive and has_action
            and not any(movegen.has_real_action(state, p) for p in active if p != current)):
        victory.finish(state, current, LAST_PLAYER_STANDING)


# --------------------------------------------------------------------------- handlers
def _place_ring(state: GameState, move: Move, player: int) -> None:
    cell = move.to
    rings = state.stacks[cell] or ()
    state.set_stack(cell, (player,) * move.count + rings)
    state.hand[player] -= move.count
    state.must_move = cell
    state.phase = MOVEMENT


def _to_movement(state: GameState, move: Move, player: int) -> None:
    state.phase = MOVEMENT


def _swap_sides(state: GameState, move: Move, player: int) -> None:
    pass  # seats keep everything; only the participants exchange seats (§4.9)


def _move_stack(state: GameState, move: Move, player: int) -> None:
    frm, to = move.frm, move.to
    rings = state.stacks[frm]
    state.set_stack(frm, None)
    state.set_marker(frm, player)
    _path_markers(state, state.geo.between[frm][to], player)
    _land(state, to, rings, player)
    if state.must_move == frm:
        state.must_move = to
    landed = state.stacks[to]
    if landed is not None and landed[0] == player and movegen.has_capture_from(state, to):
        state.phase = CAPTURE
        state.capture_origin = to
    else:
        _enter_line_processing(state)


def _capture(state: GameState, move: Move, player: int) -> None:
    frm, target, to = move.frm, move.target, move.to
    rings = state.stacks[frm]
    state.set_stack(frm, None)
    state.set_marker(frm, player)
    between = state.geo.between
    _path_markers(state, between[frm][target], player)
    _path_markers(state, between[target][to], player)
    victim = state.stacks[target]
    state.set_stack(target, victim[1:])
    _land(state, to, rings + (victim[0],), player)
    if state.must_move == frm:
        state.must_move = to
    state.capture_origin = -1
    landed = state.stacks[to]
    if landed is not None and landed[0] == player and movegen.has_capture_from(state, to):
        state.phase = CHAIN_CAPTURE
        state.chain_pos = to
    else:
        _enter_line_processing(state)


def _skip_capture(state: GameState, move: Move, player: int) -> None:
    _enter_line_processing(state)


def _no_movement(state: GameState, move: Move, player: int) -> None:
    _enter_line_processing(state)


def _recovery_slide(state: GameState, move: Move, player: int) -> None:
    src, dst = move.frm, move.to
    state.set_marker(src, 0)
    if move.mode == mv.RECOVERY_STACK_STRIKE:
        _remove_top(state, dst, 1, player)
    else:
        state.set_marker(dst, player)
        if move.mode == mv.RECOVERY_LINE:
            if move.option == 2:
                cells = move.collapse
            else:
                cells = movegen.recovery_line(state, dst, player)
            for c in cells:
                state.set_marker(c, 0)
                state.set_collapsed(c, player)
    for ext in move.extract:
        _extract_buried(state, ext, player)
    state.recovery_context = True
    _enter_line_processing(state)


def _collapse_line(state: GameState, cells: tuple[int, ...], player: int) -> None:
    for c in cells:
        state.set_marker(c, 0)
        state.set_collapsed(c, player)


def _after_line_collapse(state: GameState, player: int) -> None:
    if state.pending_line_reward:
        return
    if lines_mod.find_lines(state, player):
        return
    _exit_line_processing(state, player)


def _process_line(state: GameState, move: Move, player: int) -> None:
    _collapse_line(state, move.line, player)
    state.pending_line_reward = state.control_count[player] > 0
    _after_line_collapse(state, player)


def _choose_line_option(state: GameState, move: Move, player: int) -> None:
    cells = move.collapse or move.line
    _collapse_line(state, cells, player)
    if len(cells) == len(move.line):
        state.pending_line_reward = state.control_count[player] > 0
    _after_line_collapse(state, player)


def _eliminate(state: GameState, move: Move, player: int) -> None:
    cell = move.to
    if state.phase == LINE_PROCESSING:
        _remove_top(state, cell, 1, player)
        state.pending_line_reward = False
        return
    if move.context == mv.CONTEXT_RECOVERY:
        _extract_buried(state, cell, player)
    else:
        _remove_top(state, cell, cap_height(state.stacks[cell]), player)
    state.pending_region = ()
    if territory.processable_regions(state, player):
        return
    _territory_complete(state, player)


def _no_line_action(state: GameState, move: Move, player: int) -> None:
    _exit_line_processing(state, player)


def _choose_territory(state: GameState, move: Move, player: int) -> None:
    region = move.region
    border = territory.border_markers(state, region)
    rings_inside = 0
    for c in region:
        rings = state.stacks[c]
        if rings is not None:
            rings_inside += len(rings)
            state.set_stack(c, None)
        if state.markers[c]:
            state.set_marker(c, 0)
        state.set_collapsed(c, player)
    for c in border:
        state.set_marker(c, 0)
        state.set_collapsed(c, player)
    state.credit_elimination(player, rings_inside)
    state.pending_region = region


def _territory_done(state: GameState, move: Move, player: int) -> None:
    _territory_complete(state, player)


def _forced_elimination(state: GameState, move: Move, player: int) -> None:
    cell = move.to
    _remove_top(state, cell, cap_height(state.stacks[cell]), player)
    end_turn(state)


_HANDLERS = {
    mv.PLACE_RING: _place_ring,
    mv.SKIP_PLACEMENT: _to_movement,
    mv.NO_PLACEMENT_ACTION: _to_movement,
    mv.SWAP_SIDES: _swap_sides,
    mv.MOVE_STACK: _move_stack,
    mv.OVERTAKING_CAPTURE: _capture,
    mv.CONTINUE_CAPTURE: _capture,
    mv.SKIP_CAPTURE: _skip_capture,
    mv.NO_MOVEMENT_ACTION: _no_movement,
    mv.RECOVERY_SLIDE: _recovery_slide,
    mv.SKIP_RECOVERY: _no_movement,
    mv.PROCESS_LINE: _process_line,
    mv.CHOOSE_LINE_OPTION: _choose_line_option,
    mv.ELIMINATE_RINGS: _eliminate,
    mv.NO_LINE_ACTION: _no_line_action,
    mv.CHOOSE_TERRITORY_OPTION: _choose_territory,
    mv.SKIP_TERRITORY: _territory_done,
    mv.NO_TERRITORY_ACTION: _territory_done,
    mv.FORCED_ELIMINATION: _forced_elimination,
}

"""Policy index -> move (`decode`), the inverse of `encode` on legal moves."""

from __future__ import annotations

from ringrift.nn.actions.encoder import EncodeContext, encode_with
from ringrift.nn.actions.errors import ActionIndexError
from ringrift.nn.actions.layout import SCALAR_TYPES
from ringrift.nn.actions.lines import centre_cell
from ringrift.nn.actions.tables import ActionTables, tables_of
from ringrift.rules import lines as lines_mod
from ringrift.rules import movegen
from ringrift.rules import moves as mv
from ringrift.rules.moves import Move
from ringrift.rules.state import CHAIN_CAPTURE, LINE_PROCESSING, TERRITORY_PROCESSING, GameState


def decode(index: int, state: GameState) -> Move:
    """The move that `index` denotes in `state` (inverse of `encode` on legal moves).

    Raises ActionIndexError when the index names nothing in this state (wrong phase, off board,
    no such line or region). It does not check full legality; use `rules.check_legal` for that.
    """
    t = tables_of(state.geo)
    lay = t.layout
    index = int(index)
    player = state.current_player
    spatial = lay.policy_planes * lay.hw
    if not 0 <= index < lay.policy_size:
        raise ActionIndexError(f"index {index} outside the policy vector [0, {lay.policy_size})")
    if index >= spatial:
        return Move(SCALAR_TYPES[index - spatial], player)
    plane, pos = divmod(index, lay.hw)
    cell = t.flat_cell.get(pos)
    if cell is None:
        raise ActionIndexError(f"index {index}: grid position {pos} is off the board")
    if plane < lay.move:
        return Move(mv.PLACE_RING, player, to=cell, count=plane - lay.place + 1)
    if plane < lay.line_exact:
        d, k = divmod(plane - lay.move, lay.max_dist)
        ray = state.geo.rays[cell][d]
        if k >= len(ray):
            raise ActionIndexError(f"index {index}: distance {k + 1} leaves the board")
        stacks = state.stacks
        for c in ray[:k]:
            if stacks[c] is not None:
                chain = state.phase == CHAIN_CAPTURE
                kind = mv.CONTINUE_CAPTURE if chain else mv.OVERTAKING_CAPTURE
                return Move(kind, player, frm=cell, target=c, to=ray[k])
        return Move(mv.MOVE_STACK, player, frm=cell, to=ray[k])
    if plane < lay.eliminate:
        return _decode_line(t, state, plane, cell, index)
    if plane == lay.eliminate:
        if state.phase == LINE_PROCESSING:
            return Move(mv.ELIMINATE_RINGS, player, to=cell, context=mv.CONTEXT_LINE)
        if state.phase == TERRITORY_PROCESSING:
            context = mv.CONTEXT_RECOVERY if state.recovery_context else mv.CONTEXT_TERRITORY
            return Move(mv.ELIMINATE_RINGS, player, to=cell, context=context)
        return Move(mv.FORCED_ELIMINATION, player, to=cell)
    # territory and recovery: rare decisions with state-dependent anchors; match the legal moves
    ctx = EncodeContext(state)
    for m in movegen.legal_moves(state):
        if m.type in (mv.CHOOSE_TERRITORY_OPTION, mv.RECOVERY_SLIDE) and encode_with(ctx, m) == index:
            return m
    raise ActionIndexError(f"index {index} names no legal territory or recovery move here")


def _decode_line(t: ActionTables, state: GameState, plane: int, cell: int, index: int) -> Move:
    lay = t.layout
    player = state.current_player
    length = state.line_length
    npar = len(lay.line_parities)
    if plane < lay.line_all:
        axis, slot = divmod(plane - lay.line_exact, npar)
        kind, parity = "exact", lay.line_parities[slot]
    elif plane < lay.line_part:
        axis, parity = divmod(plane - lay.line_all, 2)
        kind = "all"
    else:
        axis, slot = divmod(plane - lay.line_part, npar)
        kind, parity = "part", lay.line_parities[slot]
    if state.markers[cell] != player:
        raise ActionIndexError(f"index {index}: no marker of player {player} at the anchor")
    line = lines_mod.line_through(state, cell, player, axis)
    if kind == "part":
        if length % 2 != parity or len(line) <= length:
            raise ActionIndexError(f"index {index}: no overlength line with such a window here")
        at = line.index(cell)
        start = at - (length - 1) // 2
        if start < 0 or start + length > len(line):
            raise ActionIndexError(f"index {index}: window leaves the line")
        return Move(mv.CHOOSE_LINE_OPTION, player, to=line[0], line=line,
                    collapse=line[start:start + length], option=2)
    if len(line) < length or len(line) % 2 != parity or centre_cell(line) != cell:
        raise ActionIndexError(f"index {index}: no line centred on this cell here")
    if kind == "exact":
        if len(line) != length:
            raise ActionIndexError(f"index {index}: the line here is not of exact length")
        return Move(mv.PROCESS_LINE, player, to=line[0], line=line)
    return Move(mv.CHOOSE_LINE_OPTION, player, to=line[0], line=line, collapse=line, option=1)


"""Legal-move generation, phase by phase (RULES.md §3.3, §4.1-§4.9)."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from itertools import chain, compress
from operator import truth

from ringrift.rules import bitboards, territory
from ringrift.rules import lines as lines_mod
from ringrift.rules import moves as mv
from ringrift.rules.boards import Geometry
from ringrift.rules.moves import Move, make_move
from ringrift.rules.state import (
    CAPTURE,
    CHAIN_CAPTURE,
    FORCED_ELIMINATION_PHASE,
    LINE_PROCESSING,
    MOVEMENT,
    RING_PLACEMENT,
    TERRITORY_PROCESSING,
    GameState,
    cap_height,
)


# --------------------------------------------------------------------------- stack mobility
def stack_can_act(state: GameState, cell: int, height: int, cap: int) -> bool:
    """Whether a stack of this height and cap at `cell` has a move or a capture (§4.2, §4.4)."""
    stacks = state.stacks
    collapsed = state.collapsed
    for ray in state.geo.rays[cell]:
        d = 0
        for c in ray:
            d += 1
            if collapsed[c]:
                break
            target = stacks[c]
            if target is not None:
                if cap_height(target) <= cap:
                    dl = d
                    for land in ray[d:]:
                        dl += 1
                        if collapsed[land] or stacks[land] is not None:
                            break
                        if dl >= height:
                            return True
                break
            if d >= height:
                return True
    return False


def _longest_clear_ray(stacks: list, collapsed: list, rays: tuple, limit: int) -> int:
    """Longest run of empty-or-marker cells along any ray, capped at `limit`."""
    best = 0
    for ray in rays:
        run = 0
        for c in ray:
            if collapsed[c] or stacks[c] is not None:
                break
            run += 1
            if run >= limit:
                return limit
        if run > best:
            best = run
    return best


def _moves_from(state: GameState, cell: int, player: int, out: list[Move]) -> None:
    rings = state.stacks[cell]
    height = len(rings)
    stacks = state.stacks
    collapsed = state.collapsed
    for ray in state.geo.rays[cell]:
        d = 0
        for c in ray:
            d += 1
            if collapsed[c] or stacks[c] is not None:
                break
            if d >= height:
                out.append(make_move(mv.MOVE_STACK, player, cell, c))


def capture_landings(state: GameState, cell: int) -> Iterator[tuple[int, int]]:
    """(landing cell, target cell) of each overtaking capture by the stack on `cell`, in ray
    order: the first stack along a ray is the target when its cap is no higher than ours, and
    every empty cell beyond it, at least our height away, up to the next obstacle is a landing."""
    rings = state.stacks[cell]
    height = len(rings)
    cap = cap_height(rings)
    stacks = state.stacks
    collapsed = state.collapsed
    for ray in state.geo.rays[cell]:
        d = 0
        for c in ray:
            d += 1
            if collapsed[c]:
                break
            target = stacks[c]
            if target is None:
                continue
            if cap_height(target) <= cap:
                dl = d
                for land in ray[d:]:
                    dl += 1
                    if collapsed[land] or stacks[land] is not None:
                        break
                    if dl >= height:
                        yield land, c
            break


def captures_from(state: GameState, cell: int, player: int, move_type: str,
                  out: list[Move]) -> None:
    for land, target in capture_landings(state, cell):
        out.append(make_move(move_type, player, cell, land, target))


def has_capture_from(state: GameState, cell: int) -> bool:
    """Whether the stack on `cell` has an overtaking capture (builds no moves)."""
    return next(capture_landings(state, cell), None) is not None


def controlled_cells(state: GameState, player: int) -> list[int]:
    if not state.control_count[player]:
        return []
    stacks = state.stacks
    # compress() skips the empty cells (None) at C speed
    return [c for c in compress(range(len(stacks)), stacks) if stacks[c][0] == player]


def player_can_move_any_stack(state: GameState, player: int) -> bool:
    """A move or capture exists from some stack the player controls (no must-move restriction)."""
    for cell in controlled_cells(state, player):
        rings = state.stacks[cell]
        if stack_can_act(state, cell, len(rings), cap_height(rings)):
            return True
    return False


@cache
def _plain_move(move_type: str, player: int) -> Move:
    """The one shared instance of a move that has no fields besides its type and player."""
    return Move(move_type, player)


# --------------------------------------------------------------------------- placement
@cache
def _placement_table(geo: Geometry, player: int) -> tuple[list[tuple[Move, ...]], ...]:
    """table[k][p]: the place_ring moves of counts 1..k on the cell at bit position p."""
    layout = bitboards.get_layout(geo)
    tables: list[list[tuple[Move, ...]]] = [[]]
    per_cell = [tuple(Move(mv.PLACE_RING, player, to=c, count=n) for n in (1, 2, 3))
                for c in range(geo.num_cells)]
    for k in (1, 2, 3):
        row: list[tuple[Move, ...]] = [()] * layout.width
        for c, moves in enumerate(per_cell):
            row[layout.pos[c]] = moves[:k]
        tables.append(row)
    return tuple(tables)


# Placing on a stack of height < this is usually settled by the clear runs alone.
_RUN_LEVELS = 4


def _clear_runs(layout: bitboards.BitLayout, free: int, length: int) -> list[int]:
    """runs[k] (k = 1..length): the cells followed by k free cells in a row along some movement
    direction, so that a stack of height k there can move."""
    runs = [0] * (length + 1)
    for offset, mask in layout.move_steps:
        passable = mask & free
        chain = free  # cells starting a free run of the length so far
        for k in range(1, length + 1):
            chain = chain >> offset if offset > 0 else chain << -offset
            runs[k] |= chain & mask
            chain &= passable
    return runs


def placement_moves(state: GameState, player: int, first_only: bool = False) -> list[Move]:
    """Every legal `place_ring` (§4.1), each count checked for no-dead-placement separately."""
    hand = state.hand[player]
    if hand <= 0:
        return []
    supply = state.rings_per_player - state.ring_count[player]  # own-colour cap (§4.1)
    max_count = min(3, hand, supply)
    if max_count <= 0:
        return []
    if first_only:
        return _first_placement(state, player, max_count)
    layout = bitboards.get_layout(state.geo)
    members, nonzero = layout.members, bitboards.NONZERO
    stacks = state.stacks
    stacked = members(bytes(map(truth, stacks)), nonzero)
    collapsed = members(bytes(state.collapsed), nonzero)
    marked = members(bytes(state.markers), nonzero)
    free = layout.board & ~(stacked | collapsed)  # what a moving stack may pass over
    empty = free & ~marked
    levels = max(max_count, _RUN_LEVELS)
    runs = _clear_runs(layout, free, levels)
    # Empty cells with a clear run of max_count take every count; the rest go one by one.
    ready = empty & runs[max_count]
    table = _placement_table(state.geo, player)[max_count]
    special = (empty & ~ready) | (stacked & ~(collapsed | marked))
    if special:
        table = table[:]
        pos = layout.pos
        bit = layout.bit
        for cell in compress(layout.cell_at, layout.selector(special)):
            moves = table[pos[cell]]
            rings = stacks[cell]
            if rings is not None and len(rings) < levels and runs[len(rings) + 1] & bit[cell]:
                moves = moves[:1]  # the new stack can move: one ring on a stack
            else:
                moves = _cell_placements(state, cell, moves)
            if moves:
                table[pos[cell]] = moves
                ready |= bit[cell]
    return list(chain.from_iterable(compress(table, layout.selector(ready))))


def _cell_placements(state: GameState, cell: int, moves: tuple[Move, ...]) -> tuple[Move, ...]:
    """Which of `moves` (placements of counts 1, 2, ... on a cell without marker or collapse)
    are legal: the new stack must be able to move or capture (no dead placement)."""
    rings = state.stacks[cell]
    if rings is not None:
        height = len(rings) + 1
        cap = cap_height(rings) + 1 if rings[0] == moves[0].player else 1
        return moves[:1] if stack_can_act(state, cell, height, cap) else ()
    # Counts up to the longest clear ray can move; only taller ones need the full check.
    clear = _longest_clear_ray(state.stacks, state.collapsed, state.geo.rays[cell], len(moves))
    if clear >= len(moves):
        return moves
    return tuple(m for m in moves if m.count <= clear or stack_can_act(state, cell, m.count,
                                                                         m.count))


def _first_placement(state: GameState, player: int, max_count: int) -> list[Move]:
    """The first move `placement_moves` would list, if any ([] or a one-move list)."""
    collapsed = state.collapsed
    markers = state.markers
    table = _placement_table(state.geo, player)[max_count]
    pos = bitboards.get_layout(state.geo).pos
    for cell in range(state.geo.num_cells):
        if collapsed[cell] or markers[cell]:
            continue
        moves = _cell_placements(state, cell, table[pos[cell]])
        if moves:
            return [moves[0]]
    return []


def swap_available(state: GameState) -> bool:
    """Pie rule gate (§4.9)."""
    return (state.swap_enabled and state.num_players == 2 and state.current_player == 2
            and state.phase == RING_PLACEMENT and state.p1_has_moved and not state.p2_has_moved)


def has_real_action(state: GameState, player: int) -> bool:
    """A placement, move or capture is available to `player` now (§2.6, for LPS)."""
    if state.hand[player] > 0 and placement_moves(state, player, first_only=True):
        return True
    return player_can_move_any_stack(state, player)


def _placement_phase(state: GameState, player: int) -> list[Move]:
    out = placement_moves(state, player)
    if state.hand[player] > 0:
        if state.control_count[player]:
            can_skip = player_can_move_any_stack(state, player)
        else:
            can_skip = state.is_recovery_eligible(player)
        if can_skip:
            out.append(_plain_move(mv.SKIP_PLACEMENT, player))
    if not out:
        out.append(_plain_move(mv.NO_PLACEMENT_ACTION, player))
    if swap_available(state):
        out.append(_plain_move(mv.SWAP_SIDES, player))
    return out


# --------------------------------------------------------------------------- movement
def _movement_phase(state: GameState, player: int) -> list[Move]:
    out: list[Move] = []
    cells = [state.must_move] if state.must_move >= 0 else controlled_cells(state, player)
    for cell in cells:
        rings = state.stacks[cell]
        if rings is None or rings[0] != player:
            continue
        _moves_from(state, cell, player, out)
        captures_from(state, cell, player, mv.OVERTAKING_CAPTURE, out)
    if not out and state.is_recovery_eligible(player):
        out.extend(recovery_moves(state, player))
        out.append(_plain_move(mv.SKIP_RECOVERY, player))
    if not out:
        out.append(_plain_move(mv.NO_MOVEMENT_ACTION, player))
    return out


def recovery_moves(state: GameState, player: int) -> list[Move]:
    """Recovery slides of an eligible player (§4.5), one move per extraction choice."""
    markers = state.markers
    stacks = state.stacks
    collapsed = state.collapsed
    geo = state.geo
    length = state.line_length
    extract_cells = tuple(c for c, r in enumerate(stacks) if r is not None and player in r[1:])
    own_markers = [c for c, m in enumerate(markers) if m == player]
    line_moves: list[Move] = []
    for src in own_markers:
        markers[src] = 0  # the marker leaves its cell before the line is measured
        try:
            for dst in geo.adjacent[src]:
                if stacks[dst] is not None or markers[dst] or collapsed[dst]:
                    continue
                best = recovery_line(state, dst, player)
                if len(best) < length:
                    continue
                for ext in extract_cells:
                    line_moves.append(Move(mv.RECOVERY_SLIDE, player, frm=src, to=dst,
                                           mode=mv.RECOVERY_LINE, option=1, extract=(ext,)))
                if len(best) > length:
                    for window in lines_mod.windows(best, length):
                        line_moves.append(Move(mv.RECOVERY_SLIDE, player, frm=src, to=dst,
                                               mode=mv.RECOVERY_LINE, option=2, collapse=window))
        finally:
            markers[src] = player
    if line_moves:
        return line_moves
    out: list[Move] = []
    for src in own_markers:
        for dst in geo.adjacent[src]:
            if collapsed[dst] or markers[dst]:
                continue
            mode = mv.RECOVERY_STACK_STRIKE if stacks[dst] is not None else mv.RECOVERY_FALLBACK
            for ext in extract_cells:
                out.append(Move(mv.RECOVERY_SLIDE, player, frm=src, to=dst, mode=mode,
                                option=1, extract=(ext,)))
    return out


def recovery_line(state: GameState, dst: int, player: int) -> tuple[int, ...]:
    """The longest run of the player's markers through `dst` (first axis on ties, §4.5)."""
    best: tuple[int, ...] = ()
    for axis in range(len(state.geo.line_rays[dst])):
        run = lines_mod.line_through(state, dst, player, axis)
        if len(run) > len(best):
            best = run
    return best


def _capture_phase(state: GameState, player: int) -> list[Move]:
    out: list[Move] = []
    origin = state.capture_origin
    # A state loaded in `capture` without history cannot name its origin: any stack may capture.
    cells = [origin] if origin >= 0 else controlled_cells(state, player)
    for cell in cells:
        rings = state.stacks[cell]
        if rings is not None and rings[0] == player:
            captures_from(state, cell, player, mv.OVERTAKING_CAPTURE, out)
    out.append(_plain_move(mv.SKIP_CAPTURE, player))
    return out


def _chain_phase(state: GameState, player: int) -> list[Move]:
    out: list[Move] = []
    pos = state.chain_pos
    if pos >= 0 and state.stacks[pos] is not None and state.stacks[pos][0] == player:
        captures_from(state, pos, player, mv.CONTINUE_CAPTURE, out)
    return out


# --------------------------------------------------------------------------- decisions
def _line_phase(state: GameState, player: int) -> list[Move]:
    if state.pending_line_reward:
        return [Move(mv.ELIMINATE_RINGS, player, to=c, context=mv.CONTEXT_LINE)
                for c in controlled_cells(state, player)]
    out: list[Move] = []
    length = state.line_length
    for line in lines_mod.find_lines(state, player):
        if len(line) == length:
            out.append(Move(mv.PROCESS_LINE, player, to=line[0], line=line))
        # Option 1 (collapse all); for an exact line it is the same as process_line (§3.3)
        out.append(Move(mv.CHOOSE_LINE_OPTION, player, to=line[0], line=line, collapse=line,
                        option=1))
        if len(line) > length:
            for window in lines_mod.windows(line, length):
                out.append(Move(mv.CHOOSE_LINE_OPTION, player, to=line[0], line=line,
                                collapse=window, option=2))
    if not out:
        out.append(_plain_move(mv.NO_LINE_ACTION, player))
    return out


def _territory_phase(state: GameState, player: int) -> list[Move]:
    if state.pending_region:
        inside = set(state.pending_region)
        if state.recovery_context:
            return [Move(mv.ELIMINATE_RINGS, player, to=c, context=mv.CONTEXT_RECOVERY)
                    for c, r in enumerate(state.stacks)
                    if r is not None and c not in inside and player in r[1:]]
        return [Move(mv.ELIMINATE_RINGS, player, to=c, context=mv.CONTEXT_TERRITORY)
                for c in controlled_cells(state, player) if c not in inside]
    regions = territory.processable_regions(state, player)
    if not regions:
        return [_plain_move(mv.NO_TERRITORY_ACTION, player)]
    out = [Move(mv.CHOOSE_TERRITORY_OPTION, player, to=r[0], region=r) for r in regions]
    out.append(_plain_move(mv.SKIP_TERRITORY, player))
    return out


def _forced_phase(state: GameState, player: int) -> list[Move]:
    return [Move(mv.FORCED_ELIMINATION, player, to=c) for c in controlled_cells(state, player)]


_PHASE_GENERATORS = {
    RING_PLACEMENT: _placement_phase,
    MOVEMENT: _movement_phase,
    CAPTURE: _capture_phase,
    CHAIN_CAPTURE: _chain_phase,
    LINE_PROCESSING: _line_phase,
    TERRITORY_PROCESSING: _territory_phase,
    FORCED_ELIMINATION_PHASE: _forced_phase,
}


def legal_moves(state: GameState) -> list[Move]:
    """Every legal move of the player to move, bookkeeping moves included; [] once over."""
    if state.is_over:
        return []
    gen = _PHASE_GENERATORS.get(state.phase)
    if gen is None:
        return []
    return gen(state, state.current_player)

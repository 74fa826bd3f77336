"""Recovery slides in the action index: the variant (extraction stack rank, option-2 window)."""

from __future__ import annotations

from collections.abc import Sequence

from ringrift.nn.actions.errors import ActionIndexError
from ringrift.nn.actions.lines import oriented_line_axis
from ringrift.nn.actions.tables import ActionTables
from ringrift.rules.moves import Move
from ringrift.rules.state import GameState


def _d2(a: tuple[int, ...], b: tuple[int, ...]) -> int:
    return sum((x - y) * (x - y) for x, y in zip(a, b))


def extraction_ranks(t: ActionTables, state: GameState, candidates: Sequence[int], src: int,
                     dst: int) -> dict[int, int]:
    """Rank of every extraction stack (`candidates`: the cells holding a buried ring of the mover)
    for the slide src -> dst, ordered by symmetry-invariant keys: squared distances to the slide's
    cells and to the board centre, then the stack; remaining ties are broken by the distances to
    every occupied cell and what it holds, and only then by cell number (the one step that is not
    symmetric; it needs a mirror-symmetric neighbourhood)."""
    pos = t.pos
    stacks = state.stacks
    ps, pd = pos[src], pos[dst]
    origin = (0,) * len(ps)
    keys = {c: (_d2(pos[c], ps), _d2(pos[c], pd), _d2(pos[c], origin), stacks[c])
            for c in candidates}
    groups: dict[tuple, int] = {}
    for k in keys.values():
        groups[k] = groups.get(k, 0) + 1
    if len(groups) == len(keys):
        order = sorted(keys, key=keys.__getitem__)
    else:
        markers, collapsed = state.markers, state.collapsed
        occupied = [x for x in range(len(stacks)) if stacks[x] or markers[x] or collapsed[x]]

        def deep(c: int) -> tuple:
            if groups[keys[c]] == 1:
                return ()
            return tuple(sorted((_d2(pos[c], pos[x]), stacks[x] or (), markers[x], collapsed[x])
                                for x in occupied))

        order = sorted(keys, key=lambda c: (keys[c], deep(c), c))
    return {c: i for i, c in enumerate(order)}


def recovery_window_variant(t: ActionTables, state: GameState, m: Move, d: int) -> tuple[bool, int]:
    """(perpendicular, value) of an option-2 recovery window: the window start along the slide
    orientation, or for a slide perpendicular to the line the signed doubled offset of the window
    centre from the line centre (oriented by the slide turned 90 degrees)."""
    src, dst = m.frm, m.to
    window, axis = oriented_line_axis(t, m.collapse)
    fwd, bwd = state.geo.line_rays[dst][axis]
    where = {dst: 0}
    where.update({c: i + 1 for i, c in enumerate(fwd)})
    where.update({c: -(i + 1) for i, c in enumerate(bwd)})
    if any(c not in where for c in window):
        raise ActionIndexError(f"recovery window {list(window)} does not pass through {dst}")
    player = m.player
    markers = state.markers
    f = 0
    for c in fwd:
        if c == src or markers[c] != player:
            break
        f += 1
    b = 0
    for c in bwd:
        if c == src or markers[c] != player:
            break
        b += 1
    lo = where[window[0]]
    hi = lo + len(window) - 1
    if lo < -b or hi > f:
        raise ActionIndexError(f"recovery window {list(window)} leaves the formed line")
    sign, perp = t.orient[d, axis]
    if not perp:
        return False, (lo + b if sign > 0 else f - hi)
    return True, sign * ((lo + hi) - (f - b))


"""The action index: every legal move <-> one entry of a fixed-size policy vector per board.

Layout (the networks are built on it): index = plane * H * W + row * W + col for spatial actions,
(col, row) = `Geometry.grid[cell]` of the action's anchor cell, followed by `scalar_actions`
entries. Plane families, in order (D movement directions, A line axes, M = max ray length):

    place      3        place_ring at `to`, one plane per count 1..3
    move       D*M      move_stack / overtaking_capture / continue_capture_segment at `frm`, by
                        (direction, landing distance); the captured stack is the first stack on
                        the ray, and the phase tells an overtaking capture from a chain segment
    line_exact A*|PL|   process_line, anchored at the line's centre (see below)
    line_all   A*2      choose_line_option option 1, anchored at the line's centre, by length parity
    line_part  A*|PL|   choose_line_option option 2, anchored at the centre of the collapsed window
    eliminate  1        eliminate_rings_from_stack (any context) and forced_elimination, at `to`
    territory  5*S      choose_territory_option by flood pass (0: sealed by collapsed cells only;
                        1..4: border marker colour, "me" = 1) and anchor site (S per pass): a
                        cell of the region, an edge between two of its cells (one plane per
                        territory-adjacency axis, anchored at the edge's first cell), and on
                        square8 the board centre (a region holding the 4 central cells)
    recovery   D*(K+W+V) recovery_slide at `frm` by slide direction and variant: extraction stack
                        rank (K), option-2 window start along the slide (W), option-2 window offset
                        for slides perpendicular to the line (V, square boards only)

PL are the parities of the required line length L on the board. Lines and windows are anchored at
their centre cell (odd length) or at the lower of the two middle cells in axis order (even length),
so that a board symmetry maps the anchor to the anchor (`index_permutation`). Territory regions
are anchored at a site (cell, edge or centre) chosen through the region's canonical form under the
board's symmetry group and fixed by the region's own symmetries, for the same reason. Scalar
actions follow in `SCALAR_TYPES` order.

Recovery variants: the extraction stack is ranked among the stacks holding a buried ring of the
mover by symmetry-invariant keys (distances to the slide's cells and the board centre, contents);
an option-2 window is given by its start along the slide direction, or, for a slide perpendicular
to the line (square boards), by the signed offset of its centre from the line's centre.

Collisions are impossible by construction. The small boards have no bound at all; on square19
and hexagonal a recovery variant can overflow its bound (extraction rank >= K, window outside W
or V), and `encode` raises `ActionIndexError` there instead of colliding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np

from ringrift.nn.symmetry_group import BoardSymmetry, board_symmetries, line_axes, move_directions
from ringrift.rules import boards, movegen
from ringrift.rules import lines as lines_mod
from ringrift.rules import moves as mv
from ringrift.rules.boards import Geometry
from ringrift.rules.moves import Move
from ringrift.rules.spec import PLAYER_COUNTS, GameSpec
from ringrift.rules.state import CHAIN_CAPTURE, LINE_PROCESSING, TERRITORY_PROCESSING, GameState

SCALAR_TYPES = (
    mv.SKIP_PLACEMENT, mv.NO_PLACEMENT_ACTION, mv.SWAP_SIDES, mv.SKIP_CAPTURE,
    mv.NO_MOVEMENT_ACTION, mv.SKIP_RECOVERY, mv.NO_LINE_ACTION, mv.SKIP_TERRITORY,
    mv.NO_TERRITORY_ACTION,
)
_SCALAR_INDEX = {t: i for i, t in enumerate(SCALAR_TYPES)}

# Recovery variants per board: (extraction ranks K, window starts W, perpendicular window
# half-offset bound B (V = 2B + 1 slots; 0 = none: hex slides are never perpendicular to a line)).
# Exact on the small boards: a player has at most 18 rings, so at most 18 stacks to extract from,
# and lines have at most 8 / 9 cells with L >= 3. Bounded on the large boards, where random games
# reach extraction rank 17 of 96 possible (hexagonal) and 6 of 72 (square19); beyond a bound
# `encode` raises ActionIndexError.
_RECOVERY_BOUNDS = {
    "square8": (18, 6, 5),
    "hex8": (18, 7, 0),
    "square19": (24, 8, 3),
    "hexagonal": (32, 8, 0),
}
TERRITORY_PASSES = 5


class ActionIndexError(ValueError):
    """A move that has no index in this layout (or an index that names no move here)."""


@dataclass(frozen=True)
class ActionLayout:
    """Plane offsets and sizes of the policy vector of one board type."""

    board_type: str
    height: int
    width: int
    num_dirs: int
    max_dist: int
    num_axes: int
    line_parities: tuple[int, ...]
    recovery_ranks: int
    recovery_windows: int
    recovery_perp_bound: int
    place: int
    move: int
    line_exact: int
    line_all: int
    line_part: int
    eliminate: int
    territory: int
    territory_sites: int
    recovery: int
    policy_planes: int
    scalar_actions: int

    @property
    def hw(self) -> int:
        return self.height * self.width

    @property
    def recovery_variants(self) -> int:
        perp = 2 * self.recovery_perp_bound + 1 if self.recovery_perp_bound else 0
        return self.recovery_ranks + self.recovery_windows + perp

    @property
    def policy_size(self) -> int:
        return self.policy_planes * self.hw + self.scalar_actions

    def plane_families(self) -> dict[str, tuple[int, int]]:
        """name -> (first plane, number of planes), in layout order."""
        return {
            "place": (self.place, 3),
            "move": (self.move, self.num_dirs * self.max_dist),
            "line_exact": (self.line_exact, self.num_axes * len(self.line_parities)),
            "line_all": (self.line_all, self.num_axes * 2),
            "line_part": (self.line_part, self.num_axes * len(self.line_parities)),
            "eliminate": (self.eliminate, 1),
            "territory": (self.territory, TERRITORY_PASSES * self.territory_sites),
            "recovery": (self.recovery, self.num_dirs * self.recovery_variants),
        }


@cache
def action_layout(board_type: str) -> ActionLayout:
    """The policy layout of a board type (canonical size)."""
    geo = boards.get_geometry(board_type)
    dirs = len(move_directions(geo))
    axes = len(line_axes(geo))
    max_dist = max(len(r) for cell_rays in geo.rays for r in cell_rays)
    parities = tuple(sorted({GameSpec(board_type, n).line_length % 2 for n in PLAYER_COUNTS}))
    ranks, windows, perp = _RECOVERY_BOUNDS[board_type]
    variants = ranks + windows + (2 * perp + 1 if perp else 0)
    place = 0
    move = place + 3
    line_exact = move + dirs * max_dist
    line_all = line_exact + axes * len(parities)
    line_part = line_all + axes * 2
    eliminate = line_part + axes * len(parities)
    terr = eliminate + 1
    sites = 1 + _edge_axes(geo) + (1 if _centre_cells(geo) else 0)
    recovery = terr + TERRITORY_PASSES * sites
    planes = recovery + dirs * variants
    return ActionLayout(
        board_type=board_type, height=geo.size, width=geo.size, num_dirs=dirs,
        max_dist=max_dist, num_axes=axes, line_parities=parities, recovery_ranks=ranks,
        recovery_windows=windows, recovery_perp_bound=perp, place=place, move=move,
        line_exact=line_exact, line_all=line_all, line_part=line_part, eliminate=eliminate,
        territory=terr, territory_sites=sites, recovery=recovery, policy_planes=planes,
        scalar_actions=len(SCALAR_TYPES),
    )


def _edge_axes(geo: Geometry) -> int:
    """Territory-adjacency edge orientations: the first line axes ((1,0), (0,1) / all 3 on hex)."""
    return 3 if geo.is_hex else 2


def _centre_cells(geo: Geometry) -> tuple[int, ...]:
    """The 4 cells around the board centre when the centre is not a cell (even square boards)."""
    if geo.is_hex or geo.size % 2:
        return ()
    h = geo.size // 2
    return tuple(sorted(geo.index[(x, y)] for x in (h - 1, h) for y in (h - 1, h)))


def policy_size(board_type: str) -> int:
    """Length of the policy vector of a board type."""
    return action_layout(board_type).policy_size


class _Tables:
    """Per-geometry lookup tables for encoding and decoding."""

    def __init__(self, geo: Geometry) -> None:
        layout = action_layout(geo.board_type)
        if geo.size != layout.height:
            raise ActionIndexError(
                f"{geo.board_type} board of size {geo.size}: the action index supports only the "
                f"canonical size {layout.height}")
        self.geo = geo
        self.layout = layout
        width = geo.size
        self.flat = [row * width + col for col, row in geo.grid]
        self.flat_cell = {f: c for c, f in enumerate(self.flat)}
        md = layout.max_dist
        # ray_code[frm][to] = direction * max_dist + (distance - 1)
        self.ray_code = [
            {t: d * md + k for d, ray in enumerate(cell_rays) for k, t in enumerate(ray)}
            for cell_rays in geo.rays
        ]
        self.axis_next = [tuple(f[0] if f else -1 for f, _ in lr) for lr in geo.line_rays]
        self.axis_prev = [tuple(b[0] if b else -1 for _, b in lr) for lr in geo.line_rays]
        self.dirs = move_directions(geo)
        self.axes = line_axes(geo)
        # coordinates whose squared distances are invariant under the board's symmetries
        if geo.is_hex:
            self.pos = list(geo.coords)
        else:
            s1 = geo.size - 1
            self.pos = [(2 * x - s1, 2 * y - s1) for x, y in geo.coords]
        self.parity_slot = {p: i for i, p in enumerate(layout.line_parities)}
        # (dir, axis) -> (sign of the axis along the slide direction, False), or for an axis
        # perpendicular to the slide (square boards) (sign along the slide turned 90 degrees, True)
        self.orient: dict[tuple[int, int], tuple[int, bool]] = {}
        for d, dv in enumerate(self.dirs):
            for a, av in enumerate(self.axes):
                dot = sum(x * y for x, y in zip(dv, av))
                if dot:
                    self.orient[d, a] = (1 if dot > 0 else -1, False)
                else:  # square only: rot90(d) = (-dy, dx)
                    rot = -dv[1] * av[0] + dv[0] * av[1]
                    self.orient[d, a] = (1 if rot > 0 else -1, True)


@cache
def _tables_for(board_type: str, size: int) -> _Tables:
    return _Tables(boards.get_geometry(board_type, size))


def _tables(geo: Geometry) -> _Tables:
    return _tables_for(geo.board_type, geo.size)


# --------------------------------------------------------------------------- helpers
def _d2(a: tuple[int, ...], b: tuple[int, ...]) -> int:
    return sum((x - y) * (x - y) for x, y in zip(a, b))


def oriented_line(geo: Geometry, cells: Sequence[int]) -> tuple[int, ...]:
    """The cells of a line (a run of adjacent collinear cells) in axis order, as movegen lists
    them (`Move.line`, `Move.collapse`)."""
    return _oriented_line(_tables(geo), cells)[0]


def _oriented_line(t: _Tables, cells: Sequence[int]) -> tuple[tuple[int, ...], int]:
    """(cells in axis order, axis) of a run of collinear adjacent cells."""
    cells = tuple(cells)
    if len(cells) < 2:
        raise ActionIndexError(f"a line needs at least 2 cells, got {list(cells)}")
    c0, c1 = cells[0], cells[1]
    nxt, prv = t.axis_next[c0], t.axis_prev[c0]
    for a in range(len(nxt)):
        if nxt[a] == c1:
            return cells, a
        if prv[a] == c1:
            return cells[::-1], a
    raise ActionIndexError(f"cells {list(cells)} are not a line")


def _centre(cells: tuple[int, ...]) -> int:
    """The centre cell of an odd run, the lower middle cell (axis order) of an even run."""
    return cells[(len(cells) - 1) // 2]


def _canonical_key(cells: np.ndarray) -> bytes:
    # Sorted, fixed-width big-endian bytes compare like the integer sequences.
    return np.sort(cells).astype(">u2").tobytes()


def region_anchor(geo: Geometry, region: Sequence[int]) -> tuple[int, int, bool]:
    """(anchor cell, site, exact) of a territory region, chosen equivariantly.

    site 0: the anchor is a cell of the region; 1 + e: the edge from the anchor to its neighbour
    along territory axis e, both cells in the region; 1 + E: the board centre (square8, anchor =
    the first central cell). The site comes from the region's canonical image (smallest sorted
    image over the board's symmetries) and is fixed by every symmetry that maps the region onto
    itself, so T(anchor(R)) == anchor(T(R)). `exact` is False only for a region symmetric under a
    rotation about the centre that holds neither the centre cell(s) nor a fixed edge (a ring around
    the centre); its anchor is still one of its cells (no collisions), but the symmetry maps of the
    policy cannot follow it.
    """
    syms = board_symmetries(geo.board_type)
    cells = np.asarray(region, dtype=np.int64)
    keys = [_canonical_key(s.cell_map[cells]) for s in syms]
    best = min(keys)
    achievers = [s for s, k in zip(syms, keys) if k == best]
    first = achievers[0]
    back = first.inverse_cell_map
    image = np.sort(first.cell_map[cells]).tolist()
    if len(achievers) == 1:
        return int(back[image[0]]), 0, True
    # symmetries of the canonical image: h = a o first^-1 for every achiever a
    stab = [a.cell_map[back].tolist() for a in achievers[1:]]
    for x in image:
        if all(h[x] == x for h in stab):
            return int(back[x]), 0, True
    t = _tables(geo)
    inside = set(image)
    edges = _edge_axes(geo)
    for x in image:
        for e in range(edges):
            y = t.axis_next[x][e]
            if y in inside and all({h[x], h[y]} == {x, y} for h in stab):
                u, v = int(back[x]), int(back[y])
                for e2 in range(edges):
                    if t.axis_next[u][e2] == v:
                        return u, 1 + e2, True
                    if t.axis_next[v][e2] == u:
                        return v, 1 + e2, True
    centre = _centre_cells(geo)
    if centre and inside.issuperset(int(first.cell_map[c]) for c in centre):
        return centre[0], 1 + edges, True
    return int(back[image[0]]), 0, False


def _territory_pass(state: GameState, region: Sequence[int]) -> int:
    """Pass slot of a region: 0 if sealed by collapsed cells alone, else 1 + rotated border
    colour (1 = the mover's markers)."""
    inside = set(region)
    collapsed = state.collapsed
    markers = state.markers
    neighbors = state.geo.territory_neighbors
    colours = set()
    for c in region:
        for n in neighbors[c]:
            if n in inside or collapsed[n]:
                continue
            if not markers[n]:
                raise ActionIndexError(f"region {list(region)} is not sealed (cell {n} is open)")
            colours.add(markers[n])
    if not colours:
        return 0
    if len(colours) > 1:
        raise ActionIndexError(f"region {list(region)} is bordered by several marker colours")
    colour = colours.pop()
    if any(markers[c] == colour for c in region):
        raise ActionIndexError(f"region {list(region)} holds markers of its border colour")
    return 1 + (colour - state.current_player) % state.num_players


class _Context:
    """Per-state lazily computed data shared by the moves of one state."""

    __slots__ = ("_extract", "_ranks", "state", "t")

    def __init__(self, state: GameState) -> None:
        self.state = state
        self.t = _tables(state.geo)
        self._extract: list[int] | None = None
        self._ranks: dict[tuple[int, int], dict[int, int]] = {}

    def extract_cells(self) -> list[int]:
        if self._extract is None:
            p = self.state.current_player
            self._extract = [c for c, r in enumerate(self.state.stacks)
                             if r is not None and p in r[1:]]
        return self._extract

    def extraction_rank(self, src: int, dst: int, ext: int) -> int:
        ranks = self._ranks.get((src, dst))
        if ranks is None:
            ranks = self._ranks[src, dst] = _extraction_ranks(self, src, dst)
        rank = ranks.get(ext)
        if rank is None:
            raise ActionIndexError(f"cell {ext} holds no buried ring of player "
                                   f"{self.state.current_player}")
        return rank


def _extraction_ranks(ctx: _Context, src: int, dst: int) -> dict[int, int]:
    """Rank of every extraction stack for the slide src -> dst, ordered by symmetry-invariant keys:
    squared distances to the slide's cells and to the board centre, then the stack; remaining ties
    are broken by the distances to every occupied cell and what it holds, and only then by cell
    number (the one step that is not symmetric; it needs a mirror-symmetric neighbourhood)."""
    pos = ctx.t.pos
    state = ctx.state
    stacks = state.stacks
    ps, pd = pos[src], pos[dst]
    origin = (0,) * len(ps)
    keys = {c: (_d2(pos[c], ps), _d2(pos[c], pd), _d2(pos[c], origin), stacks[c])
            for c in ctx.extract_cells()}
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


def _recovery_window_variant(ctx: _Context, m: Move, d: int) -> tuple[bool, int]:
    """(perpendicular, value) of an option-2 recovery window: the window start along the slide
    orientation, or for a slide perpendicular to the line the signed doubled offset of the window
    centre from the line centre (oriented by the slide turned 90 degrees)."""
    t = ctx.t
    state = ctx.state
    src, dst = m.frm, m.to
    window, axis = _oriented_line(t, m.collapse)
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


# --------------------------------------------------------------------------- encode
def _encode(ctx: _Context, m: Move) -> int:
    t = ctx.t
    lay = t.layout
    kind = m.type
    if kind in _SCALAR_INDEX:
        return lay.policy_planes * lay.hw + _SCALAR_INDEX[kind]
    if kind == mv.PLACE_RING:
        if not 1 <= m.count <= 3:
            raise ActionIndexError(f"place_ring count {m.count} is not 1..3")
        return (lay.place + m.count - 1) * lay.hw + t.flat[m.to]
    if kind in (mv.MOVE_STACK, mv.OVERTAKING_CAPTURE, mv.CONTINUE_CAPTURE):
        code = t.ray_code[m.frm].get(m.to)
        if code is None:
            raise ActionIndexError(f"{m!r}: destination not on a ray from the origin")
        return (lay.move + code) * lay.hw + t.flat[m.frm]
    if kind in (mv.ELIMINATE_RINGS, mv.FORCED_ELIMINATION):
        return lay.eliminate * lay.hw + t.flat[m.to]
    if kind == mv.PROCESS_LINE:
        line, axis = _oriented_line(t, m.line)
        plane = lay.line_exact + axis * len(lay.line_parities) + _parity_slot(t, len(line))
        return plane * lay.hw + t.flat[_centre(line)]
    if kind == mv.CHOOSE_LINE_OPTION:
        if m.option == 2:
            window, axis = _oriented_line(t, m.collapse)
            plane = lay.line_part + axis * len(lay.line_parities) + _parity_slot(t, len(window))
            return plane * lay.hw + t.flat[_centre(window)]
        line, axis = _oriented_line(t, m.line)
        plane = lay.line_all + axis * 2 + len(line) % 2
        return plane * lay.hw + t.flat[_centre(line)]
    if kind == mv.CHOOSE_TERRITORY_OPTION:
        anchor, site, _ = region_anchor(ctx.state.geo, m.region)
        plane = (lay.territory + _territory_pass(ctx.state, m.region) * lay.territory_sites
                 + site)
        return plane * lay.hw + t.flat[anchor]
    if kind == mv.RECOVERY_SLIDE:
        code = t.ray_code[m.frm].get(m.to)
        if code is None or code % lay.max_dist:
            raise ActionIndexError(f"{m!r}: recovery destination is not adjacent")
        d = code // lay.max_dist
        if m.mode == mv.RECOVERY_LINE and m.option == 2:
            perp, value = _recovery_window_variant(ctx, m, d)
            if perp:
                bound = lay.recovery_perp_bound
                if abs(value) > bound:
                    raise ActionIndexError(
                        f"{m!r}: perpendicular recovery window offset {value} exceeds the bound "
                        f"{bound} of the {lay.board_type} action index")
                variant = lay.recovery_ranks + lay.recovery_windows + value + bound
            else:
                if value >= lay.recovery_windows:
                    raise ActionIndexError(
                        f"{m!r}: recovery window start {value} exceeds the bound "
                        f"{lay.recovery_windows - 1} of the {lay.board_type} action index")
                variant = lay.recovery_ranks + value
        else:
            if len(m.extract) != 1:
                raise ActionIndexError(f"{m!r}: expected exactly one extraction stack")
            variant = ctx.extraction_rank(m.frm, m.to, m.extract[0])
            if variant >= lay.recovery_ranks:
                raise ActionIndexError(
                    f"{m!r}: extraction stack rank {variant} exceeds the bound "
                    f"{lay.recovery_ranks - 1} of the {lay.board_type} action index")
        plane = lay.recovery + d * lay.recovery_variants + variant
        return plane * lay.hw + t.flat[m.frm]
    raise ActionIndexError(f"move type {kind!r} has no action index")


def _parity_slot(t: _Tables, length: int) -> int:
    slot = t.parity_slot.get(length % 2)
    if slot is None:
        raise ActionIndexError(f"line of length {length} on {t.geo.board_type}: no plane for "
                               f"this parity")
    return slot


def encode(move: Move, state: GameState) -> int:
    """Policy index of `move` (a legal move of `state`); raises ActionIndexError if it has none."""
    return _encode(_Context(state), move)


def encode_moves(moves: Sequence[Move], state: GameState) -> np.ndarray:
    """Policy indices (int32) of moves of `state`, in order."""
    ctx = _Context(state)
    return np.fromiter((_encode(ctx, m) for m in moves), dtype=np.int32, count=len(moves))


def legal_indices(state: GameState) -> np.ndarray:
    """Policy indices (int32) of `rules.legal_moves(state)`, in that order."""
    return encode_moves(movegen.legal_moves(state), state)


def legal_moves_and_indices(state: GameState) -> tuple[list[Move], np.ndarray]:
    """The legal moves of `state` and their policy indices."""
    moves = movegen.legal_moves(state)
    return moves, encode_moves(moves, state)


def is_decision(state: GameState) -> bool:
    """True when the player to move has more than one legal move (the state has a policy target)."""
    return len(movegen.legal_moves(state)) > 1


# --------------------------------------------------------------------------- decode
def decode(index: int, state: GameState) -> Move:
    """The move that `index` denotes in `state` (inverse of `encode` on legal moves).

    Raises ActionIndexError when the index names nothing in this state (wrong phase, off board,
    no such line or region). It does not check full legality; use `rules.check_legal` for that.
    """
    t = _tables(state.geo)
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
    ctx = _Context(state)
    for m in movegen.legal_moves(state):
        if m.type in (mv.CHOOSE_TERRITORY_OPTION, mv.RECOVERY_SLIDE) and _encode(ctx, m) == index:
            return m
    raise ActionIndexError(f"index {index} names no legal territory or recovery move here")


def _decode_line(t: _Tables, state: GameState, plane: int, cell: int, index: int) -> Move:
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
    if len(line) < length or len(line) % 2 != parity or _centre(line) != cell:
        raise ActionIndexError(f"index {index}: no line centred on this cell here")
    if kind == "exact":
        if len(line) != length:
            raise ActionIndexError(f"index {index}: the line here is not of exact length")
        return Move(mv.PROCESS_LINE, player, to=line[0], line=line)
    return Move(mv.CHOOSE_LINE_OPTION, player, to=line[0], line=line, collapse=line, option=1)


# --------------------------------------------------------------------------- symmetry
@cache
def index_permutation(board_type: str, sym: int) -> np.ndarray:
    """perm (int64, a permutation of the policy indices) with
    perm[encode(m, s)] == encode(T(m), T(s)) for symmetry number `sym` of the board.

    Exact for every move except two cases no fixed permutation can follow: a territory region
    that is a ring around the board centre (`region_anchor` reports exact=False), and a recovery
    extraction choice between two identical stacks in mirror positions whose whole neighbourhood
    is mirror-symmetric too (`_extraction_ranks` falls back to cell order). Neither occurred in
    ~1,000 random games on the four boards.
    """
    lay = action_layout(board_type)
    t = _tables_for(board_type, lay.height)
    s: BoardSymmetry = board_symmetries(board_type)[sym]
    hw = lay.hw
    n = t.geo.num_cells
    cells = np.arange(n)
    flat = np.asarray(t.flat, dtype=np.int64)
    img = flat[s.cell_map]  # grid position of T(c)
    size = lay.policy_size
    perm = np.full(size, -1, dtype=np.int64)
    on_board = np.zeros(hw, dtype=bool)
    on_board[flat] = True
    off = np.flatnonzero(~on_board)
    for plane in range(lay.policy_planes):
        perm[plane * hw + off] = plane * hw + off  # off-board grid positions stay put

    def put(plane: int, new_plane: int, src: np.ndarray, dst_pos: np.ndarray) -> None:
        perm[plane * hw + flat[src]] = new_plane * hw + dst_pos

    for k in range(3):
        put(lay.place + k, lay.place + k, cells, img)
    md = lay.max_dist
    for d in range(lay.num_dirs):
        for k in range(md):
            put(lay.move + d * md + k, lay.move + int(s.dir_map[d]) * md + k, cells, img)
    put(lay.eliminate, lay.eliminate, cells, img)
    axis_next = np.asarray(t.axis_next, dtype=np.int64)  # [cells, axes]
    edges = _edge_axes(t.geo)
    for p in range(TERRITORY_PASSES):
        first = lay.territory + p * lay.territory_sites
        put(first, first, cells, img)
        for e in range(edges):
            e2, sign = int(s.axis_map[e]), int(s.axis_sign[e])
            if sign > 0:
                put(first + 1 + e, first + 1 + e2, cells, img)
            else:  # the edge's other cell becomes its first cell
                nxt = axis_next[:, e]
                ok = nxt >= 0
                put(first + 1 + e, first + 1 + e2, cells[ok], img[nxt[ok]])
        if lay.territory_sites > 1 + edges:  # the board centre is fixed by every symmetry
            put(first + 1 + edges, first + 1 + edges, cells, flat[cells])
    npar = len(lay.line_parities)
    families = [(lay.line_exact, npar, lay.line_parities), (lay.line_all, 2, (0, 1)),
                (lay.line_part, npar, lay.line_parities)]
    for first, count, parities in families:
        for a in range(lay.num_axes):
            a2, sign = int(s.axis_map[a]), int(s.axis_sign[a])
            for slot in range(count):
                plane, new_plane = first + a * count + slot, first + a2 * count + slot
                if parities[slot] == 1 or sign > 0:
                    put(plane, new_plane, cells, img)
                else:
                    # even run reversed by T: the upper middle cell becomes the lower middle one
                    nxt = axis_next[:, a]
                    ok = nxt >= 0
                    put(plane, new_plane, cells[ok], img[nxt[ok]])
    nv = lay.recovery_variants
    first_perp = lay.recovery_ranks + lay.recovery_windows
    bound = lay.recovery_perp_bound
    for d in range(lay.num_dirs):
        d2 = int(s.dir_map[d])
        for v in range(nv):
            v2 = v
            if v >= first_perp and s.reflection:
                v2 = first_perp + bound - (v - first_perp - bound)
            put(lay.recovery + d * nv + v, lay.recovery + d2 * nv + v2, cells, img)
    spatial = lay.policy_planes * hw
    perm[spatial:] = np.arange(spatial, size)
    # complete the partial bijection on slots no move can use (e.g. even-line anchors at an edge)
    free_src = np.flatnonzero(perm < 0)
    used = np.zeros(size, dtype=bool)
    used[perm[perm >= 0]] = True
    free_dst = np.flatnonzero(~used)
    if len(free_src) != len(free_dst):
        raise AssertionError("index permutation is not a bijection")
    perm[free_src] = free_dst
    perm.setflags(write=False)
    return perm

"""Territory regions in the action index: the anchor site and the flood pass of a region."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ringrift.nn.actions.errors import ActionIndexError
from ringrift.nn.actions.layout import centre_cells, territory_edge_axes
from ringrift.nn.actions.tables import tables_of
from ringrift.nn.symmetry_group import board_symmetries
from ringrift.rules.boards import Geometry
from ringrift.rules.state import GameState


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
    t = tables_of(geo)
    inside = set(image)
    edges = territory_edge_axes(geo)
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
    centre = centre_cells(geo)
    if centre and inside.issuperset(int(first.cell_map[c]) for c in centre):
        return centre[0], 1 + edges, True
    return int(back[image[0]]), 0, False


def territory_pass(state: GameState, region: Sequence[int]) -> int:
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


"""The policy index permutation of each board symmetry (the policy half of data augmentation)."""

from __future__ import annotations

from functools import cache

import numpy as np

from ringrift.nn.actions.layout import TERRITORY_PASSES, action_layout, territory_edge_axes
from ringrift.nn.actions.tables import tables_for
from ringrift.nn.symmetry_group import BoardSymmetry, board_symmetries


@cache
def index_permutation(board_type: str, sym: int) -> np.ndarray:
    """perm (int64, a permutation of the policy indices) with
    perm[encode(m, s)] == encode(T(m), T(s)) for symmetry number `sym` of the board.

    Exact for every move except two cases no fixed permutation can follow: a territory region
    that is a ring around the board centre (`region_anchor` reports exact=False), and a recovery
    extraction choice between two identical stacks in mirror positions whose whole neighbourhood
    is mirror-symmetric too (`recovery.extraction_ranks` falls back to cell order). Neither occurred in
    ~1,000 random games on the four boards.
    """
    lay = action_layout(board_type)
    t = tables_for(board_type, lay.height)
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
    edges = territory_edge_axes(t.geo)
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

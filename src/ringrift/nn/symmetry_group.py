"""The symmetry group of each board as index maps: D4 (8 elements) on square boards, D6 (12) on hex.

Pure geometry, shared by the action index (territory anchors) and `ringrift.nn.symmetry`. Element 0
is the identity. Square boards act on centred coordinates (2x - (size - 1), 2y - (size - 1)); hex
boards act on cube coordinates by signed coordinate permutations.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from ringrift.rules import boards
from ringrift.rules.boards import Geometry


@dataclass(frozen=True, eq=False)
class BoardSymmetry:
    """One symmetry T of a board, as lookup tables."""

    index: int
    name: str
    reflection: bool  # orientation-reversing (a mirror), as opposed to a rotation
    cell_map: np.ndarray  # [cells] cell -> T(cell)
    inverse_cell_map: np.ndarray  # [cells] T(cell) -> cell
    dir_map: np.ndarray  # [directions] movement direction d -> direction of T(d)
    axis_map: np.ndarray  # [axes] line axis a -> axis a' with T(a) = +-a'
    axis_sign: np.ndarray  # [axes] +1 if T(a) = a', -1 if T(a) = -a'
    grid_map: np.ndarray  # [H*W] flat grid position p -> position of T(p); identity off board
    vector: object  # callable: direction vector -> image vector

    def __repr__(self) -> str:
        return f"BoardSymmetry({self.index}, {self.name!r})"


def move_directions(geo: Geometry) -> tuple[tuple[int, ...], ...]:
    """Movement direction vectors in the order of `geo.rays[c]`."""
    return boards.HEX_DIRECTIONS if geo.is_hex else boards.SQUARE_MOORE


def line_axes(geo: Geometry) -> tuple[tuple[int, ...], ...]:
    """Line axis vectors in the order of `geo.line_rays[c]`."""
    return boards.HEX_LINE_AXES if geo.is_hex else boards.SQUARE_LINE_AXES


def _square_matrices() -> list[tuple[str, bool, tuple[tuple[int, int], tuple[int, int]]]]:
    rot = ((0, -1), (1, 0))
    flip = ((-1, 0), (0, 1))

    def mul(a, b):
        return tuple(tuple(sum(a[i][k] * b[k][j] for k in range(2)) for j in range(2))
                     for i in range(2))

    out = []
    m = ((1, 0), (0, 1))
    for k in range(4):
        out.append((f"rot{90 * k}", False, m))
        m = mul(rot, m)
    m = flip
    for k in range(4):
        out.append((f"flip_rot{90 * k}", True, m))
        m = mul(rot, m)
    return out


def _hex_maps() -> list[tuple[str, bool, object]]:
    def rot(v):  # 60 degrees: (x, y, z) -> (-z, -x, -y)
        return (-v[2], -v[0], -v[1])

    def flip(v):  # mirror swapping y and z
        return (v[0], v[2], v[1])

    out = []
    for reflect in (False, True):
        for k in range(6):
            def f(v, k=k, reflect=reflect):
                if reflect:
                    v = flip(v)
                for _ in range(k):
                    v = rot(v)
                return v
            out.append((("flip_" if reflect else "") + f"rot{60 * k}", reflect, f))
    return out


@cache
def board_symmetries(board_type: str) -> tuple[BoardSymmetry, ...]:
    """All symmetries of the canonical board of this type; element 0 is the identity."""
    geo = boards.get_geometry(board_type)
    size = geo.size
    dirs = move_directions(geo)
    axes = line_axes(geo)
    if geo.is_hex:
        maps = _hex_maps()

        def make(f):
            return f, f
    else:
        maps = []
        for name, refl, m in _square_matrices():
            def vec(v, m=m):
                return (m[0][0] * v[0] + m[0][1] * v[1], m[1][0] * v[0] + m[1][1] * v[1])
            maps.append((name, refl, vec))

        def make(vec):
            def point(c):
                u, v = vec((2 * c[0] - (size - 1), 2 * c[1] - (size - 1)))
                return ((u + size - 1) // 2, (v + size - 1) // 2)
            return point, vec

    width = size
    flat = np.array([row * width + col for col, row in geo.grid], dtype=np.int64)
    out = []
    for i, (name, refl, f) in enumerate(maps):
        point, vec = make(f)
        cell_map = np.array([geo.index[point(c)] for c in geo.coords], dtype=np.int64)
        inverse = np.empty_like(cell_map)
        inverse[cell_map] = np.arange(len(cell_map))
        dir_map = np.array([dirs.index(tuple(vec(d))) for d in dirs], dtype=np.int64)
        axis_map = np.empty(len(axes), dtype=np.int64)
        axis_sign = np.empty(len(axes), dtype=np.int64)
        for a, ax in enumerate(axes):
            img = tuple(vec(ax))
            if img in axes:
                axis_map[a], axis_sign[a] = axes.index(img), 1
            else:
                axis_map[a], axis_sign[a] = axes.index(tuple(-v for v in img)), -1
        grid_map = np.arange(size * size, dtype=np.int64)
        grid_map[flat] = flat[cell_map]
        out.append(BoardSymmetry(i, name, refl, cell_map, inverse, dir_map, axis_map, axis_sign,
                                 grid_map, vec))
    return tuple(out)


def num_symmetries(board_type: str) -> int:
    """8 on square boards, 12 on hex boards."""
    return len(board_symmetries(board_type))

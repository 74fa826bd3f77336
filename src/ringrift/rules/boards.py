"""Board geometry (RULES.md §1); the per-board parameters are rules.spec's table (GameSpec).

Cells are numbered 0..n-1; everything the engine needs about the shape of a board is precomputed
here once per board as flat tuples indexed by cell: movement rays, line axes, territory
neighbours, recovery adjacency, the cells strictly between two aligned cells, and the flood
neighbours used for territory border markers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from ringrift.rules.errors import RulesError
from ringrift.rules.spec import BOARDS, check_board_type

SQUARE_MOORE = ((1, 0), (1, 1), (0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1))
SQUARE_VON_NEUMANN = ((1, 0), (0, 1), (-1, 0), (0, -1))
SQUARE_LINE_AXES = ((1, 0), (0, 1), (1, 1), (1, -1))
HEX_DIRECTIONS = ((1, 0, -1), (0, 1, -1), (-1, 1, 0), (-1, 0, 1), (0, -1, 1), (1, -1, 0))
HEX_LINE_AXES = ((1, 0, -1), (1, -1, 0), (0, -1, 1))


@dataclass(eq=False)
class Geometry:
    """Precomputed tables of one board. Obtain it through `get_geometry`."""

    board_type: str
    size: int
    is_hex: bool
    radius: int
    coords: tuple[tuple[int, ...], ...]
    keys: tuple[str, ...]
    index: dict[tuple[int, ...], int]
    key_index: dict[str, int]
    # rays[c][d]: cells c+d, c+2d, ... inside the board, for each movement direction d
    rays: tuple[tuple[tuple[int, ...], ...], ...]
    # line_rays[c][a] = (forward ray, backward ray) along line axis a
    line_rays: tuple[tuple[tuple[tuple[int, ...], tuple[int, ...]], ...], ...]
    territory_neighbors: tuple[tuple[int, ...], ...]
    adjacent: tuple[tuple[int, ...], ...]
    flood_neighbors: tuple[tuple[int, ...], ...] | None
    # between[a][b]: the cells strictly between aligned cells a and b (absent if not aligned)
    between: tuple[dict[int, tuple[int, ...]], ...]
    # distance[a][b] for aligned cells (steps along the ray)
    distance: tuple[dict[int, int], ...]
    # grid position (column, row) of each cell on the square grid used by networks
    grid: tuple[tuple[int, int], ...] = field(default=())

    @property
    def num_cells(self) -> int:
        return len(self.coords)

    def cell(self, coord: tuple[int, ...]) -> int:
        try:
            return self.index[coord]
        except KeyError:
            raise RulesError(f"position {coord} is not on the {self.board_type} board") from None


@cache
def get_geometry(board_type: str, size: int | None = None) -> Geometry:
    """Geometry of a board; `size` defaults to the canonical size (hex: width 2r + 1)."""
    check_board_type(board_type)
    if size is None:
        size = BOARDS[board_type].size
    if size < 2:
        raise RulesError(f"board size {size} is too small")
    is_hex = BOARDS[board_type].is_hex
    if is_hex:
        if size % 2 == 0:
            raise RulesError(f"hex board size must be odd (2r + 1), got {size}")
        radius = (size - 1) // 2
        coords = tuple(
            (x, y, -x - y)
            for x in range(-radius, radius + 1)
            for y in range(-radius, radius + 1)
            if abs(-x - y) <= radius
        )
        move_dirs = HEX_DIRECTIONS
        axes = HEX_LINE_AXES
        territory_dirs = HEX_DIRECTIONS
    else:
        radius = 0
        coords = tuple((x, y) for y in range(size) for x in range(size))
        move_dirs = SQUARE_MOORE
        axes = SQUARE_LINE_AXES
        territory_dirs = SQUARE_VON_NEUMANN
    index = {c: i for i, c in enumerate(coords)}
    keys = tuple(",".join(str(v) for v in c) for c in coords)

    def step(c: tuple[int, ...], d: tuple[int, ...], k: int) -> tuple[int, ...]:
        return tuple(a + k * b for a, b in zip(c, d))

    def ray(c: tuple[int, ...], d: tuple[int, ...]) -> tuple[int, ...]:
        out = []
        k = 1
        while (nxt := step(c, d, k)) in index:
            out.append(index[nxt])
            k += 1
        return tuple(out)

    rays = tuple(tuple(ray(c, d) for d in move_dirs) for c in coords)
    line_rays = tuple(
        tuple((ray(c, a), ray(c, tuple(-v for v in a))) for a in axes) for c in coords
    )
    territory_neighbors = tuple(
        tuple(index[n] for d in territory_dirs if (n := step(c, d, 1)) in index) for c in coords
    )
    adjacent = tuple(tuple(r[0] for r in cell_rays if r) for cell_rays in rays)
    flood_neighbors: tuple[tuple[int, ...], ...] | None
    if board_type == "hexagonal":
        flood_neighbors = None  # the reference collapses only the seed markers there (§4.7)
    elif is_hex:
        # hex8 floods with the square Moore offsets on (x, y), z = -x - y (§4.7)
        flood_neighbors = tuple(
            tuple(
                index[n]
                for dx, dy in SQUARE_MOORE
                if (n := (c[0] + dx, c[1] + dy, -(c[0] + dx) - (c[1] + dy))) in index
            )
            for c in coords
        )
    else:
        flood_neighbors = adjacent
    between: list[dict[int, tuple[int, ...]]] = []
    distance: list[dict[int, int]] = []
    for cell_rays in rays:
        b: dict[int, tuple[int, ...]] = {}
        dist: dict[int, int] = {}
        for r in cell_rays:
            for k, target in enumerate(r):
                b[target] = r[:k]
                dist[target] = k + 1
        between.append(b)
        distance.append(dist)
    if is_hex:
        grid = tuple((c[0] + radius, c[1] + radius) for c in coords)
    else:
        grid = tuple((c[0], c[1]) for c in coords)
    return Geometry(
        board_type=board_type,
        size=size,
        is_hex=is_hex,
        radius=radius,
        coords=coords,
        keys=keys,
        index=index,
        key_index={k: i for i, k in enumerate(keys)},
        rays=rays,
        line_rays=line_rays,
        territory_neighbors=territory_neighbors,
        adjacent=adjacent,
        flood_neighbors=flood_neighbors,
        between=tuple(between),
        distance=tuple(distance),
        grid=grid,
    )

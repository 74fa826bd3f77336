"""Per-geometry lookup tables of the action index (grid positions, ray codes, line axes)."""

from __future__ import annotations

from functools import cache

from ringrift.nn.actions.errors import ActionIndexError
from ringrift.nn.actions.layout import action_layout
from ringrift.nn.symmetry_group import line_axes, move_directions
from ringrift.rules import boards
from ringrift.rules.boards import Geometry


class ActionTables:
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
def tables_for(board_type: str, size: int) -> ActionTables:
    """The tables of a board (built once per board type and size)."""
    return ActionTables(boards.get_geometry(board_type, size))


def tables_of(geo: Geometry) -> ActionTables:
    """The tables of a state's geometry."""
    return tables_for(geo.board_type, geo.size)


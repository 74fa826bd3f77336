"""Lines and windows as the action index sees them: axis order and anchor cell."""

from __future__ import annotations

from collections.abc import Sequence

from ringrift.nn.actions.errors import ActionIndexError
from ringrift.nn.actions.tables import ActionTables, tables_of
from ringrift.rules.boards import Geometry


def oriented_line(geo: Geometry, cells: Sequence[int]) -> tuple[int, ...]:
    """The cells of a line (a run of adjacent collinear cells) in axis order, as movegen lists
    them (`Move.line`, `Move.collapse`)."""
    return oriented_line_axis(tables_of(geo), cells)[0]


def oriented_line_axis(t: ActionTables, cells: Sequence[int]) -> tuple[tuple[int, ...], int]:
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


def centre_cell(cells: tuple[int, ...]) -> int:
    """The centre cell of an odd run, the lower middle cell (axis order) of an even run."""
    return cells[(len(cells) - 1) // 2]


"""Marker lines (§4.6): maximal runs of one player's markers along a line axis."""

from __future__ import annotations

from itertools import compress

from ringrift.rules import bitboards
from ringrift.rules.state import GameState


def find_lines(state: GameState, player: int) -> list[tuple[int, ...]]:
    """Every maximal line of `player`'s markers with length >= L, cells in axis order."""
    markers = state.markers
    min_len = state.line_length
    if state.marker_count[player] < min_len:
        return []
    layout = bitboards.get_layout(state.geo)
    own = layout.members(bytes(markers), bitboards.EQUALS[player])
    if not bitboards.has_run(own, layout.line_steps, min_len):
        return []  # the usual case, settled with a few set operations
    line_rays = state.geo.line_rays
    lines = []
    # compress() picks the player's markers at C speed
    for cell in compress(range(len(markers)), map(player.__eq__, markers)):
        for forward, backward in line_rays[cell]:
            if backward and markers[backward[0]] == player:
                continue  # not the start of its run on this axis
            run = [cell]
            for nxt in forward:
                if markers[nxt] != player:
                    break
                run.append(nxt)
            if len(run) >= min_len:
                lines.append(tuple(run))
    return lines


def line_through(state: GameState, cell: int, player: int, axis: int) -> tuple[int, ...]:
    """The maximal run of `player`'s markers through `cell` on `axis` (cell counted as a marker)."""
    markers = state.markers
    forward, backward = state.geo.line_rays[cell][axis]
    before = []
    for prev in backward:
        if markers[prev] != player:
            break
        before.append(prev)
    run = before[::-1]
    run.append(cell)
    for nxt in forward:
        if markers[nxt] != player:
            break
        run.append(nxt)
    return tuple(run)


def windows(line: tuple[int, ...], length: int) -> list[tuple[int, ...]]:
    """All runs of `length` consecutive cells of `line` (line option 2 choices)."""
    return [line[i:i + length] for i in range(len(line) - length + 1)]

"""What the board page draws: a state's cells laid out, its pieces, and its legal moves.

The page stays dumb: the server sends the cell layout (unit coordinates: square cells on a
grid, hex cells in axial layout), the pieces, and every legal move with the cells a person
clicks to choose it (`cells`: from, then to; one cell for a placement or a decision about a
line, region or stack; none for a skip) and a label for the list of choices. Moves that share
their clicks (placement counts, line options, captures through different stacks) are told
apart by their labels.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

from ringrift import rules
from ringrift.rules import GameState, Move
from ringrift.rules import moves as mv

SQRT3 = math.sqrt(3.0)
MAX_AUTO_FORCED = 64


@cache
def layout(board_type: str) -> tuple[str, tuple[dict[str, Any], ...]]:
    """(shape, cells): each cell's key and centre (square: column/row; hex: pointy-top axial
    layout with unit circumradius)."""
    geo = rules.get_geometry(board_type)
    cells = []
    for key, coord in zip(geo.keys, geo.coords):
        if geo.is_hex:
            q, r = coord[0], coord[1]
            x, y = SQRT3 * (q + r / 2.0), 1.5 * r
        else:
            x, y = float(coord[0]), float(coord[1])
        cells.append({"key": key, "x": round(x, 4), "y": round(y, 4)})
    return ("hex" if geo.is_hex else "square"), tuple(cells)


def move_cells(state: GameState, move: Move) -> list[str]:
    """The cells clicked to choose `move`, in click order."""
    keys = state.geo.keys
    t = move.type
    if t in (mv.MOVE_STACK, mv.OVERTAKING_CAPTURE, mv.CONTINUE_CAPTURE, mv.RECOVERY_SLIDE):
        return [keys[move.frm], keys[move.to]]
    if t in (mv.PROCESS_LINE, mv.CHOOSE_LINE_OPTION):
        return [keys[move.line[0]]]
    if t == mv.CHOOSE_TERRITORY_OPTION:
        return [keys[move.region[0]]]
    if t in (mv.PLACE_RING, mv.ELIMINATE_RINGS, mv.FORCED_ELIMINATION) and move.to >= 0:
        return [keys[move.to]]
    return []


def move_label(state: GameState, move: Move) -> str:
    keys = state.geo.keys
    t = move.type
    if t == mv.PLACE_RING:
        return f"place {move.count} ring{'s' if move.count > 1 else ''} at {keys[move.to]}"
    if t == mv.MOVE_STACK:
        return f"move {keys[move.frm]} -> {keys[move.to]}"
    if t in (mv.OVERTAKING_CAPTURE, mv.CONTINUE_CAPTURE):
        verb = "capture" if t == mv.OVERTAKING_CAPTURE else "continue capture"
        return f"{verb} {keys[move.frm]} x {keys[move.target]} -> {keys[move.to]}"
    if t == mv.PROCESS_LINE:
        return f"process line {keys[move.line[0]]}..{keys[move.line[-1]]}"
    if t == mv.CHOOSE_LINE_OPTION:
        what = (f"collapse {_cells(keys, move.collapse)}, no ring"
                if move.collapse and len(move.collapse) < len(move.line)
                else "collapse all, eliminate a ring")
        return f"line {keys[move.line[0]]}..{keys[move.line[-1]]}: {what}"
    if t == mv.CHOOSE_TERRITORY_OPTION:
        return f"claim region of {len(move.region)}: {_cells(keys, move.region)}"
    if t == mv.ELIMINATE_RINGS:
        return f"eliminate from {keys[move.to]} ({move.context or 'rings'})"
    if t == mv.FORCED_ELIMINATION:
        return f"forced elimination at {keys[move.to]}"
    if t == mv.RECOVERY_SLIDE:
        extra = [move.mode]
        if move.option:
            extra.append(f"option {move.option}")
        if move.collapse:
            extra.append(f"collapse {_cells(keys, move.collapse)}")
        if move.extract:
            extra.append(f"extract from {_cells(keys, move.extract)}")
        return f"recovery {keys[move.frm]} -> {keys[move.to]} ({', '.join(extra)})"
    return t.replace("_", " ")


def _cells(keys: tuple[str, ...], cells: tuple[int, ...], most: int = 8) -> str:
    shown = " ".join(keys[c] for c in cells[:most])
    return shown + (f" (+{len(cells) - most})" if len(cells) > most else "")


def unique_labels(labels: list[str]) -> list[str]:
    """Labels with a suffix where two moves would read the same (the page lists them)."""
    seen: dict[str, int] = {}
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
    count: dict[str, int] = {}
    out = []
    for label in labels:
        if seen[label] > 1:
            count[label] = count.get(label, 0) + 1
            label = f"{label} [{count[label]}]"
        out.append(label)
    return out


def advance_forced(state: GameState) -> list[dict[str, Any]]:
    """Apply the only legal move while there is exactly one (bookkeeping the page need not
    ask about); return those moves as JSON."""
    applied = []
    for _ in range(MAX_AUTO_FORCED):
        if state.is_over:
            break
        legal = rules.legal_moves(state)
        if len(legal) != 1:
            break
        applied.append(rules.move_to_json(state.geo, legal[0]))
        rules.apply_move(state, legal[0])
    return applied


def view(state: GameState, applied: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The page's view of `state`: its JSON (sent back with the next action), the layout, the
    pieces, the players' counters and the legal moves."""
    data = rules.state_to_json(state)
    board = data["board"]
    shape, cells = layout(state.geo.board_type)
    legal = [] if state.is_over else rules.legal_moves(state)
    out: dict[str, Any] = {
        "state": data,
        "boardType": state.geo.board_type,
        "numPlayers": state.num_players,
        "shape": shape,
        "cells": list(cells),
        "stacks": {k: s["rings"] for k, s in board["stacks"].items()},
        "markers": {k: m["player"] for k, m in board["markers"].items()},
        "collapsed": dict(board["collapsedSpaces"]),
        "players": data["players"],
        "currentPlayer": state.current_player,
        "phase": state.phase,
        "gameOver": state.is_over,
        "winner": state.winner if state.is_over else None,
        "victoryReason": state.victory_reason if state.is_over else None,
        "legal": [{"i": i, "move": rules.move_to_json(state.geo, m),
                   "cells": move_cells(state, m), "label": label}
                  for i, (m, label) in enumerate(zip(legal, unique_labels(
                      [move_label(state, m) for m in legal])))],
    }
    if state.is_over:
        out["ranks"] = rules.final_ranks(state)
    if applied is not None:
        out["applied"] = applied
    return out

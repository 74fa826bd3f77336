"""Canonical move and position JSON (RULES.md §6.5), read from untrusted input.

`move_from_json` takes a Geometry, or a GameState: with a state, decision moves that arrive
without their payload (a `choose_territory_option` without `disconnectedRegions`, a
`process_line` / `choose_line_option` without `formedLines`) are resolved from the state's
current candidates exactly as the reference engine does (issue 20 §1, RULES.md §6.5).
"""

from __future__ import annotations

from typing import Any

from ringrift.rules import boards
from ringrift.rules import moves as mv
from ringrift.rules.boards import Geometry
from ringrift.rules.errors import RulesError
from ringrift.rules.jsonread import (
    as_int,
    as_list,
    get_int,
    get_list,
    get_str,
    is_int,
    obj,
    position_key_parts,
    show,
)
from ringrift.rules.moves import Move
from ringrift.rules.state import MAX_PLAYERS, GameState

SENTINEL = {"x": 0, "y": 0}
_COORD_LIMIT = 1 << 20  # far beyond any board; keeps every coordinate a small int
_CONTEXTS = (mv.CONTEXT_LINE, mv.CONTEXT_TERRITORY, mv.CONTEXT_RECOVERY)
_RECOVERY_MODES = (mv.RECOVERY_LINE, mv.RECOVERY_FALLBACK, mv.RECOVERY_STACK_STRIKE)


# --------------------------------------------------------------------------- positions
def parse_position(geo: Geometry, pos: Any, what: str = "position") -> int:
    """A position object `{x, y[, z]}` or key string `"x,y[,z]"` -> cell index."""
    if isinstance(pos, str):
        parts = position_key_parts(pos, what)
    elif isinstance(pos, dict):
        parts = [as_int(pos.get("x"), f"{what}.x", -_COORD_LIMIT, _COORD_LIMIT),
                 as_int(pos.get("y"), f"{what}.y", -_COORD_LIMIT, _COORD_LIMIT)]
        if pos.get("z") is not None:
            parts.append(as_int(pos["z"], f"{what}.z", -_COORD_LIMIT, _COORD_LIMIT))
    else:
        raise RulesError(f"{what}: bad position {show(pos)}")
    if geo.is_hex:
        if len(parts) == 2:
            parts.append(-parts[0] - parts[1])
        if sum(parts) != 0:
            raise RulesError(f"{what}: {show(pos)} is not a valid hex cube coordinate "
                             "(x + y + z != 0)")
    elif len(parts) != 2:
        raise RulesError(f"{what}: {show(pos)} is not a square-board position")
    cell = geo.index.get(tuple(parts))
    if cell is None:
        raise RulesError(f"{what}: {','.join(map(str, parts))} is off the {geo.board_type} "
                         f"board (size {geo.size})")
    return cell


def position_json(geo: Geometry, cell: int) -> dict[str, int]:
    c = geo.coords[cell]
    if geo.is_hex:
        return {"x": c[0], "y": c[1], "z": c[2]}
    return {"x": c[0], "y": c[1]}


def _cells(geo: Geometry, items: Any, what: str, max_len: int) -> tuple[int, ...]:
    items = as_list(items, what, max_len)
    return tuple(parse_position(geo, p, f"{what}[{i}]") for i, p in enumerate(items))


def line_span(geo: Geometry) -> int:
    """The most cells a straight line can have on this board."""
    return 2 * geo.radius + 1 if geo.is_hex else geo.size


# --------------------------------------------------------------------------- moves in
def move_from_json(where: Geometry | GameState, data: Any, phase: str | None = None) -> Move:
    """Parse a move object (§6.5). `where` is the board's Geometry or the state the move is for;
    `phase` (default: the state's) lets a missing elimination context be inferred."""
    state = where if isinstance(where, GameState) else None
    geo = state.geo if state is not None else where
    if phase is None and state is not None:
        phase = state.phase
    if not isinstance(data, dict):
        raise RulesError(f"move must be a JSON object, got {show(data)}")
    raw_type = get_str(data, "type", "move")
    mtype = mv.MOVE_TYPE_ALIASES.get(raw_type, raw_type)
    if mtype not in mv.MOVE_TYPES:
        raise RulesError(f"move: unknown move type {show(raw_type)}")
    what = f"move {mtype}"
    player = get_int(data, "player", what, 1, state.num_players if state else MAX_PLAYERS)

    def pos(key: str) -> int:
        if data.get(key) is None:
            raise RulesError(f"{what}: missing '{key}'")
        return parse_position(geo, data[key], f"{what} '{key}'")

    if mtype == mv.PLACE_RING:
        count = get_int(data, "placementCount", what, 1, 3, default=1)
        return Move(mtype, player, to=pos("to"), count=count)
    if mtype == mv.MOVE_STACK:
        return Move(mtype, player, frm=pos("from"), to=pos("to"))
    if mtype in (mv.OVERTAKING_CAPTURE, mv.CONTINUE_CAPTURE):
        return Move(mtype, player, frm=pos("from"), target=pos("captureTarget"), to=pos("to"))
    if mtype in (mv.PROCESS_LINE, mv.CHOOSE_LINE_OPTION):
        return _line_move(geo, state, data, mtype, player)
    if mtype == mv.ELIMINATE_RINGS:
        context = get_str(data, "eliminationContext", what, default="", choices=_CONTEXTS)
        return Move(mtype, player, to=pos("to"), context=context or _context_for_phase(phase))
    if mtype == mv.CHOOSE_TERRITORY_OPTION:
        return _territory_move(geo, state, data, player)
    if mtype == mv.FORCED_ELIMINATION:
        return Move(mtype, player, to=pos("to"))
    if mtype == mv.RECOVERY_SLIDE:
        mode = get_str(data, "recoveryMode", what, default=mv.RECOVERY_LINE,
                       choices=_RECOVERY_MODES)
        option_key = "recoveryOption" if data.get("recoveryOption") is not None else "option"
        option = get_int(data, option_key, what, 1, 2, default=1)
        collapse_key = "collapsePositions" if "collapsePositions" in data else "collapse_positions"
        extract_key = "extractionStacks" if "extractionStacks" in data else "extraction_stacks"
        collapse_raw = get_list(data, collapse_key, what, line_span(geo))
        extract_raw = get_list(data, extract_key, what, geo.num_cells)
        collapse = (_cells(geo, collapse_raw, f"{what} '{collapse_key}'", line_span(geo))
                    if option == 2 and mode == mv.RECOVERY_LINE else ())
        extract = _cells(geo, extract_raw, f"{what} '{extract_key}'", geo.num_cells)
        return Move(mtype, player, frm=pos("from"), to=pos("to"), mode=mode,
                    option=option if mode == mv.RECOVERY_LINE else 1,
                    collapse=tuple(sorted(set(collapse))), extract=extract)
    return Move(mtype, player)


def _context_for_phase(phase: str | None) -> str:
    if phase == "line_processing":
        return mv.CONTEXT_LINE
    return mv.CONTEXT_TERRITORY


def canonical_line(geo: Geometry, line: tuple[int, ...], what: str) -> tuple[int, ...]:
    """A line's cells in the engine's axis order (a line listed backwards is the same line)."""
    if len(set(line)) != len(line):
        raise RulesError(f"{what}: a cell is listed twice")
    coords = geo.coords
    step = tuple(b - a for a, b in zip(coords[line[0]], coords[line[1]]))
    axes = boards.HEX_LINE_AXES if geo.is_hex else boards.SQUARE_LINE_AXES
    back = tuple(-v for v in step)
    if back in axes:
        line, step = line[::-1], back
    elif step not in axes:
        raise RulesError(f"{what}: the cells are not neighbours along a line axis")
    for a, b in zip(line, line[1:]):
        if tuple(v - u for u, v in zip(coords[a], coords[b])) != step:
            raise RulesError(f"{what}: the cells do not form one straight line")
    return line


def _line_move(geo: Geometry, state: GameState | None, data: dict[str, Any], mtype: str,
               player: int) -> Move:
    what = f"move {mtype}"
    lines = get_list(data, "formedLines", what, 64)
    if lines:
        first = obj(lines[0], f"{what} formedLines[0]")
        cells = _cells(geo, first.get("positions"), f"{what} formedLines[0].positions",
                       line_span(geo))
        if len(cells) < 3:
            raise RulesError(f"{what}: formedLines[0] has {len(cells)} cells; a line has >= 3")
        line = canonical_line(geo, cells, f"{what} formedLines[0]")
    else:
        line = _resolve_line(geo, state, data, mtype, player)
    if mtype == mv.PROCESS_LINE:
        return Move(mtype, player, to=line[0], line=line)
    collapsed_raw = get_list(data, "collapsedMarkers", what, line_span(geo))
    collapse = _cells(geo, collapsed_raw, f"{what} collapsedMarkers", line_span(geo)) or line
    if not set(collapse) <= set(line):
        raise RulesError(f"{what}: collapsedMarkers are not all on the line")
    inside = set(collapse)
    collapse = tuple(c for c in line if c in inside)  # line order
    option = 1 if len(collapse) == len(line) else 2
    return Move(mtype, player, to=line[0], line=line, collapse=collapse, option=option)


def _resolve_line(geo: Geometry, state: GameState | None, data: dict[str, Any], mtype: str,
                  player: int) -> tuple[int, ...]:
    """The line a payload-less line decision means: the only current line of the player; else
    the one with `to` at an end; else `lineIndex` into the current lines; else the line the
    reference's move `id` names ("process-line-<i>-<key>|<key>|...")."""
    what = f"move {mtype}"
    if state is None:
        raise RulesError(f"{what}: missing 'formedLines' (pass the state to resolve it)")
    from ringrift.rules.lines import find_lines

    candidates = find_lines(state, player)
    if not candidates:
        raise RulesError(f"{what} without formedLines: player {player} has no line now")
    if len(candidates) == 1:
        return candidates[0]
    if data.get("to") is not None:
        to = parse_position(geo, data["to"], f"{what} 'to'")
        match = [c for c in candidates if to in (c[0], c[-1])]
        if len(match) == 1:
            return match[0]
    index = data.get("lineIndex")
    if is_int(index) and 0 <= index < len(candidates):
        return candidates[index]
    named = _id_cells(geo, data.get("id"), ("process-line-", "choose-line-option-"))
    if named:
        match = [c for c in candidates if set(named) <= set(c)]
        if len(match) == 1:
            return match[0]
    raise RulesError(f"{what} without formedLines: none of player {player}'s "
                     f"{len(candidates)} lines matches 'to', 'lineIndex' or 'id'")


def _territory_move(geo: Geometry, state: GameState | None, data: dict[str, Any],
                    player: int) -> Move:
    what = f"move {mv.CHOOSE_TERRITORY_OPTION}"
    regions = get_list(data, "disconnectedRegions", what, geo.num_cells)
    if regions:
        first = obj(regions[0], f"{what} disconnectedRegions[0]")
        cells = _cells(geo, first.get("spaces"), f"{what} disconnectedRegions[0].spaces",
                       geo.num_cells)
        region = tuple(sorted(set(cells)))
        if not region:
            raise RulesError(f"{what}: empty region")
        return Move(mv.CHOOSE_TERRITORY_OPTION, player, to=region[0], region=region)
    return _resolve_region(geo, state, data, player)


def _resolve_region(geo: Geometry, state: GameState | None, data: dict[str, Any],
                    player: int) -> Move:
    """The region a payload-less `choose_territory_option` means: the only candidate; else the
    candidate whose first cell is `to`; else the region named in the move `id`
    ("process-region-<i>-<key>")."""
    what = f"move {mv.CHOOSE_TERRITORY_OPTION}"
    if state is None:
        raise RulesError(f"{what}: missing 'disconnectedRegions' (pass the state to resolve it)")
    from ringrift.rules.territory import processable_regions

    candidates = processable_regions(state, player)
    if not candidates:
        raise RulesError(f"{what} without disconnectedRegions: player {player} has no region "
                         "to process now")
    chosen: tuple[int, ...] | None = None
    if len(candidates) == 1:
        chosen = candidates[0]
    if chosen is None and data.get("to") is not None:
        to = parse_position(geo, data["to"], f"{what} 'to'")
        match = [r for r in candidates if r[0] == to]
        chosen = match[0] if len(match) == 1 else None
    if chosen is None:
        named = _id_cells(geo, data.get("id"), ("process-region-",))
        if named:
            match = [r for r in candidates if named[0] in r]
            chosen = match[0] if len(match) == 1 else None
    if chosen is None:
        raise RulesError(f"{what} without disconnectedRegions: none of the {len(candidates)} "
                         "candidate regions matches 'to' or 'id'")
    return Move(mv.CHOOSE_TERRITORY_OPTION, player, to=chosen[0], region=chosen)


def _id_cells(geo: Geometry, move_id: Any, prefixes: tuple[str, ...]) -> list[int]:
    """Cells named in a reference move id such as "process-region-0-3,4" (none when absent)."""
    if not isinstance(move_id, str) or len(move_id) > 4096:
        return []
    for prefix in prefixes:
        if move_id.startswith(prefix):
            rest = move_id[len(prefix):].split("-", 1)
            if len(rest) != 2:
                return []
            keys = rest[1].removesuffix("-all").split("|")
            try:
                return [parse_position(geo, k, "move id") for k in keys[: line_span(geo)]]
            except RulesError:
                return []
    return []


# --------------------------------------------------------------------------- moves out
def move_to_json(geo: Geometry, move: Move) -> dict[str, Any]:
    """The canonical JSON of a move (§6.5)."""
    def p(cell: int) -> dict[str, int]:
        return position_json(geo, cell)

    out: dict[str, Any] = {"type": move.type, "player": move.player}
    t = move.type
    if t == mv.PLACE_RING:
        out["to"] = p(move.to)
        out["placementCount"] = move.count
    elif t == mv.MOVE_STACK:
        out["from"] = p(move.frm)
        out["to"] = p(move.to)
    elif t in (mv.OVERTAKING_CAPTURE, mv.CONTINUE_CAPTURE):
        out["from"] = p(move.frm)
        out["captureTarget"] = p(move.target)
        out["to"] = p(move.to)
    elif t in (mv.PROCESS_LINE, mv.CHOOSE_LINE_OPTION):
        out["to"] = p(move.line[0])
        out["formedLines"] = [line_json(geo, move.line, move.player)]
        if t == mv.CHOOSE_LINE_OPTION:
            out["collapsedMarkers"] = [p(c) for c in move.collapse]
    elif t == mv.ELIMINATE_RINGS:
        out["to"] = p(move.to)
        out["eliminationContext"] = move.context
    elif t == mv.CHOOSE_TERRITORY_OPTION:
        out["to"] = p(move.region[0])
        out["disconnectedRegions"] = [{
            "spaces": [p(c) for c in move.region],
            "controllingPlayer": move.player,
            "isDisconnected": True,
        }]
    elif t == mv.FORCED_ELIMINATION:
        out["to"] = p(move.to)
    elif t == mv.RECOVERY_SLIDE:
        out["from"] = p(move.frm)
        out["to"] = p(move.to)
        out["recoveryMode"] = move.mode
        out["recoveryOption"] = move.option
        out["collapsePositions"] = [p(c) for c in move.collapse]
        out["extractionStacks"] = [geo.keys[c] for c in move.extract]
    else:
        out["to"] = dict(SENTINEL)
    return out


def line_json(geo: Geometry, line: tuple[int, ...], player: int) -> dict[str, Any]:
    a, b = geo.coords[line[0]], geo.coords[line[1]]
    direction = [v - u for u, v in zip(a, b)]
    d = {"x": direction[0], "y": direction[1]}
    if geo.is_hex:
        d["z"] = direction[2]
    return {"positions": [position_json(geo, c) for c in line], "player": player,
            "length": len(line), "direction": d}

"""Canonical JSON in and out (RULES.md §6): states, moves, positions.

States are read in the contract-vector / trace format (square and hex keys, top-to-bottom ring
lists, legacy move-type aliases) and validated; a malformed input raises RulesError naming the
field. Written states carry our turn bookkeeping in an extra `ringrift` object (other readers
ignore unknown keys), so export then import gives back the same state and the same legal moves.
"""

from __future__ import annotations

from typing import Any

from ringrift.rules import boards
from ringrift.rules import moves as mv
from ringrift.rules.boards import Geometry
from ringrift.rules.errors import RulesError
from ringrift.rules.moves import Move
from ringrift.rules.state import ACTIVE, COMPLETED, PHASES, GameState, LpsTracker, cap_height

SENTINEL = {"x": 0, "y": 0}
_STATUS_ALIASES = {"finished": COMPLETED}


# --------------------------------------------------------------------------- positions
def parse_position(geo: Geometry, pos: Any, what: str = "position") -> int:
    """A position object `{x, y[, z]}` or key string `"x,y[,z]"` -> cell index."""
    if isinstance(pos, str):
        try:
            parts = [int(v) for v in pos.split(",")]
        except ValueError:
            raise RulesError(f"{what}: bad position key {pos!r}") from None
    elif isinstance(pos, dict):
        try:
            parts = [int(pos["x"]), int(pos["y"])]
            if pos.get("z") is not None:
                parts.append(int(pos["z"]))
        except (KeyError, TypeError, ValueError):
            raise RulesError(f"{what}: bad position {pos!r}") from None
    else:
        raise RulesError(f"{what}: bad position {pos!r}")
    if geo.is_hex:
        if len(parts) == 2:
            parts.append(-parts[0] - parts[1])
        if len(parts) != 3 or sum(parts) != 0:
            raise RulesError(f"{what}: {pos!r} is not a valid hex cube coordinate (x + y + z != 0)")
    elif len(parts) != 2:
        raise RulesError(f"{what}: {pos!r} is not a square-board position")
    coord = tuple(parts)
    cell = geo.index.get(coord)
    if cell is None:
        raise RulesError(f"{what}: {pos!r} is off the {geo.board_type} board (size {geo.size})")
    return cell


def position_json(geo: Geometry, cell: int) -> dict[str, int]:
    c = geo.coords[cell]
    if geo.is_hex:
        return {"x": c[0], "y": c[1], "z": c[2]}
    return {"x": c[0], "y": c[1]}


# --------------------------------------------------------------------------- moves
def move_from_json(geo: Geometry, data: dict[str, Any], phase: str | None = None) -> Move:
    """Parse a move object (§6.5). `phase` lets a missing elimination context be inferred."""
    if not isinstance(data, dict):
        raise RulesError(f"move must be a JSON object, got {type(data).__name__}")
    mtype = data.get("type")
    mtype = mv.MOVE_TYPE_ALIASES.get(mtype, mtype)
    if mtype not in mv.MOVE_TYPES:
        raise RulesError(f"move: unknown move type {data.get('type')!r}")
    try:
        player = int(data["player"])
    except (KeyError, TypeError, ValueError):
        raise RulesError(f"move {mtype}: missing or bad 'player'") from None

    def pos(key: str) -> int:
        if data.get(key) is None:
            raise RulesError(f"move {mtype}: missing '{key}'")
        return parse_position(geo, data[key], f"move {mtype} '{key}'")

    def positions(items: Any, what: str) -> tuple[int, ...]:
        if not isinstance(items, list):
            raise RulesError(f"move {mtype}: '{what}' must be a list")
        return tuple(parse_position(geo, p, f"move {mtype} '{what}'") for p in items)

    if mtype == mv.PLACE_RING:
        count = data.get("placementCount") or 1
        if not isinstance(count, int) or not 1 <= count <= 3:
            raise RulesError(f"move place_ring: placementCount must be 1-3, got {count!r}")
        return Move(mtype, player, to=pos("to"), count=count)
    if mtype == mv.MOVE_STACK:
        return Move(mtype, player, frm=pos("from"), to=pos("to"))
    if mtype in (mv.OVERTAKING_CAPTURE, mv.CONTINUE_CAPTURE):
        return Move(mtype, player, frm=pos("from"), target=pos("captureTarget"), to=pos("to"))
    if mtype in (mv.PROCESS_LINE, mv.CHOOSE_LINE_OPTION):
        lines = data.get("formedLines") or []
        if not lines or not isinstance(lines[0], dict):
            raise RulesError(f"move {mtype}: missing 'formedLines[0]'")
        line = positions(lines[0].get("positions"), "formedLines[0].positions")
        if mtype == mv.PROCESS_LINE:
            return Move(mtype, player, to=line[0], line=line)
        collapsed = data.get("collapsedMarkers")
        collapse = positions(collapsed, "collapsedMarkers") if collapsed else line
        if not set(collapse) <= set(line):
            raise RulesError("move choose_line_option: collapsedMarkers are not all on the line")
        collapse = tuple(c for c in line if c in set(collapse))  # line order
        option = 1 if len(collapse) == len(line) else 2
        return Move(mtype, player, to=line[0], line=line, collapse=collapse, option=option)
    if mtype == mv.ELIMINATE_RINGS:
        context = data.get("eliminationContext") or _context_for_phase(phase)
        if context not in (mv.CONTEXT_LINE, mv.CONTEXT_TERRITORY, mv.CONTEXT_RECOVERY):
            raise RulesError(f"move eliminate_rings_from_stack: bad eliminationContext {context!r}")
        return Move(mtype, player, to=pos("to"), context=context)
    if mtype == mv.CHOOSE_TERRITORY_OPTION:
        regions = data.get("disconnectedRegions") or []
        if not regions or not isinstance(regions[0], dict):
            raise RulesError("move choose_territory_option: missing 'disconnectedRegions[0]'")
        region = tuple(sorted(set(positions(regions[0].get("spaces"), "region spaces"))))
        if not region:
            raise RulesError("move choose_territory_option: empty region")
        return Move(mtype, player, to=region[0], region=region)
    if mtype == mv.FORCED_ELIMINATION:
        return Move(mtype, player, to=pos("to"))
    if mtype == mv.RECOVERY_SLIDE:
        mode = data.get("recoveryMode") or mv.RECOVERY_LINE
        if mode not in (mv.RECOVERY_LINE, mv.RECOVERY_FALLBACK, mv.RECOVERY_STACK_STRIKE):
            raise RulesError(f"move recovery_slide: bad recoveryMode {mode!r}")
        option = data.get("recoveryOption", data.get("option")) or 1
        collapse_raw = data.get("collapsePositions", data.get("collapse_positions")) or []
        extract_raw = data.get("extractionStacks", data.get("extraction_stacks")) or []
        collapse = positions(collapse_raw, "collapsePositions") if option == 2 else ()
        extract = tuple(parse_position(geo, k, "move recovery_slide 'extractionStacks'")
                        for k in extract_raw)
        return Move(mtype, player, frm=pos("from"), to=pos("to"), mode=mode,
                    option=int(option) if mode == mv.RECOVERY_LINE else 1,
                    collapse=tuple(sorted(collapse)), extract=extract)
    return Move(mtype, player)


def _context_for_phase(phase: str | None) -> str:
    if phase == "line_processing":
        return mv.CONTEXT_LINE
    return mv.CONTEXT_TERRITORY


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


# --------------------------------------------------------------------------- states
def state_from_json(data: dict[str, Any], extras: dict[str, Any] | None = None) -> GameState:
    """Load a serialized state (§6.3). `extras` are the trace corpus's `stateExtras`."""
    if not isinstance(data, dict):
        raise RulesError("state must be a JSON object")
    board = data.get("board")
    if not isinstance(board, dict):
        raise RulesError("state: missing 'board'")
    board_type = board.get("type") or data.get("boardType")
    if board_type not in boards.BOARD_TYPES:
        raise RulesError(f"state: unknown board type {board_type!r}")
    size = board.get("size", boards.canonical_size(board_type))
    if not isinstance(size, int):
        raise RulesError(f"state: bad board size {size!r}")
    geo = boards.get_geometry(board_type, size)
    players = data.get("players")
    if not isinstance(players, list) or not 2 <= len(players) <= 4:
        count = len(players) if isinstance(players, list) else "no"
        raise RulesError(f"state: 'players' must list 2-4 players, got {count}")
    n = len(players)
    s = GameState.empty(geo, n)
    ext = data.get("ringrift") or {}
    extras = extras or {}
    rules_options = data.get("rulesOptions") or {}
    if rules_options.get("ringsPerPlayer"):
        s.rings_per_player = int(rules_options["ringsPerPlayer"])
        s.victory_threshold = boards.victory_threshold(s.rings_per_player, n)
    s.swap_enabled = bool(rules_options.get("swapRuleEnabled")) and n == 2
    lps_rounds = rules_options.get("lpsRoundsRequired") or extras.get("lpsRoundsRequired")
    if lps_rounds:
        s.lps_rounds_required = int(lps_rounds)
    if data.get("victoryThreshold") is not None:
        s.victory_threshold = int(data["victoryThreshold"])
    minimum = data.get("territoryVictoryMinimum", extras.get("territoryVictoryMinimum"))
    if minimum is not None:
        s.territory_minimum = int(minimum)

    for i, pl in enumerate(players):
        if not isinstance(pl, dict):
            raise RulesError(f"state: players[{i}] must be an object")
        number = pl.get("playerNumber", i + 1)
        if number != i + 1:
            raise RulesError(f"state: players[{i}].playerNumber is {number}, expected {i + 1}")
        for field in ("ringsInHand", "eliminatedRings", "territorySpaces"):
            value = pl.get(field, 0)
            if not isinstance(value, int) or value < 0:
                raise RulesError(f"state: players[{i}].{field} must be a non-negative integer")
        s.hand[i + 1] = pl.get("ringsInHand", 0)
        s.eliminated[i + 1] = pl.get("eliminatedRings", 0)

    for key, st in (board.get("stacks") or {}).items():
        cell = parse_position(geo, st.get("position", key) if isinstance(st, dict) else key,
                              f"stack {key}")
        if not isinstance(st, dict):
            raise RulesError(f"stack {key}: must be an object")
        rings = st.get("rings")
        if rings is None:
            rings = [st.get("controllingPlayer")] * int(st.get("stackHeight", 1))
        if not rings or not all(isinstance(r, int) and 1 <= r <= n for r in rings):
            raise RulesError(f"stack {key}: rings must be player numbers 1..{n}, got {rings!r}")
        rings_t = tuple(rings)
        for field, expected in (("stackHeight", len(rings_t)), ("capHeight", cap_height(rings_t)),
                                ("controllingPlayer", rings_t[0])):
            if st.get(field) is not None and st[field] != expected:
                raise RulesError(f"stack {key}: {field} is {st[field]}, but rings give {expected}")
        if s.stacks[cell] is not None:
            raise RulesError(f"stack {key}: two stacks on one cell")
        s.set_stack(cell, rings_t)
    for key, mk in (board.get("markers") or {}).items():
        cell = parse_position(geo, mk.get("position", key) if isinstance(mk, dict) else key,
                              f"marker {key}")
        owner = mk.get("player") if isinstance(mk, dict) else mk
        if not isinstance(owner, int) or not 1 <= owner <= n:
            raise RulesError(f"marker {key}: bad owner {owner!r}")
        if s.stacks[cell] is not None:
            raise RulesError(f"marker {key}: a marker and a stack on the same cell")
        s.set_marker(cell, owner)
    for key, owner in (board.get("collapsedSpaces") or {}).items():
        cell = parse_position(geo, key, f"collapsed space {key}")
        if not isinstance(owner, int) or not 1 <= owner <= n:
            raise RulesError(f"collapsed space {key}: bad owner {owner!r}")
        if s.stacks[cell] is not None or s.markers[cell]:
            raise RulesError(f"collapsed space {key}: a collapsed cell cannot hold a stack or marker")
        s.set_collapsed(cell, owner)
    # territorySpaces is authoritative only through the board; check that they agree
    for i, pl in enumerate(players):
        declared = pl.get("territorySpaces", 0)
        if declared != s.territory[i + 1]:
            raise RulesError(f"state: players[{i}].territorySpaces is {declared}, but the board "
                             f"has {s.territory[i + 1]} collapsed cells of player {i + 1}")
    for p in range(1, n + 1):
        if s.hand[p] + s.ring_count[p] > s.rings_per_player:
            raise RulesError(f"state: player {p} has {s.hand[p]} rings in hand and "
                             f"{s.ring_count[p]} on the board, more than {s.rings_per_player}")

    total = data.get("totalRingsEliminated")
    s.total_eliminated = int(total) if isinstance(total, int) else sum(s.eliminated)
    current = data.get("currentPlayer", 1)
    if not isinstance(current, int) or not 1 <= current <= n:
        raise RulesError(f"state: currentPlayer must be 1..{n}, got {current!r}")
    s.current_player = current
    phase = data.get("currentPhase", "ring_placement")
    if phase not in PHASES:
        raise RulesError(f"state: unknown currentPhase {phase!r}")
    s.phase = phase
    status = _STATUS_ALIASES.get(data.get("gameStatus", ACTIVE), data.get("gameStatus", ACTIVE))
    if status not in (ACTIVE, COMPLETED):
        raise RulesError(f"state: unsupported gameStatus {status!r}")
    s.status = status
    if status == COMPLETED:
        s.phase = "game_over"
        s.winner = int(data.get("winner") or extras.get("winner") or 0)
        s.victory_reason = ext.get("victoryReason", "")
    if data.get("chainCapturePosition") is not None:
        s.chain_pos = parse_position(geo, data["chainCapturePosition"], "chainCapturePosition")
    if data.get("mustMoveFromStackKey"):
        s.must_move = parse_position(geo, data["mustMoveFromStackKey"], "mustMoveFromStackKey")
    _restore_turn_state(s, data, extras, ext)
    return s


def _restore_turn_state(s: GameState, data: dict[str, Any], extras: dict[str, Any],
                        ext: dict[str, Any]) -> None:
    """Turn bookkeeping: our own extension if present, else rebuilt from moveHistory (§6.3)."""
    geo = s.geo
    if ext:
        s.capture_origin = _cell_or_none(geo, ext.get("captureOrigin"))
        s.pending_line_reward = bool(ext.get("pendingLineRewardElimination"))
        region = ext.get("pendingTerritoryRegion") or []
        s.pending_region = tuple(sorted(parse_position(geo, k, "pendingTerritoryRegion")
                                        for k in region))
        s.recovery_context = bool(ext.get("recoveryContext"))
        s.turn_had_action = bool(ext.get("turnHadAction"))
        s.p1_has_moved = bool(ext.get("player1HasMoved"))
        s.p2_has_moved = bool(ext.get("player2HasMoved"))
        s.turn_index = int(ext.get("turnIndex", 0))
        s.move_count = int(ext.get("moveCount", 0))
        s.elimination_turn = [-1] + list(ext.get("eliminationTurn", [-1] * s.num_players))
        s.last_turn = [-1] + list(ext.get("lastTurn", [-1] * s.num_players))
        lps = ext.get("lps")
        if lps:
            t = LpsTracker()
            t.round_index = lps["roundIndex"]
            t.first = lps["first"]
            t.mask = {int(k): bool(v) for k, v in lps["mask"].items()}
            t.consecutive = lps["consecutive"]
            t.exclusive = lps["exclusive"]
            s.lps = t
        return
    history = data.get("moveHistory") or []
    s.move_count = len(history)
    parsed = []
    for i, h in enumerate(history):
        if not isinstance(h, dict):
            raise RulesError(f"state: moveHistory[{i}] must be an object")
        mtype = mv.MOVE_TYPE_ALIASES.get(h.get("type"), h.get("type"))
        parsed.append((mtype, h.get("player"), h))
    s.p1_has_moved = any(p == 1 for _, p, _ in parsed)
    s.p2_has_moved = any(p == 2 for _, p, _ in parsed)
    turn = []
    for mtype, player, h in reversed(parsed):
        if player != s.current_player:
            break
        turn.append((mtype, h))
    turn.reverse()
    s.recovery_context = any(t == mv.RECOVERY_SLIDE for t, _ in turn)
    s.turn_had_action = any(t not in mv.NON_ACTION_TYPES for t, _ in turn)
    last_type, last = (turn[-1] if turn else (None, None))
    if s.phase == "capture" and last is not None and last.get("to") is not None:
        s.capture_origin = parse_position(geo, last["to"], "moveHistory capture origin")
    elif s.phase == "capture" and s.must_move >= 0:
        s.capture_origin = s.must_move
    pending = extras.get("pendingLineRewardElimination")
    if pending is None:
        pending = data.get("pendingLineRewardElimination")
    if pending is None and s.phase == "line_processing" and last is not None:
        pending = False
        if last_type in (mv.PROCESS_LINE, mv.CHOOSE_LINE_OPTION) and s.control_count[s.current_player]:
            lines = last.get("formedLines") or [{}]
            line_len = len(lines[0].get("positions") or [])
            collapsed = last.get("collapsedMarkers")
            whole = not collapsed or len(collapsed) == line_len
            pending = whole and (last_type == mv.CHOOSE_LINE_OPTION or line_len == s.line_length)
    s.pending_line_reward = bool(pending) and s.phase == "line_processing"
    if s.phase == "territory_processing" and last_type == mv.CHOOSE_TERRITORY_OPTION:
        region = (last.get("disconnectedRegions") or [{}])[0].get("spaces") or []
        s.pending_region = tuple(sorted(parse_position(geo, p, "pending region") for p in region))


def _cell_or_none(geo: Geometry, key: Any) -> int:
    return -1 if key is None else parse_position(geo, key, "ringrift extension")


def state_to_json(s: GameState, *, game_id: str = "ringrift") -> dict[str, Any]:
    """The canonical JSON of a state (§6.3-6.4) plus the `ringrift` bookkeeping extension."""
    geo = s.geo
    stacks = {}
    for cell, rings in enumerate(s.stacks):
        if rings is not None:
            stacks[geo.keys[cell]] = {
                "position": position_json(geo, cell), "rings": list(rings),
                "stackHeight": len(rings), "capHeight": cap_height(rings),
                "controllingPlayer": rings[0],
            }
    markers = {geo.keys[c]: {"position": position_json(geo, c), "player": m, "type": "regular"}
               for c, m in enumerate(s.markers) if m}
    collapsed = {geo.keys[c]: o for c, o in enumerate(s.collapsed) if o}
    n = s.num_players
    out: dict[str, Any] = {
        "gameId": game_id,
        "board": {
            "type": geo.board_type, "size": geo.size, "stacks": stacks, "markers": markers,
            "collapsedSpaces": collapsed,
            "eliminatedRings": {str(p): s.eliminated[p] for p in range(1, n + 1)},
            "formedLines": [], "territories": {},
        },
        "players": [{"playerNumber": p, "ringsInHand": s.hand[p],
                     "eliminatedRings": s.eliminated[p], "territorySpaces": s.territory[p],
                     "isActive": True} for p in range(1, n + 1)],
        "currentPlayer": s.current_player,
        "currentPhase": s.phase,
        "turnNumber": s.move_count + 1,
        "moveHistory": [],
        "gameStatus": s.status,
        "victoryThreshold": s.victory_threshold,
        "territoryVictoryThreshold": geo.num_cells // 2 + 1,
        "territoryVictoryMinimum": s.territory_minimum,
        "totalRingsEliminated": s.total_eliminated,
        "rulesOptions": {"swapRuleEnabled": s.swap_enabled,
                         "lpsRoundsRequired": s.lps_rounds_required},
    }
    if s.rings_per_player != boards.rings_per_player(geo.board_type):
        out["rulesOptions"]["ringsPerPlayer"] = s.rings_per_player
    if s.status == COMPLETED:
        out["winner"] = s.winner
    if s.chain_pos >= 0:
        out["chainCapturePosition"] = position_json(geo, s.chain_pos)
    if s.must_move >= 0:
        out["mustMoveFromStackKey"] = geo.keys[s.must_move]
    lps = s.lps
    out["ringrift"] = {
        "captureOrigin": geo.keys[s.capture_origin] if s.capture_origin >= 0 else None,
        "pendingLineRewardElimination": s.pending_line_reward,
        "pendingTerritoryRegion": [geo.keys[c] for c in s.pending_region],
        "recoveryContext": s.recovery_context,
        "turnHadAction": s.turn_had_action,
        "player1HasMoved": s.p1_has_moved,
        "player2HasMoved": s.p2_has_moved,
        "turnIndex": s.turn_index,
        "moveCount": s.move_count,
        "eliminationTurn": s.elimination_turn[1:],
        "lastTurn": s.last_turn[1:],
        "victoryReason": s.victory_reason,
        "lps": {"roundIndex": lps.round_index, "first": lps.first,
                "mask": {str(k): v for k, v in lps.mask.items()},
                "consecutive": lps.consecutive, "exclusive": lps.exclusive},
    }
    return out

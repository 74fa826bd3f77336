"""Canonical state JSON in and out (RULES.md §6.3-6.4); moves and positions live in move_json.

Input is untrusted: the whole structure is read and checked (types, ranges, board sizes against
the board type, list lengths against the board) before any state is built, and an accepted state
is checked to be playable. Every failure is a RulesError naming the field; no value makes us
allocate or loop in proportion to a number it carries (see jsonread).

Output uses the reference engine's own fields for everything it has one for (`moveHistory`,
`mustMoveFromStackKey`, `chainCapturePosition`, `pendingLineRewardElimination`, the `lps*`
last-player-standing counters, `territoryVictoryMinimum`); the rest of our turn bookkeeping goes
in an extra `ringrift` object, which other readers ignore. Without that object the bookkeeping is
rebuilt from the history as RULES.md §6.3 prescribes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ringrift.rules import boards
from ringrift.rules import moves as mv
from ringrift.rules.boards import Geometry
from ringrift.rules.errors import RulesError
from ringrift.rules.jsonread import (
    as_int,
    as_list,
    as_map,
    get_bool,
    get_int,
    get_list,
    get_str,
    obj,
    opt_obj,
    show,
)
from ringrift.rules.move_json import (
    SENTINEL,
    line_json,
    move_from_json,
    move_to_json,
    parse_position,
    position_json,
)
from ringrift.rules.moves import Move
from ringrift.rules.spec import (
    BOARD_TYPES,
    BOARDS,
    PLAYER_COUNTS,
    check_board_type,
    victory_threshold,
)
from ringrift.rules.state import (
    ACTIVE,
    COMPLETED,
    LAST_PLAYER_STANDING,
    MAX_RINGS_PER_PLAYER,
    PHASES,
    RING_ELIMINATION,
    TERRITORY_CONTROL,
    GameState,
    LpsTracker,
    cap_height,
)

__all__ = [
    "SENTINEL", "line_json", "move_from_json", "move_to_json", "parse_position",
    "position_json", "state_from_json", "state_to_json",
]

_STATUS_ALIASES = {"finished": COMPLETED}
# §6.9: several hexagonal contract vectors use these sizes (radius 5 and 6) instead of 25.
_LEGACY_SIZES = {"hexagonal": (11, 13)}
MAX_HISTORY = 100_000  # moves; far beyond any real game, bounds the work a history costs
_BIG = 1 << 31  # bound for counters whose size the rules do not limit
_VICTORY_REASONS = ("", RING_ELIMINATION, TERRITORY_CONTROL, LAST_PLAYER_STANDING)


def board_sizes(board_type: str) -> tuple[int, ...]:
    """The `board.size` values accepted for a board type: the canonical one, plus the legacy
    hexagonal sizes of the contract vectors (RULES.md §6.9)."""
    return (BOARDS[check_board_type(board_type)].size,) + _LEGACY_SIZES.get(board_type, ())


# --------------------------------------------------------------------------- reading
@dataclass
class _Read:
    """Everything read from the JSON and checked, before a GameState is built."""

    geo: Geometry
    n: int
    rings_per_player: int
    hand: list[int]
    eliminated: list[int]
    stacks: dict[int, tuple[int, ...]]
    markers: dict[int, int]
    collapsed: dict[int, int]
    settings: dict[str, Any] = field(default_factory=dict)
    history: list[Move] = field(default_factory=list)


def state_from_json(data: Any, extras: Any = None) -> GameState:
    """Load a serialized state (§6.3). `extras` are the trace corpus's `stateExtras`.

    Raises RulesError naming the field for anything malformed, and for a state in which the
    player to move could not play (RULES.md terms; see the README's rules-engine section)."""
    data = obj(data, "state")
    extras = {} if extras is None else obj(extras, "stateExtras")
    read = _read(data, extras)
    state = _build(read)
    _check_playable(state)
    return state


def _read(data: dict[str, Any], extras: dict[str, Any]) -> _Read:
    board = obj(data.get("board"), "state.board")
    board_type = board.get("type") if board.get("type") is not None else data.get("boardType")
    if not isinstance(board_type, str) or board_type not in BOARDS:
        raise RulesError(f"state.board.type: unknown board type {show(board_type)} "
                         f"(expected one of {', '.join(BOARD_TYPES)})")
    sizes = board_sizes(board_type)
    size = get_int(board, "size", "state.board", 1, _BIG, default=sizes[0])
    if size not in sizes:
        raise RulesError(f"state.board.size: {size} is not a size of a {board_type} board "
                         f"(expected {', '.join(map(str, sizes))})")
    geo = boards.get_geometry(board_type, size)
    players = data.get("players")
    if not isinstance(players, list) or len(players) not in PLAYER_COUNTS:
        count = len(players) if isinstance(players, list) else show(players)
        raise RulesError(f"state.players must list 2-4 players, got {count}")
    n = len(players)
    options = opt_obj(data, "rulesOptions", "state")
    rpp = get_int(options, "ringsPerPlayer", "state.rulesOptions", 1, MAX_RINGS_PER_PLAYER,
                  default=BOARDS[board_type].rings_per_player)
    all_rings = n * rpp
    hand, eliminated, territory = [0], [0], [0]
    for i, raw in enumerate(players):
        what = f"state.players[{i}]"
        pl = obj(raw, what)
        get_int(pl, "playerNumber", what, i + 1, i + 1, default=i + 1)
        hand.append(get_int(pl, "ringsInHand", what, 0, rpp, default=0))
        eliminated.append(get_int(pl, "eliminatedRings", what, 0, all_rings, default=0))
        territory.append(get_int(pl, "territorySpaces", what, 0, geo.num_cells, default=0))

    occupied: dict[int, str] = {}

    def claim(cell: int, what: str) -> None:
        if cell in occupied:
            raise RulesError(f"{what}: cell {geo.keys[cell]} already holds {occupied[cell]}")
        occupied[cell] = what

    stacks: dict[int, tuple[int, ...]] = {}
    on_board = [0] * (n + 1)
    for key, raw in as_map(board.get("stacks"), "state.board.stacks", geo.num_cells).items():
        what = f"state.board.stacks[{show(key)}]"
        cell = _keyed_cell(geo, key, raw, what)
        rings = _stack_rings(obj(raw, what), what, n, all_rings)
        claim(cell, what)
        stacks[cell] = rings
        for r in rings:
            on_board[r] += 1
    for p in range(1, n + 1):
        if on_board[p] > rpp:
            raise RulesError(f"state.board.stacks: {on_board[p]} rings of player {p} on the "
                             f"board, more than the {rpp} rings per player")
    markers: dict[int, int] = {}
    for key, raw in as_map(board.get("markers"), "state.board.markers", geo.num_cells).items():
        what = f"state.board.markers[{show(key)}]"
        cell = _keyed_cell(geo, key, raw, what)
        if isinstance(raw, dict):
            owner = get_int(raw, "player", what, 1, n)
            get_str(raw, "type", what, default="regular", choices=("regular",))
        else:
            owner = as_int(raw, what, 1, n)
        claim(cell, what)
        markers[cell] = owner
    collapsed: dict[int, int] = {}
    count = [0] * (n + 1)
    for key, raw in as_map(board.get("collapsedSpaces"), "state.board.collapsedSpaces",
                           geo.num_cells).items():
        what = f"state.board.collapsedSpaces[{show(key)}]"
        cell = parse_position(geo, key, what)
        owner = as_int(raw, what, 1, n)
        claim(cell, what)
        collapsed[cell] = owner
        count[owner] += 1
    for p in range(1, n + 1):
        # the victory test counts the board (§2.3), so a different stored count cannot stand
        if territory[p] != count[p]:
            raise RulesError(f"state.players[{p - 1}].territorySpaces is {territory[p]}, but "
                             f"the board has {count[p]} collapsed cells of player {p}")

    read = _Read(geo, n, rpp, hand, eliminated, stacks, markers, collapsed)
    read.settings = _read_settings(data, extras, options, read)
    read.history = _read_history(data, geo, n)
    return read


def _keyed_cell(geo: Geometry, key: str, raw: Any, what: str) -> int:
    """The cell of a board map entry: its key, which must agree with its `position` if given."""
    cell = parse_position(geo, key, what)
    if isinstance(raw, dict) and raw.get("position") is not None:
        if parse_position(geo, raw["position"], f"{what}.position") != cell:
            raise RulesError(f"{what}.position is not the cell of its key")
    return cell


def _stack_rings(st: dict[str, Any], what: str, n: int, all_rings: int) -> tuple[int, ...]:
    raw = st.get("rings")
    if raw is None:  # §6.4: TS fills stackHeight copies of controllingPlayer
        top = get_int(st, "controllingPlayer", what, 1, n)
        rings = (top,) * get_int(st, "stackHeight", what, 1, all_rings, default=1)
    else:
        items = as_list(raw, f"{what}.rings", all_rings)
        if not items:
            raise RulesError(f"{what}.rings is empty (a stack has at least one ring)")
        rings = tuple(as_int(r, f"{what}.rings[{i}]", 1, n) for i, r in enumerate(items))
    for name, expected in (("stackHeight", len(rings)), ("capHeight", cap_height(rings)),
                           ("controllingPlayer", rings[0])):
        if st.get(name) is not None and st[name] != expected:
            raise RulesError(f"{what}.{name} is {show(st[name])}, but its rings give {expected}")
    return rings


def _read_settings(data: dict[str, Any], extras: dict[str, Any], options: dict[str, Any],
                   read: _Read) -> dict[str, Any]:
    """Global fields, turn position and bookkeeping, all checked (not yet applied)."""
    geo, n = read.geo, read.n
    out: dict[str, Any] = {}
    out["swap"] = get_bool(options, "swapRuleEnabled", "state.rulesOptions") and n == 2
    lps_rounds = options.get("lpsRoundsRequired")
    source = options if lps_rounds is not None else extras
    out["lps_rounds"] = get_int(source, "lpsRoundsRequired", "state.rulesOptions", 1, 1000,
                                default=3)
    out["victory_threshold"] = get_int(data, "victoryThreshold", "state", 1, _BIG, default=None)
    minimum_source = data if data.get("territoryVictoryMinimum") is not None else extras
    out["territory_minimum"] = get_int(minimum_source, "territoryVictoryMinimum", "state", 1,
                                       _BIG, default=None)
    out["total_eliminated"] = get_int(data, "totalRingsEliminated", "state", 0, _BIG,
                                      default=sum(read.eliminated))
    out["current"] = get_int(data, "currentPlayer", "state", 1, n, default=1)
    phase = get_str(data, "currentPhase", "state", default="ring_placement", choices=PHASES)
    status = get_str(data, "gameStatus", "state", default=ACTIVE,
                     choices=(ACTIVE, COMPLETED, *_STATUS_ALIASES))
    status = _STATUS_ALIASES.get(status, status)
    if status == ACTIVE and phase == "game_over":
        raise RulesError("state.currentPhase is game_over but state.gameStatus is active")
    out["phase"], out["status"] = phase, status
    winner_source = data if data.get("winner") is not None else extras
    out["winner"] = get_int(winner_source, "winner", "state", 0, n, default=0)
    out["chain_pos"] = _opt_cell(geo, data, "chainCapturePosition")
    out["must_move"] = _opt_cell(geo, data, "mustMoveFromStackKey")
    pending = data.get("pendingLineRewardElimination")
    if pending is None:
        pending = extras.get("pendingLineRewardElimination")
    if pending is not None and not isinstance(pending, bool):
        raise RulesError(f"state.pendingLineRewardElimination must be true or false, got "
                         f"{show(pending)}")
    out["pending_line_reward"] = pending
    out["lps"] = _read_lps(data, n) if _has_lps_fields(data) else None
    ext = opt_obj(data, "ringrift", "state")
    out["ext"] = _read_extension(ext, geo, n) if ext else None
    return out


def _opt_cell(geo: Geometry, d: dict[str, Any], key: str, what: str = "state") -> int:
    value = d.get(key)
    return -1 if value is None else parse_position(geo, value, f"{what}.{key}")


def _opt_player(d: dict[str, Any], key: str, what: str, n: int) -> int:
    """A player number or null (0 = none)."""
    return get_int(d, key, what, 0, n, default=0)


_LPS_FIELDS = ("lpsRoundIndex", "lpsCurrentRoundFirstPlayer", "lpsCurrentRoundActorMask",
               "lpsConsecutiveExclusiveRounds", "lpsConsecutiveExclusivePlayer")


def _has_lps_fields(d: dict[str, Any]) -> bool:
    return any(d.get(k) is not None for k in _LPS_FIELDS)


def _read_lps(d: dict[str, Any], n: int, what: str = "state") -> LpsTracker:
    """The reference's last-player-standing counters (§4.10.4)."""
    t = LpsTracker()
    t.round_index = get_int(d, "lpsRoundIndex", what, 0, _BIG, default=0)
    t.first = _opt_player(d, "lpsCurrentRoundFirstPlayer", what, n)
    mask = as_map(d.get("lpsCurrentRoundActorMask"), f"{what}.lpsCurrentRoundActorMask", n)
    for key, value in mask.items():
        if key not in {str(p) for p in range(1, n + 1)} or not isinstance(value, bool):
            raise RulesError(f"{what}.lpsCurrentRoundActorMask: entry {show(key)}: "
                             f"{show(value)} is not player number -> true/false")
        t.mask[int(key)] = value
    t.consecutive = get_int(d, "lpsConsecutiveExclusiveRounds", what, 0, _BIG, default=0)
    t.exclusive = _opt_player(d, "lpsConsecutiveExclusivePlayer", what, n)
    return t


def _read_extension(ext: dict[str, Any], geo: Geometry, n: int) -> dict[str, Any]:
    """Our `ringrift` bookkeeping object (written by state_to_json), checked."""
    what = "state.ringrift"
    out: dict[str, Any] = {"capture_origin": _opt_cell(geo, ext, "captureOrigin", what)}
    region = get_list(ext, "pendingTerritoryRegion", what, geo.num_cells)
    out["pending_region"] = tuple(sorted({parse_position(geo, k, f"{what}.pendingTerritoryRegion")
                                          for k in region}))
    for key, name in (("recoveryContext", "recovery_context"), ("turnHadAction", "turn_had_action"),
                      ("player1HasMoved", "p1_has_moved"), ("player2HasMoved", "p2_has_moved")):
        out[name] = get_bool(ext, key, what)
    out["turn_index"] = get_int(ext, "turnIndex", what, 0, _BIG, default=0)
    out["move_count"] = get_int(ext, "moveCount", what, 0, _BIG, default=None)
    for key, name in (("eliminationTurn", "elimination_turn"), ("lastTurn", "last_turn")):
        items = get_list(ext, key, what, n) or [-1] * n
        if len(items) != n:
            raise RulesError(f"{what}.{key} must list {n} turns, got {len(items)}")
        out[name] = [-1] + [as_int(v, f"{what}.{key}[{i}]", -1, _BIG) for i, v in enumerate(items)]
    out["victory_reason"] = get_str(ext, "victoryReason", what, default="",
                                    choices=_VICTORY_REASONS)
    if ext.get("pendingLineRewardElimination") is not None:  # written before the reference field
        out["pending_line_reward"] = get_bool(ext, "pendingLineRewardElimination", what)
    lps = ext.get("lps")
    if lps is not None:  # the older spelling of the lps* counters
        lps = obj(lps, f"{what}.lps")
        renamed = {"lpsRoundIndex": lps.get("roundIndex"), "lpsCurrentRoundFirstPlayer":
                   lps.get("first") or None, "lpsCurrentRoundActorMask": lps.get("mask"),
                   "lpsConsecutiveExclusiveRounds": lps.get("consecutive"),
                   "lpsConsecutiveExclusivePlayer": lps.get("exclusive") or None}
        out["lps"] = _read_lps(renamed, n, f"{what}.lps")
    return out


def _read_history(data: dict[str, Any], geo: Geometry, n: int) -> list[Move]:
    history = get_list(data, "moveHistory", "state", MAX_HISTORY)
    moves = []
    for i, raw in enumerate(history):
        try:
            move = move_from_json(geo, raw)
        except RulesError as exc:
            raise RulesError(f"state.moveHistory[{i}]: {exc}") from None
        if move.player > n:
            raise RulesError(f"state.moveHistory[{i}]: player {move.player} in a {n}-player game")
        moves.append(move)
    return moves


# --------------------------------------------------------------------------- building
def _build(read: _Read) -> GameState:
    s = GameState.empty(read.geo, read.n)
    cfg = read.settings
    s.rings_per_player = read.rings_per_player
    s.victory_threshold = victory_threshold(read.rings_per_player, read.n)
    if cfg["victory_threshold"] is not None:
        s.victory_threshold = cfg["victory_threshold"]
    if cfg["territory_minimum"] is not None:
        s.territory_minimum = cfg["territory_minimum"]
    s.swap_enabled = cfg["swap"]
    s.lps_rounds_required = cfg["lps_rounds"]
    for p in range(1, read.n + 1):
        s.hand[p] = read.hand[p]
        s.eliminated[p] = read.eliminated[p]
    for cell, rings in read.stacks.items():
        s.set_stack(cell, rings)
    for cell, owner in read.markers.items():
        s.set_marker(cell, owner)
    for cell, owner in read.collapsed.items():
        s.set_collapsed(cell, owner)
    s.total_eliminated = cfg["total_eliminated"]
    s.current_player = cfg["current"]
    s.phase = cfg["phase"]
    s.status = cfg["status"]
    if s.status == COMPLETED:
        s.phase = "game_over"
        s.winner = cfg["winner"]
    s.chain_pos = cfg["chain_pos"]
    s.must_move = cfg["must_move"]
    s.history = read.history
    s.history_len = len(read.history)
    s.move_count = len(read.history)
    _derive_turn_state(s, read.history, cfg["pending_line_reward"])
    if cfg["lps"] is not None:
        s.lps = cfg["lps"]
    ext = cfg["ext"]
    if ext is not None:
        _apply_extension(s, ext)
    _clear_out_of_phase(s)
    return s


def _clear_out_of_phase(s: GameState) -> None:
    """Drop bookkeeping that has no meaning in the state's phase (§2.5 says when each is
    cleared; the reference, for one, keeps mustMoveFromStackKey after skip_capture)."""
    if s.phase not in ("movement", "capture", "chain_capture"):
        s.must_move = -1
    if s.phase != "capture":
        s.capture_origin = -1
    if s.phase != "chain_capture":
        s.chain_pos = -1
    if s.phase != "line_processing":
        s.pending_line_reward = False
    if s.phase != "territory_processing":
        s.pending_region = ()


def _apply_extension(s: GameState, ext: dict[str, Any]) -> None:
    s.capture_origin = ext["capture_origin"]
    s.pending_region = ext["pending_region"]
    s.recovery_context = ext["recovery_context"]
    s.turn_had_action = ext["turn_had_action"]
    s.p1_has_moved = ext["p1_has_moved"]
    s.p2_has_moved = ext["p2_has_moved"]
    s.turn_index = ext["turn_index"]
    if ext["move_count"] is not None:
        s.move_count = max(ext["move_count"], s.history_len)
    s.elimination_turn = ext["elimination_turn"]
    s.last_turn = ext["last_turn"]
    if s.status == COMPLETED:
        s.victory_reason = ext["victory_reason"]
    if "pending_line_reward" in ext:
        s.pending_line_reward = ext["pending_line_reward"] and s.phase == "line_processing"
    if "lps" in ext:
        s.lps = ext["lps"]


def _derive_turn_state(s: GameState, history: list[Move], pending: bool | None) -> None:
    """Turn bookkeeping from the history, as RULES.md §6.3 prescribes (the moves since the last
    move of a different player form the current turn)."""
    s.p1_has_moved = any(m.player == 1 for m in history)
    s.p2_has_moved = any(m.player == 2 for m in history)
    turn: list[Move] = []
    for m in reversed(history):
        if m.player != s.current_player:
            break
        turn.append(m)
    turn.reverse()
    s.recovery_context = any(m.type == mv.RECOVERY_SLIDE for m in turn)
    s.turn_had_action = any(m.type not in mv.NON_ACTION_TYPES for m in turn)
    last = turn[-1] if turn else None
    if s.phase == "capture":
        if last is not None and last.type == mv.MOVE_STACK:
            s.capture_origin = last.to
        elif s.must_move >= 0:
            s.capture_origin = s.must_move
    if pending is None and s.phase == "line_processing" and last is not None:
        pending = False
        if last.type in (mv.PROCESS_LINE, mv.CHOOSE_LINE_OPTION) and \
                s.control_count[s.current_player]:
            whole = len(last.collapse or last.line) == len(last.line)
            pending = whole and (last.type == mv.CHOOSE_LINE_OPTION
                                 or len(last.line) == s.line_length)
    s.pending_line_reward = bool(pending) and s.phase == "line_processing"
    if s.phase == "territory_processing" and last is not None \
            and last.type == mv.CHOOSE_TERRITORY_OPTION:
        s.pending_region = last.region


def _check_playable(s: GameState) -> None:
    """Reject an active state in which the player to move has no legal move (RULES.md §3.3:
    every phase offers at least one move when its preconditions hold)."""
    if s.is_over:
        return
    player = s.current_player
    if s.phase == "chain_capture":
        from ringrift.rules.movegen import has_capture_from

        cell = s.chain_pos
        rings = s.stacks[cell] if cell >= 0 else None
        if rings is None or rings[0] != player or not has_capture_from(s, cell):
            raise RulesError("state.chainCapturePosition: in chain_capture it must name a stack "
                             f"of player {player} that can capture again")
    if s.phase == "forced_elimination" and not s.control_count[player]:
        raise RulesError(f"state.currentPhase: forced_elimination, but player {player} controls "
                         "no stack")
    if s.pending_line_reward and not s.control_count[player]:
        raise RulesError(f"state.pendingLineRewardElimination: player {player} controls no stack "
                         "to eliminate from")
    from ringrift.rules.movegen import legal_moves

    if not legal_moves(s):
        raise RulesError(f"state: player {player} has no legal move in phase {s.phase} "
                         "(inconsistent turn bookkeeping)")


# --------------------------------------------------------------------------- writing
def state_to_json(s: GameState, *, game_id: str = "ringrift", history: bool = True) -> dict[str, Any]:
    """The canonical JSON of a state (§6.3-6.4), history included (unless `history=False`:
    a position alone, e.g. one frame of a replay), plus the `ringrift` object."""
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
    lps = s.lps
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
        "moveHistory": [move_to_json(geo, m) for m in s.moves_played()] if history else [],
        "gameStatus": s.status,
        "victoryThreshold": s.victory_threshold,
        "territoryVictoryThreshold": geo.num_cells // 2 + 1,
        "territoryVictoryMinimum": s.territory_minimum,
        "totalRingsEliminated": s.total_eliminated,
        "rulesOptions": {"swapRuleEnabled": s.swap_enabled,
                         "lpsRoundsRequired": s.lps_rounds_required},
        "pendingLineRewardElimination": s.pending_line_reward,
        "lpsRoundIndex": lps.round_index,
        "lpsCurrentRoundFirstPlayer": lps.first or None,
        "lpsCurrentRoundActorMask": {str(k): v for k, v in sorted(lps.mask.items())},
        "lpsConsecutiveExclusiveRounds": lps.consecutive,
        "lpsConsecutiveExclusivePlayer": lps.exclusive or None,
    }
    for i, m in enumerate(out["moveHistory"], 1):
        m["moveNumber"] = i
    if s.rings_per_player != BOARDS[geo.board_type].rings_per_player:
        out["rulesOptions"]["ringsPerPlayer"] = s.rings_per_player
    if s.status == COMPLETED:
        out["winner"] = s.winner
    if s.chain_pos >= 0:
        out["chainCapturePosition"] = position_json(geo, s.chain_pos)
    if s.must_move >= 0:
        out["mustMoveFromStackKey"] = geo.keys[s.must_move]
    out["ringrift"] = {
        "captureOrigin": geo.keys[s.capture_origin] if s.capture_origin >= 0 else None,
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
    }
    return out

"""The game state: flat per-cell arrays, per-player counters and the turn bookkeeping of §2.5.

Every board mutation goes through `set_stack`, `set_marker` and `set_collapsed`, which keep the
per-player aggregates (rings on board, stacks controlled, markers) and the Zobrist board hash up to
date, so the predicates the rules ask all the time are O(1) and `copy` is a handful of list copies.
Stacks are tuples of ring owners, top ring first (the JSON order).
"""

from __future__ import annotations

import random

from ringrift.rules import boards
from ringrift.rules.boards import Geometry
from ringrift.rules.spec import GameSpec, territory_minimum, victory_threshold

RING_PLACEMENT = "ring_placement"
MOVEMENT = "movement"
CAPTURE = "capture"
CHAIN_CAPTURE = "chain_capture"
LINE_PROCESSING = "line_processing"
TERRITORY_PROCESSING = "territory_processing"
FORCED_ELIMINATION_PHASE = "forced_elimination"
GAME_OVER = "game_over"
PHASES = (
    RING_PLACEMENT, MOVEMENT, CAPTURE, CHAIN_CAPTURE, LINE_PROCESSING, TERRITORY_PROCESSING,
    FORCED_ELIMINATION_PHASE, GAME_OVER,
)

PHASE_INDEX = {phase: i for i, phase in enumerate(PHASES)}

ACTIVE = "active"
COMPLETED = "completed"

RING_ELIMINATION = "ring_elimination"
TERRITORY_CONTROL = "territory_control"
LAST_PLAYER_STANDING = "last_player_standing"

MAX_PLAYERS = 4
MAX_RINGS_PER_PLAYER = 1000  # a rulesOptions.ringsPerPlayer bound: keeps every board's rings small
_rng = random.Random(0x5EED)
# Zobrist keys for markers and collapsed cells: [cell * 5 + player]; sized for the largest board.
_Z_MARKER = [_rng.getrandbits(64) for _ in range(500 * 5)]
_Z_COLLAPSED = [_rng.getrandbits(64) for _ in range(500 * 5)]
_MASK64 = (1 << 64) - 1


def cap_height(rings: tuple[int, ...]) -> int:
    """Number of consecutive rings from the top owned by the top ring's owner."""
    top = rings[0]
    n = 1
    for r in rings[1:]:
        if r != top:
            break
        n += 1
    return n


def _stack_hash(cell: int, rings: tuple[int, ...]) -> int:
    # Tuple hashing of ints is deterministic across processes (no hash randomisation).
    return hash((cell, rings)) & _MASK64


class LpsTracker:
    """Last-player-standing round bookkeeping (§4.10.4)."""

    __slots__ = ("consecutive", "exclusive", "first", "mask", "round_index")

    def __init__(self) -> None:
        self.round_index = 0
        self.first = 0  # 0 = none
        self.mask: dict[int, bool] = {}
        self.consecutive = 0
        self.exclusive = 0  # 0 = none

    def copy(self) -> LpsTracker:
        other = LpsTracker.__new__(LpsTracker)
        other.round_index = self.round_index
        other.first = self.first
        other.mask = dict(self.mask)
        other.consecutive = self.consecutive
        other.exclusive = self.exclusive
        return other

    def as_tuple(self) -> tuple:
        return (self.round_index, self.first, tuple(sorted(self.mask.items())), self.consecutive,
                self.exclusive)


class GameState:
    """A RingRift position with everything the rules read. Create with `new_game` or JSON."""

    __slots__ = (
        "geo", "num_players", "rings_per_player", "line_length", "victory_threshold",
        "territory_minimum", "swap_enabled", "lps_rounds_required",
        # board, indexed by cell
        "stacks", "markers", "collapsed",
        # per player, indexed 1..N (index 0 unused)
        "hand", "eliminated", "territory", "ring_count", "control_count", "marker_count",
        "elimination_turn", "last_turn",
        "stack_total", "collapsed_total", "total_eliminated", "board_hash",
        # turn and game flow
        "current_player", "phase", "status", "winner", "victory_reason",
        "must_move", "capture_origin", "chain_pos", "pending_line_reward", "pending_region",
        "recovery_context", "turn_had_action", "p1_has_moved", "p2_has_moved",
        "turn_index", "move_count", "lps",
        # the moves applied so far: history[:history_len] (a log shared between copies, see
        # record_move), written as moveHistory by state_to_json
        "history", "history_len",
        # (board_hash, regions): territory regions depend on the board only (territory.py)
        "regions_cache",
    )

    # ----------------------------------------------------------------- construction / copy
    @classmethod
    def empty(cls, geo: Geometry, num_players: int) -> GameState:
        s = cls.__new__(cls)
        n = geo.num_cells
        s.geo = geo
        s.num_players = num_players
        spec = GameSpec(geo.board_type, num_players)
        s.rings_per_player = spec.rings_per_player
        s.line_length = spec.line_length
        s.victory_threshold = spec.victory_threshold
        s.territory_minimum = territory_minimum(n, num_players)  # geo may be a non-canonical size
        s.swap_enabled = False
        s.lps_rounds_required = 3
        s.stacks = [None] * n
        s.markers = [0] * n
        s.collapsed = [0] * n
        size = num_players + 1
        s.hand = [0] * size
        s.eliminated = [0] * size
        s.territory = [0] * size
        s.ring_count = [0] * size
        s.control_count = [0] * size
        s.marker_count = [0] * size
        s.elimination_turn = [-1] * size
        s.last_turn = [-1] * size
        s.stack_total = 0
        s.collapsed_total = 0
        s.total_eliminated = 0
        s.board_hash = 0
        s.current_player = 1
        s.phase = RING_PLACEMENT
        s.status = ACTIVE
        s.winner = 0
        s.victory_reason = ""
        s.must_move = -1
        s.capture_origin = -1
        s.chain_pos = -1
        s.pending_line_reward = False
        s.pending_region = ()
        s.recovery_context = False
        s.turn_had_action = False
        s.p1_has_moved = False
        s.p2_has_moved = False
        s.turn_index = 0
        s.move_count = 0
        s.lps = LpsTracker()
        s.history = []
        s.history_len = 0
        s.regions_cache = None
        return s

    def copy(self) -> GameState:
        c = GameState.__new__(GameState)
        c.geo = self.geo
        c.num_players = self.num_players
        c.rings_per_player = self.rings_per_player
        c.line_length = self.line_length
        c.victory_threshold = self.victory_threshold
        c.territory_minimum = self.territory_minimum
        c.swap_enabled = self.swap_enabled
        c.lps_rounds_required = self.lps_rounds_required
        c.stacks = self.stacks[:]
        c.markers = self.markers[:]
        c.collapsed = self.collapsed[:]
        c.hand = self.hand[:]
        c.eliminated = self.eliminated[:]
        c.territory = self.territory[:]
        c.ring_count = self.ring_count[:]
        c.control_count = self.control_count[:]
        c.marker_count = self.marker_count[:]
        c.elimination_turn = self.elimination_turn[:]
        c.last_turn = self.last_turn[:]
        c.stack_total = self.stack_total
        c.collapsed_total = self.collapsed_total
        c.total_eliminated = self.total_eliminated
        c.board_hash = self.board_hash
        c.current_player = self.current_player
        c.phase = self.phase
        c.status = self.status
        c.winner = self.winner
        c.victory_reason = self.victory_reason
        c.must_move = self.must_move
        c.capture_origin = self.capture_origin
        c.chain_pos = self.chain_pos
        c.pending_line_reward = self.pending_line_reward
        c.pending_region = self.pending_region
        c.recovery_context = self.recovery_context
        c.turn_had_action = self.turn_had_action
        c.p1_has_moved = self.p1_has_moved
        c.p2_has_moved = self.p2_has_moved
        c.turn_index = self.turn_index
        c.move_count = self.move_count
        c.lps = self.lps.copy()
        c.history = self.history
        c.history_len = self.history_len
        c.regions_cache = self.regions_cache
        return c

    # ----------------------------------------------------------------- board mutation
    def set_stack(self, cell: int, rings: tuple[int, ...] | None) -> None:
        """Replace the stack on `cell` (None or () removes it), keeping aggregates in sync."""
        if not rings:
            rings = None
        old = self.stacks[cell]
        if old is not None:
            self.board_hash ^= _stack_hash(cell, old)
            self.control_count[old[0]] -= 1
            for r in old:
                self.ring_count[r] -= 1
            self.stack_total -= 1
        self.stacks[cell] = rings
        if rings is not None:
            self.board_hash ^= _stack_hash(cell, rings)
            self.control_count[rings[0]] += 1
            for r in rings:
                self.ring_count[r] += 1
            self.stack_total += 1

    def set_marker(self, cell: int, player: int) -> None:
        old = self.markers[cell]
        if old:
            self.board_hash ^= _Z_MARKER[cell * 5 + old]
            self.marker_count[old] -= 1
        self.markers[cell] = player
        if player:
            self.board_hash ^= _Z_MARKER[cell * 5 + player]
            self.marker_count[player] += 1

    def set_collapsed(self, cell: int, player: int) -> None:
        """Collapse `cell` to `player`'s territory (cells never un-collapse)."""
        if self.collapsed[cell]:
            return
        self.collapsed[cell] = player
        self.board_hash ^= _Z_COLLAPSED[cell * 5 + player]
        self.territory[player] += 1
        self.collapsed_total += 1

    def record_move(self, move: object) -> None:
        """Append `move` to this state's history in O(1) amortised.

        Copies share one append-only log and each sees its first `history_len` entries. A state
        at the log's end appends in place; any other copies its prefix first, so no state ever
        sees an entry it did not play (a search tree's siblings branch off the shared prefix).
        """
        if len(self.history) != self.history_len:
            self.history = self.history[:self.history_len]
        self.history.append(move)
        self.history_len += 1

    def moves_played(self) -> list:
        """The moves applied to this state, oldest first (from new_game, or as loaded)."""
        return self.history[:self.history_len]

    def credit_elimination(self, player: int, rings: int) -> None:
        self.eliminated[player] += rings
        self.total_eliminated += rings

    # ----------------------------------------------------------------- predicates (§2.6)
    def controls_stack(self, player: int) -> bool:
        return self.control_count[player] > 0

    def has_buried_ring(self, player: int) -> bool:
        # Every stack a player controls has exactly one top ring of theirs; the rest are buried.
        return self.ring_count[player] > self.control_count[player]

    def has_rings_anywhere(self, player: int) -> bool:
        return self.hand[player] > 0 or self.ring_count[player] > 0

    def is_recovery_eligible(self, player: int) -> bool:
        return (self.control_count[player] == 0 and self.marker_count[player] > 0
                and self.ring_count[player] > 0)

    def active_colors(self) -> list[int]:
        return [p for p in range(1, self.num_players + 1) if self.ring_count[p] > 0]

    @property
    def marker_total(self) -> int:
        return sum(self.marker_count)

    def s_invariant(self) -> int:
        """S = markers + collapsed cells + total eliminated rings (§4.12)."""
        return self.marker_total + self.collapsed_total + self.total_eliminated

    # ----------------------------------------------------------------- results
    @property
    def is_over(self) -> bool:
        return self.status == COMPLETED

    def position_hash(self) -> int:
        """64-bit hash of everything that decides the legal moves and the future of the game."""
        # ints only: str hashes are randomised per process, this hash must not be
        extra = hash((
            self.current_player, PHASE_INDEX[self.phase], self.status == COMPLETED,
            tuple(self.hand), tuple(self.eliminated),
            self.must_move, self.capture_origin, self.chain_pos, self.pending_line_reward,
            self.pending_region, self.recovery_context, self.turn_had_action,
            self.p1_has_moved, self.p2_has_moved,
        ))
        return (self.board_hash ^ (extra * 0x9E3779B97F4A7C15)) & _MASK64

    @property
    def spec(self) -> GameSpec:
        """This game's board type and player count."""
        return GameSpec.checked(self.geo.board_type, self.num_players)

    def __repr__(self) -> str:
        return (f"GameState({self.geo.board_type}, {self.num_players}p, player {self.current_player}, "
                f"{self.phase}, {self.status}, moves {self.move_count})")


def new_game(board_type: str, num_players: int, *, swap_rule: bool | None = None,
             rings_per_player: int | None = None) -> GameState:
    """The initial state (§2.7) under explicit rules options (RULES.md §2.4 `rulesOptions`).

    `swap_rule`: the pie rule (§4.9). None = on for 2 players, as in the reference games: it
    offsets the first player's advantage; it never applies with 3-4 players.
    `rings_per_player`: None = the board's supply (§1.1); another supply also rescales the
    elimination victory threshold (§1.4).
    """
    from ringrift.rules.errors import RulesError
    from ringrift.rules.jsonread import show

    GameSpec(board_type, num_players)  # validates both (the seed's API takes the pair, no spec)
    if swap_rule is not None and not isinstance(swap_rule, bool):
        raise RulesError(f"swap_rule must be True, False or None, got {show(swap_rule)}")
    if rings_per_player is not None and (
            not isinstance(rings_per_player, int) or isinstance(rings_per_player, bool)
            or not 1 <= rings_per_player <= MAX_RINGS_PER_PLAYER):
        raise RulesError(f"rings_per_player must be an integer in 1..{MAX_RINGS_PER_PLAYER}, "
                         f"got {show(rings_per_player)}")
    geo = boards.get_geometry(board_type)
    s = GameState.empty(geo, num_players)
    if rings_per_player is not None:
        s.rings_per_player = rings_per_player
        s.victory_threshold = victory_threshold(rings_per_player, num_players)
    for p in range(1, num_players + 1):
        s.hand[p] = s.rings_per_player
    s.swap_enabled = (num_players == 2) if swap_rule is None else (swap_rule and num_players == 2)
    return s

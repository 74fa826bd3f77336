"""State encoding for the networks: feature planes on a square grid, a global vector, NNUE features.

Everything is seen from the player to move: per-player features come in seat order rotated so that
"me" is slot 0, then the next seat to move, and so on; absent seats (2-3 player games) stay zero,
so one encoder serves all player counts with a fixed channel count per board. Hex boards are
embedded in their (2r+1)x(2r+1) grid (`Geometry.grid`) with a validity plane.

Planes (C = 30), each H x W:
    slot s in 0..3 (rotated seat), base 6*s:
      +0 stack controlled by the player (top ring)
      +1 height of that stack / 8 (clipped at 4)
      +2 cap height of that stack / 8 (clipped at 4)
      +3 the player's buried rings (below the top) in the stack / 4 (clipped at 4), any controller
      +4 marker of the player
      +5 collapsed territory of the player
    24 on-board cell   25 empty cell   26 must-move stack   27 capture origin
    28 chain-capture position   29 pending territory region (awaiting self-elimination)

Globals (G = 66), per-slot blocks of 4 then scalars:
     0 rings in hand / rings per player        4 eliminated (credited) / victory threshold
     8 territory / territory minimum          12 rings still needed for ring victory / threshold
    16 territory still needed / minimum       20 seat present
    24 has rings anywhere                     28 stacks controlled / rings per player
    32 markers on board / cells               36 recovery-eligible
    40 player count one-hot (2, 3, 4)         43 phase one-hot (rules.state.PHASES, 8)
    51 swap (pie rule) available  52 pending line-reward elimination  53 pending territory region
    54 recovery context  55 board-changing move made this turn  56 required line length is 3
    57 last-player-standing rounds / rounds required (clipped at 1)
    58 last-player-standing exclusive player, one-hot by slot (4)
    62 rings on the board / rings per player (4)

ENCODER_VERSION covers the planes, the globals, the NNUE features and the action index layout
(`ringrift.nn.actions`); bump it whenever any of them changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from itertools import compress

import numpy as np

from ringrift.nn import actions
from ringrift.rules import boards, movegen
from ringrift.rules.boards import Geometry
from ringrift.rules.spec import GameSpec
from ringrift.rules.state import PHASE_INDEX, PHASES, GameState, cap_height

ENCODER_VERSION = 1

MAX_SLOTS = 4
PLANES_PER_PLAYER = 6
P_CONTROL, P_HEIGHT, P_CAP, P_BURIED, P_MARKER, P_COLLAPSED = range(PLANES_PER_PLAYER)
PLANE_VALID = MAX_SLOTS * PLANES_PER_PLAYER
PLANE_EMPTY = PLANE_VALID + 1
PLANE_MUST_MOVE = PLANE_VALID + 2
PLANE_CAPTURE_ORIGIN = PLANE_VALID + 3
PLANE_CHAIN = PLANE_VALID + 4
PLANE_PENDING_REGION = PLANE_VALID + 5
NUM_PLANES = PLANE_VALID + 6

G_HAND, G_ELIM, G_TERR, G_ELIM_LEFT, G_TERR_LEFT = 0, 4, 8, 12, 16
G_PRESENT, G_ALIVE, G_CONTROL, G_MARKERS, G_RECOVERY = 20, 24, 28, 32, 36
G_NUM_PLAYERS = 40
G_PHASE = 43
G_SWAP = G_PHASE + len(PHASES)
G_LINE_REWARD, G_PENDING_REGION, G_RECOVERY_CONTEXT, G_HAD_ACTION = 52, 53, 54, 55
G_LINE3, G_LPS_ROUNDS, G_LPS_EXCLUSIVE, G_RINGS_ON_BOARD = 56, 57, 58, 62
NUM_GLOBALS = 66

HEIGHT_SCALE = 1.0 / 8.0
BURIED_SCALE = 1.0 / 4.0
FEATURE_CLIP = 4.0


@dataclass(frozen=True)
class EncodingSpec:
    """Input and output sizes of the networks for one board (the same for 2, 3 and 4 players)."""

    board_type: str
    in_channels: int
    num_globals: int
    height: int
    width: int
    valid_mask: tuple[tuple[int, ...], ...]  # [row][col], 1 on board
    policy_planes: int
    scalar_actions: int
    policy_size: int
    encoder_version: int = ENCODER_VERSION

    def as_board_io(self) -> tuple[int, int, int, int, int, int, list[list[int]]]:
        """(in_channels, num_globals, policy_planes, scalar_actions, height, width, valid_mask),
        the tuple `nn.models.io_defaults.default_board_io` returns."""
        return (self.in_channels, self.num_globals, self.policy_planes, self.scalar_actions,
                self.height, self.width, [list(row) for row in self.valid_mask])


def board_io(spec: GameSpec) -> EncodingSpec:
    """The encoding spec of a game's board (the player count changes no size)."""
    return _spec(spec.board_type)


@cache
def _spec(board_type: str) -> EncodingSpec:
    geo = boards.get_geometry(board_type)
    t = _tables(geo)
    lay = actions.action_layout(board_type)
    mask = t.valid.reshape(geo.size, geo.size).astype(int)
    return EncodingSpec(
        board_type=board_type, in_channels=NUM_PLANES, num_globals=NUM_GLOBALS,
        height=geo.size, width=geo.size,
        valid_mask=tuple(tuple(int(v) for v in row) for row in mask),
        policy_planes=lay.policy_planes, scalar_actions=lay.scalar_actions,
        policy_size=lay.policy_size,
    )


class _Tables:
    def __init__(self, geo: Geometry) -> None:
        self.n = geo.num_cells
        self.hw = geo.size * geo.size
        self.size = geo.size
        self.flat = np.array([row * geo.size + col for col, row in geo.grid], dtype=np.int64)
        self.identity = bool(np.array_equal(self.flat, np.arange(self.hw)))
        self.valid = np.zeros(self.hw, dtype=np.float32)
        self.valid[self.flat] = 1.0
        # grid position -> cell, or n (an always-zero padding column) off the board
        self.gather = np.full(self.hw, self.n, dtype=np.int64)
        self.gather[self.flat] = np.arange(self.n)
        self.cells = range(self.n)


@cache
def _tables_for(board_type: str, size: int) -> _Tables:
    return _Tables(boards.get_geometry(board_type, size))


def _tables(geo: Geometry) -> _Tables:
    return _tables_for(geo.board_type, geo.size)


# Per stack tuple: float32 bytes of [player 1..4] x (controls, height, cap height, buried rings),
# the per-player plane values of that stack in absolute seat order.
_STACK_FEATURES: dict[tuple[int, ...], bytes] = {}
_STACK_COLUMNS = 4


def _stack_features(rings: tuple[int, ...]) -> bytes:
    top = rings[0]
    cap = cap_height(rings)
    values = np.zeros((MAX_SLOTS, _STACK_COLUMNS), dtype=np.float32)
    values[top - 1, :3] = (1.0, min(len(rings) * HEIGHT_SCALE, FEATURE_CLIP),
                           min(cap * HEIGHT_SCALE, FEATURE_CLIP))
    for r in rings[1:]:
        values[r - 1, 3] += BURIED_SCALE
    np.minimum(values, FEATURE_CLIP, out=values)
    out = values.tobytes()
    if len(_STACK_FEATURES) > 200_000:
        _STACK_FEATURES.clear()
    _STACK_FEATURES[rings] = out
    return out


_STACK_PLANES = (P_CONTROL, P_HEIGHT, P_CAP, P_BURIED)


@cache
def _rotation(num_players: int, current: int) -> tuple:
    """Per (player count, player to move): seat -> slot, and the plane rows of each seat."""
    slots = [-1] + [(p - current) % num_players if p <= num_players else -1
                    for p in range(1, MAX_SLOTS + 1)]
    players = range(1, num_players + 1)
    stack_rows = np.array([slots[p] * PLANES_PER_PLAYER + f for p in players
                           for f in _STACK_PLANES], dtype=np.int64)
    # seat of each slot, as a column to compare the marker / collapsed owners with
    seat_of_slot = np.array([(current - 1 + k) % num_players + 1 for k in range(num_players)],
                            dtype=np.uint8)[:, None]
    return slots, stack_rows, seat_of_slot


def _slots(state: GameState) -> list[int]:
    """slot[p] for p in 0..4: rotated seat of player p (-1 for 0 and absent seats)."""
    return _rotation(state.num_players, state.current_player)[0]


def _fill(state: GameState, t: _Tables, cs: np.ndarray, g: np.ndarray) -> None:
    """Write the planes in cell space ([C, cells], zeroed) and the globals ([G]) of `state`."""
    n = state.num_players
    slots, stack_rows, seat_of_slot = _rotation(n, state.current_player)
    markers = np.frombuffer(bytes(state.markers), dtype=np.uint8)
    collapsed = np.frombuffer(bytes(state.collapsed), dtype=np.uint8)
    last = n * PLANES_PER_PLAYER
    cs[P_MARKER:last:PLANES_PER_PLAYER] = markers == seat_of_slot
    cs[P_COLLAPSED:last:PLANES_PER_PLAYER] = collapsed == seat_of_slot
    empty = (markers == 0) & (collapsed == 0)
    stacks = state.stacks
    if state.stack_total:
        idx = list(compress(t.cells, stacks))
        get = _STACK_FEATURES.get
        feats = np.frombuffer(
            b"".join([get(r) or _stack_features(r) for r in [stacks[c] for c in idx]]),
            dtype=np.float32).reshape(len(idx), MAX_SLOTS * _STACK_COLUMNS)
        cs[stack_rows[:, None], np.array(idx)] = feats[:, :n * _STACK_COLUMNS].T
        empty[idx] = False
    cs[PLANE_VALID] = 1.0
    cs[PLANE_EMPTY] = empty
    if state.must_move >= 0:
        cs[PLANE_MUST_MOVE, state.must_move] = 1.0
    if state.capture_origin >= 0:
        cs[PLANE_CAPTURE_ORIGIN, state.capture_origin] = 1.0
    if state.chain_pos >= 0:
        cs[PLANE_CHAIN, state.chain_pos] = 1.0
    if state.pending_region:
        cs[PLANE_PENDING_REGION, list(state.pending_region)] = 1.0
    g[:] = _globals(state, slots)


def _globals(state: GameState, slots: list[int]) -> list[float]:
    out = [0.0] * NUM_GLOBALS
    n = state.num_players
    rpp = state.rings_per_player
    thr = state.victory_threshold
    tmin = state.territory_minimum
    cells = state.geo.num_cells
    hand, elim, terr = state.hand, state.eliminated, state.territory
    for p in range(1, n + 1):
        s = slots[p]
        out[G_HAND + s] = hand[p] / rpp
        out[G_ELIM + s] = elim[p] / thr
        out[G_TERR + s] = terr[p] / tmin
        out[G_ELIM_LEFT + s] = max(0, thr - elim[p]) / thr
        out[G_TERR_LEFT + s] = max(0, tmin - terr[p]) / tmin
        out[G_PRESENT + s] = 1.0
        out[G_ALIVE + s] = 1.0 if hand[p] > 0 or state.ring_count[p] > 0 else 0.0
        out[G_CONTROL + s] = state.control_count[p] / rpp
        out[G_MARKERS + s] = state.marker_count[p] / cells
        out[G_RECOVERY + s] = 1.0 if state.is_recovery_eligible(p) else 0.0
        out[G_RINGS_ON_BOARD + s] = state.ring_count[p] / rpp
    out[G_NUM_PLAYERS + n - 2] = 1.0
    out[G_PHASE + PHASE_INDEX[state.phase]] = 1.0
    out[G_SWAP] = 1.0 if movegen.swap_available(state) else 0.0
    out[G_LINE_REWARD] = 1.0 if state.pending_line_reward else 0.0
    out[G_PENDING_REGION] = 1.0 if state.pending_region else 0.0
    out[G_RECOVERY_CONTEXT] = 1.0 if state.recovery_context else 0.0
    out[G_HAD_ACTION] = 1.0 if state.turn_had_action else 0.0
    out[G_LINE3] = 1.0 if state.line_length == 3 else 0.0
    lps = state.lps
    out[G_LPS_ROUNDS] = min(1.0, lps.consecutive / max(1, state.lps_rounds_required))
    if 1 <= lps.exclusive <= n:
        out[G_LPS_EXCLUSIVE + slots[lps.exclusive]] = 1.0
    return out


def encode_state(state: GameState) -> tuple[np.ndarray, np.ndarray]:
    """(planes float32 [C, H, W], globals float32 [G]) of `state`, from the mover's view."""
    t = _tables(state.geo)
    g = np.empty(NUM_GLOBALS, dtype=np.float32)
    if t.identity:
        planes = np.zeros((NUM_PLANES, t.hw), dtype=np.float32)
        _fill(state, t, planes, g)
    else:
        cs = np.zeros((NUM_PLANES, t.n + 1), dtype=np.float32)
        _fill(state, t, cs[:, :t.n], g)
        planes = cs[:, t.gather]
    return planes.reshape(NUM_PLANES, t.size, t.size), g


def encode_states(states: Sequence[GameState]) -> tuple[np.ndarray, np.ndarray]:
    """Batched `encode_state`: (planes [B, C, H, W], globals [B, G]); one board type per batch."""
    if not states:
        raise ValueError("encode_states needs at least one state")
    geo = states[0].geo
    t = _tables(geo)
    b = len(states)
    width = t.hw if t.identity else t.n + 1
    cs = np.zeros((b, NUM_PLANES, width), dtype=np.float32)
    g = np.empty((b, NUM_GLOBALS), dtype=np.float32)
    for i, s in enumerate(states):
        if s.geo is not geo:
            raise ValueError(f"encode_states: state {i} is on {s.geo.board_type} "
                             f"(size {s.geo.size}), the batch is on {geo.board_type}")
        _fill(s, t, cs[i, :, :t.n], g[i])
    planes = cs if t.identity else cs[:, :, t.gather]
    return planes.reshape(b, NUM_PLANES, t.size, t.size), g


# --------------------------------------------------------------------------- NNUE features
# Sparse ids, per cell c: stack (c, slot of the top ring, height bucket) | buried ring of a slot
# in the stack | marker of a slot | collapsed cell of a slot; then bucketed globals.
NNUE_HEIGHT_BUCKETS = 6  # heights 1, 2, 3, 4, 5-6, 7+
NNUE_VALUE_BUCKETS = 8
# ids c * NNUE_FEATURES_PER_CELL + [0, NNUE_FEATURES_PER_CELL) are cell c's (the NNUE trainer moves
# them with the cell under board symmetries); the globals follow all cells
NNUE_FEATURES_PER_CELL = MAX_SLOTS * NNUE_HEIGHT_BUCKETS + 3 * MAX_SLOTS
_NNUE_GLOBALS = 3 * MAX_SLOTS * NNUE_VALUE_BUCKETS + len(PHASES) + 3 + 3
_HEIGHT_BUCKET = [0, 0, 1, 2, 3, 4, 4]


def nnue_num_features(board_type: str) -> int:
    """Number of distinct NNUE feature ids on a board (any player count)."""
    return boards.get_geometry(board_type).num_cells * NNUE_FEATURES_PER_CELL + _NNUE_GLOBALS


def _bucket(value: int, full: int) -> int:
    return min(NNUE_VALUE_BUCKETS - 1, value * NNUE_VALUE_BUCKETS // max(1, full))


def nnue_features(state: GameState) -> np.ndarray:
    """Active NNUE feature ids (int64, sorted ascending) of `state`, from the mover's view."""
    slots = _slots(state)
    ids: list[int] = []
    stack_base = MAX_SLOTS * NNUE_HEIGHT_BUCKETS
    buried_base = stack_base
    marker_base = stack_base + MAX_SLOTS
    collapsed_base = stack_base + 2 * MAX_SLOTS
    stacks = state.stacks
    for c in compress(range(len(stacks)), stacks):
        rings = stacks[c]
        height = len(rings)
        hb = _HEIGHT_BUCKET[height] if height < 7 else NNUE_HEIGHT_BUCKETS - 1
        base = c * NNUE_FEATURES_PER_CELL
        ids.append(base + slots[rings[0]] * NNUE_HEIGHT_BUCKETS + hb)
        if height > 1:
            for p in set(rings[1:]):
                ids.append(base + buried_base + slots[p])
    g = state.geo.num_cells * NNUE_FEATURES_PER_CELL
    vb = NNUE_VALUE_BUCKETS
    for p in range(1, state.num_players + 1):
        s = slots[p]
        ids.append(g + (0 * MAX_SLOTS + s) * vb + _bucket(state.hand[p], state.rings_per_player))
        ids.append(g + (1 * MAX_SLOTS + s) * vb
                   + _bucket(state.eliminated[p], state.victory_threshold))
        ids.append(g + (2 * MAX_SLOTS + s) * vb
                   + _bucket(state.territory[p], state.territory_minimum))
    g += 3 * MAX_SLOTS * vb
    ids.append(g + PHASE_INDEX[state.phase])
    g += len(PHASES)
    ids.append(g + state.num_players - 2)
    g += 3
    if movegen.swap_available(state):
        ids.append(g)
    if state.pending_line_reward:
        ids.append(g + 1)
    if state.recovery_context:
        ids.append(g + 2)
    cells = range(len(stacks))
    for values, base in ((state.markers, marker_base), (state.collapsed, collapsed_base)):
        ids.extend([c * NNUE_FEATURES_PER_CELL + base + slots[values[c]] for c in compress(cells, values)])
    out = np.array(ids, dtype=np.int64)
    out.sort()
    return out

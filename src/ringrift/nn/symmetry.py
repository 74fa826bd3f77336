"""Board symmetries acting on states, moves, feature planes and policy vectors.

8 symmetries on square boards (D4), 12 on hex boards (D6); symmetry 0 is the identity. For every
symmetry T and state s: the legal moves of T(s) are the images T(m) of the legal moves m of s,
`encode_state(T(s))` equals `transform_planes(encode_state(s))` (globals are invariant), and
`policy_permutation(board, T)[encode(m, s)] == encode(T(m), T(s))` (see `actions.index_permutation`
for the two vanishingly rare inexact cases).
"""

from __future__ import annotations

import numpy as np

from ringrift.nn.actions import index_permutation, oriented_line
from ringrift.nn.symmetry_group import BoardSymmetry, board_symmetries, num_symmetries
from ringrift.rules import moves as mv
from ringrift.rules.boards import Geometry
from ringrift.rules.moves import Move
from ringrift.rules.state import GameState

__all__ = [
    "BoardSymmetry", "board_symmetries", "inverse_symmetry", "inverse_transform_policy",
    "num_symmetries",
    "policy_permutation", "transform_move", "transform_planes", "transform_policy",
    "transform_policy_indices", "transform_state",
]


def _sym(board_type: str, sym: int | BoardSymmetry) -> BoardSymmetry:
    if isinstance(sym, BoardSymmetry):
        return sym
    syms = board_symmetries(board_type)
    if not 0 <= sym < len(syms):
        raise ValueError(f"symmetry {sym} out of range for {board_type} (0..{len(syms) - 1})")
    return syms[sym]


def inverse_symmetry(board_type: str, sym: int) -> int:
    """Number of the symmetry that undoes symmetry `sym`."""
    syms = board_symmetries(board_type)
    s = syms[sym]
    for other in syms:
        if np.array_equal(other.cell_map, s.inverse_cell_map):
            return other.index
    raise AssertionError("symmetry group is not closed")


def transform_state(state: GameState, sym: int | BoardSymmetry) -> GameState:
    """A new state with every cell moved by the symmetry; all other fields are copied."""
    geo = state.geo
    s = _sym(geo.board_type, sym)
    inv = s.inverse_cell_map.tolist()
    fresh = GameState.empty(geo, state.num_players)
    stacks, markers, collapsed = state.stacks, state.markers, state.collapsed
    for c in range(geo.num_cells):
        src = inv[c]
        if stacks[src] is not None:
            fresh.set_stack(c, stacks[src])
        if markers[src]:
            fresh.set_marker(c, markers[src])
        if collapsed[src]:
            fresh.set_collapsed(c, collapsed[src])
    out = state.copy()
    out.stacks = fresh.stacks
    out.markers = fresh.markers
    out.collapsed = fresh.collapsed
    out.board_hash = fresh.board_hash  # aggregates are permutation-invariant; the hash is not
    cmap = s.cell_map
    out.must_move = int(cmap[state.must_move]) if state.must_move >= 0 else -1
    out.capture_origin = int(cmap[state.capture_origin]) if state.capture_origin >= 0 else -1
    out.chain_pos = int(cmap[state.chain_pos]) if state.chain_pos >= 0 else -1
    out.pending_region = tuple(sorted(int(cmap[c]) for c in state.pending_region))
    # the history is written as moveHistory: it must be the image game's history too
    out.history = [transform_move(m, s, geo) for m in state.moves_played()]
    out.history_len = len(out.history)
    if hasattr(out, "regions_cache"):
        out.regions_cache = None  # derived from the board, recomputed on demand
    return out


def _line_image(geo: Geometry, cells: tuple[int, ...], cmap: np.ndarray) -> tuple[int, ...]:
    if not cells:
        return ()
    image = tuple(int(cmap[c]) for c in cells)
    if len(image) < 2:
        return image
    return oriented_line(geo, image)


def transform_move(move: Move, sym: int | BoardSymmetry, geo: Geometry) -> Move:
    """The image of `move` under the symmetry: cells mapped, lines in the image axis order,
    regions re-sorted, and `to` of line/territory moves = first cell of the image line/region."""
    s = _sym(geo.board_type, sym)
    cmap = s.cell_map

    def cell(c: int) -> int:
        return int(cmap[c]) if c >= 0 else -1

    line = _line_image(geo, move.line, cmap)
    collapse = _line_image(geo, move.collapse, cmap)
    region = tuple(sorted(int(cmap[c]) for c in move.region))
    to = cell(move.to)
    if move.type in (mv.PROCESS_LINE, mv.CHOOSE_LINE_OPTION) and line:
        to = line[0]
    elif move.type == mv.CHOOSE_TERRITORY_OPTION and region:
        to = region[0]
    return Move(move.type, move.player, frm=cell(move.frm), to=to, target=cell(move.target),
                count=move.count, line=line, collapse=collapse, region=region,
                context=move.context, mode=move.mode, option=move.option,
                extract=tuple(int(cmap[c]) for c in move.extract))


def _grid_map(board_type: str, sym: int | BoardSymmetry, size: int) -> np.ndarray:
    s = _sym(board_type, sym)
    if len(s.grid_map) != size * size:
        raise ValueError(f"planes of {size}x{size} do not match the {board_type} grid")
    return s.grid_map


def transform_planes(planes: np.ndarray, board_type: str, sym: int | BoardSymmetry) -> np.ndarray:
    """Feature planes [..., C, H, W] of s -> those of T(s) (cells moved; off-board cells kept)."""
    h, w = planes.shape[-2:]
    grid_map = _grid_map(board_type, sym, h)
    flat = planes.reshape(*planes.shape[:-2], h * w)
    out = np.empty_like(flat)
    out[..., grid_map] = flat
    return out.reshape(planes.shape)


def policy_permutation(board_type: str, sym: int | BoardSymmetry) -> np.ndarray:
    """perm with perm[encode(m, s)] == encode(T(m), T(s)); read-only int64 array."""
    s = _sym(board_type, sym)
    return index_permutation(board_type, s.index)


def transform_policy(policy: np.ndarray, board_type: str, sym: int | BoardSymmetry) -> np.ndarray:
    """Dense policy vectors [..., P] of s -> those of T(s)."""
    perm = policy_permutation(board_type, sym)
    out = np.empty_like(policy)
    out[..., perm] = policy
    return out


def inverse_transform_policy(policy: np.ndarray, board_type: str,
                             sym: int | BoardSymmetry) -> np.ndarray:
    """Dense policy vectors [..., P] evaluated on T(s) -> the same policy for s (for averaging
    network outputs over symmetries)."""
    return policy[..., policy_permutation(board_type, sym)]


def transform_policy_indices(indices: np.ndarray, board_type: str,
                             sym: int | BoardSymmetry) -> np.ndarray:
    """Sparse policy indices of s -> the indices of the same moves in T(s)."""
    return policy_permutation(board_type, sym)[np.asarray(indices)]

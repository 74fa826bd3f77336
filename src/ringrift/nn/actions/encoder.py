"""Move -> policy index (`encode`), and the policy indices of a state's legal moves."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ringrift.nn.actions.errors import ActionIndexError
from ringrift.nn.actions.layout import SCALAR_TYPES
from ringrift.nn.actions.lines import centre_cell, oriented_line_axis
from ringrift.nn.actions.recovery import extraction_ranks, recovery_window_variant
from ringrift.nn.actions.tables import ActionTables, tables_of
from ringrift.nn.actions.territory import region_anchor, territory_pass
from ringrift.rules import movegen
from ringrift.rules import moves as mv
from ringrift.rules.moves import Move
from ringrift.rules.state import GameState

_SCALAR_INDEX = {t: i for i, t in enumerate(SCALAR_TYPES)}


class EncodeContext:
    """Per-state lazily computed data shared by the moves of one state."""

    __slots__ = ("_extract", "_ranks", "state", "t")

    def __init__(self, state: GameState) -> None:
        self.state = state
        self.t = tables_of(state.geo)
        self._extract: list[int] | None = None
        self._ranks: dict[tuple[int, int], dict[int, int]] = {}

    def extract_cells(self) -> list[int]:
        if self._extract is None:
            p = self.state.current_player
            self._extract = [c for c, r in enumerate(self.state.stacks)
                             if r is not None and p in r[1:]]
        return self._extract

    def extraction_rank(self, src: int, dst: int, ext: int) -> int:
        ranks = self._ranks.get((src, dst))
        if ranks is None:
            ranks = self._ranks[src, dst] = extraction_ranks(
                self.t, self.state, self.extract_cells(), src, dst)
        rank = ranks.get(ext)
        if rank is None:
            raise ActionIndexError(f"cell {ext} holds no buried ring of player "
                                   f"{self.state.current_player}")
        return rank


def encode_with(ctx: EncodeContext, m: Move) -> int:
    """Policy index of `m` in the state of `ctx` (the per-state data shared by its moves)."""
    t = ctx.t
    lay = t.layout
    kind = m.type
    if kind in _SCALAR_INDEX:
        return lay.policy_planes * lay.hw + _SCALAR_INDEX[kind]
    if kind == mv.PLACE_RING:
        if not 1 <= m.count <= 3:
            raise ActionIndexError(f"place_ring count {m.count} is not 1..3")
        return (lay.place + m.count - 1) * lay.hw + t.flat[m.to]
    if kind in (mv.MOVE_STACK, mv.OVERTAKING_CAPTURE, mv.CONTINUE_CAPTURE):
        code = t.ray_code[m.frm].get(m.to)
        if code is None:
            raise ActionIndexError(f"{m!r}: destination not on a ray from the origin")
        return (lay.move + code) * lay.hw + t.flat[m.frm]
    if kind in (mv.ELIMINATE_RINGS, mv.FORCED_ELIMINATION):
        return lay.eliminate * lay.hw + t.flat[m.to]
    if kind == mv.PROCESS_LINE:
        line, axis = oriented_line_axis(t, m.line)
        plane = lay.line_exact + axis * len(lay.line_parities) + _parity_slot(t, len(line))
        return plane * lay.hw + t.flat[centre_cell(line)]
    if kind == mv.CHOOSE_LINE_OPTION:
        if m.option == 2:
            window, axis = oriented_line_axis(t, m.collapse)
            plane = lay.line_part + axis * len(lay.line_parities) + _parity_slot(t, len(window))
            return plane * lay.hw + t.flat[centre_cell(window)]
        line, axis = oriented_line_axis(t, m.line)
        plane = lay.line_all + axis * 2 + len(line) % 2
        return plane * lay.hw + t.flat[centre_cell(line)]
    if kind == mv.CHOOSE_TERRITORY_OPTION:
        anchor, site, _ = region_anchor(ctx.state.geo, m.region)
        plane = (lay.territory + territory_pass(ctx.state, m.region) * lay.territory_sites
                 + site)
        return plane * lay.hw + t.flat[anchor]
    if kind == mv.RECOVERY_SLIDE:
        code = t.ray_code[m.frm].get(m.to)
        if code is None or code % lay.max_dist:
            raise ActionIndexError(f"{m!r}: recovery destination is not adjacent")
        d = code // lay.max_dist
        if m.mode == mv.RECOVERY_LINE and m.option == 2:
            perp, value = recovery_window_variant(t, ctx.state, m, d)
            if perp:
                bound = lay.recovery_perp_bound
                if abs(value) > bound:
                    raise ActionIndexError(
                        f"{m!r}: perpendicular recovery window offset {value} exceeds the bound "
                        f"{bound} of the {lay.board_type} action index")
                variant = lay.recovery_ranks + lay.recovery_windows + value + bound
            else:
                if value >= lay.recovery_windows:
                    raise ActionIndexError(
                        f"{m!r}: recovery window start {value} exceeds the bound "
                        f"{lay.recovery_windows - 1} of the {lay.board_type} action index")
                variant = lay.recovery_ranks + value
        else:
            if len(m.extract) != 1:
                raise ActionIndexError(f"{m!r}: expected exactly one extraction stack")
            variant = ctx.extraction_rank(m.frm, m.to, m.extract[0])
            if variant >= lay.recovery_ranks:
                raise ActionIndexError(
                    f"{m!r}: extraction stack rank {variant} exceeds the bound "
                    f"{lay.recovery_ranks - 1} of the {lay.board_type} action index")
        plane = lay.recovery + d * lay.recovery_variants + variant
        return plane * lay.hw + t.flat[m.frm]
    raise ActionIndexError(f"move type {kind!r} has no action index")


def _parity_slot(t: ActionTables, length: int) -> int:
    slot = t.parity_slot.get(length % 2)
    if slot is None:
        raise ActionIndexError(f"line of length {length} on {t.geo.board_type}: no plane for "
                               f"this parity")
    return slot


def encode(move: Move, state: GameState) -> int:
    """Policy index of `move` (a legal move of `state`); raises ActionIndexError if it has none."""
    return encode_with(EncodeContext(state), move)


def encode_moves(moves: Sequence[Move], state: GameState) -> np.ndarray:
    """Policy indices (int32) of moves of `state`, in order."""
    ctx = EncodeContext(state)
    return np.fromiter((encode_with(ctx, m) for m in moves), dtype=np.int32, count=len(moves))


def legal_indices(state: GameState) -> np.ndarray:
    """Policy indices (int32) of `rules.legal_moves(state)`, in that order."""
    return encode_moves(movegen.legal_moves(state), state)


def legal_moves_and_indices(state: GameState) -> tuple[list[Move], np.ndarray]:
    """The legal moves of `state` and their policy indices."""
    moves = movegen.legal_moves(state)
    return moves, encode_moves(moves, state)


def is_decision(state: GameState) -> bool:
    """True when the player to move has more than one legal move (the state has a policy target)."""
    return len(movegen.legal_moves(state)) > 1


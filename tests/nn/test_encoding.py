"""State encoding: sizes per board, exact plane/global values, the mover's-view rotation, batching,
and NNUE features."""

from __future__ import annotations

import random

import numpy as np
import pytest

from ringrift import rules
from ringrift.nn import actions, encoding
from ringrift.nn.encoding import (
    G_NUM_PLAYERS,
    G_PHASE,
    G_PRESENT,
    NUM_GLOBALS,
    NUM_PLANES,
    P_BURIED,
    P_CAP,
    P_COLLAPSED,
    P_CONTROL,
    P_HEIGHT,
    P_MARKER,
    PLANE_EMPTY,
    PLANE_MUST_MOVE,
    PLANE_VALID,
    PLANES_PER_PLAYER,
)
from ringrift.nn.models.io_defaults import valid_mask_for
from ringrift.rules.boards import get_geometry
from ringrift.rules.spec import GameSpec
from ringrift.rules.state import PHASE_INDEX, GameState
from tests.nn.test_actions import build_state

BOARDS = ("square8", "hex8", "square19", "hexagonal")


def random_states(board, num_players, seed, max_moves, every):
    rng = random.Random(seed)
    state = rules.new_game(board, num_players)
    out = []
    while not state.is_over and state.move_count < max_moves:
        if state.move_count % every == 0:
            out.append(state.copy())
        moves = rules.legal_moves(state)
        rules.apply_move(state, moves[rng.randrange(len(moves))], validate=False)
    out.append(state.copy())
    return out


def relabel(state: GameState) -> GameState:
    """The same position with seats renamed so that the player to move is seat 1 (order kept)."""
    n = state.num_players
    cur = state.current_player

    def seat(p: int) -> int:
        return (p - cur) % n + 1 if p else 0

    out = GameState.empty(state.geo, n)
    for c, rings in enumerate(state.stacks):
        if rings is not None:
            out.set_stack(c, tuple(seat(r) for r in rings))
        if state.markers[c]:
            out.set_marker(c, seat(state.markers[c]))
        if state.collapsed[c]:
            out.set_collapsed(c, seat(state.collapsed[c]))
    for p in range(1, n + 1):
        out.hand[seat(p)] = state.hand[p]
        out.eliminated[seat(p)] = state.eliminated[p]
    out.current_player = 1
    for name in ("phase", "status", "must_move", "capture_origin", "chain_pos",
                 "pending_line_reward", "pending_region", "recovery_context", "turn_had_action"):
        setattr(out, name, getattr(state, name))
    out.lps.consecutive = state.lps.consecutive
    out.lps.exclusive = seat(state.lps.exclusive)
    return out


# --------------------------------------------------------------------------- sizes
@pytest.mark.parametrize("board", BOARDS)
@pytest.mark.parametrize("num_players", (2, 3, 4))
def test_board_io(board, num_players):
    spec = encoding.board_io(GameSpec(board, num_players))
    geo = get_geometry(board)
    lay = actions.action_layout(board)
    assert (spec.in_channels, spec.num_globals) == (NUM_PLANES, NUM_GLOBALS)
    assert (spec.height, spec.width) == (geo.size, geo.size)
    assert (spec.policy_planes, spec.scalar_actions, spec.policy_size) == (
        lay.policy_planes, lay.scalar_actions, lay.policy_size)
    assert spec.encoder_version == encoding.ENCODER_VERSION
    mask = np.array(spec.valid_mask)
    assert mask.sum() == geo.num_cells
    assert mask.tolist() == valid_mask_for(board, geo.size, geo.size)
    io = spec.as_board_io()
    assert io[:6] == (NUM_PLANES, NUM_GLOBALS, lay.policy_planes, lay.scalar_actions,
                      geo.size, geo.size)
    planes, glob = encoding.encode_state(rules.new_game(board, num_players))
    assert planes.shape == (spec.in_channels, spec.height, spec.width)
    assert glob.shape == (spec.num_globals,)
    assert planes.dtype == np.float32 and glob.dtype == np.float32
    assert np.array_equal(planes[PLANE_VALID], mask)


# --------------------------------------------------------------------------- values
def test_plane_and_global_values_from_the_movers_view():
    a, b, c, d = (2, 2), (5, 1), (0, 7), (7, 0)
    state = build_state("square8", 3, stacks={a: (2, 2, 1, 3), b: (1,)}, markers={c: 3},
                        collapsed={d: 1}, player=2, phase="movement")
    geo = state.geo
    state.must_move = geo.index[a]
    planes, glob = encoding.encode_state(state)

    def at(plane, coord):
        return planes[plane, coord[1], coord[0]]

    me, nxt, prev = 0, 1, 2  # player 2 to move: slots of players 2, 3, 1

    def ch(slot, feature):
        return slot * PLANES_PER_PLAYER + feature

    assert at(ch(me, P_CONTROL), a) == 1
    assert at(ch(me, P_HEIGHT), a) == pytest.approx(4 / 8)
    assert at(ch(me, P_CAP), a) == pytest.approx(2 / 8)
    for slot in (me, nxt, prev):  # each player has one ring below the top of stack a
        assert at(ch(slot, P_BURIED), a) == pytest.approx(1 / 4)
    assert at(ch(prev, P_CONTROL), b) == 1 and at(ch(prev, P_HEIGHT), b) == pytest.approx(1 / 8)
    assert at(ch(nxt, P_MARKER), c) == 1
    assert at(ch(prev, P_COLLAPSED), d) == 1
    assert planes[3 * PLANES_PER_PLAYER:4 * PLANES_PER_PLAYER].sum() == 0  # absent fourth seat
    assert at(PLANE_MUST_MOVE, a) == 1 and planes[PLANE_MUST_MOVE].sum() == 1
    assert planes[PLANE_EMPTY].sum() == 64 - 4 and at(PLANE_EMPTY, a) == 0
    assert glob[G_PRESENT:G_PRESENT + 4].tolist() == [1, 1, 1, 0]
    assert glob[G_NUM_PLAYERS:G_NUM_PLAYERS + 3].tolist() == [0, 1, 0]
    assert glob[G_PHASE + PHASE_INDEX["movement"]] == 1


@pytest.mark.parametrize(("board", "num_players"), [("square8", 3), ("hex8", 4),
                                                     ("hexagonal", 3)])
def test_encoding_depends_only_on_the_movers_view(board, num_players):
    for state in random_states(board, num_players, seed=4, max_moves=250, every=9):
        if state.is_over:
            continue
        same = relabel(state)
        p1, g1 = encoding.encode_state(state)
        p2, g2 = encoding.encode_state(same)
        assert np.array_equal(p1, p2)
        assert np.array_equal(g1, g2)
        assert np.array_equal(encoding.nnue_features(state), encoding.nnue_features(same))


@pytest.mark.parametrize("board", BOARDS)
def test_batch_matches_single_and_off_board_cells_stay_zero(board):
    states = random_states(board, 4, seed=2, max_moves=200, every=20)
    planes, glob = encoding.encode_states(states)
    assert planes.shape == (len(states), NUM_PLANES, *planes.shape[2:])
    mask = np.array(encoding.board_io(GameSpec(board, 2)).valid_mask, dtype=bool)
    for i, s in enumerate(states):
        p, g = encoding.encode_state(s)
        assert np.array_equal(planes[i], p) and np.array_equal(glob[i], g)
        assert not p[:, ~mask].any()
        assert np.isfinite(p).all() and p.max() <= 4.0 and p.min() >= 0.0
    with pytest.raises(ValueError, match="is on"):
        other = "hex8" if board != "hex8" else "square8"
        encoding.encode_states([states[0], rules.new_game(other, 2)])


# --------------------------------------------------------------------------- NNUE
@pytest.mark.parametrize("board", BOARDS)
def test_nnue_features(board):
    total = encoding.nnue_num_features(board)
    for state in random_states(board, 3, seed=8, max_moves=200, every=25):
        ids = encoding.nnue_features(state)
        assert ids.dtype == np.int64
        assert (ids >= 0).all() and (ids < total).all()
        assert np.array_equal(ids, np.unique(ids))
        stacks = sum(1 for r in state.stacks if r is not None)
        buried = sum(len(set(r[1:])) for r in state.stacks if r is not None)
        pieces = stacks + buried + sum(1 for m in state.markers if m) + sum(
            1 for o in state.collapsed if o)
        assert len(ids) >= pieces + 3 * state.num_players + 2


def test_encoder_version_is_an_int():
    assert isinstance(encoding.ENCODER_VERSION, int) and encoding.ENCODER_VERSION >= 1

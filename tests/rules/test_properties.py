"""Invariants over random games on all 12 board x player configurations."""

from __future__ import annotations

import random

import pytest

from ringrift import rules
from ringrift.rules import moves as mv
from ringrift.rules.state import cap_height

CONFIGS = [(b, n) for b in ("square8", "hex8", "square19", "hexagonal") for n in (2, 3, 4)]
# S must strictly grow on these (§4.12); bookkeeping, placement and collapses may leave it equal.
S_GROWING = {mv.MOVE_STACK, mv.OVERTAKING_CAPTURE, mv.CONTINUE_CAPTURE, mv.FORCED_ELIMINATION,
             mv.ELIMINATE_RINGS}


def _check_board(state: rules.GameState) -> None:
    n = state.num_players
    for cell, rings in enumerate(state.stacks):
        if rings is None:
            continue
        assert rings, "empty stack left on the board"
        assert not state.collapsed[cell] and not state.markers[cell]
        assert cap_height(rings) >= 1 and all(1 <= r <= n for r in rings)
    for cell, m in enumerate(state.markers):
        if m:
            assert not state.collapsed[cell]
    for p in range(1, n + 1):
        assert state.territory[p] == sum(1 for o in state.collapsed if o == p)
        assert state.control_count[p] == sum(1 for r in state.stacks if r and r[0] == p)
        assert state.ring_count[p] == sum(r.count(p) for r in state.stacks if r)
        assert state.marker_count[p] == state.markers.count(p)


def _play(board: str, n: int, seed: int, check_every: int, json_every: int) -> rules.GameState:
    rng = random.Random(seed)
    state = rules.new_game(board, n)
    rpp = state.rings_per_player
    supply = [state.hand[p] + state.ring_count[p] for p in range(n + 1)]
    step = 0
    while not state.is_over:
        legal = rules.legal_moves(state)
        assert legal, f"no legal move in {state}"
        keys = [m.key() for m in legal]
        assert len(keys) == len(set(keys)), "duplicate legal moves"
        move = legal[rng.randrange(len(legal))]
        s_before = state.s_invariant()
        if step % json_every == 0:
            clone = rules.state_from_json(rules.state_to_json(state))
            assert {m.key() for m in rules.legal_moves(clone)} == set(keys)
            assert clone.position_hash() == state.position_hash()
        rules.apply_move(state, move, validate=(step % check_every == 0))
        s_after = state.s_invariant()
        assert s_after >= s_before, f"S decreased on {move}"
        if move.type in S_GROWING or (move.type == mv.RECOVERY_SLIDE and move.option != 2):
            assert s_after > s_before, f"S did not grow on {move}"
        for p in range(1, n + 1):
            now = state.hand[p] + state.ring_count[p]
            assert now <= supply[p], f"rings of colour {p} appeared"
            supply[p] = now
        assert sum(rpp - supply[p] for p in range(1, n + 1)) == state.total_eliminated
        if step % check_every == 0:
            _check_board(state)
        step += 1
        assert step < 20000
    return state


@pytest.mark.parametrize("board,n", CONFIGS)
def test_random_games_keep_invariants_and_end_with_full_ranking(board, n):
    big = board in ("square19", "hexagonal")
    for seed in range(1 if big else 3):
        state = _play(board, n, seed, check_every=10 if big else 1, json_every=25 if big else 5)
        _check_board(state)
        assert state.is_over and 1 <= state.winner <= n
        assert state.victory_reason in ("ring_elimination", "territory_control",
                                        "last_player_standing")
        ranks = rules.final_ranks(state)
        assert len(ranks) == n and ranks[state.winner - 1] == 1
        assert sorted(ranks)[0] == 1 and all(1 <= r <= n for r in ranks)
        values = rules.outcome(state)
        assert values[state.winner - 1] == 1.0 or ranks.count(1) > 1
        assert abs(sum(values)) < 1e-9  # zero-sum with the linear rank values
        assert rules.legal_moves(state) == []


def test_outcome_values_share_ties():
    from ringrift.rules.victory import outcome_values

    assert outcome_values([1, 2]) == [1.0, -1.0]
    assert outcome_values([2, 1, 3]) == [0.0, 1.0, -1.0]
    # 1, 2, 2, 4: the tied pair shares places 2 and 3 (1/3 and -1/3)
    assert outcome_values([1, 2, 2, 4]) == pytest.approx([1.0, 0.0, 0.0, -1.0])

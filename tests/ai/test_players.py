"""Players: the game loop, random, heuristic and mixed engines."""

from __future__ import annotations

import json

import pytest

from ringrift import rules
from ringrift.ai.evaluation import Weights, evaluate, load_profiles, profile_for
from ringrift.ai.game import play_game
from ringrift.ai.heuristic import HeuristicPlayer
from ringrift.ai.mixed import parse_mix
from ringrift.ai.random_player import RandomPlayer
from ringrift.errors import UserError
from ringrift.rules.spec import GameSpec


class CountingPlayer(RandomPlayer):
    def __init__(self, seed):
        super().__init__(seed)
        self.asked = 0

    def choose(self, state, legal):
        assert len(legal) > 1, "a forced move must not be asked"
        self.asked += 1
        return super().choose(state, legal)


def test_forced_moves_are_applied_without_asking():
    players = [CountingPlayer(1), CountingPlayer(2)]
    game = play_game(rules.new_game("square8", 2), players)
    assert game.completed
    forced = [m for m in game.moves if m.decision is None]
    assert forced and all(m.move.is_bookkeeping or m.move.type for m in forced)
    assert sum(p.asked for p in players) == len(game.moves) - len(forced)


def test_random_player_is_seeded():
    def moves(seed):
        game = play_game(rules.new_game("hex8", 2), [RandomPlayer(seed), RandomPlayer(seed + 1)])
        return [m.move.key() for m in game.moves]

    assert moves(5) == moves(5)
    assert moves(5) != moves(6)


@pytest.mark.parametrize("board", ["square8", "hex8"])
def test_heuristic_beats_random(board):
    wins = 0
    games = 12
    for g in range(games):
        seat = g % 2
        players = [RandomPlayer(100 + g), RandomPlayer(200 + g)]
        players[seat] = HeuristicPlayer.for_board(GameSpec(board, 2), seed=g)
        state = play_game(rules.new_game(board, 2), players).final_state
        wins += state.winner == seat + 1
    assert wins >= 10, f"heuristic won only {wins}/{games}"


def test_evaluation_is_exact_at_terminal_states_and_bounded_otherwise():
    game = play_game(rules.new_game("square8", 3), [RandomPlayer(i) for i in range(3)])
    w = Weights()
    assert evaluate(game.final_state, w) == rules.outcome(game.final_state)
    mid = rules.new_game("square8", 3)
    values = evaluate(mid, w)
    assert len(values) == 3 and all(-1 <= v <= 1 for v in values)


def test_profiles_load_from_file_and_reject_unknown_weights(tmp_path):
    good = tmp_path / "p.json"
    good.write_text(json.dumps({"aggressive": {"eliminated": 20.0}}))
    assert profile_for(GameSpec("square8", 2), good, "aggressive").eliminated == 20.0
    assert "default" in load_profiles()
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"x": {"speed": 1}}))
    with pytest.raises(UserError, match="unknown weights"):
        load_profiles(bad)
    with pytest.raises(UserError, match="no heuristic profile"):
        profile_for(GameSpec("square8", 2), good, "missing")


def test_heuristic_temperature_gives_a_policy():
    state = rules.new_game("square8", 2)
    legal = rules.legal_moves(state)
    player = HeuristicPlayer(Weights(), seed=1, temperature=0.05)
    decision = player.choose(state, legal)
    assert decision.policy is not None
    assert abs(sum(p for _, p in decision.policy) - 1) < 1e-9
    assert decision.move in [m for m, _ in decision.policy]


def test_parse_mix():
    assert parse_mix("heuristic:0.8,random:0.2") == [("heuristic", 0.8), ("random", 0.2)]
    with pytest.raises(UserError):
        parse_mix("heuristic:x")
    with pytest.raises(UserError):
        parse_mix("random:0")

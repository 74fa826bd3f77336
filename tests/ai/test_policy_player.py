"""The policy-only player and the match runner with a real (tiny) trained network."""

from __future__ import annotations

import numpy as np
import pytest

from ringrift import rules
from ringrift.ai.engines import make_player
from ringrift.ai.options import EngineOptions
from ringrift.cli.main import main
from ringrift.data.gamedb import GameDB
from ringrift.errors import UserError
from ringrift.evaluate.match import Participant, play_match
from ringrift.nn.inference import Evaluator
from ringrift.rules.spec import GameSpec


def test_evaluate_states_gives_legal_policies_and_seat_values(tiny_model):
    ev = Evaluator.from_checkpoint(tiny_model)
    state = rules.new_game("square8", 2)
    for _ in range(3):
        rules.apply_move(state, rules.legal_moves(state)[0])
    [(moves, probs)], values = ev.evaluate_states([state])
    assert [m.key() for m in moves] == [m.key() for m in rules.legal_moves(state)]
    assert abs(float(np.sum(probs)) - 1) < 1e-5 and values.shape == (1, 2)
    # seat order: evaluating the same position with the seats' roles swapped is consistent
    _, rotated = ev.evaluate_arrays(*_arrays(state))
    mover = state.current_player
    assert np.allclose(values[0][mover - 1], rotated[0][0])


def _arrays(state):
    from ringrift.nn import actions, encoding

    f, g = encoding.encode_states([state])
    return f, g, [actions.legal_indices(state)]


def test_policy_player_argmax_is_deterministic_and_match_stores_games(tiny_model, tmp_path):
    opts = EngineOptions(model_path=str(tiny_model))
    a = make_player("policy-only", GameSpec("square8", 2), opts, seed=0)
    state = rules.new_game("square8", 2)
    legal = rules.legal_moves(state)
    assert a.choose(state, legal).move == a.choose(state, legal).move
    cand = Participant("policy", lambda s: make_player("policy-only", GameSpec("square8", 2), opts, seed=s))
    opp = Participant("random", lambda s: make_player("random", GameSpec("square8", 2), seed=s))
    with GameDB(tmp_path / "eval.db") as db:
        result = play_match(cand, opp, GameSpec("square8", 2), 4, seed=1, db=db)
        records = list(db.iter_games())
    assert result.games == 4 and len(records) == 4
    assert {r.metadata["candidate_seat"] for r in records} == {1, 2}
    assert all(r.source == "evaluation" for r in records)
    assert main(["db", "verify", str(tmp_path / "eval.db")]) == 0


def test_model_of_another_board_is_rejected(tiny_model):
    with pytest.raises(UserError, match="square8 2-player model"):
        make_player("policy-only", GameSpec("hex8", 2), EngineOptions(model_path=str(tiny_model)), seed=0)
    with pytest.raises(UserError, match="needs a model"):
        make_player("policy-only", GameSpec("square8", 2), seed=0)


def test_match_cli(capsys):
    assert main(["match", "--board-type", "square8", "--candidate", "heuristic", "--opponent",
                 "random", "--games", "2", "--json"]) == 0
    out = capsys.readouterr().out
    assert '"games": 2' in out

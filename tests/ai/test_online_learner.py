"""Online learning (EBMO API): TD(lambda) targets, updates change the weights, a saved learner
resumes, the `online` engine plays and learns in a match, bad input."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
import torch

from ringrift import rules
from ringrift.ai.online_learner import OnlineLearner, create_online_learner
from ringrift.cli.main import main
from ringrift.errors import UserError
from ringrift.nn.models import build_model, make_config, save_model_file
from ringrift.rules.spec import GameSpec


def _model(seed: int = 0):
    torch.manual_seed(seed)
    return build_model(make_config("v2", GameSpec("square8", 2), channels=8, blocks=1)).eval()


def _play_and_record(learner, seed: int = 0, max_moves: int = 40):
    """A random game, every decision recorded (as if the learner played both seats)."""
    rng = random.Random(seed)
    state = rules.new_game("square8", 2)
    while not state.is_over and state.move_count < max_moves:
        legal = rules.legal_moves(state)
        move = legal[rng.randrange(len(legal))]
        after = state.copy()
        rules.apply_move(after, move, validate=False)
        if len(legal) > 1:
            policy = [(m, 1.0 / len(legal)) for m in legal]
            learner.record_transition(state, move, state.current_player, after, policy=policy)
        state = after
    return state


def _params(model):
    return torch.cat([p.detach().flatten().clone() for p in model.parameters()])


def test_update_from_game_changes_the_weights_and_moves_values_toward_the_outcome():
    learner = create_online_learner(_model(), learner_type="ebmo", learning_rate=3e-3,
                                    updates_per_game=8)
    _play_and_record(learner)
    positions = [p for p, _ in learner.game]
    before = _params(learner.model)
    feats = torch.from_numpy(np.stack([p.features for p in positions])).float()
    glob = torch.from_numpy(np.stack([p.globals for p in positions]))
    with torch.no_grad():
        v0 = learner.model(feats, glob).value
    stats = learner.update_from_game(winner=1)
    assert stats["positions"] == len(positions) > 5
    assert not torch.equal(before, _params(learner.model))
    # every position's target is a TD(lambda) return in [-1, 1] in its mover's rotated order
    targets = np.stack([p.values for p in positions])
    assert np.all(np.abs(targets) <= 1.0 + 1e-6)
    last = positions[-1]  # the end of the (unfinished) game here bootstraps from V(s_T+1)
    assert last.values.shape == (2,)
    with torch.no_grad():
        v1 = learner.model(feats, glob).value
    # the value head moved toward the TD(lambda) targets
    goal = torch.from_numpy(targets)
    assert ((v1 - goal) ** 2).mean() < ((v0 - goal) ** 2).mean()
    assert len(learner.replay) == len(positions) and learner.game == []


def test_updates_keep_batchnorm_statistics():
    # Training-mode BatchNorm would pull its running statistics toward each one-game batch,
    # which wrecked the network within a few games of a match; only weights may learn.
    learner = create_online_learner(_model(), learner_type="ebmo", learning_rate=3e-3)
    _play_and_record(learner)
    norms = [m for m in learner.model.modules()
             if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    assert norms
    before = [(m.running_mean.clone(), m.running_var.clone()) for m in norms]
    learner.update_from_game(winner=2)
    for m, (mean, var) in zip(norms, before, strict=True):
        assert torch.equal(m.running_mean, mean) and torch.equal(m.running_var, var)
    assert not learner.model.training  # players read it between updates


def test_td_lambda_one_gives_the_outcome_and_zero_gives_the_next_value():
    for lam in (1.0, 0.0):
        learner = create_online_learner(_model(), td_lambda=lam, updates_per_game=1)
        _play_and_record(learner, seed=3, max_moves=12)
        positions = [p for p, _ in learner.game]
        successors = [s for _, s in learner.game]
        next_values = learner._successor_values(successors, 2)
        learner.update_from_game(winner=2)
        for p, nv in zip(positions, next_values, strict=True):
            seat = np.array([-1.0, 1.0]) if lam == 1.0 else nv  # seat order
            expect = [seat[(p.mover - 1 + i) % 2] for i in range(2)]
            np.testing.assert_allclose(p.values, expect, atol=1e-5)


def test_saved_learner_resumes_exactly(tmp_path):
    learner = create_online_learner(_model(), updates_per_game=2)
    _play_and_record(learner, seed=1)
    learner.update_from_game(winner=1)
    path = tmp_path / "online.pt"
    learner.save(path)
    again = OnlineLearner.load(path)
    assert torch.equal(_params(learner.model), _params(again.model))
    assert again.games_learned == 1 and again.steps == learner.steps == 2
    assert len(again.replay) == len(learner.replay)
    np.testing.assert_array_equal(again.replay[0].values, learner.replay[0].values)
    # the same next game and update give the same weights (optimizer moments restored)
    for each in (learner, again):
        each.rng = np.random.default_rng(5)
        _play_and_record(each, seed=2)
        each.update_from_game(winner=2)
    assert torch.allclose(_params(learner.model), _params(again.model), atol=1e-6)


def test_bad_learner_input():
    with pytest.raises(UserError, match="learner_type"):
        create_online_learner(_model(), learner_type="nope")
    with pytest.raises(UserError, match="td_lambda"):
        create_online_learner(_model(), td_lambda=2.0)
    learner = create_online_learner(_model())
    state = rules.new_game("square8", 2)
    move = rules.legal_moves(state)[0]
    with pytest.raises(ValueError, match="not to move"):
        learner.record_transition(state, move, 2, state)
    assert learner.update_from_game(winner=1) == {"positions": 0.0}


def test_match_with_the_online_engine_learns_as_it_plays(tmp_path, capsys):
    model = _model()
    path = tmp_path / "m.pt"
    save_model_file(path, {"metadata": {"architecture": "v2",
                                        "model_config": model.config.to_dict(),
                                        "board_type": "square8", "num_players": 2,
                                        "encoder_version": 1},
                           "model_state": model.state_dict()})
    from ringrift.ai import online_player

    online_player._LEARNERS.clear()
    rc = main(["match", "--board-type", "square8", "--candidate", f"online:{path}",
               "--opponent", "random", "--games", "2", "--mcts-simulations", "4", "--json"])
    assert rc == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["games"] == 2
    learner = online_player._LEARNERS[str(path)]
    assert learner.games_learned == 2 and learner.steps > 0
    assert not torch.equal(_params(learner.model), _params(model))
    assert main(["match", "--board-type", "square8", "--candidate", "online:",
                 "--games", "1"]) == 2

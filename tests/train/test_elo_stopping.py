"""Elo early stopping: the decision on scripted Elo sequences, the trainer keeping the best-Elo
weights, a resumed run continuing the same checks, and the real match scorer."""

from __future__ import annotations

import hashlib
import json
import signal

import pytest
import torch

from ringrift.cli.main import main
from ringrift.rules.spec import GameSpec
from ringrift.train.checkpoint import load_checkpoint
from ringrift.train.config import TrainConfig
from ringrift.train.elo_stopping import EloEarlyStopping, MatchEloScorer
from ringrift.train.trainer import train
from tests.train.synth_npz import write_training_file


def _digest(state: dict) -> str:
    h = hashlib.sha256()
    for key in sorted(state):
        h.update(key.encode())
        h.update(state[key].detach().cpu().numpy().tobytes())
    return h.hexdigest()


class ScriptedScorer:
    """Returns the next Elo of a fixed sequence; remembers which weights each check saw."""

    def __init__(self, elos, on_call=None):
        self.elos = list(elos)
        self.seen: dict[int, str] = {}
        self.previous: dict[int, str | None] = {}
        self.on_call = on_call

    def __call__(self, candidate, epoch, previous):
        self.seen[epoch] = _digest(load_checkpoint(candidate)["model_state"])
        self.previous[epoch] = None if previous is None else previous.name
        if self.on_call:
            self.on_call(epoch)
        return self.elos[epoch - 1]


def test_stops_after_patience_checks_without_enough_gain():
    stop = EloEarlyStopping(patience=2, min_improvement=5.0)
    for epoch, elo in enumerate([0, 50, 60, 52, 40], start=1):
        assert not stop.stopped
        stop.update(epoch, elo)
    assert stop.stopped and stop.best_epoch == 3 and stop.best_elo == 60
    # gains of at most E do not count: 3 and 4 over 0 are not improvements by 5
    small = EloEarlyStopping(patience=2, min_improvement=5.0)
    for epoch, elo in enumerate([0, 3, 4], start=1):
        small.update(epoch, elo)
    assert small.stopped and small.best_epoch == 1
    again = EloEarlyStopping(patience=2, min_improvement=5.0)
    again.restore(json.loads(json.dumps(small.state())))
    assert again.state() == small.state()


def _cfg(tmp_path, data, **more):
    return TrainConfig(board_type="square8", num_players=2, data_paths=[str(data)],
                       save_path=str(tmp_path / "m.pt"), batch_size=16, epochs=8,
                       learning_rate=3e-3, channels=8, blocks=1, progress=False,
                       tensorboard=False, checkpoint_every=0,
                       elo_early_stopping_patience=2, elo_min_improvement=5.0, **more)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_training_file(tmp_path_factory.mktemp("d") / "d.npz", learnable=True,
                               n_games=8, moves_per_game=8, seed=2)


def test_trainer_stops_and_keeps_the_best_elo_weights(tmp_path, data):
    scorer = ScriptedScorer([0, 50, 60, 52, 40, 99, 99, 99])
    result = train(_cfg(tmp_path, data), elo_scorer=scorer)
    metrics = result.metrics
    assert metrics["epochs_run"] == 5 and metrics["early_stopped"]  # not 8
    assert sorted(scorer.seen) == [1, 2, 3, 4, 5]
    assert scorer.previous[1] is None and scorer.previous[4] == "elo_epoch_0003.pt"
    final = load_checkpoint(result.save_path)["model_state"]
    assert _digest(final) == scorer.seen[3] != scorer.seen[5]  # the best-Elo weights
    assert metrics["best_epoch"] == 3
    elo = metrics["elo_early_stopping"]
    assert elo["best_epoch"] == 3 and elo["best_elo"] == 60 and len(elo["history"]) == 5
    assert [h["elo"] for h in metrics["history"]] == [0, 50, 60, 52, 40]
    # only the previous check's and the best check's weights are kept
    kept = sorted(p.name for p in (tmp_path / "m_ckpt").glob("elo_epoch_*.pt"))
    assert kept == ["elo_epoch_0003.pt", "elo_epoch_0005.pt"]


def test_checks_every_k_epochs_and_loss_stopping_still_works(tmp_path, data):
    scorer = ScriptedScorer([0, 1, 2, 3, 4, 5, 6, 7])
    result = train(_cfg(tmp_path, data, elo_check_every=3), elo_scorer=scorer)
    assert sorted(scorer.seen) == [3, 6]  # 2 checks: no stop (patience 2 needs 2 bad ones)
    assert result.metrics["epochs_run"] == 8
    no_elo = train(TrainConfig(board_type="square8", num_players=2, data_paths=[str(data)],
                               save_path=str(tmp_path / "l.pt"), batch_size=16, epochs=30,
                               learning_rate=0.5, channels=8, blocks=1, progress=False,
                               tensorboard=False, early_stopping=1))
    assert no_elo.metrics["early_stopped"] and no_elo.metrics["epochs_run"] < 30
    assert no_elo.metrics["elo_early_stopping"] is None


def test_a_resumed_run_continues_the_same_checks(tmp_path, data):
    def interrupt(epoch):
        if epoch == 4:
            signal.raise_signal(signal.SIGTERM)  # the trainer saves and stops after the epoch

    first = ScriptedScorer([0, 50, 60, 52, 40, 99, 99, 99], on_call=interrupt)
    result = train(_cfg(tmp_path, data), elo_scorer=first)
    assert result.interrupted_by == signal.SIGTERM
    second = ScriptedScorer([0, 50, 60, 52, 40, 99, 99, 99])
    resumed = train(_cfg(tmp_path, data, resume=True), elo_scorer=second)
    assert sorted(second.seen) == [5]  # one more bad check: the patience ran out
    assert second.previous[5] == "elo_epoch_0004.pt"
    assert resumed.metrics["epochs_run"] == 5 and resumed.metrics["best_epoch"] == 3
    assert _digest(load_checkpoint(resumed.save_path)["model_state"]) == first.seen[3]


def test_bad_elo_flags_are_one_line_errors(tmp_path, data, capsys):
    base = ["train", "--board-type", "square8", "--data-path", str(data), "--save-path",
            str(tmp_path / "x.pt"), "--channels", "8", "--blocks", "1", "--no-progress"]
    assert main([*base, "--elo-early-stopping-patience", "-1"]) == 2
    err = capsys.readouterr().err
    assert "--elo-early-stopping-patience" in err and err.count("\n") == 1
    assert main([*base, "--elo-check-every", "0"]) == 2
    err = capsys.readouterr().err
    assert "--elo-check-every" in err and err.count("\n") == 1


@pytest.mark.slow
def test_match_scorer_rates_against_the_opponent_and_previous_weights(tmp_path):
    """Real games: an untrained network against random and against its predecessor."""
    from ringrift.nn.models import build_model, make_config, save_model_file

    paths = []
    for seed in (1, 2):
        torch.manual_seed(seed)
        mc = make_config("v2", GameSpec("square8", 2), channels=8, blocks=1)
        path = tmp_path / f"elo_epoch_{seed:04d}.pt"
        save_model_file(path, {"metadata": {"architecture": "v2", "model_config": mc.to_dict(),
                                            "board_type": "square8", "num_players": 2,
                                            "encoder_version": 1},
                               "model_state": build_model(mc).state_dict()})
        paths.append(path)
    scorer = MatchEloScorer(GameSpec("square8", 2), opponent="random", games=2)
    first = scorer(paths[0], 1, None)
    second = scorer(paths[1], 2, paths[0])
    assert [r[:2] for r in scorer.results] == [["epoch_0001", "random"],
                                               ["epoch_0002", "random"],
                                               ["epoch_0002", "epoch_0001"]]
    assert all(sum(r[2:]) == 2 for r in scorer.results)
    low, high = scorer.last_interval
    assert low < second < high and abs(first) < 1000
    again = MatchEloScorer(GameSpec("square8", 2), opponent="random", games=2)
    again.restore(scorer.state())
    assert again.results == scorer.results

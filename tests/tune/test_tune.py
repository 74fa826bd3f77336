"""`ringrift tune`: a tiny study end to end, resume after SIGKILL, bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from ringrift.cli.main import build_parser, main
from tests.train.synth_npz import write_training_file

TINY = ["--channels", "8", "--blocks", "1", "--batch-size", "16"]


@pytest.fixture(autouse=True)
def _one_torch_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_training_file(tmp_path_factory.mktemp("d") / "d.npz", learnable=True,
                               n_games=8, moves_per_game=8, seed=3)


def _space(tmp_path, space=None):
    path = tmp_path / "space.json"
    path.write_text(json.dumps(space or {
        "learning_rate": {"type": "float", "low": 1e-4, "high": 1e-2, "log": True},
        "value_weight": {"type": "float", "low": 0.5, "high": 2.0},
        "lr_scheduler": {"type": "categorical", "choices": ["cosine", "none"]}}))
    return path


def _args(data, storage, space, *more):
    return ["tune", "--board-type", "square8", "--num-players", "2", "--data-path", str(data),
            "--storage", str(storage), "--space", str(space), "--epochs", "2", *TINY, *more]


def test_a_tiny_study_writes_best_params_a_train_command_and_plots(tmp_path, data, capsys):
    import optuna

    storage = tmp_path / "tune" / "study.db"
    assert main(_args(data, storage, _space(tmp_path), "--trials", "3")) == 0
    out = capsys.readouterr().out
    assert "defaults: val loss" in out and "train with: ringrift train" in out
    summary = json.loads((tmp_path / "tune" / "best_params.json").read_text())
    assert summary["trials"]["complete"] + summary["trials"]["pruned"] == 3
    assert summary["defaults"]["trial"] == 0
    # the defaults inside the space are trial 0's parameters
    assert summary["defaults"]["params"] == {"learning_rate": 1e-3, "value_weight": 1.0,
                                             "lr_scheduler": "cosine"}
    assert summary["best_value"] <= summary["defaults"]["value"]
    for name in ("history.png", "importance.png"):
        assert (tmp_path / "tune" / name).stat().st_size > 5000
    # the printed command is a valid `ringrift train` command with the best parameters
    argv = summary["train_command"].split()[1:]
    args = build_parser().parse_args(argv)
    assert args.learning_rate == pytest.approx(summary["best_params"]["learning_rate"], rel=1e-3)
    assert args.lr_scheduler == summary["best_params"]["lr_scheduler"] and args.channels == 8
    study = optuna.load_study(study_name="square8_2p", storage=f"sqlite:///{storage}")
    assert all(sorted(t.intermediate_values) == [1, 2] for t in study.trials
               if t.state.name == "COMPLETE")  # a validation loss reported per epoch
    # run again: the study is complete, nothing is trained
    assert main(_args(data, storage, _space(tmp_path), "--trials", "3")) == 0
    assert "3 trials finished, 0 to run" in capsys.readouterr().out
    assert len(optuna.load_study(study_name="square8_2p",
                                 storage=f"sqlite:///{storage}").trials) == 3


def test_objective_ignores_the_value_weight():
    from ringrift.tune.study import objective_loss

    record = {"val_policy_ce": 2.0, "val_value_mse": 0.5, "val_rank_ce": 0.0, "val_loss": 9.9}
    assert objective_loss(record) == 2.5


@pytest.mark.parametrize("space, message", [
    ({"learning_rate": {"type": "float", "low": 1e-4, "high": 1e-2}, "dropout": {
        "type": "float", "low": 0, "high": 1}}, "unknown parameter 'dropout'"),
    ({"learning_rate": {"type": "float", "low": 1e-2, "high": 1e-4}}, "'low' must be below"),
    ({"batch_size": {"type": "float", "low": 1, "high": 2}}, "takes int values"),
])
def test_bad_search_space_is_a_one_line_error(tmp_path, data, capsys, space, message):
    rc = main(_args(data, tmp_path / "s.db", _space(tmp_path, space), "--trials", "1"))
    err = capsys.readouterr().err
    assert rc == 2 and message in err and err.count("\n") == 1
    assert "space.json" in err


def test_missing_data_and_a_changed_study_are_one_line_errors(tmp_path, data, capsys):
    space = _space(tmp_path)
    assert main(_args(tmp_path / "nope.npz", tmp_path / "s.db", space, "--trials", "1")) == 2
    err = capsys.readouterr().err
    assert "nope.npz does not exist" in err and err.count("\n") == 1
    assert main(_args(data, tmp_path / "s.db", space, "--trials", "1")) == 0
    capsys.readouterr()
    rc = main(_args(data, tmp_path / "s.db", space, "--trials", "2", "--seed", "5"))
    err = capsys.readouterr().err
    assert rc == 2 and "made with another seed" in err


@pytest.mark.slow
def test_a_study_killed_mid_trial_resumes(tmp_path):
    """SIGKILL while a trial trains; the same command finishes the study: the killed trial is
    marked failed (its heartbeat stopped) and its parameters run again."""
    import optuna

    data = write_training_file(tmp_path / "d.npz", learnable=True, n_games=20,
                               moves_per_game=16, seed=4)
    storage = tmp_path / "study.db"
    argv = _args(data, storage, _space(tmp_path), "--trials", "3", "--heartbeat", "1")
    argv[argv.index("--epochs") + 1] = "12"  # trials of a few seconds: a window to kill in
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, "-m", "ringrift", *argv], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"sqlite:///{storage}"
    deadline = time.time() + 120
    try:
        while time.time() < deadline:  # until trial 1 is running (trial 0 complete)
            time.sleep(0.05)
            try:
                trials = optuna.load_study(study_name="square8_2p", storage=url).trials
            except (KeyError, Exception):
                continue
            # its parameters drawn (killed before that, the retry has nothing to repeat)
            if (len(trials) >= 2 and trials[-1].state.name == "RUNNING"
                    and len(trials[-1].params) == 3):
                break
        else:
            pytest.fail("the study never started its second trial (with its parameters)")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    time.sleep(2.5)  # past the grace period of 2 heartbeats
    assert main(argv) == 0
    study = optuna.load_study(study_name="square8_2p", storage=url)
    states = [t.state.name for t in study.trials]
    assert states.count("COMPLETE") + states.count("PRUNED") == 3
    failed = [t for t in study.trials if t.state.name == "FAIL"]
    assert len(failed) == 1
    retried = [t for t in study.trials if t.system_attrs.get("failed_trial") == failed[0].number]
    assert len(retried) == 1 and retried[0].params == failed[0].params

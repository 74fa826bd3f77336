"""`ringrift.TrainConfig` (the seed's loop settings) and `run_training_loop(config)`."""

from __future__ import annotations

import dataclasses
import json

import pytest

import ringrift
from ringrift.loop.config import LoopConfig
from ringrift.loop.training_config import SEED_TO_LOOP, TrainingLoopConfig
from ringrift.train.config import TrainConfig as RunConfig

SEED_FIELDS = ("board_type", "iterations", "episodes_per_iter", "epochs_per_iter", "batch_size",
               "learning_rate", "lr_scheduler", "warmup_epochs", "lr_min",
               "early_stopping_patience", "elo_early_stopping_patience", "elo_min_improvement",
               "entropy_weight", "weight_decay", "policy_label_smoothing",
               "enable_gradient_surgery", "gradient_accumulation_steps",
               "use_gpu_parallel_datagen")


def test_train_config_is_the_loop_config_of_the_seed():
    assert ringrift.TrainConfig is TrainingLoopConfig
    names = {f.name for f in dataclasses.fields(TrainingLoopConfig)}
    assert set(SEED_FIELDS) <= names


def test_defaults_are_the_loop_configs_and_the_trainers():
    seed, loop = TrainingLoopConfig(), {f.name: f for f in dataclasses.fields(LoopConfig)}
    for seed_name, loop_name in SEED_TO_LOOP.items():
        if loop[loop_name].default is not dataclasses.MISSING:
            assert getattr(seed, seed_name) == loop[loop_name].default, seed_name
    run = {f.name: f.default for f in dataclasses.fields(RunConfig)}
    for name in ("weight_decay", "lr_scheduler", "lr_min", "early_stopping", "entropy_weight",
                 "label_smoothing", "pcgrad", "grad_accum", "elo_early_stopping_patience",
                 "elo_min_improvement"):
        assert loop[name].default == run[name], name


def test_seed_fields_reach_the_loop_config():
    class BoardType:
        value = "HEX8"

    cfg = ringrift.TrainConfig(board_type=BoardType(), iterations=3, episodes_per_iter=50,
                               epochs_per_iter=7, learning_rate=0.002, lr_scheduler="cosine",
                               warmup_epochs=1, lr_min=1e-6, early_stopping_patience=5,
                               elo_early_stopping_patience=10, elo_min_improvement=5.0,
                               entropy_weight=0.01, weight_decay=1e-4,
                               policy_label_smoothing=0.05, enable_gradient_surgery=True,
                               gradient_accumulation_steps=2, use_gpu_parallel_datagen=False,
                               run_dir="r")
    loop = cfg.to_loop_config()
    assert (loop.board_type, loop.iterations, loop.selfplay_games, loop.training_epochs) == (
        "hex8", 3, 50, 7)
    assert (loop.lr_min, loop.early_stopping, loop.elo_early_stopping_patience,
            loop.label_smoothing, loop.pcgrad, loop.grad_accum) == (1e-6, 5, 10, 0.05, True, 2)
    assert loop.selfplay_device == "cpu" and loop.run_dir == "r"
    loop.validate()
    default_dir = TrainingLoopConfig().to_loop_config().run_dir
    assert default_dir.startswith("runs/square8_2p_")


def test_bad_settings_are_refused_by_the_trainers_checks():
    from ringrift.errors import UserError

    with pytest.raises(UserError, match="^lr_min must be"):  # the field: no flag here
        TrainingLoopConfig(lr_min=1.0, learning_rate=0.001, run_dir="x").to_loop_config()\
            .validate()
    with pytest.raises(TypeError, match="no field"):
        TrainingLoopConfig(loop_fields={"bogus": 1}).to_loop_config()


@pytest.mark.slow
def test_run_training_loop_takes_the_seed_config(tmp_path, capsys):
    cfg = ringrift.TrainConfig(board_type="square8", iterations=1, episodes_per_iter=4,
                               epochs_per_iter=1, batch_size=64, lr_min=1e-5,
                               early_stopping_patience=3, run_dir=str(tmp_path / "run"),
                               loop_fields={"channels": 8, "blocks": 1, "eval_games": 2,
                                            "max_moves": 400})
    state = ringrift.run_training_loop(cfg)
    assert state.iteration == 1
    saved = json.loads((tmp_path / "run" / "loop_config.json").read_text())
    assert saved["lr_min"] == 1e-5 and saved["early_stopping"] == 3
    assert "run folder: " in capsys.readouterr().out

"""The loop's scale-out settings: --backend/--ray-address checked with the config, and an
iteration's training under torchrun (--train-nproc 2) from a TrainConfig file (the loop's
schedule span has no command-line flag)."""

from __future__ import annotations

import pytest

from ringrift.errors import UserError
from ringrift.loop.config import LoopConfig
from ringrift.loop.stages import _train_under_torchrun
from ringrift.train.config import TrainConfig
from tests.train.synth_npz import write_training_file


def test_backend_settings_are_checked(tmp_path):
    with pytest.raises(UserError, match="^backend must be one of"):
        LoopConfig("square8", 2, str(tmp_path), backend="slurm").validate()
    with pytest.raises(UserError, match="^ray_address is only for the ray backend"):
        LoopConfig("square8", 2, str(tmp_path), ray_address="auto").validate()
    with pytest.raises(UserError, match="train_nproc"):
        LoopConfig("square8", 2, str(tmp_path), train_nproc=0).validate()


@pytest.mark.slow
def test_an_iterations_training_runs_under_torchrun_from_its_config_file(tmp_path):
    data = write_training_file(tmp_path / "d.npz", learnable=True, n_games=20,
                               moves_per_game=20, seed=5)
    save = tmp_path / "models" / "iter_001.pt"
    save.parent.mkdir()
    tc = TrainConfig(board_type="square8", num_players=2, data_paths=[str(data)],
                     save_path=str(save), channels=8, blocks=1, batch_size=32, epochs=1,
                     schedule_offset_steps=4, schedule_total_steps=40, seed=3, progress=False,
                     tensorboard=False)
    result, text = _train_under_torchrun(2, tc)
    assert result.save_path == save and save.is_file()
    assert result.metrics["epochs_run"] == 1 and result.metrics["steps"] > 0
    assert text.count("epoch 1/1") == 1  # rank 0's report only
    # the schedule's offset and span reached the ranks (no flag carries them)
    import torch

    trained = torch.load(save, weights_only=True)["metadata"]["train_config"]
    assert (trained["schedule_offset_steps"], trained["schedule_total_steps"]) == (4, 40)

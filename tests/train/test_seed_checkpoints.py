"""CheckpointManager under the seed's names: whatever save_checkpoint writes,
load_latest_checkpoint loads back (model, optimizer, epoch, step, metrics)."""

from __future__ import annotations

import pytest
import torch

from ringrift.train.checkpoint import CheckpointManager, CheckpointType


def _model_and_optimizer(seed: int):
    torch.manual_seed(seed)
    model = torch.nn.Linear(4, 3)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model(torch.randn(2, 4)).sum().backward()
    optimizer.step()
    return model, optimizer


def test_kinds_are_the_seeds_four():
    assert {k.value for k in CheckpointType} == {"regular", "epoch", "best", "emergency"}


@pytest.mark.parametrize("kind", list(CheckpointType))
def test_save_then_load_latest_round_trips(tmp_path, kind):
    manager = CheckpointManager(checkpoint_dir=tmp_path / "ck", max_checkpoints=5)
    model, optimizer = _model_and_optimizer(0)
    manager.save_checkpoint(model=model, optimizer=optimizer, epoch=10, global_step=5000,
                            metrics={"loss": 0.45, "elo": 1650}, checkpoint_type=kind)
    fresh, fresh_opt = _model_and_optimizer(1)
    assert not torch.equal(fresh.weight, model.weight)
    state = manager.load_latest_checkpoint(fresh, fresh_opt)
    assert state is not None
    assert torch.equal(fresh.weight, model.weight) and torch.equal(fresh.bias, model.bias)
    assert fresh_opt.state_dict()["state"][0]["step"] == optimizer.state_dict()["state"][0][
        "step"]
    assert state["epoch"] == 10 and state["step"] == 5000
    assert state["metadata"]["metrics"] == {"loss": 0.45, "elo": 1650}
    assert state["metadata"]["checkpoint_type"] == CheckpointType(kind).value


def test_latest_is_the_highest_step_and_old_ones_are_pruned(tmp_path):
    manager = CheckpointManager(checkpoint_dir=tmp_path, max_checkpoints=2)
    model, optimizer = _model_and_optimizer(0)
    for step in (100, 200, 300):
        with torch.no_grad():
            model.bias.fill_(step)
        manager.save_checkpoint(model=model, optimizer=optimizer, epoch=step // 100,
                                global_step=step, checkpoint_type=CheckpointType.EPOCH)
    assert len(manager.checkpoints()) == 2
    target, _ = _model_and_optimizer(3)
    state = manager.load_latest_checkpoint(target)
    assert state["step"] == 300 and float(target.bias.detach()[0]) == 300.0


def test_a_payload_load_would_reject_is_refused_before_writing(tmp_path):
    manager = CheckpointManager(tmp_path)
    with pytest.raises(ValueError, match="model_state"):
        manager.save({"model_state_dict": {}, "epoch": 1}, "regular", 1)
    with pytest.raises(ValueError, match="model_state"):
        manager.save_best({"model": 1}, 1)
    assert list(tmp_path.iterdir()) == []
    assert manager.load_latest_checkpoint() is None


def test_exactly_one_folder_name(tmp_path):
    with pytest.raises(TypeError):
        CheckpointManager()
    with pytest.raises(TypeError):
        CheckpointManager(tmp_path, checkpoint_dir=tmp_path)

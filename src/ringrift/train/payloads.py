"""What a training run's files hold: the metadata every checkpoint and model file carries
(architecture, data, config, lineage), the training checkpoint (weights, optimizer, RNGs, data
cursor, run state) and the model payload (weights of one epoch)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ringrift.train.checkpoint import capture_rng_state
from ringrift.train.config import TrainConfig
from ringrift.train.run_setup import RunSetup
from ringrift.train.run_state import RunState


class RunPayloads:
    """Builds the payloads of one run's checkpoints and model files."""

    def __init__(self, cfg: TrainConfig, run: RunSetup,
                 extra_metadata: dict[str, Any] | None = None) -> None:
        self.cfg, self.run = cfg, run
        # the run's identity: a resume must match it (train.resume)
        self.base: dict[str, Any] = {
            "architecture": run.model_config.model_version,
            "model_config": run.model_config.to_dict(),
            "board_type": cfg.board_type,
            "num_players": cfg.num_players,
            "encoder_version": run.data.meta["encoder_version"],
            "policy_size": run.model_config.policy_size,
            "data": [dict(s) for s in run.data.sources],
            "parent_model": run.parent_model,
            "train_config": cfg.to_dict(),
            **(extra_metadata or {}),
        }

    def metadata(self, kind: str, **more: Any) -> dict[str, Any]:
        return {**self.base, "kind": kind, "created_at": datetime.now(UTC).isoformat(), **more}

    def model(self, model_state: dict[str, Any], **more: Any) -> dict[str, Any]:
        """A model file: `model_state` and metadata of kind "model" with `more` (epoch, ...)."""
        return {"metadata": self.metadata("model", **more), "model_state": model_state}

    def training(self, state: RunState) -> dict[str, Any]:
        """A training checkpoint: everything a resume needs to continue at `state`."""
        cfg, run = self.cfg, self.run
        return {
            "metadata": self.metadata("checkpoint", epoch=state.epoch, step=state.step,
                                      metrics=state.history[-1] if state.history else {}),
            "model_state": run.model.state_dict(),
            "optimizer_state": run.optimizer.state_dict(),
            "scheduler_state": run.stepper.schedule.state_dict(),
            "scaler_state": run.stepper.scaler.state_dict(),
            "rng_state": capture_rng_state(),
            "epoch": state.epoch,
            "step": state.step,
            "best_val_loss": state.best_loss,
            "data_cursor": {"epoch": state.epoch, "group": state.group, "seed": cfg.seed,
                            "batch_size": cfg.batch_size, "grad_accum": cfg.grad_accum,
                            "train_samples": len(run.train_idx)},
            "train_state": state.to_payload(),
            **({"replay_state": run.replay.state_dict()} if run.replay is not None else {}),
        }

"""--resume: continue from the newest usable checkpoint of the run's folder, after checking it
is this run's (same model, data and step-changing settings); without --resume, refuse to
start over an earlier run's checkpoints (it may be a killed run)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from ringrift.errors import ConfigError, UserError
from ringrift.train.checkpoint import restore_rng_state
from ringrift.train.config import RESUME_FIXED, TrainConfig
from ringrift.train.run_setup import RunSetup
from ringrift.train.run_state import RunState


def resume_or_start(cfg: TrainConfig, run: RunSetup,
                    base_meta: dict[str, Any]) -> tuple[RunState, bool]:
    """The state to start at and whether it was resumed; a resume restores the weights,
    optimizer, scaler, RNGs and replay priorities into `run`."""
    manager, paths, out = run.manager, run.paths, run.out
    state = RunState()
    resumed = False
    if cfg.resume:
        found = manager.latest()
        if found is None:
            # A run killed between its first best model and its first epoch checkpoint left
            # nothing to resume from; its best file is replaced when this run's epoch ends.
            print(f"no checkpoint in {paths.checkpoints}; starting from scratch", file=out)
        else:
            ckpt_path, payload = found
            check_resume(ckpt_path, payload, base_meta)
            run.model.load_state_dict(payload["model_state"])
            run.optimizer.load_state_dict(payload["optimizer_state"])
            run.stepper.scaler.load_state_dict(payload["scaler_state"])
            restore_rng_state(payload["rng_state"])
            if run.replay is not None and "replay_state" in payload:
                run.replay.load_state_dict(payload["replay_state"])
            state = RunState.from_checkpoint(payload)
            resumed = True
            print(f"resuming from {ckpt_path.name} (epoch {state.epoch + 1}, step {state.step})",
                  file=out)
    if not resumed and manager.checkpoints():
        # Never silently discard an earlier run's checkpoints (it may be a killed run).
        if cfg.resume:  # every one was unusable (warned above)
            raise ConfigError("resume", f"found no usable checkpoint in {paths.checkpoints}: "
                                        "delete that folder to start over")
        raise ConfigError("resume", f"is off, but {paths.checkpoints} holds checkpoints of an "
                                    "earlier run: resume to continue it, or delete that folder "
                                    "to start over")
    if not cfg.resume and manager.best_path():
        raise ConfigError("resume", f"is off, but {paths.checkpoints} holds the best model of an "
                                    "earlier run: resume to continue it, or delete that folder "
                                    "to start over")
    return state, resumed


def check_resume(path: Path, payload: dict[str, Any], base_meta: dict[str, Any]) -> None:
    """Checkpoint `path` was written by this run: same model configuration, data files,
    distillation teacher and RESUME_FIXED settings (UserError / ConfigError otherwise)."""
    meta = payload["metadata"]
    if meta.get("model_config") != base_meta["model_config"]:
        raise UserError(f"{path}: checkpoint is for another model configuration than this run")
    old_data = [(d["path"], d["sha256"]) for d in meta.get("data", [])]
    new_data = [(d["path"], d["sha256"]) for d in base_meta["data"]]
    if [s for _, s in old_data] != [s for _, s in new_data]:
        raise ConfigError("data_paths", f"differ from those checkpoint {path} was trained on; "
                                        "resume with the same files")
    for key in ("teacher_model", "distill_temperature"):
        if meta.get(key) != base_meta.get(key):
            raise UserError(f"{path}: checkpoint has {key}={meta.get(key)!r}, this run "
                            f"{base_meta.get(key)!r}")
    old_cfg, new_cfg = meta.get("train_config", {}), base_meta["train_config"]
    # a setting added after the checkpoint was written had its default then
    defaults = {f.name: f.default for f in dataclasses.fields(TrainConfig)}
    for key in RESUME_FIXED:
        old = old_cfg.get(key, defaults.get(key))
        if old != new_cfg.get(key):
            raise UserError(f"{path}: checkpoint has {key}={old!r}, this run "
                            f"{new_cfg.get(key)!r}; resume with the same setting")

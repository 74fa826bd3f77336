"""The training loop: data -> model -> epochs of steps, validation, checkpoints, logs.

One loop serves plain training and distillation (a pluggable target source). A run writes, beside
its model file: `<stem>_ckpt/` (checkpoints), `<stem>_tb/` (TensorBoard) and
`<model>.metrics.json`. The model written at the save path is the best epoch by validation loss
(by training loss when there is no validation split).
"""

from __future__ import annotations

import dataclasses
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import torch

from ringrift.errors import ConfigError, UserError
from ringrift.train.checkpoint import (
    CheckpointManager,
    capture_rng_state,
    load_checkpoint,
    restore_rng_state,
    save_checkpoint,
)
from ringrift.train.config import RESUME_FIXED, RunPaths, TrainConfig
from ringrift.train.dataset import BatchBuilder, TrainingData, epoch_batches
from ringrift.train.elo_stopping import EloScorer, monitor_for
from ringrift.train.epoch_end import elo_check, end_epoch, epoch_line
from ringrift.train.metrics_file import write_metrics
from ringrift.train.prioritized import PrioritizedReplay
from ringrift.train.run_setup import set_up_run
from ringrift.train.run_state import RunState
from ringrift.train.stop_flag import StopFlag
from ringrift.train.targets import TargetSource


@dataclass
class TrainResult:
    """Outcome of `train`: where the model went, the metrics, and whether a signal cut it short."""

    save_path: Path | None
    metrics: dict[str, Any]
    interrupted_by: int | None = None
    checkpoint: Path | None = None


def _data_sources(data: TrainingData) -> list[dict[str, Any]]:
    return [dict(s) for s in data.sources]


def train(cfg: TrainConfig, *, target_source: TargetSource | None = None,
          extra_metadata: dict[str, Any] | None = None, out: TextIO | None = None,
          elo_scorer: EloScorer | None = None,
          on_epoch: Callable[[dict[str, Any]], None] | None = None) -> TrainResult:
    """Run (or resume) one training run as configured; return the final model path and metrics.

    `elo_scorer` replaces the match series of Elo early stopping (tests script it); `on_epoch`
    is called with each finished epoch's record (a tuner reports and prunes there).

    User mistakes (bad data, incompatible --init-weights or checkpoint) raise UserError before
    anything is written.
    """
    run = set_up_run(cfg, target_source, out or sys.stdout)
    out, dist_ctx, amp_dtype = run.out, run.dist_ctx, run.amp_dtype
    paths, source, replay, manager = run.paths, run.source, run.replay, run.manager
    data, train_idx, val_idx = run.data, run.train_idx, run.val_idx
    model_config, model, optimizer, stepper = run.model_config, run.model, run.optimizer, run.stepper
    schedule, weights, total_steps = stepper.schedule, run.weights, run.total_steps
    builder, train_builder = run.builder, run.train_builder

    base_meta: dict[str, Any] = {
        "architecture": model_config.model_version,
        "model_config": model_config.to_dict(),
        "board_type": cfg.board_type,
        "num_players": cfg.num_players,
        "encoder_version": data.meta["encoder_version"],
        "policy_size": model_config.policy_size,
        "data": _data_sources(data),
        "parent_model": run.parent_model,
        "train_config": cfg.to_dict(),
        **(extra_metadata or {}),
    }

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
            _check_resume(ckpt_path, payload, base_meta)
            model.load_state_dict(payload["model_state"])
            optimizer.load_state_dict(payload["optimizer_state"])
            stepper.scaler.load_state_dict(payload["scaler_state"])
            restore_rng_state(payload["rng_state"])
            if replay is not None and "replay_state" in payload:
                replay.load_state_dict(payload["replay_state"])
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

    elo_monitor = monitor_for(cfg, paths.checkpoints, elo_scorer)
    if elo_monitor is not None:
        elo_monitor.restore(state.elo)

    def metadata(kind: str, **more: Any) -> dict[str, Any]:
        return {**base_meta, "kind": kind, "created_at": datetime.now(UTC).isoformat(), **more}

    def training_payload() -> dict[str, Any]:
        return {
            "metadata": metadata("checkpoint", epoch=state.epoch, step=state.step,
                                 metrics=state.history[-1] if state.history else {}),
            "model_state": model.state_dict(),
            "optimizer_state": optimizer.state_dict(),
            "scheduler_state": schedule.state_dict(),
            "scaler_state": stepper.scaler.state_dict(),
            "rng_state": capture_rng_state(),
            "epoch": state.epoch,
            "step": state.step,
            "best_val_loss": state.best_loss,
            "data_cursor": {"epoch": state.epoch, "group": state.group, "seed": cfg.seed,
                            "batch_size": cfg.batch_size, "grad_accum": cfg.grad_accum,
                            "train_samples": len(train_idx)},
            "train_state": state.to_payload(),
            **({"replay_state": replay.state_dict()} if replay is not None else {}),
        }

    writer = None
    if cfg.tensorboard and dist_ctx.is_main:
        from torch.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(str(paths.tensorboard), purge_step=state.step if resumed else None)
    from tqdm import tqdm

    precision = run.precision
    print(run.header(cfg), file=out)
    dist_ctx.barrier()  # every rank has looked at the checkpoints before rank 0 writes any
    flag = StopFlag()
    flag.install()
    interrupted_ckpt: Path | None = None
    try:
        for epoch in range(state.epoch, cfg.epochs):
            if state.stopped:
                break
            batches = epoch_batches(train_idx, cfg.batch_size, seed=cfg.seed, epoch=epoch,
                                    limit=cfg.samples_per_epoch)
            groups = [batches[i:i + cfg.grad_accum]
                      for i in range(0, len(batches), cfg.grad_accum)]
            start = state.group if epoch == state.epoch else 0
            state.epoch, state.group = epoch, start
            if start == 0:
                state.accum = {}
            t0, seen = time.perf_counter(), 0
            bar = tqdm(total=len(groups), initial=start, desc=f"epoch {epoch + 1}/{cfg.epochs}",
                       disable=(True if not dist_ctx.is_main else None if cfg.progress is None
                                else not cfg.progress),
                       leave=False, file=sys.stderr)
            for gi in range(start, len(groups)):
                shares = None
                if dist_ctx.distributed:  # this rank's slice of the global batches
                    local, shares = dist_ctx.shard_group(groups[gi])
                    mbs = [source(train_builder.build(idx)) for idx in local]
                elif replay is None:
                    mbs = [source(train_builder.build(idx)) for idx in groups[gi]]
                else:
                    drawn_rows, mbs = _replay_batches(replay, train_builder, source, groups[gi],
                                                      cfg.seed, epoch, gi,
                                                      state.step / max(total_steps, 1))
                n = sum(len(idx) for idx in groups[gi])  # (all ranks together)
                metrics = stepper.run(mbs, state.step, shares)
                _check_finite_loss(metrics["loss"], f"step {state.step + 1}", paths, manager)
                if replay is not None:
                    for rows, losses in zip(drawn_rows, stepper.last_sample_losses,
                                            strict=True):
                        replay.update(rows, losses)
                state.step += 1
                state.group = gi + 1
                seen += n
                for k, v in metrics.items():
                    if k != "lr":
                        state.accum[k] = state.accum.get(k, 0.0) + v * n
                state.accum["_samples"] = state.accum.get("_samples", 0.0) + n
                if writer is not None:
                    for k in ("loss", "policy_ce", "value_mse", "policy_accuracy"):
                        writer.add_scalar(f"train/{k}", metrics[k], state.step)
                    writer.add_scalar("train/lr", metrics["lr"], state.step)
                bar.update(1)
                bar.set_postfix(loss=f"{metrics['loss']:.4f}", lr=f"{metrics['lr']:.2e}")
                if cfg.checkpoint_every and state.step % cfg.checkpoint_every == 0 \
                        and dist_ctx.is_main:
                    manager.save(training_payload(), "regular", state.step)
                if dist_ctx.any(flag.signum is not None):  # every rank stops at the same step
                    interrupted_ckpt = (manager.save(training_payload(), "emergency", state.step)
                                        if dist_ctx.is_main else paths.checkpoints)
                    break
            bar.close()
            if interrupted_ckpt is not None:
                break
            elapsed = time.perf_counter() - t0
            dist_ctx.sync_buffers(model)
            record = end_epoch(cfg, state, epoch, model, builder, val_idx, weights, amp_dtype,
                                source, stepper.schedule.lr(max(state.step - 1, 0)),
                                seen / elapsed if elapsed > 0 else 0.0)
            if replay is not None:
                record.update(replay.summary())
                record["per_beta"] = replay.beta(state.step / max(total_steps, 1))
            if writer is not None:
                for k, v in record.items():
                    if isinstance(v, float) and k not in ("epoch",):
                        writer.add_scalar(f"epoch/{k}", v, state.step)
                writer.flush()
            if record["improved"] and dist_ctx.is_main:
                manager.save_best({"metadata": metadata("model", epoch=epoch + 1, step=state.step,
                                                        metrics=record),
                                   "model_state": model.state_dict()}, state.step)
            if elo_monitor is not None and (epoch + 1) % cfg.elo_check_every == 0:
                elo_check(elo_monitor, state, record, epoch, {
                    "metadata": metadata("model", epoch=epoch + 1, step=state.step,
                                         metrics=record), "model_state": model.state_dict()})
            state.epoch, state.group, state.accum = epoch + 1, 0, {}
            ckpt = paths.checkpoints
            if dist_ctx.is_main:
                ckpt = manager.save(training_payload(), "epoch", state.step)
                write_metrics(paths, cfg, state, precision, interrupted=False)
            print(epoch_line(record, cfg.epochs), file=out)
            if on_epoch is not None:
                on_epoch(record)
            if dist_ctx.any(flag.signum is not None):
                interrupted_ckpt = ckpt
                break
    finally:
        flag.restore()
        if writer is not None:
            writer.close()

    if not dist_ctx.is_main:  # rank 0 writes the model and the metrics
        return TrainResult(None, {}, interrupted_by=flag.signum)

    if interrupted_ckpt is not None:
        metrics = write_metrics(paths, cfg, state, precision, interrupted=True)
        print(f"interrupted: checkpoint saved to {interrupted_ckpt}; continue with --resume",
              file=out)
        return TrainResult(None, metrics, interrupted_by=flag.signum, checkpoint=interrupted_ckpt)

    best = manager.best_path()
    if elo_monitor is not None and elo_monitor.best_path() is not None:
        # Elo early stopping keeps the best-Elo weights (not the best validation loss)
        best = elo_monitor.best_path()
        state.best_epoch = elo_monitor.stopping.best_epoch - 1
    final_state = load_checkpoint(best)["model_state"] if best else model.state_dict()
    best_record = state.best_record() or {}
    save_checkpoint(paths.model, {
        "metadata": metadata("model", epoch=(state.best_epoch or 0) + 1, metrics=best_record),
        "model_state": final_state})
    metrics = write_metrics(paths, cfg, state, precision, interrupted=False)
    print(f"saved {paths.model} (best epoch {(state.best_epoch or 0) + 1}, "
          f"loss {best_record.get('monitor_loss', float('nan')):.4f}); metrics in "
          f"{paths.metrics}", file=out)
    return TrainResult(paths.model, metrics)


def _replay_batches(replay: PrioritizedReplay, builder: BatchBuilder, source: TargetSource,
                    group: list[np.ndarray], seed: int, epoch: int, gi: int, progress: float
                    ) -> tuple[list[np.ndarray], list[Any]]:
    """Micro-batches of the sizes of `group` drawn by priority, with their IS weights. The
    draw is a pure function of (seed, epoch, group, priorities), so a resume replays it."""
    rng = np.random.default_rng([seed, epoch, gi, 7919])
    rows_out, batches = [], []
    for idx in group:
        rows, is_weights = replay.sample(len(idx), rng, progress)
        batch = source(builder.build(rows))
        weights = torch.as_tensor(is_weights, device=batch.features.device)
        if batch.sample_weights is not None:
            weights = weights * batch.sample_weights
        batch.sample_weights = weights
        rows_out.append(rows)
        batches.append(batch)
    return rows_out, batches


def _check_resume(path: Path, payload: dict[str, Any], base_meta: dict[str, Any]) -> None:
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


def _check_finite_loss(loss: float, where: str, paths: RunPaths,
                       manager: CheckpointManager) -> None:
    """Stop at the first non-finite training loss: its weights are lost already, and saving
    them would replace a good model (or checkpoint) with NaNs. The last checkpoint, from a
    finite step, stays, and the model file is left as it was."""
    if math.isfinite(loss):
        return
    saved = manager.checkpoints()
    kept = f"; the last checkpoint ({saved[-1]}) is from a finite step" if saved else ""
    raise UserError(f"training loss became {loss} at {where} (learning rate too high, or bad "
                    f"data?): stopped; {paths.model} was not written{kept}")



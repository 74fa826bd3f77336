"""The training loop: data -> model -> epochs of steps, validation, checkpoints, logs.

One loop serves plain training and distillation (a pluggable target source). A run writes, beside
its model file: `<stem>_ckpt/` (checkpoints), `<stem>_tb/` (TensorBoard) and
`<model>.metrics.json`. The model written at the save path is the best epoch by validation loss
(by training loss when there is no validation split).
"""

from __future__ import annotations

import dataclasses
import io
import math
import random
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
from ringrift.nn.inference import resolve_device
from ringrift.nn.losses import LossWeights
from ringrift.nn.models import (
    ModelConfig,
    RingRiftNet,
    build_model,
    make_config,
    sha256_file,
    valid_mask_for,
)
from ringrift.nn.optimizer import make_optimizer
from ringrift.nn.precision import autocast_dtype, dtype_name
from ringrift.output_paths import check_output_file
from ringrift.train.checkpoint import (
    CheckpointManager,
    capture_rng_state,
    load_checkpoint,
    restore_rng_state,
    save_checkpoint,
)
from ringrift.train.config import RESUME_FIXED, RunPaths, TrainConfig
from ringrift.train.dataset import (
    BatchBuilder,
    TrainingData,
    epoch_batches,
    load_training_data,
    split_by_game,
)
from ringrift.train.distributed import (
    check_distributed_options,
    convert_batchnorm,
    init_distributed,
)
from ringrift.train.elo_stopping import EloScorer, monitor_for
from ringrift.train.epoch_end import elo_check, end_epoch, epoch_line
from ringrift.train.metrics_file import write_metrics
from ringrift.train.prioritized import PrioritizedReplay, ReplaySettings, parse_beta
from ringrift.train.run_state import RunState
from ringrift.train.schedule import LRSchedule
from ringrift.train.step import TrainStep
from ringrift.train.stop_flag import StopFlag
from ringrift.train.targets import TargetSource, dataset_targets

_ARCH_FIELDS = ("in_channels", "num_globals", "height", "width", "policy_planes",
                "scalar_actions", "channels", "blocks", "se")


@dataclass
class TrainResult:
    """Outcome of `train`: where the model went, the metrics, and whether a signal cut it short."""

    save_path: Path | None
    metrics: dict[str, Any]
    interrupted_by: int | None = None
    checkpoint: Path | None = None


def _amp_dtype(cfg: TrainConfig, device: torch.device, out: TextIO) -> torch.dtype | None:
    if not cfg.amp:
        return None
    dtype, note = autocast_dtype(device, cfg.amp_dtype)
    if note:
        print(note, file=out)
    return dtype


def model_config_for_data(cfg: TrainConfig, meta: dict[str, Any],
                          base: dict[str, Any] | None = None) -> ModelConfig:
    """The network for the data's sizes: preset, then `base` (e.g. the --init-weights model's
    channels/blocks/se), then explicit --channels/--blocks."""
    arch = {k: v for k, v in (base or {}).items() if k in ("channels", "blocks", "se")}
    if cfg.channels is not None:
        arch["channels"] = cfg.channels
    if cfg.blocks is not None:
        arch["blocks"] = cfg.blocks
    mask = meta.get("valid_mask") or valid_mask_for(cfg.board_type, meta["height"], meta["width"])
    try:
        return make_config(cfg.model_version, cfg.spec,
                           in_channels=meta["in_channels"], num_globals=meta["num_globals"],
                           policy_planes=meta["policy_planes"],
                           scalar_actions=meta["scalar_actions"], height=meta["height"],
                           width=meta["width"], valid_mask=mask, rank_head=cfg.rank_head,
                           ownership_head=cfg.ownership_weight > 0,
                           game_length_head=cfg.game_length_weight > 0, **arch)
    except ValueError as exc:
        raise UserError(f"cannot build a model for this data: {exc}") from None


def _init_payload(cfg: TrainConfig, data: TrainingData) -> dict[str, Any] | None:
    """Load --init-weights and check it fits this run (UserError otherwise)."""
    if not cfg.init_weights:
        return None
    path = cfg.init_weights
    payload = load_checkpoint(path)
    meta = payload["metadata"]
    arch = meta.get("architecture")
    if arch != cfg.model_version:
        raise ConfigError("init_weights", f"{path}: architecture {arch!r}, this run trains "
                                          f"{cfg.model_version!r}")
    if meta.get("board_type") != cfg.board_type:
        raise UserError(f"{path}: model is for board {meta.get('board_type')!r}, not "
                        f"{cfg.board_type!r}")
    if meta.get("num_players") != cfg.num_players:
        raise UserError(f"{path}: model is for {meta.get('num_players')} players, not "
                        f"{cfg.num_players} (use `ringrift transfer` first)")
    enc = meta.get("encoder_version")
    if enc is not None and enc != data.meta["encoder_version"]:
        raise UserError(f"{path}: model uses encoder_version {enc}, the data "
                        f"{data.meta['encoder_version']}")
    return payload


def _check_init_fits(path: str, src: dict[str, Any], config: ModelConfig) -> None:
    want = config.to_dict()
    for key in _ARCH_FIELDS:
        if src.get(key) != want[key]:
            raise UserError(f"{path}: model {key} is {src.get(key)!r}, this run needs "
                            f"{want[key]!r}")


def _load_state(model: RingRiftNet, state: dict[str, Any], path: str) -> None:
    try:
        missing, unexpected = model.load_state_dict(state, strict=False)
    except (RuntimeError, TypeError, AttributeError) as exc:  # (shapes that do not fit)
        text = str(exc).strip().splitlines()
        detail = (text[1] if len(text) > 1 else text[0]).strip() if text else type(exc).__name__
        raise UserError(f"{path}: weights do not fit this model ({detail})") from None
    # A rank or auxiliary head may be added to (or dropped from) a model: it starts fresh / is
    # discarded.
    optional = ("rank_head.", "ownership_head.", "game_length_head.")
    bad = [k for k in missing if not k.startswith(optional)]
    bad += [k for k in unexpected if not k.startswith(optional)]
    if bad:
        raise UserError(f"{path}: weights do not fit this model (e.g. {bad[0]!r})")


def _load_optimizer_moments(optimizer: torch.optim.Optimizer, path: str,
                            config: ModelConfig) -> None:
    """Start `optimizer` from the state saved in training checkpoint `path` (its moment
    estimates); learning rate and weight decay stay this run's."""
    payload = load_checkpoint(path)
    if "optimizer_state" not in payload:
        raise ConfigError("init_optimizer", f"{path}: not a training checkpoint (no optimizer "
                                            "state); give a file from a <model>_ckpt folder")
    _check_init_fits(path, payload["metadata"].get("model_config", {}), config)
    keep = [(g["lr"], g["weight_decay"]) for g in optimizer.param_groups]
    try:
        optimizer.load_state_dict(payload["optimizer_state"])
    except ValueError as exc:
        raise UserError(f"{path}: optimizer state does not fit this model ({exc})") from None
    for group, (lr, decay) in zip(optimizer.param_groups, keep, strict=True):
        group["lr"], group["weight_decay"] = lr, decay


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
    out = out or sys.stdout
    cfg.validate()
    check_output_file(cfg.save_path, "save_path")  # (not after an hour of training)
    device = resolve_device(cfg.device)
    dist_ctx, device = init_distributed(device)  # (torchrun: one of several processes)
    if dist_ctx.distributed:
        check_distributed_options(cfg)
        if not dist_ctx.is_main:
            out = io.StringIO()  # rank 0 alone reports
    amp_dtype = _amp_dtype(cfg, device, out)
    paths = RunPaths.for_model(cfg.save_path)
    source = target_source or dataset_targets

    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    data = load_training_data(cfg.data_paths, cfg.spec, encoder_version=cfg.encoder_version,
                              max_samples=cfg.max_samples)
    check_data = getattr(source, "check_data", None)
    if check_data is not None:
        check_data(data.meta)
    split_seed = cfg.seed if cfg.split_seed is None else cfg.split_seed
    train_idx, val_idx = split_by_game(data.game_ids, cfg.val_split, split_seed)
    replay = _make_replay(cfg, train_idx)
    _check_aux_targets(cfg, data)
    init = _init_payload(cfg, data)
    model_config = model_config_for_data(
        cfg, data.meta, init["metadata"].get("model_config") if init else None)
    model = build_model(model_config)
    parent_model = None
    if init is not None:
        _check_init_fits(cfg.init_weights, init["metadata"].get("model_config", {}), model_config)
        _load_state(model, init["model_state"], cfg.init_weights)
        parent_model = sha256_file(cfg.init_weights)
    model = convert_batchnorm(model, dist_ctx, device)
    model.to(device)

    optimizer = make_optimizer(model, cfg.learning_rate, cfg.weight_decay)
    if cfg.init_optimizer and not cfg.resume:
        _load_optimizer_moments(optimizer, cfg.init_optimizer, model_config)
    batches_per_epoch = len(epoch_batches(train_idx, cfg.batch_size, seed=cfg.seed, epoch=0,
                                          limit=cfg.samples_per_epoch))
    steps_per_epoch = math.ceil(batches_per_epoch / cfg.grad_accum)
    step_epochs = cfg.lr_step_size or max(1, cfg.epochs // 3)
    schedule = LRSchedule(cfg.lr_scheduler, cfg.learning_rate,
                          cfg.schedule_total_steps or steps_per_epoch * cfg.epochs,
                          warmup_steps=round(cfg.warmup_epochs * steps_per_epoch),
                          step_size=step_epochs * steps_per_epoch, gamma=cfg.lr_gamma,
                          min_lr_ratio=cfg.lr_min / cfg.learning_rate,
                          offset=cfg.schedule_offset_steps)
    weights = LossWeights(value=cfg.value_weight, rank=cfg.rank_weight,
                          entropy=cfg.entropy_weight, label_smoothing=cfg.label_smoothing,
                          ownership=cfg.ownership_weight, game_length=cfg.game_length_weight)
    stepper = TrainStep(model, optimizer, schedule, weights, device=device, amp_dtype=amp_dtype,
                        pcgrad=cfg.pcgrad)
    stepper.record_sample_losses = replay is not None
    stepper.forward_module = dist_ctx.wrap(model, device)
    if dist_ctx.distributed:
        stepper.reduce_metrics = dist_ctx.mean_over_ranks
    total_steps = steps_per_epoch * cfg.epochs
    builder = BatchBuilder(data, device)  # validation: the positions as they are
    train_builder = (BatchBuilder(data, device, augment=True, seed=cfg.seed) if cfg.augment
                     else builder)
    manager = CheckpointManager(paths.checkpoints, cfg.keep_checkpoints)
    if dist_ctx.is_main:  # rank 0 alone writes checkpoints, metrics, TensorBoard and the model
        manager.cleanup_temporaries()

    base_meta: dict[str, Any] = {
        "architecture": model_config.model_version,
        "model_config": model_config.to_dict(),
        "board_type": cfg.board_type,
        "num_players": cfg.num_players,
        "encoder_version": data.meta["encoder_version"],
        "policy_size": model_config.policy_size,
        "data": _data_sources(data),
        "parent_model": parent_model,
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

    precision = f"{dtype_name(amp_dtype)} autocast" if amp_dtype else "float32"
    drawn = (f" ({cfg.samples_per_epoch} samples drawn per epoch)"
             if cfg.samples_per_epoch is not None and cfg.samples_per_epoch < len(train_idx)
             else "")
    print(f"training {model_config.model_version} ({sum(p.numel() for p in model.parameters()):,}"
          f" parameters) on {device}, {precision}: {len(train_idx)} train / {len(val_idx)} "
          f"validation samples, {steps_per_epoch} steps per epoch{drawn}", file=out)
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


def _check_aux_targets(cfg: TrainConfig, data: TrainingData) -> None:
    """An auxiliary head needs its targets in the data (files exported by format version 2)."""
    for name, array, targets in (("ownership_weight", data.ownership, "ownership"),
                                 ("game_length_weight", data.remaining_moves, "game-length")):
        if getattr(cfg, name) > 0 and array is None:
            source = data.sources[0]["path"] if data.sources else "the data"
            raise ConfigError(name, f"{source} has no {targets} targets (re-export it with "
                                    "this version of `ringrift export`)")


def _make_replay(cfg: TrainConfig, train_idx: np.ndarray) -> PrioritizedReplay | None:
    if not cfg.prioritized_replay:
        return None
    start, end = parse_beta(cfg.per_beta)
    return PrioritizedReplay(train_idx, ReplaySettings(cfg.per_alpha, start, end))


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



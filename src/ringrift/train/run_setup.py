"""Building what a training run works with, from its config: device and precision, the
distributed context, the data and its split, the model (fresh or from --init-weights), the
optimizer, schedule and step, the batch builders and the checkpoint folder.

Everything here happens before a checkpoint is looked at or a file written; user mistakes
(bad data, an --init-weights file that does not fit) raise here.
"""

from __future__ import annotations

import io
import math
import random
from dataclasses import dataclass
from typing import Any, TextIO

import numpy as np
import torch

from ringrift.errors import ConfigError, UserError
from ringrift.nn.inference import resolve_device
from ringrift.nn.losses import LossWeights
from ringrift.nn.models import ModelConfig, RingRiftNet, build_model, make_config, sha256_file, valid_mask_for
from ringrift.nn.optimizer import make_optimizer
from ringrift.nn.precision import autocast_dtype, dtype_name
from ringrift.output_paths import check_output_file
from ringrift.train.checkpoint import CheckpointManager
from ringrift.train.config import RunPaths, TrainConfig
from ringrift.train.dataset import (
    BatchBuilder,
    TrainingData,
    epoch_batches,
    load_training_data,
    split_by_game,
)
from ringrift.train.distributed import (
    DistContext,
    check_distributed_options,
    convert_batchnorm,
    init_distributed,
)
from ringrift.train.prioritized import PrioritizedReplay, ReplaySettings, parse_beta
from ringrift.train.schedule import LRSchedule
from ringrift.train.step import TrainStep
from ringrift.train.targets import TargetSource, dataset_targets
from ringrift.train.warm_start import (
    check_init_fits,
    init_payload,
    load_optimizer_moments,
    load_weights,
)


@dataclass
class RunSetup:
    """What one training run works with (built by `set_up_run`)."""

    out: TextIO  # where this process reports (a discarded buffer on ranks other than 0)
    device: torch.device
    dist_ctx: DistContext
    amp_dtype: torch.dtype | None
    paths: RunPaths
    source: TargetSource
    data: TrainingData
    train_idx: np.ndarray
    val_idx: np.ndarray
    replay: PrioritizedReplay | None
    model_config: ModelConfig
    model: RingRiftNet
    parent_model: str | None  # SHA-256 of the --init-weights file
    optimizer: torch.optim.Optimizer
    weights: LossWeights
    stepper: TrainStep
    steps_per_epoch: int
    total_steps: int
    builder: BatchBuilder  # validation: the positions as they are
    train_builder: BatchBuilder  # training: augmented when --augment
    manager: CheckpointManager

    @property
    def precision(self) -> str:
        return f"{dtype_name(self.amp_dtype)} autocast" if self.amp_dtype else "float32"

    def header(self, cfg: TrainConfig) -> str:
        """The line printed before the first epoch."""
        drawn = (f" ({cfg.samples_per_epoch} samples drawn per epoch)"
                 if cfg.samples_per_epoch is not None
                 and cfg.samples_per_epoch < len(self.train_idx) else "")
        params = sum(p.numel() for p in self.model.parameters())
        return (f"training {self.model_config.model_version} ({params:,} parameters) on "
                f"{self.device}, {self.precision}: {len(self.train_idx)} train / "
                f"{len(self.val_idx)} validation samples, {self.steps_per_epoch} steps per "
                f"epoch{drawn}")


def set_up_run(cfg: TrainConfig, target_source: TargetSource | None, out: TextIO) -> RunSetup:
    """Validate `cfg` and build everything the run needs (seeding the RNGs first)."""
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
    init = init_payload(cfg, data)
    model_config = model_config_for_data(
        cfg, data.meta, init["metadata"].get("model_config") if init else None)
    model = build_model(model_config)
    parent_model = None
    if init is not None:
        check_init_fits(cfg.init_weights, init["metadata"].get("model_config", {}), model_config)
        load_weights(model, init["model_state"], cfg.init_weights)
        parent_model = sha256_file(cfg.init_weights)
    model = convert_batchnorm(model, dist_ctx, device)
    model.to(device)

    optimizer = make_optimizer(model, cfg.learning_rate, cfg.weight_decay)
    if cfg.init_optimizer and not cfg.resume:
        load_optimizer_moments(optimizer, cfg.init_optimizer, model_config)
    batches_per_epoch = len(epoch_batches(train_idx, cfg.batch_size, seed=cfg.seed, epoch=0,
                                          limit=cfg.samples_per_epoch))
    steps_per_epoch = math.ceil(batches_per_epoch / cfg.grad_accum)
    weights = LossWeights(value=cfg.value_weight, rank=cfg.rank_weight,
                          entropy=cfg.entropy_weight, label_smoothing=cfg.label_smoothing,
                          ownership=cfg.ownership_weight, game_length=cfg.game_length_weight)
    stepper = TrainStep(model, optimizer, _lr_schedule(cfg, steps_per_epoch), weights,
                        device=device, amp_dtype=amp_dtype, pcgrad=cfg.pcgrad)
    stepper.record_sample_losses = replay is not None
    stepper.forward_module = dist_ctx.wrap(model, device)
    if dist_ctx.distributed:
        stepper.reduce_metrics = dist_ctx.mean_over_ranks
    builder = BatchBuilder(data, device)
    train_builder = (BatchBuilder(data, device, augment=True, seed=cfg.seed) if cfg.augment
                     else builder)
    manager = CheckpointManager(paths.checkpoints, cfg.keep_checkpoints)
    if dist_ctx.is_main:  # rank 0 alone writes checkpoints, metrics, TensorBoard and the model
        manager.cleanup_temporaries()
    return RunSetup(out=out, device=device, dist_ctx=dist_ctx, amp_dtype=amp_dtype, paths=paths,
                    source=source, data=data, train_idx=train_idx, val_idx=val_idx,
                    replay=replay, model_config=model_config, model=model,
                    parent_model=parent_model, optimizer=optimizer, weights=weights,
                    stepper=stepper, steps_per_epoch=steps_per_epoch,
                    total_steps=steps_per_epoch * cfg.epochs, builder=builder,
                    train_builder=train_builder, manager=manager)


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


def _amp_dtype(cfg: TrainConfig, device: torch.device, out: TextIO) -> torch.dtype | None:
    if not cfg.amp:
        return None
    dtype, note = autocast_dtype(device, cfg.amp_dtype)
    if note:
        print(note, file=out)
    return dtype


def _lr_schedule(cfg: TrainConfig, steps_per_epoch: int) -> LRSchedule:
    step_epochs = cfg.lr_step_size or max(1, cfg.epochs // 3)
    return LRSchedule(cfg.lr_scheduler, cfg.learning_rate,
                      cfg.schedule_total_steps or steps_per_epoch * cfg.epochs,
                      warmup_steps=round(cfg.warmup_epochs * steps_per_epoch),
                      step_size=step_epochs * steps_per_epoch, gamma=cfg.lr_gamma,
                      min_lr_ratio=cfg.lr_min / cfg.learning_rate,
                      offset=cfg.schedule_offset_steps)


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

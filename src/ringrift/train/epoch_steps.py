"""The optimizer steps of one epoch: the epoch's batch groups (by priority under prioritized
replay, this rank's slice when distributed), one `TrainStep` each, the running sums of the
epoch's metrics, regular checkpoints, and the stop at a signal or a non-finite loss."""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ringrift.errors import UserError
from ringrift.nn.batch import Batch
from ringrift.train.checkpoint import CheckpointManager
from ringrift.train.config import RunPaths, TrainConfig
from ringrift.train.dataset import BatchBuilder, epoch_batches
from ringrift.train.payloads import RunPayloads
from ringrift.train.prioritized import PrioritizedReplay
from ringrift.train.run_setup import RunSetup
from ringrift.train.run_state import RunState
from ringrift.train.stop_flag import StopFlag
from ringrift.train.targets import TargetSource


@dataclass
class EpochSteps:
    """How an epoch's steps ended: the emergency checkpoint when a signal stopped them."""

    interrupted: Path | None
    samples_per_s: float


def train_epoch(cfg: TrainConfig, run: RunSetup, state: RunState, epoch: int, *,
                payloads: RunPayloads, writer: Any, flag: StopFlag) -> EpochSteps:
    """Run epoch `epoch`'s steps from `state.group` on (a resumed epoch continues there)."""
    from tqdm import tqdm

    dist_ctx, replay, stepper = run.dist_ctx, run.replay, run.stepper
    batches = epoch_batches(run.train_idx, cfg.batch_size, seed=cfg.seed, epoch=epoch,
                            limit=cfg.samples_per_epoch)
    groups = [batches[i:i + cfg.grad_accum] for i in range(0, len(batches), cfg.grad_accum)]
    start = state.group if epoch == state.epoch else 0
    state.epoch, state.group = epoch, start
    if start == 0:
        state.accum = {}
    t0, seen = time.perf_counter(), 0
    bar = tqdm(total=len(groups), initial=start, desc=f"epoch {epoch + 1}/{cfg.epochs}",
               disable=(True if not dist_ctx.is_main else None if cfg.progress is None
                        else not cfg.progress),
               leave=False, file=sys.stderr)
    interrupted: Path | None = None
    for gi in range(start, len(groups)):
        shares = None
        if dist_ctx.distributed:  # this rank's slice of the global batches
            local, shares = dist_ctx.shard_group(groups[gi])
            mbs = [run.source(run.train_builder.build(idx)) for idx in local]
        elif replay is None:
            mbs = [run.source(run.train_builder.build(idx)) for idx in groups[gi]]
        else:
            drawn_rows, mbs = _replay_batches(replay, run.train_builder, run.source, groups[gi],
                                              cfg.seed, epoch, gi,
                                              state.step / max(run.total_steps, 1))
        n = sum(len(idx) for idx in groups[gi])  # (all ranks together)
        metrics = stepper.run(mbs, state.step, shares)
        _check_finite_loss(metrics["loss"], f"step {state.step + 1}", run.paths, run.manager)
        if replay is not None:
            for rows, losses in zip(drawn_rows, stepper.last_sample_losses, strict=True):
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
            run.manager.save(payloads.training(state), "regular", state.step)
        if dist_ctx.any(flag.signum is not None):  # every rank stops at the same step
            interrupted = (run.manager.save(payloads.training(state), "emergency", state.step)
                           if dist_ctx.is_main else run.paths.checkpoints)
            break
    bar.close()
    elapsed = time.perf_counter() - t0
    return EpochSteps(interrupted, seen / elapsed if elapsed > 0 else 0.0)


def _replay_batches(replay: PrioritizedReplay, builder: BatchBuilder, source: TargetSource,
                    group: list[np.ndarray], seed: int, epoch: int, gi: int, progress: float
                    ) -> tuple[list[np.ndarray], list[Batch]]:
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

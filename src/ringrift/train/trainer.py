"""The training loop: data -> model -> epochs of steps, validation, checkpoints, logs.

One loop serves plain training and distillation (a pluggable target source). A run writes, beside
its model file: `<stem>_ckpt/` (checkpoints), `<stem>_tb/` (TensorBoard) and
`<model>.metrics.json`. The model written at the save path is the best epoch by validation loss
(by training loss when there is no validation split).

The parts live beside it: `run_setup` (what a run works with), `resume` (continuing a run, or
refusing to overwrite one), `payloads` (what its files hold), `epoch_steps` (one epoch's
optimizer steps), `epoch_end` (validation, best epoch, early stopping), `metrics_file`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from ringrift.train.checkpoint import load_checkpoint, save_checkpoint
from ringrift.train.config import TrainConfig
from ringrift.train.elo_stopping import EloMonitor, EloScorer, monitor_for
from ringrift.train.epoch_end import elo_check, end_epoch, epoch_line
from ringrift.train.epoch_steps import train_epoch
from ringrift.train.metrics_file import write_metrics
from ringrift.train.payloads import RunPayloads
from ringrift.train.resume import resume_or_start
from ringrift.train.run_setup import RunSetup, set_up_run
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
    out, dist_ctx, paths, manager = run.out, run.dist_ctx, run.paths, run.manager
    payloads = RunPayloads(cfg, run, extra_metadata)
    state, resumed = resume_or_start(cfg, run, payloads.base)
    elo_monitor = monitor_for(cfg, paths.checkpoints, elo_scorer)
    if elo_monitor is not None:
        elo_monitor.restore(state.elo)

    writer = None
    if cfg.tensorboard and dist_ctx.is_main:
        from torch.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(str(paths.tensorboard), purge_step=state.step if resumed else None)
    print(run.header(cfg), file=out)
    dist_ctx.barrier()  # every rank has looked at the checkpoints before rank 0 writes any
    flag = StopFlag()
    flag.install()
    interrupted_ckpt: Path | None = None
    try:
        for epoch in range(state.epoch, cfg.epochs):
            if state.stopped:
                break
            steps = train_epoch(cfg, run, state, epoch, payloads=payloads, writer=writer,
                                flag=flag)
            if steps.interrupted is not None:
                interrupted_ckpt = steps.interrupted
                break
            dist_ctx.sync_buffers(run.model)
            record = _finish_epoch(cfg, run, state, epoch, steps.samples_per_s, payloads,
                                   writer, elo_monitor)
            ckpt = paths.checkpoints
            if dist_ctx.is_main:
                ckpt = manager.save(payloads.training(state), "epoch", state.step)
                write_metrics(paths, cfg, state, run.precision, interrupted=False)
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
        metrics = write_metrics(paths, cfg, state, run.precision, interrupted=True)
        print(f"interrupted: checkpoint saved to {interrupted_ckpt}; continue with --resume",
              file=out)
        return TrainResult(None, metrics, interrupted_by=flag.signum, checkpoint=interrupted_ckpt)
    return _save_final_model(cfg, run, state, payloads, elo_monitor)


def _finish_epoch(cfg: TrainConfig, run: RunSetup, state: RunState, epoch: int,
                  samples_per_s: float, payloads: RunPayloads, writer: Any,
                  elo_monitor: EloMonitor | None) -> dict[str, Any]:
    """Validate epoch `epoch`, log it, keep its weights when best, run the Elo check, and move
    `state` to the next epoch; return the epoch's record."""
    replay, model = run.replay, run.model
    record = end_epoch(cfg, state, epoch, model, run.builder, run.val_idx, run.weights,
                       run.amp_dtype, run.source, run.stepper.schedule.lr(max(state.step - 1, 0)),
                       samples_per_s)
    if replay is not None:
        record.update(replay.summary())
        record["per_beta"] = replay.beta(state.step / max(run.total_steps, 1))
    if writer is not None:
        for k, v in record.items():
            if isinstance(v, float) and k not in ("epoch",):
                writer.add_scalar(f"epoch/{k}", v, state.step)
        writer.flush()
    if record["improved"] and run.dist_ctx.is_main:
        run.manager.save_best(payloads.model(model.state_dict(), epoch=epoch + 1,
                                             step=state.step, metrics=record), state.step)
    if elo_monitor is not None and (epoch + 1) % cfg.elo_check_every == 0:
        elo_check(elo_monitor, state, record, epoch,
                  payloads.model(model.state_dict(), epoch=epoch + 1, step=state.step,
                                 metrics=record))
    state.epoch, state.group, state.accum = epoch + 1, 0, {}
    return record


def _save_final_model(cfg: TrainConfig, run: RunSetup, state: RunState, payloads: RunPayloads,
                      elo_monitor: EloMonitor | None) -> TrainResult:
    """Write the best epoch's weights (best Elo under Elo early stopping) at the save path."""
    paths, out = run.paths, run.out
    best = run.manager.best_path()
    if elo_monitor is not None and elo_monitor.best_path() is not None:
        # Elo early stopping keeps the best-Elo weights (not the best validation loss)
        best = elo_monitor.best_path()
        state.best_epoch = elo_monitor.stopping.best_epoch - 1
    final_state = load_checkpoint(best)["model_state"] if best else run.model.state_dict()
    best_record = state.best_record() or {}
    save_checkpoint(paths.model, payloads.model(final_state, epoch=(state.best_epoch or 0) + 1,
                                                metrics=best_record))
    metrics = write_metrics(paths, cfg, state, run.precision, interrupted=False)
    print(f"saved {paths.model} (best epoch {(state.best_epoch or 0) + 1}, "
          f"loss {best_record.get('monitor_loss', float('nan')):.4f}); metrics in "
          f"{paths.metrics}", file=out)
    return TrainResult(paths.model, metrics)

"""The end of an epoch: its record (training means, validation), the best-epoch and
early-stopping bookkeeping, the Elo check, and the line printed for it."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from ringrift.errors import UserError
from ringrift.nn.losses import LossWeights
from ringrift.nn.models import RingRiftNet
from ringrift.train.config import TrainConfig
from ringrift.train.dataset import BatchBuilder
from ringrift.train.elo_stopping import EloMonitor
from ringrift.train.run_state import RunState
from ringrift.train.step import evaluate
from ringrift.train.targets import TargetSource


def mean_record(accum: dict[str, float]) -> dict[str, float]:
    """The sample-weighted means of an epoch's partial sums (keys "_..." are bookkeeping)."""
    n = accum.get("_samples", 0.0)
    return {k: v / n for k, v in accum.items() if not k.startswith("_")} if n else {}


def end_epoch(cfg: TrainConfig, state: RunState, epoch: int, model: RingRiftNet,
              builder: BatchBuilder, val_idx: np.ndarray, weights: LossWeights,
              amp_dtype: torch.dtype | None, source: TargetSource, lr: float,
              samples_per_s: float) -> dict[str, Any]:
    """Validate, update the best epoch and early stopping in `state`, append and return the
    epoch's record."""
    train_means = mean_record(state.accum)
    record: dict[str, Any] = {"epoch": epoch + 1, "step": state.step, "lr": lr,
                              "samples_per_s": samples_per_s}
    record.update({f"train_{k}": v for k, v in train_means.items()})
    if len(val_idx):
        val = evaluate(model, builder, val_idx, cfg.batch_size, weights, amp_dtype=amp_dtype,
                       target_source=source)
        record.update({f"val_{k}": v for k, v in val.items()})
        monitor = val["loss"]
    else:
        monitor = train_means.get("loss", math.inf)
    record["monitor_loss"] = monitor
    if not math.isfinite(monitor):  # (a NaN never compares lower: the run would keep nothing)
        raise UserError(f"the loss of epoch {epoch + 1} is {monitor}: training stopped; no "
                        "model was written")
    improved = monitor < state.best_loss
    if improved:
        state.best_loss, state.best_epoch, state.bad_epochs = monitor, epoch, 0
    else:
        state.bad_epochs += 1
    if cfg.early_stopping and state.bad_epochs >= cfg.early_stopping:
        state.stopped = True
    record["improved"] = improved
    record["early_stopped"] = state.stopped
    state.history.append(record)
    return record


def elo_check(monitor: EloMonitor, state: RunState, record: dict[str, Any], epoch: int,
              payload: dict[str, Any]) -> None:
    """Score this epoch's weights; stop training when Elo early stopping says so."""
    check = monitor.check(epoch + 1, payload)
    record.update({"elo": check.elo, "elo_low": check.low, "elo_high": check.high,
                   "elo_improved": check.improved})
    state.elo = monitor.state()
    if monitor.stopping.stopped:
        state.stopped = True
        record["early_stopped"] = True


def epoch_line(record: dict[str, Any], epochs: int) -> str:
    """The one line printed for a finished epoch."""
    parts = [f"epoch {record['epoch']}/{epochs}", f"train loss {record.get('train_loss', 0):.4f}"]
    if "val_loss" in record:
        parts += [f"val loss {record['val_loss']:.4f}",
                  f"val policy acc {record['val_policy_accuracy']:.3f}",
                  f"val value mse {record['val_value_mse']:.4f}"]
    parts.append(f"{record['samples_per_s']:.0f} samples/s")
    if "elo" in record:
        parts.append(f"Elo {record['elo']:.0f}" + (" (best Elo)" if record["elo_improved"] else ""))
    if record["improved"]:
        parts.append("(best)")
    if record["early_stopped"]:
        parts.append("early stop")
    return ", ".join(parts)

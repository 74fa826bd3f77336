"""Where a training run stands: its position in the data, its best epoch, its history.

Saved in every training checkpoint (`to_payload` plus the cursor and step fields the
checkpoint writes beside it) and rebuilt from one on resume (`from_checkpoint`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


@dataclass
class RunState:
    """The progress of one run: what a resume needs beyond the weights and optimizer."""

    epoch: int = 0  # epoch in progress
    group: int = 0  # next optimizer-step group within that epoch
    step: int = 0  # optimizer steps done
    best_loss: float = math.inf
    best_epoch: int | None = None
    bad_epochs: int = 0
    stopped: bool = False
    history: list[dict[str, Any]] = field(default_factory=list)
    accum: dict[str, float] = field(default_factory=dict)  # partial sums of the epoch in progress
    elo: dict[str, Any] = field(default_factory=dict)  # Elo early stopping (EloMonitor.state)

    def to_payload(self) -> dict[str, Any]:
        return {"best_epoch": self.best_epoch, "bad_epochs": self.bad_epochs,
                "stopped": self.stopped, "history": self.history, "accum": self.accum,
                "elo": self.elo}

    @classmethod
    def from_checkpoint(cls, payload: dict[str, Any]) -> RunState:
        """The state saved in a training checkpoint's payload."""
        cursor, ts = payload["data_cursor"], payload["train_state"]
        return cls(epoch=cursor["epoch"], group=cursor["group"], step=payload["step"],
                   best_loss=payload["best_val_loss"], best_epoch=ts["best_epoch"],
                   bad_epochs=ts["bad_epochs"], stopped=ts["stopped"],
                   history=list(ts["history"]), accum=dict(ts["accum"]),
                   elo=dict(ts.get("elo") or {}))

    def best_record(self) -> dict[str, Any] | None:
        """The history record of the best epoch (None before any)."""
        if self.best_epoch is None or self.best_epoch >= len(self.history):
            return None
        return self.history[self.best_epoch]

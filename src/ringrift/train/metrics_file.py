"""`<model>.metrics.json`: a run's summary and per-epoch history, rewritten after each epoch."""

from __future__ import annotations

import json
import math
from typing import Any

from ringrift.atomic import atomic_write_text
from ringrift.train.config import RunPaths, TrainConfig
from ringrift.train.run_state import RunState


def _json_float(x: float) -> float | None:
    return None if not math.isfinite(x) else x


def write_metrics(paths: RunPaths, cfg: TrainConfig, state: RunState, precision: str,
                  interrupted: bool) -> dict[str, Any]:
    """Write the metrics file (atomically) and return what it holds."""
    metrics = {
        "model": str(paths.model),
        "board_type": cfg.board_type,
        "num_players": cfg.num_players,
        "model_version": cfg.model_version,
        "precision": precision,
        "epochs_run": len(state.history),
        "steps": state.step,
        "best_epoch": (state.best_epoch + 1) if state.best_epoch is not None else None,
        "best_loss": _json_float(state.best_loss),
        "early_stopped": state.stopped,
        "elo_early_stopping": state.elo or None,
        "interrupted": interrupted,
        "best": state.best_record(),
        "final": state.history[-1] if state.history else None,
        "history": state.history,
    }
    atomic_write_text(paths.metrics, json.dumps(metrics, indent=1) + "\n")
    return metrics

"""A fixed held-out test set: games played once, never trained on, measured every iteration.

Each iteration's validation split is drawn from its own window, which moves, so validation
figures of two iterations are not comparable. The test set is `test_games` games of the
bootstrap engine (the distribution the first models learn from), played once with a seed apart
from every selfplay seed and exported to `run-dir/test/test.npz`; every trained model is scored
on all of its positions with the training losses (policy cross-entropy and accuracy, value MSE).
It is made when the loop starts (idempotent and resumable: stored games are kept, the arrays
are written atomically, and an existing file is reused). Once the loop plays its own games, the test set
still measures how well a model predicts the bootstrap engine's play, not its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ringrift.loop.config import LoopConfig

# selfplay seeds are seed * 1000 + iteration: this one is far from all of them
_TEST_SEED_BASE = 10**9


def test_set_path(cfg: LoopConfig) -> Path:
    return cfg.path / "test" / "test.npz"


def ensure_test_set(cfg: LoopConfig, log) -> Path | None:
    """The test arrays (played and exported now if missing); None when `test_games` is 0."""
    if not cfg.test_games:
        return None
    path = test_set_path(cfg)
    if path.exists():
        return path
    from ringrift.ai.options import EngineOptions
    from ringrift.data.export import ExportFilters, run_export
    from ringrift.data.gamedb import GameDB
    from ringrift.selfplay.missing import play_missing_games
    from ringrift.selfplay.runner import SelfplayConfig

    db_path = path.parent / "games.db"
    db_path.parent.mkdir(parents=True, exist_ok=True)
    config = SelfplayConfig(board_type=cfg.board_type, num_players=cfg.num_players,
                            engine=cfg.bootstrap_engine, seed=_TEST_SEED_BASE + cfg.seed,
                            max_moves=cfg.max_moves,
                            temperature_schedule=cfg.selfplay_temperature,
                            options=EngineOptions())
    with GameDB(db_path) as db:
        for _ in play_missing_games(db, config, cfg.test_games, _game_id, workers=cfg.workers,
                                    metadata={"test_set": True}, backend=cfg.backend,
                                    ray_address=cfg.ray_address):
            pass
    summary = run_export([str(db_path)], cfg.spec, path, ExportFilters(require_completed=False),
                         workers=cfg.workers)
    log(f"  test set: {summary.samples} positions of {cfg.test_games} held-out "
        f"{cfg.bootstrap_engine} games ({path})")
    return path


def score_on_test_set(cfg: LoopConfig, model_path: str, test_path: Path) -> dict[str, Any]:
    """The model's losses on every test position (no augmentation, float32)."""
    import numpy as np
    import torch

    from ringrift.nn.losses import LossWeights
    from ringrift.nn.models import load_model
    from ringrift.train.dataset import BatchBuilder, load_training_data
    from ringrift.train.step import evaluate

    model, _ = load_model(model_path)
    data = load_training_data([test_path], cfg.spec)
    builder = BatchBuilder(data, torch.device("cpu"))
    metrics = evaluate(model, builder, np.arange(len(data)), 512, LossWeights())
    return {"positions": len(data), "loss": metrics["loss"],
            "policy_ce": metrics["policy_ce"], "policy_accuracy": metrics["policy_accuracy"],
            "value_mse": metrics["value_mse"]}


def _game_id(index: int) -> str:
    return f"test-{index:06d}"

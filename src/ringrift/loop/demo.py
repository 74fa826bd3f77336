"""The demo's settings (what `make demo` / `ringrift demo` run): a small but real loop on
square8 2p, sized to finish in about a quarter of an hour on two CPU cores. The CLI reads its
flag defaults from `DemoSettings`; `loop_config()` turns them into the loop's config."""

from __future__ import annotations

import time
from dataclasses import dataclass

from ringrift.loop.config import LoopConfig


@dataclass
class DemoSettings:
    iterations: int = 4
    bootstrap_games: int = 200  # heuristic games per iteration until a model is promoted
    selfplay_games: int = 64  # gumbel games per iteration with the promoted model
    mcts_simulations: int = 16  # gumbel simulations per move in selfplay
    eval_engine: str = "gumbel"  # policy-only: ~10x cheaper, near 10-25% vs heuristic here
    eval_simulations: int = 32
    training_epochs: int = 2
    samples_per_epoch: int | None = None  # None: the whole window, training grows with games
    eval_games: int = 60
    test_games: int = 100
    min_window: int = 1000
    workers: int = 2
    run_dir: str | None = None  # None: runs/demo-<date>-<time>
    seed: int = 1

    def loop_config(self) -> LoopConfig:
        """The loop these settings run; the fixed choices (v2, batch 256, lr 2e-3, AMP, a
        quarter-epoch warm-up, heuristic bootstrap) are what the README's demo figures used."""
        return LoopConfig(
            board_type="square8", num_players=2,
            run_dir=self.run_dir or time.strftime("runs/demo-%Y%m%d-%H%M%S"),
            iterations=self.iterations, bootstrap_games=self.bootstrap_games,
            selfplay_games=self.selfplay_games, training_epochs=self.training_epochs,
            model_version="v2", engine="gumbel", mcts_simulations=self.mcts_simulations,
            eval_simulations=self.eval_simulations, bootstrap_engine="heuristic",
            eval_engine=self.eval_engine, eval_games=self.eval_games,
            eval_opponents=["random", "heuristic"], seed=self.seed, learning_rate=2e-3,
            batch_size=256, workers=self.workers, amp=True, min_window=self.min_window,
            samples_per_epoch=self.samples_per_epoch, warmup_epochs=0.25,
            test_games=self.test_games, eval_batch_size=16)


__all__ = ["DemoSettings"]

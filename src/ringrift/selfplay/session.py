"""A selfplay run as a library call: `SelfplayRunner(config).run()` plays `config.num_games`
games into `config.output_path` and returns a summary. `ringrift selfplay` is this plus flags.

`HeuristicSelfplayRunner` and `GumbelMCTSSelfplayRunner` are the seed's names: the same runner,
pinned to one engine.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ringrift.errors import UserError
from ringrift.selfplay.runner import SelfplayConfig


@dataclass
class SelfplaySummary:
    """What a run played: where the games went, who won, why games ended, how fast."""

    games: int
    path: Path
    board_type: str
    num_players: int
    engine: str
    wins_by_seat: dict[int, int] = field(default_factory=dict)  # seat 0: unfinished
    reasons: dict[str, int] = field(default_factory=dict)
    total_moves: int = 0
    decisions: int = 0
    seconds: float = 0.0

    @property
    def mean_length(self) -> float:
        return self.total_moves / self.games if self.games else 0.0

    def lines(self) -> list[str]:
        """The summary printed by `ringrift selfplay`."""
        seats = ", ".join(f"seat {s}: {self.wins_by_seat.get(s, 0)}"
                          for s in range(1, self.num_players + 1))
        unfinished = self.wins_by_seat.get(0, 0)
        elapsed = max(self.seconds, 1e-9)
        by_reason = sorted(self.reasons.items(), key=lambda kv: -kv[1])
        return [
            f"{self.games} games of {self.board_type} {self.num_players}p ({self.engine}) -> "
            f"{self.path}",
            f"  wins by seat: {seats}" + (f", unfinished: {unfinished}" if unfinished else ""),
            "  by reason: " + ", ".join(f"{k}: {v}" for k, v in by_reason),
            f"  mean length {self.mean_length:.1f} moves; {self.games / elapsed:.2f} games/s, "
            f"{self.decisions / elapsed:.0f} decisions/s, {self.seconds:.1f} s",
        ]


class SelfplayRunner:
    """Plays one SelfplayConfig's games into its output (database, JSONL or npz)."""

    engine: str | None = None  # a subclass pinned to one engine

    def __init__(self, config: SelfplayConfig, *, backend: str = "local",
                 ray_address: str | None = None,
                 progress: Callable[[int, SelfplaySummary], None] | None = None,
                 evaluator=None) -> None:
        if self.engine is not None and config.engine != self.engine:
            if config.engine != SelfplayConfig.engine:  # an explicit other engine
                raise UserError(f"{type(self).__name__} plays {self.engine}, but the config "
                                f"names engine {config.engine!r}")
            from dataclasses import replace

            config = replace(config, engine=self.engine)
        config.validate()
        self.config = config
        self.backend = backend
        self.ray_address = ray_address
        self.progress = progress
        self.evaluator = evaluator  # a running exec.gpu_evaluator service's handle, or None

    def run(self) -> SelfplaySummary:
        """Play the games (appending to an existing output) and return the summary."""
        from ringrift.selfplay.output import GameSink
        from ringrift.selfplay.workers import run_games

        cfg = self.config
        sink = GameSink(cfg.output_path, cfg.format, cfg.spec)
        # A re-run with the same output continues the game numbering: it appends new games.
        indices = sink.fresh_indices(cfg.game_seed, sink.existing, cfg.num_games)
        summary = SelfplaySummary(games=0, path=sink.path, board_type=cfg.board_type,
                                  num_players=cfg.num_players, engine=cfg.engine)
        wins: Counter[int] = Counter()
        reasons: Counter[str] = Counter()
        started = time.perf_counter()
        try:
            for record in run_games(cfg, indices, cfg.workers, batch_size=cfg.batch_size,
                                    backend=self.backend, ray_address=self.ray_address,
                                    evaluator=self.evaluator):
                if not sink.add(record):  # (stored already, by a run with the same seed)
                    continue
                summary.games += 1
                summary.total_moves += record.move_count
                summary.decisions += sum(1 for m in record.moves if m.think_time_s > 0)
                wins[record.winner or 0] += 1
                reasons[record.victory_reason or record.status] += 1
                summary.seconds = time.perf_counter() - started
                if self.progress is not None:
                    self.progress(summary.games, summary)
        finally:
            sink.close()
            summary.wins_by_seat, summary.reasons = dict(wins), dict(reasons)
            summary.seconds = time.perf_counter() - started
        return summary


class HeuristicSelfplayRunner(SelfplayRunner):
    """The seed's name: a SelfplayRunner playing the heuristic engine."""

    engine = "heuristic"


class GumbelMCTSSelfplayRunner(SelfplayRunner):
    """The seed's name: a SelfplayRunner playing Gumbel MCTS."""

    engine = "gumbel"

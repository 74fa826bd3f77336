"""The defaults of a round robin (`run_tournament`, `ringrift tournament`), in a module light
enough for the CLI to import while it builds its parser."""

from __future__ import annotations

from dataclasses import dataclass

from ringrift.ai.game import DEFAULT_MAX_MOVES
from ringrift.config_defaults import DEFAULT_GAMES_PER_WORKER, DEFAULT_WORKERS


@dataclass(frozen=True)
class TournamentConfig:
    """The defaults of a round robin, one home for `run_tournament`'s and the CLI's."""

    games_per_pair: int = 10
    seed: int = 0
    max_moves: int = DEFAULT_MAX_MOVES
    workers: int = DEFAULT_WORKERS
    batch_size: int = DEFAULT_GAMES_PER_WORKER

"""Playing a planned set of games into a database, only those it does not hold yet.

Game `i` of the plan is stored under the fixed id `game_id(i)`, so a run killed midway (workers
finish out of order: it can leave gaps, not just a shorter prefix) resumes by playing exactly
the missing indices. Used by the loop's selfplay stage and its held-out test set.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ringrift.config_defaults import DEFAULT_GAMES_PER_WORKER, DEFAULT_WORKERS
from ringrift.selfplay.runner import SelfplayConfig
from ringrift.selfplay.workers import run_games


def play_missing_games(db, config: SelfplayConfig, planned: int, game_id: Callable[[int], str],
                       *, workers: int = DEFAULT_WORKERS, batch_size: int = DEFAULT_GAMES_PER_WORKER,
                       metadata: dict[str, Any] | None = None, backend: str = "local",
                       ray_address: str | None = None) -> Iterator[int]:
    """Play the games of 0..planned-1 whose ids `db` lacks, storing each as it finishes (its
    id set, `metadata` added); yield the number of planned games stored after each one. A
    network engine plays `batch_size` games at once per process, its leaf evaluations
    batched. The games are played on the executor's `backend` (local or Ray)."""
    stored = set(db.game_ids())
    missing = [i for i in range(planned) if game_id(i) not in stored]
    if not config.options.model_path:
        batch_size = 1  # only network games gain from batching
    games = run_games(config, missing, workers, batch_size=batch_size, backend=backend,
                      ray_address=ray_address)

    for count, record in enumerate(games, planned - len(missing) + 1):
        record.game_id = game_id(record.metadata["game_index"])
        record.metadata.update(metadata or {})
        db.add_game(record)
        yield count

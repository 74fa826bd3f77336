"""Running selfplay games on the executor (`ringrift.exec`): local processes or Ray actors.

A unit of work is up to `batch_size` consecutive game indices, played at once in one worker
(their leaf evaluations batched, see `selfplay.batched`). Games depend only on (config, index),
so the same seed gives the same games whatever the backend or worker count (up to floating-point
differences between network batch sizes); a worker that dies loses only its unit, which is
played again by another worker, so every index is played exactly once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from ringrift.config_defaults import DEFAULT_GAMES_PER_WORKER, DEFAULT_WORKERS
from ringrift.data.records import GameRecord
from ringrift.errors import ConfigError
from ringrift.exec import Executor, check_batch_size
from ringrift.selfplay.batched import play_batched
from ringrift.selfplay.runner import SelfplayConfig

if TYPE_CHECKING:
    from ringrift.exec.gpu_evaluator import ServiceHandle


def play_selfplay_unit(unit: tuple[SelfplayConfig, tuple[int, ...], int]) -> list[GameRecord]:
    """Play one unit, (config, indices, batch size), in this process; records in index order."""
    config, indices, batch_size = unit
    records = list(play_batched(config, indices, batch_size))
    return sorted(records, key=lambda r: r.metadata["game_index"])


def selfplay_units(config: SelfplayConfig, indices: Sequence[int], batch_size: int):
    """(first index, unit) jobs of `batch_size` consecutive indices each."""
    indices = list(indices)
    for k in range(0, len(indices), batch_size):
        chunk = tuple(indices[k:k + batch_size])
        yield chunk[0], (config, chunk, batch_size)


def run_games(config: SelfplayConfig, indices: Sequence[int], workers: int = DEFAULT_WORKERS, *,
              batch_size: int = DEFAULT_GAMES_PER_WORKER, backend: str = "local",
              ray_address: str | None = None, evaluator: ServiceHandle | None = None) -> Iterator[GameRecord]:
    """Yield finished games as they complete (in completion order with several workers).
    With `evaluator` (a running `exec.gpu_evaluator` service) every worker's network leaves go
    to that one shared network."""
    check_batch_size(batch_size)
    served_for = getattr(evaluator, "backend", "local")
    if evaluator is not None and served_for != backend:
        raise ConfigError("evaluator", f"serves backend {served_for}, the workers run on "
                                       f"backend {backend}")
    if backend == "local" and workers == 1:
        # in this process, one stream of games refilled as each finishes (no unit boundaries)
        if evaluator is not None:
            evaluator.install(0)
        yield from play_batched(config, list(indices), batch_size)
        return
    with Executor(workers, backend=backend, network=bool(config.options.model_path),
                  threads=config.options.threads or 1, ray_address=ray_address,
                  worker_init=None if evaluator is None else evaluator.install) as executor:
        for _, records in executor.unordered(play_selfplay_unit,
                                             selfplay_units(config, indices, batch_size)):
            yield from records

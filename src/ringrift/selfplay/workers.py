"""Running selfplay games in worker processes (or in-process for one worker)."""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Iterator

from ringrift.data.records import GameRecord
from ringrift.selfplay.runner import SelfplayConfig, play_selfplay_game

_CONFIG: SelfplayConfig | None = None


def _init(config: SelfplayConfig) -> None:
    global _CONFIG
    _CONFIG = config


def _play(index: int) -> GameRecord:
    assert _CONFIG is not None
    return play_selfplay_game(_CONFIG, index)


def run_games(config: SelfplayConfig, indices: range, workers: int) -> Iterator[GameRecord]:
    """Yield finished games as they complete (in completion order with several workers)."""
    if workers <= 1:
        for i in indices:
            yield play_selfplay_game(config, i)
        return
    ctx = mp.get_context("fork")
    with ctx.Pool(workers, initializer=_init, initargs=(config,)) as pool:
        yield from pool.imap_unordered(_play, indices, chunksize=1)

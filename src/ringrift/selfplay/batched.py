"""Batched selfplay: many games in one process, their leaf evaluations gathered into batches.

A process keeps `batch_size` games going (one pending leaf each, see
`ringrift.ai.search.batching`), so a network sees batches of `batch_size` positions; the
executor (`selfplay.workers`) runs such units side by side. Games are the same as the
unbatched runner's for the same (config, index): batching changes when a leaf is evaluated,
not what the search does (up to floating-point differences between batch sizes).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from ringrift.ai.search.batching import run_batched
from ringrift.data.records import GameRecord
from ringrift.selfplay.runner import SelfplayConfig, selfplay_game_steps


def play_batched(config: SelfplayConfig, indices: Sequence[int],
                 batch_size: int) -> Iterator[GameRecord]:
    """Play games `indices` in this process, `batch_size` at a time, yielding finished ones."""
    yield from run_batched((selfplay_game_steps(config, i) for i in indices), batch_size)

"""Shared by the executor tests: a small selfplay job and what its games were."""

from __future__ import annotations

from ringrift.selfplay.runner import SelfplayConfig


def heuristic_config(seed: int = 3) -> SelfplayConfig:
    """square8 2-player heuristic selfplay with some exploration (about 0.3-1 s a game)."""
    return SelfplayConfig("square8", 2, engine="heuristic", seed=seed,
                          temperature_schedule="constant")


def game_key(record) -> tuple:
    """What a game was: its index, seed, engines, moves and result (not its timings)."""
    return (record.metadata["game_index"], record.seed, tuple(record.engines),
            tuple(str(m.move) for m in record.moves), record.status, record.winner)


def by_index(records) -> dict[int, tuple]:
    """game index -> game_key; fails on an index played twice."""
    out: dict[int, tuple] = {}
    for record in records:
        index = record.metadata["game_index"]
        assert index not in out, f"game {index} was played twice"
        out[index] = game_key(record)
    return out

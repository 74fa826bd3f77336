"""Pairwise results between named participants, the input to Elo fitting.

A game of 2-4 players contributes one pairwise result per pair of seats, decided by final rank
(1 = best): the better rank wins, equal ranks draw. Seats held by the same participant give no
pair (a player cannot be compared with itself). Pairs from one multiplayer game are correlated,
so intervals fitted on them are somewhat too narrow.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class GameResult:
    """One finished game: participant names in seat order and their final ranks (1 = best)."""

    participants: tuple[str, ...]
    ranks: tuple[int, ...]


def pairwise_from_ranking(participants: Sequence[str],
                          ranks: Sequence[int]) -> list[tuple[str, str, float]]:
    """Decompose one game into (a, b, score of a) for every seat pair a before b."""
    if len(participants) != len(ranks):
        raise ValueError(f"{len(participants)} participants but {len(ranks)} ranks")
    pairs = []
    for i in range(len(participants)):
        for j in range(i + 1, len(participants)):
            if participants[i] == participants[j]:
                continue
            if ranks[i] < ranks[j]:
                score = 1.0
            elif ranks[i] > ranks[j]:
                score = 0.0
            else:
                score = 0.5
            pairs.append((participants[i], participants[j], score))
    return pairs


class PairwiseResults:
    """Accumulated head-to-head scores; participants are kept in first-seen order."""

    def __init__(self) -> None:
        self._index: dict[str, int] = {}
        self._score: dict[tuple[int, int], float] = {}  # points of i against j
        self._games: dict[tuple[int, int], int] = {}  # games between i and j, key i < j

    @classmethod
    def from_games(cls, games: Iterable[GameResult]) -> PairwiseResults:
        results = cls()
        for game in games:
            results.add_game(game.participants, game.ranks)
        return results

    @property
    def participants(self) -> list[str]:
        return list(self._index)

    def add_participant(self, name: str) -> int:
        """Make sure `name` is listed (even with no games yet); return its index."""
        return self._index.setdefault(name, len(self._index))

    def add(self, a: str, b: str, score_a: float) -> None:
        """Record one game between a and b; score_a is 1 (a won), 0.5 (draw) or 0 (b won)."""
        if a == b:
            raise ValueError(f"a participant cannot play itself: {a!r}")
        if score_a not in (0.0, 0.5, 1.0):
            raise ValueError(f"score must be 0, 0.5 or 1, got {score_a!r}")
        i, j = self.add_participant(a), self.add_participant(b)
        self._score[i, j] = self._score.get((i, j), 0.0) + score_a
        self._score[j, i] = self._score.get((j, i), 0.0) + 1.0 - score_a
        key = (min(i, j), max(i, j))
        self._games[key] = self._games.get(key, 0) + 1

    def add_game(self, participants: Sequence[str], ranks: Sequence[int]) -> None:
        """Record every pairwise result of one game (see `pairwise_from_ranking`)."""
        for name in participants:
            self.add_participant(name)
        for a, b, score in pairwise_from_ranking(participants, ranks):
            self.add(a, b, score)

    def matrices(self) -> tuple[np.ndarray, np.ndarray]:
        """(points, games): points[i, j] = score of i against j, games[i, j] = games between."""
        n = len(self._index)
        points = np.zeros((n, n))
        games = np.zeros((n, n))
        for (i, j), value in self._score.items():
            points[i, j] = value
        for (i, j), count in self._games.items():
            games[i, j] = games[j, i] = count
        return points, games

    def games_played(self, name: str) -> int:
        """Number of pairwise games involving `name`."""
        i = self._index[name]
        return sum(c for (a, b), c in self._games.items() if i in (a, b))

    def score(self, name: str) -> float:
        """Total points of `name` over all its pairwise games."""
        i = self._index[name]
        return sum(v for (a, _), v in self._score.items() if a == i)

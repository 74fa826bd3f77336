"""Uniform random player (seeded)."""

from __future__ import annotations

import random

from ringrift.ai.player import Decision
from ringrift.rules import GameState, Move


class RandomPlayer:
    name = "random"

    def __init__(self, seed: int = 0) -> None:
        self.rng = random.Random(seed)

    def new_game(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def choose(self, state: GameState, legal: list[Move]) -> Decision:
        return Decision(legal[self.rng.randrange(len(legal))])

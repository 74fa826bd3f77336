"""The player interface: choose a move for a state, optionally with search targets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ringrift.rules import GameState, Move


@dataclass
class Decision:
    """A chosen move, plus what a search can offer as training targets."""

    move: Move
    # search distribution over the legal moves (move, probability), or None
    policy: list[tuple[Move, float]] | None = None
    # value estimate per seat (index 0 = seat 1), or None
    value: list[float] | None = None


class Player(Protocol):
    """Anything that picks moves. `legal` is never empty and has more than one move."""

    name: str

    def choose(self, state: GameState, legal: list[Move]) -> Decision: ...

    def new_game(self, seed: int) -> None:
        """Reset per-game state (random generator, search tree) before a game."""
        ...

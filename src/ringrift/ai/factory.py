"""Building players from engine names, for selfplay and matches."""

from __future__ import annotations

from dataclasses import dataclass

from ringrift.ai.heuristic import HeuristicPlayer
from ringrift.ai.player import Player
from ringrift.ai.random_player import RandomPlayer
from ringrift.errors import UserError

BASIC_ENGINES = ("random", "heuristic")
ENGINES = (*BASIC_ENGINES, "mixed")


@dataclass
class EngineOptions:
    heuristic_profile: str | None = None
    heuristic_profile_path: str | None = None
    heuristic_epsilon: float = 0.0


def make_player(engine: str, board_type: str, num_players: int, seed: int,
                options: EngineOptions | None = None) -> Player:
    """A player for one of the basic engines (`mixed` picks one of these per game or seat)."""
    options = options or EngineOptions()
    if engine == "random":
        return RandomPlayer(seed)
    if engine == "heuristic":
        return HeuristicPlayer.for_board(board_type, num_players, seed=seed,
                                         profile=options.heuristic_profile,
                                         profile_path=options.heuristic_profile_path,
                                         epsilon=options.heuristic_epsilon)
    raise UserError(f"unknown engine {engine!r} (expected one of {', '.join(ENGINES)})")

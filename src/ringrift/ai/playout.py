"""Uniformly random playouts: the simplest player, used by benchmarks, tests and the demo."""

from __future__ import annotations

import random

from ringrift import rules
from ringrift.rules import GameState

DEFAULT_MAX_MOVES = 20000


def play_random_game(board_type: str, num_players: int, rng: random.Random,
                     max_moves: int = DEFAULT_MAX_MOVES) -> GameState:
    """Play one game with uniformly random moves (bookkeeping included) and return the end state."""
    state = rules.new_game(board_type, num_players)
    while not state.is_over and state.move_count < max_moves:
        moves = rules.legal_moves(state)
        rules.apply_move(state, moves[rng.randrange(len(moves))] if len(moves) > 1 else moves[0],
                         validate=False)
    return state

"""The RingRift rules engine (RULES.md): state, legal moves, move application, JSON.

Typical use:

    from ringrift import rules
    state = rules.new_game("square8", 2)
    while not state.is_over:
        move = rules.legal_moves(state)[0]
        rules.apply_move(state, move)
    rules.final_ranks(state), rules.outcome(state)
"""

from ringrift.rules.apply import apply_move, check_legal
from ringrift.rules.boards import Geometry, get_geometry
from ringrift.rules.errors import IllegalMoveError, RulesError
from ringrift.rules.movegen import legal_moves
from ringrift.rules.moves import Move
from ringrift.rules.serialize import move_from_json, move_to_json, state_from_json, state_to_json
from ringrift.rules.spec import BOARD_TYPES, BOARDS, PLAYER_COUNTS, BoardSpec, GameSpec
from ringrift.rules.state import GameState, new_game
from ringrift.rules.victory import final_ranks, outcome_values


def outcome(state: GameState) -> list[float]:
    """Value per seat (index 0 = seat 1) of a finished game: +1 first ... -1 last."""
    return outcome_values(final_ranks(state))


__all__ = [
    "BOARDS", "BOARD_TYPES", "PLAYER_COUNTS", "BoardSpec", "GameSpec", "GameState", "Geometry",
    "IllegalMoveError", "Move", "RulesError",
    "apply_move", "check_legal", "final_ranks", "get_geometry", "legal_moves", "move_from_json",
    "move_to_json", "new_game", "outcome", "state_from_json", "state_to_json",
]

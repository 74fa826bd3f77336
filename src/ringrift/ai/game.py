"""Playing one game between players: the loop every runner (selfplay, matches) shares."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ringrift import rules
from ringrift.ai.player import Decision, Player
from ringrift.rules import GameState, Move

DEFAULT_MAX_MOVES = 5000


@dataclass
class PlayedMove:
    move: Move
    player: int
    phase: str
    decision: Decision | None  # None for a forced move (the only legal move)
    think_time: float


@dataclass
class PlayedGame:
    initial_state: GameState
    final_state: GameState
    moves: list[PlayedMove] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def completed(self) -> bool:
        return self.final_state.is_over


def play_game(state: GameState, players: Sequence[Player], *,
              max_moves: int = DEFAULT_MAX_MOVES,
              on_move: Callable[[GameState, PlayedMove], None] | None = None) -> PlayedGame:
    """Play from `state` (not modified) with players[seat - 1] for each seat.

    A move that is the only legal one (usually bookkeeping) is applied without asking.
    """
    initial = state.copy()
    state = state.copy()
    game = PlayedGame(initial_state=initial, final_state=state)
    start = time.perf_counter()
    while not state.is_over and state.move_count - initial.move_count < max_moves:
        legal = rules.legal_moves(state)
        seat = state.current_player
        phase = state.phase
        if len(legal) == 1:
            played = PlayedMove(legal[0], seat, phase, None, 0.0)
        else:
            t0 = time.perf_counter()
            decision = players[seat - 1].choose(state, legal)
            played = PlayedMove(decision.move, seat, phase, decision, time.perf_counter() - t0)
        rules.apply_move(state, played.move, validate=False)
        game.moves.append(played)
        if on_move is not None:
            on_move(state, played)
    game.final_state = state
    game.seconds = time.perf_counter() - start
    return game

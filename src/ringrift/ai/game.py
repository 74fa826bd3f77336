"""Playing one game between players: the loop every runner (selfplay, matches) shares."""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from typing import Any

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


def play_game_steps(state: GameState, players: Sequence[Player], *,
                    max_moves: int = DEFAULT_MAX_MOVES,
                    on_move: Callable[[GameState, PlayedMove], None] | None = None,
                    use_steps: bool = True) -> Generator[Any, Any, PlayedGame]:
    """The one game loop, as a generator returning the PlayedGame.

    Players with `choose_steps` (search players) have their leaf requests yielded, so a caller
    can batch them across games (`ai.search.batching`); with `use_steps=False`, or for other
    players, `choose` is called directly and nothing is yielded. A move that is the only legal
    one (usually bookkeeping) is applied without asking. `state` is not modified.
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
            player = players[seat - 1]
            t0 = time.perf_counter()
            steps = getattr(player, "choose_steps", None) if use_steps else None
            decision = (yield from steps(state, legal)) if steps else player.choose(state, legal)
            # wall time: with batching it includes the wait for the batch
            played = PlayedMove(decision.move, seat, phase, decision, time.perf_counter() - t0)
        rules.apply_move(state, played.move, validate=False)
        game.moves.append(played)
        if on_move is not None:
            on_move(state, played)
    game.final_state = state
    game.seconds = time.perf_counter() - start
    # players that learn from their games (the online engine) hear how it ended
    for player in {id(p): p for p in players}.values():
        end_game = getattr(player, "end_game", None)
        if end_game is not None:
            end_game(state)
    return game


def play_game(state: GameState, players: Sequence[Player], *,
              max_moves: int = DEFAULT_MAX_MOVES,
              on_move: Callable[[GameState, PlayedMove], None] | None = None) -> PlayedGame:
    """Play from `state` (not modified) with players[seat - 1] for each seat, asking each
    player's `choose` directly (see `play_game_steps`)."""
    steps = play_game_steps(state, players, max_moves=max_moves, on_move=on_move,
                            use_steps=False)
    try:
        next(steps)
    except StopIteration as done:
        return done.value
    raise RuntimeError("play_game: a player yielded a request although asked directly")

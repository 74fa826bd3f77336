"""Batching leaf evaluations across games: one pending leaf per game, many games at once.

A search player's `choose_steps` is a generator of leaf requests (see `tree.run_simulations`);
`play_game_steps` is the game loop of `ringrift.ai.game.play_game` written the same way, so a
whole game is a generator of requests. `run_batched` keeps up to `concurrency` such generators
going and answers their pending requests together: one `evaluate` call per leaf evaluator per
round, so a network sees batches of (up to) `concurrency` positions.
"""

from __future__ import annotations

import time
from collections.abc import Generator, Iterable, Iterator, Sequence
from typing import Any

from ringrift import rules
from ringrift.ai.game import DEFAULT_MAX_MOVES, PlayedGame, PlayedMove
from ringrift.ai.player import Player
from ringrift.ai.search.tree import Evaluation, Request
from ringrift.rules import GameState


def play_game_steps(state: GameState, players: Sequence[Player], *,
                    max_moves: int = DEFAULT_MAX_MOVES
                    ) -> Generator[Request, Evaluation, PlayedGame]:
    """`play_game` as a generator: players with `choose_steps` have their leaf requests yielded,
    the others are asked directly. Same rules: forced moves are applied without asking."""
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
            steps = getattr(player, "choose_steps", None)
            decision = (yield from steps(state, legal)) if steps else player.choose(state, legal)
            # think time includes the wait for the batch: wall time, as play_game measures it
            played = PlayedMove(decision.move, seat, phase, decision, time.perf_counter() - t0)
        rules.apply_move(state, played.move, validate=False)
        game.moves.append(played)
    game.final_state = state
    game.seconds = time.perf_counter() - start
    return game


def run_batched(jobs: Iterable[Generator[Request, Evaluation, Any]],
                concurrency: int) -> Iterator[Any]:
    """Run request generators, at most `concurrency` at a time, answering all pending requests
    of a round together (grouped by leaf evaluator); yield each generator's return value when
    it finishes. The order is deterministic (it depends only on the jobs)."""
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    source = iter(jobs)
    active: list[tuple[Generator, Request]] = []
    exhausted = False
    while True:
        finished = []
        while not exhausted and len(active) < concurrency:
            job = next(source, None)
            if job is None:
                exhausted = True
                break
            try:
                active.append((job, next(job)))
            except StopIteration as stop:
                finished.append(stop.value)
        yield from finished
        if not active:
            return
        groups: dict[int, tuple[Any, list[int]]] = {}
        for i, (_, (evaluator, _, _)) in enumerate(active):
            groups.setdefault(id(evaluator), (evaluator, []))[1].append(i)
        answers: list[Evaluation | None] = [None] * len(active)
        for evaluator, members in groups.values():
            results = evaluator.evaluate([(active[i][1][1], active[i][1][2]) for i in members])
            for i, result in zip(members, results):
                answers[i] = result
        still = []
        finished = []
        for (job, _), answer in zip(active, answers):
            try:
                still.append((job, job.send(answer)))
            except StopIteration as stop:
                finished.append(stop.value)
        active = still
        yield from finished

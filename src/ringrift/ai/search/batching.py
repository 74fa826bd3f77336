"""Batching leaf evaluations across games: one pending leaf per game, many games at once.

A search player's `choose_steps` is a generator of leaf requests (see `tree.run_simulations`);
`ringrift.ai.game.play_game_steps` is the game loop written the same way, so a whole game is a
generator of requests. `run_batched` keeps up to `concurrency` such generators
going and answers their pending requests together: one `evaluate` call per leaf evaluator per
round, so a network sees batches of (up to) `concurrency` positions.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Iterator
from typing import Any

from ringrift.ai.search.tree import Evaluation, Request


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

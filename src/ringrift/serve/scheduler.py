"""`SearchPool`: one thread running many analyses at once, their leaf evaluations batched.

Each analysis is a generator of leaf requests (`serve.analysis`). Every round the pool takes the
pending request of every running analysis, groups them by leaf evaluator and answers each group
with one `evaluate` call, so concurrent requests share network batches (as
`ai.search.batching.run_batched` does for games, but with jobs arriving at any time). The
network and the search trees are touched by this thread only.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

Done = Callable[[Any], None]
Failed = Callable[[BaseException], None]
BatchObserver = Callable[[str, int, float], None]  # (evaluator kind, batch size, seconds)


@dataclass
class _Job:
    steps: Generator
    on_done: Done
    on_error: Failed
    request: Any = None


class SearchPool:
    """Runs submitted step generators to completion, at most `max_active` at a time."""

    def __init__(self, max_active: int = 64, on_batch: BatchObserver | None = None) -> None:
        if max_active < 1:
            raise ValueError("max_active must be at least 1")
        self.max_active = max_active
        self.on_batch = on_batch
        self._inbox: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._active: list[_Job] = []
        self._stopping = False
        self.rounds = 0
        self.evaluations = 0  # evaluate calls
        self.positions = 0  # positions evaluated
        self._thread = threading.Thread(target=self._run, name="search-pool", daemon=True)
        self._thread.start()

    def submit(self, steps: Generator, on_done: Done, on_error: Failed) -> None:
        """Run `steps`; `on_done(result)` or `on_error(exception)` is called from the pool
        thread when it finishes."""
        self._inbox.put(_Job(steps, on_done, on_error))

    @property
    def busy(self) -> int:
        """Jobs running or waiting (approximate: read without a lock)."""
        return len(self._active) + self._inbox.qsize()

    def close(self, timeout: float | None = None) -> None:
        """Finish the submitted jobs, then stop the thread."""
        self._inbox.put(None)
        self._thread.join(timeout)

    # ----------------------------------------------------------------- the pool thread

    def _take_new(self) -> None:
        block = not self._active
        while len(self._active) < self.max_active and not self._stopping:
            try:
                job = self._inbox.get(block=block)
            except queue.Empty:
                return
            block = False
            if job is None:
                self._stopping = True
                return
            self._advance(job, None, first=True)

    def _advance(self, job: _Job, answer: Any, first: bool = False) -> None:
        """Send `answer` (or start the job); keep it active if it asks for another leaf."""
        try:
            job.request = next(job.steps) if first else job.steps.send(answer)
        except StopIteration as stop:
            self._finish(job.on_done, stop.value)
            return
        except Exception as exc:  # a bug or a bad position: that request fails, not the pool
            self._finish(job.on_error, exc)
            return
        self._active.append(job)

    @staticmethod
    def _finish(callback: Callable[[Any], None], value: Any) -> None:
        try:
            callback(value)
        except Exception:  # a callback must not stop the pool (e.g. a closed output stream)
            pass

    def _run(self) -> None:
        while True:
            self._take_new()
            if not self._active:
                if self._stopping:
                    return
                continue
            self.rounds += 1
            jobs, self._active = self._active, []
            groups: dict[int, tuple[Any, list[_Job]]] = {}
            for job in jobs:
                evaluator = job.request[0]
                groups.setdefault(id(evaluator), (evaluator, []))[1].append(job)
            for evaluator, members in groups.values():
                start = time.perf_counter()
                try:
                    answers = evaluator.evaluate([(j.request[1], j.request[2]) for j in members])
                except Exception as exc:
                    for job in members:
                        job.steps.close()
                        self._finish(job.on_error, exc)
                    continue
                self.evaluations += 1
                self.positions += len(members)
                if self.on_batch is not None:
                    kind = "network" if hasattr(evaluator, "evaluator") else "heuristic"
                    self.on_batch(kind, len(members), time.perf_counter() - start)
                for job, answer in zip(members, answers):
                    self._advance(job, answer)

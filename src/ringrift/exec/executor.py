"""One executor for "play unit i of this job": local worker processes or Ray actors.

`Executor.ordered(fn, jobs)` runs `fn(task)` for a stream of (key, task) jobs and yields
(key, result) in job order, whatever order the workers finish in (evaluation: a gauntlet decides
after each game, in order). `Executor.unordered(fn, jobs)` yields them as they finish (selfplay:
every finished game is stored at once). Both keep a sliding window of up to 2N jobs ahead, each
sent to an idle worker in job order; a None task passes through as (key, None).

A caller that stops early closes the generator: jobs not yet sent are dropped and the results of
jobs still running are thrown away when they arrive, so an ordered caller stops at exactly the
job a sequential run would stop at. Workers only play: the caller does all database writes.

A worker that dies (killed, OOM, its Ray node lost) loses only the job it was playing: the
backend starts a replacement and the job is sent again, to the first idle worker. Each job's
result is taken once, so every job is played and counted exactly once. A job that kills
MAX_JOB_LOSSES workers in a row is not retried again (RuntimeError: it would kill them all).

With one worker on the local backend the tasks run in this process, one at a time, exactly as a
plain loop would (torch set to `threads` while a network game is played).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from ringrift.config_defaults import DEFAULT_WORKERS
from ringrift.errors import ConfigError

K = TypeVar("K")
T = TypeVar("T")
R = TypeVar("R")

BACKENDS = ("local", "ray")
MAX_JOB_LOSSES = 3


def check_workers(workers: int) -> None:
    """ConfigError unless `workers` is a usable worker count."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfigError("workers", f"must be at least 1, got {workers}")


def check_batch_size(batch_size: int) -> None:
    """ConfigError unless `batch_size` (games played at once per worker) is usable."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError("batch_size", f"must be at least 1, got {batch_size}")


def check_backend(backend: str, ray_address: str | None = None) -> None:
    """ConfigError unless `backend` is known and `ray_address` goes with the Ray backend."""
    if backend not in BACKENDS:
        raise ConfigError("backend", f"must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if ray_address is not None and backend != "ray":
        raise ConfigError("ray_address", "is only for the ray backend")


@dataclass(frozen=True)
class WorkerLoss:
    """A worker that died with a job: who, why, and who took its place."""

    worker: str  # e.g. "worker 0 (pid 123)"
    reason: str  # e.g. "killed by SIGKILL"
    replacement: str  # e.g. "worker 2"

    def __str__(self) -> str:
        return f"{self.worker} {self.reason}; started {self.replacement} in its place"


class Backend(Protocol):
    """Where the workers run. Events from `collect`: ("result", job, ok, value, worker label)
    for a finished job, ("lost", job, WorkerLoss) for a job whose worker died (replaced)."""

    def idle(self) -> list[int]: ...

    def send(self, slot: int, job: int, fn: Callable, task: Any) -> None: ...

    def collect(self, block: bool) -> list[tuple]: ...

    def close(self) -> None: ...


class Executor:
    """`workers` workers on `backend` ("local": processes of this machine, 1 runs everything in
    this process; "ray": one actor per worker, on the Ray cluster of `ray_address`, None starting
    a local Ray instance). `network=True` (some player uses a network) spawns local workers and
    sets torch in each to `threads` CPU threads; on Ray it also asks each actor for a share of
    the cluster's GPUs when it has some."""

    def __init__(self, workers: int = DEFAULT_WORKERS, *, backend: str = "local", network: bool = False,
                 threads: int = 1, window: int | None = None,
                 ray_address: str | None = None,
                 worker_init: Callable[[int], None] | None = None,
                 on_lost: Callable[[WorkerLoss], None] | None = None,
                 on_failure: Callable[[str, BaseException, str], None] | None = None,
                 max_job_losses: int | None = MAX_JOB_LOSSES,
                 start_method: str | None = None) -> None:
        check_workers(workers)
        check_backend(backend, ray_address)
        self.worker_init = worker_init  # run once in each worker, with its slot number
        self.on_lost = on_lost  # told each time a job is sent again (its worker died)
        # with on_failure, a job whose fn raised is not raised to the caller: on_failure(worker,
        # exception, traceback text) is told (it may raise to give up) and the job is sent again
        self.on_failure = on_failure
        self.max_job_losses = max_job_losses  # None: no limit (the caller has its own rule)
        self.start_method = start_method  # local workers: "fork"/"spawn" (None: decided here)
        self.workers = workers
        self.backend_name = backend
        self.network = network
        self.threads = max(1, threads)
        self.window = window or 2 * workers
        self.ray_address = ray_address
        self.lost_jobs = 0  # jobs sent again because their worker died (for reports, tests)
        self._backend: Backend | None = None
        self._active = False
        self._next_id = 0

    @classmethod
    def for_players(cls, specs: Iterable, workers: int = DEFAULT_WORKERS, *, backend: str = "local",
                    ray_address: str | None = None) -> Executor:
        """An executor for games between EngineSpecs: network workers when a model file is
        played by an engine other than random/heuristic, torch threads from the specs'
        `threads` option (default 1)."""
        from ringrift.ai.engines import BASIC_ENGINES

        specs = list(specs)
        network = any(s.model_path and s.engine not in BASIC_ENGINES for s in specs)
        return cls(workers, backend=backend, network=network, ray_address=ray_address,
                   threads=max((s.options.threads or 1 for s in specs), default=1))

    @property
    def in_process(self) -> bool:
        return self.backend_name == "local" and self.workers == 1

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the workers now (a game still being played is abandoned)."""
        if self._backend is not None:
            self._backend.close()
            self._backend = None

    def ordered(self, fn: Callable[[T], R], jobs: Iterable[tuple[K, T | None]]
                ) -> Iterator[tuple[K, R | None]]:
        """(key, fn(task)) for each job, in job order; a None task passes through as
        (key, None). `fn` must be a module-level function and the tasks picklable unless this
        runs in process. An exception raised by `fn` is raised here at that job's turn."""
        return self._stream(fn, jobs, in_order=True)

    def unordered(self, fn: Callable[[T], R], jobs: Iterable[tuple[K, T | None]]
                  ) -> Iterator[tuple[K, R | None]]:
        """(key, fn(task)) for each job as it finishes (in process: in job order)."""
        return self._stream(fn, jobs, in_order=False)

    # --- internals ------------------------------------------------------------------------------

    def _stream(self, fn: Callable, jobs: Iterable, in_order: bool) -> Iterator[tuple]:
        if self.in_process:
            if self.worker_init is not None:
                self.worker_init(0)
            for key, task in jobs:
                if task is None:
                    yield key, None
                    continue
                with torch_threads(self.threads if self.network else None):
                    result = fn(task)
                yield key, result
            return
        if self._active:
            raise RuntimeError("Executor: one stream at a time")
        self._active = True
        entries: deque[tuple[Any, int | None]] = deque()  # in job order; id None: pass-through
        unsent: deque[tuple[int, Any]] = deque()
        tasks: dict[int, Any] = {}  # every job sent or to send, until its result is taken
        results: dict[int, tuple[bool, Any]] = {}
        losses: dict[int, int] = {}
        source = iter(jobs)
        exhausted = False

        def take(events: list[tuple]) -> None:
            for event in events:
                if event[0] == "result":
                    _, job, ok, value, worker = event
                    if job not in tasks or job in results:  # each job's result once
                        continue
                    if not ok and self.on_failure is not None:
                        self.on_failure(worker, *value)
                        unsent.appendleft((job, tasks[job]))
                        continue
                    results[job] = (ok, value)
                elif event[1] in tasks and event[1] not in results:  # "lost": send it again
                    job, reason = event[1], event[2]
                    losses[job] = losses.get(job, 0) + 1
                    if self.max_job_losses is not None and losses[job] >= self.max_job_losses:
                        raise RuntimeError(f"a job killed {losses[job]} workers in a row "
                                           f"(last: {reason}); not retried")
                    self.lost_jobs += 1
                    unsent.appendleft((job, tasks[job]))
                    if self.on_lost is not None:
                        self.on_lost(reason)

        try:
            while True:
                while not exhausted and len(tasks) < self.window and \
                        len(entries) < 4 * self.window:
                    try:
                        key, task = next(source)
                    except StopIteration:
                        exhausted = True
                        break
                    if task is None:
                        entries.append((key, None))
                        continue
                    job = self._next_id  # unique across streams: a closed stream's late
                    self._next_id += 1   # results can never be taken for another's jobs
                    entries.append((key, job))
                    unsent.append((job, task))
                    tasks[job] = task
                if self._backend is None:
                    self._backend = self._start_backend()
                take(self._backend.collect(block=False))
                for slot in self._backend.idle():
                    if not unsent:
                        break
                    job, task = unsent.popleft()
                    self._backend.send(slot, job, fn, task)
                if not entries:
                    return
                ready = self._ready(entries, results, in_order)
                if ready is None:
                    take(self._backend.collect(block=True))
                    continue
                key, job = ready
                if job is None:
                    yield key, None
                    continue
                del tasks[job]
                ok, value = results.pop(job)
                if not ok:
                    exc, text = value
                    raise exc from RemoteTraceback(text)
                yield key, value
        finally:
            self._active = False

    @staticmethod
    def _ready(entries: deque, results: dict, in_order: bool) -> tuple | None:
        """Take the next entry to yield: the first one in order, else any finished one."""
        if in_order:
            key, job = entries[0]
            if job is None or job in results:
                entries.popleft()
                return key, job
            return None
        for i, (key, job) in enumerate(entries):
            if job is None or job in results:
                del entries[i]
                return key, job
        return None

    def _start_backend(self) -> Backend:
        if self.backend_name == "ray":
            from ringrift.exec.ray_backend import RayBackend

            return RayBackend(self.workers, network=self.network, threads=self.threads,
                              address=self.ray_address, worker_init=self.worker_init)
        from ringrift.exec.local import LocalBackend

        return LocalBackend(self.workers, network=self.network, threads=self.threads,
                            worker_init=self.worker_init, start_method=self.start_method)


def torch_threads(threads: int | None):
    """A context running torch with `threads` CPU threads (None: unchanged)."""
    if threads is None:
        return nullcontext()
    return _set_torch_threads(threads)


@contextmanager
def _set_torch_threads(threads: int):
    import torch

    before = torch.get_num_threads()
    if before != threads:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        if before != threads:
            torch.set_num_threads(before)


class RemoteTraceback(Exception):
    """The traceback of an exception raised in a worker (shown as the cause)."""

    def __str__(self) -> str:
        return self.args[0]

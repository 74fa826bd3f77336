"""Worker processes for evaluation games, with results handed back strictly in order.

`GamePool.ordered(fn, jobs)` runs `fn(task)` for a stream of (key, task) jobs and yields
(key, result) in the order of the jobs, whatever order the workers finish in. With one worker
the tasks run in this process, one at a time, exactly as a plain loop would. With N workers the
pool keeps a sliding window of up to 2N jobs ahead of the one the caller waits for, each sent to
an idle worker in job order; finished results wait in the parent until their turn.

A caller that stops early (a decided gauntlet match) closes the generator: jobs not yet sent are
dropped, and the results of jobs still running are thrown away when they arrive. So a caller
that decides after each result, in order, stops at exactly the job a sequential run would stop
at, and counts nothing beyond it. Workers only play: the parent does all database writes.

Workers are forked when that is safe (Linux, this process single-threaded, no network player:
torch's thread pools hang in a forked child of a process that used them, and CUDA cannot start
there) and spawned otherwise. Each worker limits torch to `threads` CPU threads, ignores Ctrl-C
(the parent handles it and stops the workers), and exits if the parent dies. With one worker and
network players, torch runs with the same `threads` while a game is played (restored after), so
the numbers, and so the games, are the same as in the workers; one thread is also much faster
for single-position inference on a busy machine (torch's spinning threads).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from multiprocessing.connection import wait
from typing import Any, TypeVar

from ringrift.errors import UserError

K = TypeVar("K")
T = TypeVar("T")
R = TypeVar("R")


def check_workers(workers: int) -> None:
    """UserError unless `workers` is a usable process count."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise UserError(f"--workers must be at least 1, got {workers}")


def check_batch_size(batch_size: int) -> None:
    """UserError unless `batch_size` (games played at once per worker) is usable."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise UserError(f"--batch-size must be at least 1, got {batch_size}")


class _Worker:
    def __init__(self, process, conn) -> None:
        self.process = process
        self.conn = conn
        self.job: int | None = None  # id of the job it is playing


class GamePool:
    """`workers` processes (started on first use); 1 runs everything in this process.

    `network=True` (some player uses a network) spawns the workers and sets torch in each to
    `threads` CPU threads.
    """

    def __init__(self, workers: int = 1, *, network: bool = False, threads: int = 1,
                 window: int | None = None) -> None:
        check_workers(workers)
        self.workers = workers
        self.network = network
        self.threads = max(1, threads)
        self.window = window or 2 * workers
        self._procs: list[_Worker] = []
        self._wanted: set[int] = set()  # ids of jobs whose results the active caller awaits
        self._results: dict[int, tuple[bool, Any]] = {}
        self._next_id = 0
        self._active = False

    @classmethod
    def for_players(cls, specs: Iterable, workers: int = 1) -> GamePool:
        """A pool for games between EngineSpecs: spawned with network players (a model file
        played by an engine other than random/heuristic), torch threads from the specs'
        `threads` option (default 1)."""
        from ringrift.ai.factory import BASIC_ENGINES

        specs = list(specs)
        network = any(s.model_path and s.engine not in BASIC_ENGINES for s in specs)
        return cls(workers, network=network,
                   threads=max((s.options.threads or 1 for s in specs), default=1))

    def __enter__(self) -> GamePool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def ordered(self, fn: Callable[[T], R], jobs: Iterable[tuple[K, T | None]]
                ) -> Iterator[tuple[K, R | None]]:
        """(key, fn(task)) for each job, in job order; a None task passes through as
        (key, None) without running anything. `fn` must be a module-level function and the
        tasks picklable when there are several workers. An exception raised by `fn` is raised
        here at that job's turn. Close the generator to stop early (see the module docstring).
        """
        if self.workers == 1:
            for key, task in jobs:
                if task is None:
                    yield key, None
                    continue
                with _torch_threads(self.threads if self.network else None):
                    result = fn(task)
                yield key, result
            return
        if self._active:
            raise RuntimeError("GamePool.ordered: one stream at a time")
        self._active = True
        entries: deque[tuple[K, int | None]] = deque()  # in job order; id None: pass-through
        unsent: deque[tuple[int, T]] = deque()
        running = 0  # jobs of this stream sent or waiting, not yet yielded
        source = iter(jobs)
        exhausted = False
        try:
            while True:
                while not exhausted and running < self.window and \
                        len(entries) < 4 * self.window:
                    try:
                        key, task = next(source)
                    except StopIteration:
                        exhausted = True
                        break
                    if task is None:
                        entries.append((key, None))
                        continue
                    job = self._next_id
                    self._next_id += 1
                    self._wanted.add(job)
                    entries.append((key, job))
                    unsent.append((job, task))
                    running += 1
                if self._procs:
                    self._collect(block=False)  # free workers that have finished
                if unsent:
                    self._send(fn, unsent)
                if not entries:
                    return
                key, job = entries[0]
                if job is None:
                    entries.popleft()
                    yield key, None
                    continue
                if job in self._results:
                    entries.popleft()
                    running -= 1
                    self._wanted.discard(job)
                    ok, value = self._results.pop(job)
                    if not ok:
                        exc, text = value
                        raise exc from _RemoteTraceback(text)
                    yield key, value
                    continue
                self._collect(block=True)
        finally:
            # stopped early (or done): unsent jobs are dropped, running ones' results ignored
            self._wanted.clear()
            self._results.clear()
            self._active = False

    def close(self) -> None:
        """Stop the workers now (a game still being played is abandoned)."""
        for w in self._procs:
            if w.process.is_alive():
                w.process.terminate()
        for w in self._procs:
            w.process.join(5)
            if w.process.is_alive():
                w.process.kill()
                w.process.join()
            w.conn.close()
        self._procs = []

    # --- internals ------------------------------------------------------------------------------

    def _start(self) -> None:
        fork = (not self.network and sys.platform.startswith("linux")
                and _thread_count() == 1)
        ctx = mp.get_context("fork" if fork else "spawn")
        for _ in range(self.workers):
            parent_end, child_end = ctx.Pipe()
            process = ctx.Process(target=_worker_main,
                                  args=(child_end, self.threads, os.getpid(), self.network),
                                  daemon=True, name="ringrift-eval-worker")
            process.start()
            child_end.close()
            self._procs.append(_Worker(process, parent_end))

    def _send(self, fn: Callable, unsent: deque) -> None:
        """Hand unsent jobs, in order, to idle workers."""
        if not self._procs:
            self._start()
        for w in self._procs:
            if not unsent:
                return
            if w.job is None:
                job, task = unsent.popleft()
                w.conn.send((job, fn, task))
                w.job = job

    def _collect(self, block: bool) -> None:
        """Take the results of finished jobs (with `block`, wait for at least one), keeping
        those still wanted."""
        busy = {w.conn: w for w in self._procs if w.job is not None}
        if not busy:
            if block:
                raise RuntimeError("GamePool: waiting on a job that no worker is playing")
            return
        for conn in wait(list(busy), None if block else 0):
            w = busy[conn]
            try:
                job, ok, value = conn.recv()
            except (EOFError, OSError):
                w.process.join(1)
                raise RuntimeError(f"an evaluation worker died (exit code "
                                   f"{w.process.exitcode})") from None
            w.job = None
            if job in self._wanted:
                self._results[job] = (ok, value)


def _torch_threads(threads: int | None):
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


class _RemoteTraceback(Exception):
    """The traceback of an exception raised in a worker (shown as the cause)."""

    def __str__(self) -> str:
        return self.args[0]


def _thread_count() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return threading.active_count()


def _worker_main(conn, threads: int, parent_pid: int, network: bool) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    if network or "torch" in sys.modules:
        import torch

        torch.set_num_threads(threads)
    threading.Thread(target=_exit_with_parent, args=(parent_pid,), daemon=True).start()
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        job, fn, task = message
        try:
            reply = (job, True, fn(task))
        except BaseException as exc:  # reported to the parent, raised there in order
            reply = (job, False, (exc, "".join(traceback.format_exception(exc))))
        try:
            conn.send(reply)
        except Exception as exc:  # an unpicklable result or exception: send text instead
            text = reply[2][1] if not reply[1] else f"unpicklable result: {exc!r}"
            conn.send((job, False, (RuntimeError("evaluation worker failed"), text)))


def _exit_with_parent(parent_pid: int) -> None:
    """A killed parent leaves no worker behind (forked workers never see their pipe close)."""
    while True:
        time.sleep(1.0)
        if os.getppid() != parent_pid:
            os._exit(1)

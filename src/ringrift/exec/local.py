"""The local backend: worker processes on this machine, one pipe each.

Workers are forked when that is safe (Linux, this process single-threaded, no network player:
torch's thread pools hang in a forked child of a process that used them, and CUDA cannot start
there) and spawned otherwise. Each worker limits torch to `threads` CPU threads, ignores Ctrl-C
(the parent handles it and stops the workers), and exits if the parent dies. A worker whose pipe
closes (killed, crashed) is replaced at once and its job reported lost (the executor resends it).
"""

from __future__ import annotations

import itertools
import multiprocessing as mp
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from multiprocessing.connection import wait
from typing import Any

from ringrift.exec.executor import WorkerLoss


class _Worker:
    def __init__(self, process, conn, number: int) -> None:
        self.process = process
        self.conn = conn
        self.number = number  # unique in this backend: a replacement gets a new one
        self.job: int | None = None  # id of the job it is playing

    @property
    def label(self) -> str:
        return f"worker {self.number} (pid {self.process.pid})"


class LocalBackend:
    """`workers` processes, started now."""

    def __init__(self, workers: int, *, network: bool = False, threads: int = 1,
                 worker_init: Callable[[int], None] | None = None,
                 start_method: str | None = None) -> None:
        self.network = network
        self.threads = threads
        self.worker_init = worker_init
        fork = not network and sys.platform.startswith("linux") and _thread_count() == 1
        self._ctx = mp.get_context(start_method or ("fork" if fork else "spawn"))
        self._numbers = itertools.count()
        self._procs: list[_Worker] = [self._launch(slot) for slot in range(workers)]

    def _launch(self, slot: int) -> _Worker:
        parent_end, child_end = self._ctx.Pipe()
        process = self._ctx.Process(target=_worker_main,
                                    args=(child_end, self.threads, os.getpid(), self.network,
                                          self.worker_init, slot),
                                    daemon=True, name="ringrift-worker")
        process.start()
        child_end.close()
        return _Worker(process, parent_end, next(self._numbers))

    def idle(self) -> list[int]:
        return [i for i, w in enumerate(self._procs) if w.job is None]

    def send(self, slot: int, job: int, fn: Callable, task: Any) -> None:
        w = self._procs[slot]
        w.job = job
        try:
            w.conn.send((job, fn, task))
        except (BrokenPipeError, ConnectionResetError, EOFError):
            pass  # it died meanwhile: its pipe reads EOF in collect, which replaces it

    def collect(self, block: bool) -> list[tuple]:
        """Finished and lost jobs (with `block`, wait for at least one)."""
        busy = {w.conn: i for i, w in enumerate(self._procs) if w.job is not None}
        if not busy:
            if block:
                raise RuntimeError("executor: waiting on a job that no worker is playing")
            return []
        events: list[tuple] = []
        for conn in wait(list(busy), None if block else 0):
            slot = busy[conn]
            w = self._procs[slot]
            try:
                job, ok, value = conn.recv()
            except (EOFError, OSError):
                w.process.join(1)
                reason = _exit_reason(w.process.exitcode)
                conn.close()
                self._procs[slot] = new = self._launch(slot)
                events.append(("lost", w.job, WorkerLoss(w.label, reason, f"worker {new.number}")))
                continue
            w.job = None
            events.append(("result", job, ok, value, w.label))
        return events

    def close(self) -> None:
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

    def pids(self) -> list[int]:
        """The workers' process ids (tests kill one)."""
        return [w.process.pid for w in self._procs]


def _exit_reason(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            pass
    return f"exited with status {exitcode} without reporting"


def _thread_count() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return threading.active_count()


def _worker_main(conn, threads: int, parent_pid: int, network: bool,
                 worker_init: Callable[[int], None] | None = None, slot: int = 0) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # (not a forking parent's handler)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    if network or "torch" in sys.modules:
        import torch

        torch.set_num_threads(threads)
    threading.Thread(target=_exit_with_parent, args=(parent_pid,), daemon=True).start()
    if worker_init is not None:
        worker_init(slot)
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
            conn.send((job, False, (RuntimeError("worker failed"), text)))


def _exit_with_parent(parent_pid: int) -> None:
    """A killed parent leaves no worker behind (forked workers never see their pipe close)."""
    while True:
        time.sleep(1.0)
        if os.getppid() != parent_pid:
            os._exit(1)

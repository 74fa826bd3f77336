"""The Ray backend: one actor per worker, on a local Ray instance or a cluster.

`address` None starts a local Ray instance in this process (kept for the life of the process,
so the executors of one command share it); "auto" or "HOST:PORT" joins a running cluster
(`ray start --head` on one machine, `ray start --address HOST:PORT` on the others; every machine
needs this package installed). Each actor holds its own players (and so its network, cached by
model path) for as long as it lives. Actors take `threads` CPUs each and, when the cluster has
GPUs and the players use a network, an equal share of them (fractional `num_gpus`).

An actor counts as idle only once it has answered a ping, so a replacement that cannot be
placed yet (its node's CPUs are taken) never holds a job: the surviving actors play on. An actor
whose call fails with a Ray system error (its process or node died) is replaced and its job
reported lost; an exception raised by the game itself is handed back as the job's result.
"""

from __future__ import annotations

import logging
import os
import time
import traceback
from collections.abc import Callable
from typing import Any

from ringrift.errors import ConfigError
from ringrift.exec.executor import WorkerLoss

MAX_REPLACEMENTS = 100  # actors that die before playing anything must not be replaced forever
NEVER_STARTED_BACKOFF_S = 1.0


class GameActor:
    """A worker: plays `fn(task)` units, one at a time."""

    def __init__(self, threads: int, network: bool,
                 worker_init: Callable[[int], None] | None = None, slot: int = 0) -> None:
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(threads)
        if network:
            import torch

            torch.set_num_threads(threads)
        if worker_init is not None:
            worker_init(slot)

    def ready(self) -> int:
        return os.getpid()

    def run(self, fn: Callable, task: Any) -> tuple[bool, Any]:
        try:
            return True, fn(task)
        except BaseException as exc:  # handed back as the job's result, raised in order
            return False, (exc, "".join(traceback.format_exception(exc)))


def connect(address: str | None, min_cpus: int = 1) -> None:
    """Join the Ray cluster at `address` ("auto", HOST:PORT), or start a local instance (None)
    with at least `min_cpus` CPUs; nothing when this process is connected already."""
    import ray

    if ray.is_initialized():
        return
    options: dict[str, Any] = {"logging_level": logging.WARNING, "log_to_driver": True}
    if address not in (None, "auto"):
        check_reachable(address)  # (Ray itself retries an unreachable address for minutes)
    try:
        if address is None:
            # "local": never attach to a cluster someone else started on this machine
            ray.init(address="local", include_dashboard=False,
                     num_cpus=max(os.cpu_count() or 1, min_cpus), **options)
        else:
            ray.init(address=address, **options)
    except (ConnectionError, ValueError, RuntimeError) as exc:
        raise ConfigError("ray_address", f"{address}: cannot connect to a Ray cluster "
                          f"({' '.join(str(exc).split())[:200]})") from None


def check_reachable(address: str, timeout_s: float = 5.0) -> None:
    """ConfigError unless `address` is HOST:PORT with something listening there."""
    import socket

    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError("ray_address", f"must be 'auto' or HOST:PORT, got {address!r}")
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise ConfigError("ray_address",
                          f"{address}: no Ray cluster there ({exc.strerror or exc})") from None


class RayBackend:
    """`workers` actors, created now."""

    def __init__(self, workers: int, *, network: bool = False, threads: int = 1,
                 address: str | None = None,
                 worker_init: Callable[[int], None] | None = None) -> None:
        import ray

        connect(address, workers * threads)
        # (with a worker_init, the shared evaluator actors hold the GPUs, not the workers)
        gpus = ray.cluster_resources().get("GPU", 0.0) if network and not worker_init else 0.0
        num_gpus = min(1.0, gpus / workers) if gpus else 0
        self._actor_class = ray.remote(GameActor).options(
            num_cpus=threads, num_gpus=num_gpus, max_restarts=0, max_concurrency=1)
        self.threads = threads
        self.network = network
        self.worker_init = worker_init
        self.replacements = 0
        self._actors: list[Any] = []
        self._ready: list[bool] = []
        self._jobs: list[int | None] = []
        self._pings: dict[Any, int] = {}  # ping ref -> slot
        self._pending: dict[Any, tuple[int, int]] = {}  # run ref -> (slot, job)
        for _ in range(workers):
            self._actors.append(None)
            self._ready.append(False)
            self._jobs.append(None)
            self._launch(len(self._actors) - 1)

    def _launch(self, slot: int) -> None:
        actor = self._actor_class.remote(self.threads, self.network, self.worker_init, slot)
        self._actors[slot] = actor
        self._ready[slot] = False
        self._jobs[slot] = None
        self._pings[actor.ready.remote()] = slot

    def _replace(self, slot: int, reason: str) -> None:
        import ray

        self.replacements += 1
        if self.replacements > MAX_REPLACEMENTS:
            raise RuntimeError(f"Ray workers keep dying ({self.replacements} replaced; last: "
                               f"{reason})")
        try:
            ray.kill(self._actors[slot], no_restart=True)
        except Exception:  # already gone with its node
            pass
        self._launch(slot)

    def idle(self) -> list[int]:
        return [s for s in range(len(self._actors)) if self._ready[s] and self._jobs[s] is None]

    def send(self, slot: int, job: int, fn: Callable, task: Any) -> None:
        self._jobs[slot] = job
        self._pending[self._actors[slot].run.remote(fn, task)] = (slot, job)

    def collect(self, block: bool) -> list[tuple]:
        import ray
        from ray.exceptions import RayError, RayTaskError

        refs = [*self._pending, *self._pings]
        if not refs:
            if block:
                raise RuntimeError("executor: waiting on a job that no worker is playing")
            return []
        done, _ = ray.wait(refs, num_returns=1, timeout=1.0 if block else 0)
        while block and not done:  # (in slices: a stop signal's handler runs in between)
            done, _ = ray.wait(refs, num_returns=1, timeout=1.0)
        if done:
            done, _ = ray.wait(refs, num_returns=len(refs), timeout=0)
        events: list[tuple] = []
        for ref in done:
            if ref in self._pings:
                slot = self._pings.pop(ref)
                try:
                    ray.get(ref)
                    self._ready[slot] = True
                except RayError as exc:
                    # it never started (placed on a node that is dying, say): wait a little
                    # before the next try, or a lost node's slot is retried in a tight loop
                    # until Ray has noticed the node is gone
                    time.sleep(NEVER_STARTED_BACKOFF_S)
                    self._replace(slot, _describe(exc))
                continue
            slot, job = self._pending.pop(ref)
            try:
                ok, value = ray.get(ref)
            except RayTaskError as exc:  # (run catches everything: a failure of Ray's own)
                ok, value = False, (RuntimeError("Ray worker failed"), str(exc))
            except RayError as exc:  # the actor, its process or its node died
                self._replace(slot, _describe(exc))
                events.append(("lost", job, WorkerLoss(f"Ray actor {slot}", _describe(exc),
                                                       f"Ray actor {slot} (new)")))
                continue
            self._jobs[slot] = None
            events.append(("result", job, ok, value, f"Ray actor {slot}"))
        return events

    def close(self) -> None:
        import ray

        for actor in self._actors:
            try:
                ray.kill(actor, no_restart=True)
            except Exception:  # its node is gone
                pass
        self._actors, self._pings, self._pending = [], {}, {}


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())[:160]}"

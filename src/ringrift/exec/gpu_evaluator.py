"""One network evaluator per machine, shared by all selfplay workers (KataGo's NN server).

`EvaluatorService` runs the network in a process of its own (on CUDA when present, else on the
CPU: the same code path). Workers send leaf batches (encoded features, globals, legal move
indices) through one request queue; the service gathers requests until it holds `batch_size`
positions or `max_wait_s` has passed since the first, evaluates them in one network call, and
answers each worker on its own response queue. In a worker, `RemoteEvaluator` stands in for
`nn.inference.Evaluator` (same `evaluate_arrays`), installed in the process's model cache, so the
search players use it without knowing.

On the local backend the queues are multiprocessing queues handed to worker processes when they
start (the executor's `worker_init`). On Ray, `RayEvaluatorService` starts one `EvaluatorActor`
per node (an asyncio actor gathering the calls of that node's workers; `num_gpus=1` where the node
has a GPU), and each worker actor sends its leaves to the evaluator of its own node.
"""

from __future__ import annotations

import itertools
import multiprocessing as mp
import queue as queue_mod
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ringrift.errors import ConfigError, UserError
from ringrift.exec.evaluator_settings import BATCH_SIZE, MAX_WAIT_S


@dataclass
class EvaluatorStats:
    batches: int = 0
    positions: int = 0
    requests: int = 0
    seconds: float = 0.0  # in the network


def _serve(model_path: str, device: str, amp: bool, batch_size: int, max_wait_s: float,
           threads: int, requests, responses: Sequence, info) -> None:
    """The service process: load the network, then batch requests until a None arrives."""
    import signal

    import torch

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us
    torch.set_num_threads(threads)  # (CPU: torch's spinning threads crawl on a busy machine)
    try:
        from ringrift.nn.inference import Evaluator

        evaluator = Evaluator.from_checkpoint(model_path, device=device, amp=amp,
                                              max_batch=batch_size)
    except Exception as exc:  # the parent raises it
        info.put(("error", f"{type(exc).__name__}: {exc}"))
        return
    info.put(("ready", evaluator.config, evaluator.metadata, str(evaluator.device)))
    stats = EvaluatorStats()
    stopping = False
    while not stopping:
        first = requests.get()
        if first is None:
            break
        batch = [first]
        rows = len(first[2])
        deadline = time.monotonic() + max_wait_s
        while rows < batch_size:
            wait = deadline - time.monotonic()
            try:
                item = requests.get(timeout=wait) if wait > 0 else requests.get_nowait()
            except queue_mod.Empty:
                break
            if item is None:
                stopping = True
                break
            batch.append(item)
            rows += len(item[2])
        start = time.perf_counter()
        features = np.concatenate([b[2] for b in batch])
        globals_ = np.concatenate([b[3] for b in batch])
        legal = [idx for b in batch for idx in b[4]]
        probs, values = evaluator.evaluate_arrays(features, globals_, legal)
        stats.seconds += time.perf_counter() - start
        stats.batches += 1
        stats.positions += rows
        stats.requests += len(batch)
        offset = 0
        for client, request_id, f, _, _ in batch:
            n = len(f)
            responses[client].put((request_id, probs[offset:offset + n],
                                   values[offset:offset + n]))
            offset += n
    info.put(("stats", stats))


class RemoteEvaluator:
    """A worker's handle on the service: `evaluate_arrays` as `nn.inference.Evaluator`'s."""

    def __init__(self, client: int, requests, responses, config, metadata: dict[str, Any],
                 device: str) -> None:
        self.client = client
        self.requests = requests
        self.responses = responses
        self.config = config
        self.metadata = metadata
        self.device = device
        self._ids = itertools.count()

    @property
    def num_players(self) -> int:
        return self.config.num_players

    @property
    def policy_size(self) -> int:
        return self.config.policy_size

    def evaluate_arrays(self, features: np.ndarray, globals_: np.ndarray,
                        legal_indices: Sequence[np.ndarray]
                        ) -> tuple[list[np.ndarray], np.ndarray]:
        request_id = next(self._ids)
        self.requests.put((self.client, request_id, np.asarray(features, dtype=np.float32),
                           np.asarray(globals_, dtype=np.float32),
                           [np.asarray(i, dtype=np.int64) for i in legal_indices]))
        while True:
            got_id, probs, values = self.responses.get()
            if got_id == request_id:  # (an answer to a request of a replaced worker: dropped)
                return probs, values

    def evaluate_states(self, states):
        from ringrift.nn.inference import Evaluator

        return Evaluator.evaluate_states(self, states)  # (uses evaluate_arrays only)


@dataclass
class ServiceHandle:
    """What a worker needs to reach the service (picklable into worker processes)."""

    model_path: str
    requests: Any
    responses: list
    config: Any
    metadata: dict[str, Any]
    device: str
    backend: str = "local"

    def install(self, slot: int) -> None:
        """In worker `slot`: play `model_path` through the service (model cache entry)."""
        from ringrift.ai.model_cache import share_evaluator

        share_evaluator(self.model_path, RemoteEvaluator(
            slot, self.requests, self.responses[slot], self.config, self.metadata, self.device))


def _check_batching(batch_size: int, max_wait_s: float) -> None:
    """ConfigError for an unusable batch size or wait. The fields are named gpu_batch_size and
    gpu_max_wait_s: a selfplay `batch_size` is another setting (games per worker)."""
    if batch_size < 1:
        raise ConfigError("gpu_batch_size", f"must be at least 1, got {batch_size}")
    if max_wait_s < 0:
        raise ConfigError("gpu_max_wait_s", "must be at least 0")


class EvaluatorService:
    """The service process and its queues, for `clients` workers (a context manager)."""

    def __init__(self, model_path: str, clients: int, *, device: str = "auto",
                 amp: bool = False, batch_size: int = BATCH_SIZE, max_wait_s: float = MAX_WAIT_S,
                 threads: int = 1) -> None:
        _check_batching(batch_size, max_wait_s)
        from ringrift.exec.gpu_scaling import (
            bytes_per_position,
            cuda_properties,
            gpu_datagen_disabled,
            scaled_batch_size,
        )

        if gpu_datagen_disabled():
            device = "cpu"
        self.requested_batch_size = batch_size
        self.max_wait_s = max_wait_s
        self.threads = max(1, threads)
        self._ctx = mp.get_context("spawn")  # torch and CUDA are not fork-safe
        self._requests = self._ctx.Queue()
        self._responses = [self._ctx.Queue() for _ in range(clients)]
        self._info = self._ctx.Queue()
        self.stats: EvaluatorStats | None = None
        self.model_path, self.device, self.amp = model_path, device, amp
        name, memory = cuda_properties(None if device == "auto" else device)
        self._scale = (name, memory, bytes_per_position, scaled_batch_size)
        self.batch_size = batch_size
        self._process = None
        self.handle: ServiceHandle | None = None

    def start(self) -> ServiceHandle:
        name, memory, per_position, scaled = self._scale
        if name is not None:  # sized from the network once we know it: read its header here
            from ringrift.nn.models import load_model

            model, _ = load_model(self.model_path)
            c = model.config
            self.batch_size = scaled(self.requested_batch_size, gpu_name=name,
                                     total_memory_gb=memory,
                                     position_bytes=per_position(c.channels, c.blocks,
                                                                 c.height, c.width))
            del model
        self._process = self._ctx.Process(
            target=_serve, daemon=True, name="ringrift-gpu-evaluator",
            args=(self.model_path, self.device, self.amp, self.batch_size, self.max_wait_s,
                  self.threads, self._requests, self._responses, self._info))
        self._process.start()
        message = self._info.get(timeout=300)
        if message[0] == "error":
            self._process.join(5)
            raise UserError(f"GPU evaluator for {self.model_path}: {message[1]}")
        _, config, metadata, device = message
        self.handle = ServiceHandle(self.model_path, self._requests, self._responses, config,
                                    metadata, device)
        return self.handle

    def close(self) -> EvaluatorStats | None:
        """Stop the service; its statistics (batches, positions)."""
        if self._process is None:
            return self.stats
        if self._process.is_alive():
            self._requests.put(None)
            try:
                message = self._info.get(timeout=30)
                if message[0] == "stats":
                    self.stats = message[1]
            except queue_mod.Empty:
                pass
        self._process.join(5)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
        self._process = None
        return self.stats

    def __enter__(self) -> EvaluatorService:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ------------------------------------------------------------------------------------- Ray

class EvaluatorActor:
    """The service as a Ray actor (asyncio: many workers' calls wait at once), one per node.
    Calls are gathered until `batch_size` positions or `max_wait_s` after the first."""

    def __init__(self, model_path: str, device: str, amp: bool, batch_size: int,
                 max_wait_s: float, threads: int) -> None:
        import torch

        from ringrift.nn.inference import Evaluator

        torch.set_num_threads(threads)
        self.evaluator = Evaluator.from_checkpoint(model_path, device=device, amp=amp,
                                                   max_batch=batch_size)
        self.batch_size, self.max_wait_s = batch_size, max_wait_s
        self.pending: list = []
        self.rows = 0
        self.timer = None
        self.stats = EvaluatorStats()

    async def info(self) -> tuple:
        import ray

        e = self.evaluator
        return e.config, e.metadata, str(e.device), ray.get_runtime_context().get_node_id()

    async def evaluate(self, features: np.ndarray, globals_: np.ndarray,
                       legal: list[np.ndarray]) -> tuple[list[np.ndarray], np.ndarray]:
        import asyncio

        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self.pending.append((features, globals_, legal, future))
        self.rows += len(features)
        if self.rows >= self.batch_size:
            self._flush()
        elif self.timer is None:
            self.timer = loop.call_later(self.max_wait_s, self._flush)
        return await future

    def _flush(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        batch, self.pending, self.rows = self.pending, [], 0
        if not batch:
            return
        start = time.perf_counter()
        try:
            probs, values = self.evaluator.evaluate_arrays(
                np.concatenate([b[0] for b in batch]), np.concatenate([b[1] for b in batch]),
                [idx for b in batch for idx in b[2]])
        except Exception as exc:  # each waiting worker gets the error
            for *_, future in batch:
                future.set_exception(exc)
            return
        self.stats.seconds += time.perf_counter() - start
        self.stats.batches += 1
        self.stats.requests += len(batch)
        offset = 0
        for features, _, _, future in batch:
            n = len(features)
            self.stats.positions += n
            future.set_result((probs[offset:offset + n], values[offset:offset + n]))
            offset += n

    async def get_stats(self) -> EvaluatorStats:
        return self.stats


class RayRemoteEvaluator(RemoteEvaluator):
    """A Ray worker's handle on its node's evaluator actor."""

    def __init__(self, actor, config, metadata: dict[str, Any], device: str) -> None:
        super().__init__(0, None, None, config, metadata, device)
        self.actor = actor

    def evaluate_arrays(self, features, globals_, legal_indices):
        import ray

        return ray.get(self.actor.evaluate.remote(
            np.asarray(features, dtype=np.float32), np.asarray(globals_, dtype=np.float32),
            [np.asarray(i, dtype=np.int64) for i in legal_indices]))


@dataclass
class RayServiceHandle:
    """Evaluator actors by node id (picklable into Ray workers)."""

    model_path: str
    actors: dict[str, Any]
    config: Any
    metadata: dict[str, Any]
    device: str
    backend: str = "ray"

    def install(self, slot: int) -> None:
        """In a Ray worker: play `model_path` through the evaluator of the worker's node (any
        evaluator when its node has none)."""
        import ray

        from ringrift.ai.model_cache import share_evaluator

        node = ray.get_runtime_context().get_node_id()
        actor = self.actors.get(node) or next(iter(self.actors.values()))
        share_evaluator(self.model_path, RayRemoteEvaluator(actor, self.config, self.metadata,
                                                            self.device))


class RayEvaluatorService:
    """One evaluator actor per alive node of the Ray cluster: `num_gpus=1` on a node with a
    GPU (unless RINGRIFT_DISABLE_GPU_DATAGEN=1), else on its CPU (taking no CPU slot: it
    mostly waits)."""

    def __init__(self, model_path: str, *, ray_address: str | None = None, amp: bool = False,
                 batch_size: int = BATCH_SIZE, max_wait_s: float = MAX_WAIT_S, threads: int = 1,
                 min_cpus: int = 1) -> None:
        _check_batching(batch_size, max_wait_s)
        self.model_path, self.amp, self.batch_size = model_path, amp, batch_size
        self.max_wait_s, self.threads = max_wait_s, max(1, threads)
        self.ray_address, self.min_cpus = ray_address, min_cpus
        self.actors: dict[str, Any] = {}
        self.handle: RayServiceHandle | None = None
        self.stats: EvaluatorStats | None = None

    def start(self) -> RayServiceHandle:
        import ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        from ringrift.exec.gpu_scaling import gpu_datagen_disabled
        from ringrift.exec.ray_backend import connect

        connect(self.ray_address, self.min_cpus)
        remote = ray.remote(EvaluatorActor)
        for node in ray.nodes():
            if not node.get("Alive"):
                continue
            gpu = node.get("Resources", {}).get("GPU", 0) >= 1 and not gpu_datagen_disabled()
            actor = remote.options(
                num_cpus=0, num_gpus=1 if gpu else 0, max_restarts=1,
                scheduling_strategy=NodeAffinitySchedulingStrategy(node["NodeID"], soft=False)
            ).remote(self.model_path, "auto" if gpu else "cpu", self.amp, self.batch_size,
                     self.max_wait_s, self.threads)
            self.actors[node["NodeID"]] = actor
        infos = ray.get([a.info.remote() for a in self.actors.values()])
        config, metadata, device, _ = infos[0]
        devices = sorted({info[2] for info in infos})
        self.handle = RayServiceHandle(self.model_path, self.actors, config, metadata,
                                       ",".join(devices))
        return self.handle

    def close(self) -> EvaluatorStats | None:
        import ray

        if not self.actors:
            return self.stats
        total = EvaluatorStats()
        try:
            for s in ray.get([a.get_stats.remote() for a in self.actors.values()], timeout=30):
                total.batches += s.batches
                total.positions += s.positions
                total.requests += s.requests
                total.seconds += s.seconds
            self.stats = total
        except Exception:  # a node is gone: no figures from it
            pass
        for actor in self.actors.values():
            try:
                ray.kill(actor, no_restart=True)
            except Exception:
                pass
        self.actors = {}
        return self.stats

    def __enter__(self) -> RayEvaluatorService:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

"""Batched selfplay: many games per process, their leaf evaluations gathered into batches.

Each process keeps `batch_size` games going (one pending leaf each, see
`ringrift.ai.search.batching`), so a network sees batches of `batch_size` positions; several
worker processes run side by side on interleaved game indices. Games are the same as the
unbatched runner's for the same (config, index): batching changes when a leaf is evaluated,
not what the search does (up to floating-point differences between batch sizes).
"""

from __future__ import annotations

import multiprocessing as mp
import queue as queue_mod
from collections.abc import Iterator, Sequence

from ringrift.ai.search.batching import run_batched
from ringrift.data.records import GameRecord
from ringrift.errors import UserError
from ringrift.selfplay.runner import SelfplayConfig, selfplay_game_steps


def play_batched(config: SelfplayConfig, indices: Sequence[int],
                 batch_size: int) -> Iterator[GameRecord]:
    """Play games `indices` in this process, `batch_size` at a time, yielding finished ones."""
    yield from run_batched((selfplay_game_steps(config, i) for i in indices), batch_size)


def _worker(config: SelfplayConfig, indices: list[int], batch_size: int, threads: int,
            out) -> None:
    try:
        if config.options.model_path:
            import torch

            torch.set_num_threads(threads)
        for record in play_batched(config, indices, batch_size):
            out.put(("game", record))
        out.put(("done", None))
    except UserError as exc:
        out.put(("user_error", str(exc)))
    except BaseException as exc:  # report, so the parent does not wait forever
        out.put(("error", f"{type(exc).__name__}: {exc}"))


def run_batched_games(config: SelfplayConfig, indices: range, batch_size: int,
                      workers: int = 1) -> Iterator[GameRecord]:
    """Yield finished games (completion order) from `workers` processes of batched selfplay."""
    if batch_size < 1:
        raise UserError("--batch-size must be at least 1")
    if workers <= 1:
        yield from play_batched(config, list(indices), batch_size)
        return
    # torch is not fork-safe (its thread pools hang in a forked child of a process that used
    # them; CUDA cannot start there at all): spawn workers when a network is involved.
    ctx = mp.get_context("spawn" if config.options.model_path else "fork")
    threads = config.options.threads or 1
    out = ctx.Queue(maxsize=4 * workers * batch_size)
    chunks = [list(indices)[w::workers] for w in range(workers)]
    procs = [ctx.Process(target=_worker, args=(config, chunk, batch_size, threads, out), daemon=True)
             for chunk in chunks if chunk]
    for p in procs:
        p.start()
    running = len(procs)
    try:
        while running:
            try:
                kind, payload = out.get(timeout=5.0)
            except queue_mod.Empty:
                if not any(p.is_alive() for p in procs):
                    raise RuntimeError("selfplay workers exited without reporting") from None
                continue
            if kind == "game":
                yield payload
            elif kind == "done":
                running -= 1
            elif kind == "user_error":
                raise UserError(payload)
            else:
                raise RuntimeError(f"selfplay worker failed: {payload}")
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
            p.join(timeout=5)

"""`ringrift loop --async-eval`: candidate k is evaluated in its own worker process while
selfplay for iteration k+1 goes on with the current best model.

Flow of iteration k (the stage machine is unchanged; three stages act differently):
- evaluate: start the worker (`evaluate_worker`: the same `stages.run_evaluate_stage` as the
  synchronous loop, on a snapshot of the state) and record it in `LoopState.pending_eval`;
- promote: deferred (the newest model becomes `latest_model`, as promote does); on the last
  iteration it waits for the worker instead;
- selfplay of k+1 plays its games in fifths (`run_selfplay_watching`); before each fifth a
  finished evaluation is applied (the promote stage runs then), so a promotion decided
  mid-selfplay is picked up by the later games (their records name the model);
- export of k+1 waits for the evaluation first, so training k+1 starts from the same model
  as in the synchronous loop.
The evaluation's games, seeds, previous-best opponent and promotion are those of the
synchronous loop; what differs is only which model plays the earlier games of selfplay k+1.

Resume after SIGKILL: `pending_eval` is in the state file, the worker writes its result
atomically to iter_k/evaluate_async.json, and a worker whose parent died exits by itself. A
resumed loop applies a result that exists, else starts the worker again, which replays only
the games `evaluation.db` lacks (the series are resumable) and finds a promotion the registry
already recorded.
"""

from __future__ import annotations

import dataclasses
import json
import math
import multiprocessing
import os
import threading
import time
from pathlib import Path
from typing import Any

from ringrift.atomic import atomic_write_text
from ringrift.errors import UserError
from ringrift.loop.state import LoopState

RESULT_NAME = "evaluate_async.json"
LOG_NAME = "evaluate_async.log"
SELFPLAY_PARTS = 5  # selfplay checks for a finished evaluation before each fifth of its games


def _iter_dir(run_dir: Path, iteration: int) -> Path:
    return run_dir / f"iter_{iteration:03d}"


def evaluate_worker(config, snapshot: dict[str, Any], result_path: str, log_path: str,
                    parent_pid: int) -> None:
    """Process entry: evaluate the snapshot's candidate, write the stage result (or the error)
    atomically to `result_path`."""
    _exit_with_parent(parent_pid)
    import torch

    from ringrift.loop import stages

    torch.set_num_threads(1)  # (as the synchronous loop's evaluation stage)
    state = LoopState(**snapshot)
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w") as log_file:
        def log(line: str) -> None:
            print(line, file=log_file, flush=True)

        started = time.perf_counter()
        try:
            result = stages.run_evaluate_stage(config, state, log)
            result["seconds"] = round(time.perf_counter() - started, 1)
        except UserError as exc:
            result = {"error": str(exc)}
    atomic_write_text(Path(result_path), json.dumps(result, indent=1))


def _exit_with_parent(parent_pid: int) -> None:
    """A worker whose loop was killed stops too (a resumed loop starts a new one)."""
    def watch() -> None:
        while True:
            if os.getppid() != parent_pid:
                os._exit(1)
            time.sleep(0.5)

    threading.Thread(target=watch, daemon=True).start()


class AsyncEvaluator:
    """The loop's handle on the evaluation in flight (at most one)."""

    def __init__(self, config, run_dir: Path, log) -> None:
        self.config = config
        self.run_dir = Path(run_dir)
        self.log = log
        self.process: multiprocessing.Process | None = None

    # -------------------------------------------------------------- stage hooks
    def launch(self, state: LoopState) -> dict[str, Any]:
        """The evaluate stage: start the worker for this iteration's candidate."""
        self.wait_and_apply(state)  # (never two in flight)
        state.pending_eval = {"iteration": state.iteration,
                              "train": state.current["train"],
                              "best_model": state.best_model,
                              "latest_model": state.latest_model}
        self._start(state.pending_eval)
        self.log(f"    evaluation of iteration {state.iteration} runs in worker pid "
                 f"{self.process.pid}")
        return {"async": True, "pending": True, "opponents": {}}

    def defer_promotion(self, state: LoopState) -> dict[str, Any]:
        """The promote stage: decided when the evaluation ends (the last iteration waits)."""
        if state.iteration + 1 >= self.config.iterations:
            self.wait_and_apply(state)
            return dict(state.current["promote"])
        state.latest_model = state.current["train"]["model"]
        return {"deferred": True, "promoted": None, "best_model": state.best_model}

    def resume(self, state: LoopState) -> None:
        """A loop resumed with an evaluation in flight: start its worker again unless its
        result is there."""
        pending = state.pending_eval
        if pending and not self._result_path(pending["iteration"]).exists():
            self.log(f"resuming the evaluation of iteration {pending['iteration']}")
            self._start(pending)

    # -------------------------------------------------------------- results
    def poll_and_apply(self, state: LoopState) -> bool:
        """Apply the evaluation if it has finished; True when one was applied."""
        pending = state.pending_eval
        if not pending:
            return False
        path = self._result_path(pending["iteration"])
        if not path.exists():
            if self.process is not None and not self.process.is_alive():
                raise UserError(f"the evaluation worker of iteration {pending['iteration']} "
                                f"died (exit code {self.process.exitcode}); rerun with "
                                f"--resume")
            if self.process is None:
                self._start(pending)
            return False
        self._apply(state, json.loads(path.read_text()))
        return True

    def wait_and_apply(self, state: LoopState) -> None:
        """Block until the evaluation in flight (if any) is applied."""
        while not self.poll_and_apply(state):
            if not state.pending_eval:
                return
            time.sleep(0.2)

    def _apply(self, state: LoopState, result: dict[str, Any]) -> None:
        from ringrift.loop import stages

        pending = state.pending_eval
        k = pending["iteration"]
        if "error" in result:
            state.pending_eval = None
            state.save(self.run_dir)
            raise UserError(f"evaluation of iteration {k}: {result['error']}")
        log_file = _iter_dir(self.run_dir, k) / LOG_NAME
        if log_file.exists():
            for line in log_file.read_text().splitlines():
                self.log(line)
        # the promote stage of iteration k, on a view holding that iteration's results
        view = LoopState(iteration=k, best_model=state.best_model,
                         latest_model=state.latest_model,
                         current={"train": pending["train"], "evaluate": result})
        promote = stages.run_promote_stage(self.config, view, self.log)
        state.best_model = view.best_model
        for stage, value in (("evaluate", result), ("promote", promote)):
            atomic_write_text(_iter_dir(self.run_dir, k) / f"{stage}.json",
                              json.dumps(value, indent=1))
        target = state.current if k == state.iteration else next(
            h for h in state.history if h["iteration"] == k)
        target["evaluate"], target["promote"] = result, promote
        state.pending_eval = None
        state.save(self.run_dir)
        self.log(f"  evaluation of iteration {k} applied: "
                 + ("promoted" if promote.get("promoted") else "not promoted"))
        self.process = None

    def _start(self, pending: dict[str, Any]) -> None:
        k = pending["iteration"]
        snapshot = {"iteration": k, "best_model": pending["best_model"],
                    "latest_model": pending["latest_model"],
                    "current": {"train": pending["train"]}}
        ctx = multiprocessing.get_context("spawn")  # (torch state is not fork-safe)
        self.process = ctx.Process(
            target=evaluate_worker, daemon=True,
            args=(self.config, snapshot, str(self._result_path(k)),
                  str(_iter_dir(self.run_dir, k) / LOG_NAME), os.getpid()))
        self.process.start()

    def _result_path(self, iteration: int) -> Path:
        return _iter_dir(self.run_dir, iteration) / RESULT_NAME


def run_selfplay_watching(config, state: LoopState, log, evaluator: AsyncEvaluator
                          ) -> dict[str, Any]:
    """The selfplay stage in fifths, applying a finished evaluation before each: games after a
    promotion are played by the new best model. Games keep their fixed ids and seeds (the
    stage resumes as the synchronous one does)."""
    from ringrift.data.gamedb import GameDB
    from ringrift.loop import stages

    engines: list[dict[str, Any]] = []
    played = 0
    seconds = 0.0
    result: dict[str, Any] = {}
    while True:
        evaluator.poll_and_apply(state)
        planned = config.games_for(bootstrap=state.best_model is None)
        path = stages.iteration_db(config, state.iteration)
        have = 0
        if path.exists():
            with GameDB(path, readonly=True) as db:
                have = db.count_games()
        if have >= planned:
            break
        target = min(planned, have + max(1, math.ceil(planned / SELFPLAY_PARTS)))
        part = dataclasses.replace(config, selfplay_games=target, bootstrap_games=None)
        result = stages.run_selfplay(part, state, log)
        played += result["played_now"]
        seconds += result["seconds"]
        engine = {"from_game": have, "engine": result["engine"], "model": state.best_model}
        if not engines or (engines[-1]["engine"], engines[-1]["model"]) != (
                engine["engine"], engine["model"]):
            engines.append(engine)
    if not result:  # (every game was there: a resumed stage)
        result = stages.run_selfplay(dataclasses.replace(
            config, selfplay_games=planned, bootstrap_games=None), state, log)
    return {**result, "played_now": played, "seconds": seconds, "engines": engines}

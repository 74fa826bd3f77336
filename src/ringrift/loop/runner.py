"""Running the loop: selfplay -> export -> train -> evaluate -> promote, resumable."""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ringrift.atomic import atomic_write_text
from ringrift.loop import stages
from ringrift.loop.config import LoopConfig, saved_run_dir
from ringrift.loop.state import STAGES, LoopState
from ringrift.loop.test_set import ensure_test_set
from ringrift.loop.training_config import TrainingLoopConfig
from ringrift.output_paths import check_output_dir

_STAGE_FUNCTIONS: dict[str, Callable] = {
    "selfplay": stages.run_selfplay,
    "export": stages.run_export_stage,
    "train": stages.run_train_stage,
    "evaluate": stages.run_evaluate_stage,
    "promote": stages.run_promote_stage,
}


def run_training_loop(config: LoopConfig | TrainingLoopConfig, *, resume: bool = False,
                      out=None) -> LoopState:
    """Run (or resume) the loop until `config.iterations` iterations are complete.

    `config` is a LoopConfig or the seed's TrainConfig (TrainingLoopConfig), converted here.
    """
    out = out or sys.stdout
    if isinstance(config, TrainingLoopConfig):
        config = config.to_loop_config()
        print(f"run folder: {config.run_dir}", file=out)
    config.validate()
    run_dir = check_output_dir(config.path, "run_dir")
    # everything is checked and read before the first write: a refused start leaves the
    # folder's files as they were
    if not resume and (run_dir / "loop_state.json").exists():
        from ringrift.errors import ConfigError

        raise ConfigError("resume", f"is off, but {run_dir} already holds a loop: resume to "
                                    "continue it")
    state = (LoopState.load(run_dir, saved_run_dir=saved_run_dir(run_dir)) if resume
             else LoopState())
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(run_dir / "loop_config.json", json.dumps(config.to_dict(), indent=1))

    def log(line: str) -> None:
        print(line, file=out, flush=True)

    ensure_test_set(config, log)  # (reused when it exists: a resumed loop keeps its test set)
    writer = _tensorboard(run_dir)
    evaluator = None
    if config.async_eval:
        from ringrift.loop.async_eval import AsyncEvaluator

        evaluator = AsyncEvaluator(config, run_dir, log)
        evaluator.resume(state)
    while state.iteration < config.iterations:
        if state.stage == STAGES[0] and not state.current:
            log(f"== iteration {state.iteration} ==")
        stage = state.stage
        started = time.perf_counter()
        with _torch_threads(None if stage == "train" else 1):
            result = _run_stage(config, state, log, stage, evaluator)
        result["seconds"] = round(time.perf_counter() - started, 1)
        state.current[stage] = result
        _write_stage_result(run_dir, state.iteration, stage, result)
        log(f"  {stage:9} done in {result['seconds']:7.1f} s  {_brief(stage, result)}")
        finished_iteration = stage == STAGES[-1]
        state.advance()
        state.save(run_dir)
        if finished_iteration:
            summary = state.history[-1]
            _log_scalars(writer, summary)
            ratings = current_ratings(config, state.history)
            print_summary(state.history, out, ratings)
            plot_progress(state.history, run_dir / "progress.png", ratings)
    if writer is not None:
        writer.close()
    return state


def _run_stage(config: LoopConfig, state: LoopState, log, stage: str, evaluator) -> dict:
    """One stage; with --async-eval, selfplay watches for the evaluation in flight, export
    waits for it, evaluate starts it and promote is decided when it ends (loop/async_eval.py)."""
    if evaluator is not None:
        from ringrift.loop.async_eval import run_selfplay_watching

        if stage == "selfplay":
            return run_selfplay_watching(config, state, log, evaluator)
        if stage == "export":
            evaluator.wait_and_apply(state)
        elif stage == "evaluate":
            return evaluator.launch(state)
        elif stage == "promote":
            return evaluator.defer_promotion(state)
    return _STAGE_FUNCTIONS[stage](config, state, log)


@contextlib.contextmanager
def _torch_threads(count: int | None):
    """One torch thread for selfplay and evaluation (single-position network calls are many
    times slower with several threads on a busy CPU); the default for training."""
    if count is None:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _write_stage_result(run_dir: Path, iteration: int, stage: str, result: dict) -> None:
    atomic_write_text(run_dir / f"iter_{iteration:03d}" / f"{stage}.json",
                      json.dumps(result, indent=1))


def _brief(stage: str, r: dict[str, Any]) -> str:
    if stage == "selfplay":
        return f"{r['games']} games ({r['engine']}, mean length {r.get('mean_length') or 0:.0f})"
    if stage == "export":
        return f"{r['samples']} samples from {r['games']} games"
    if stage == "train":
        loss = r.get("val_loss")
        return f"val loss {loss:.4f}" if isinstance(loss, (int, float)) else ""
    if stage == "evaluate":
        if r.get("pending"):
            return "running in a worker process (--async-eval)"
        return ", ".join(f"{k} {v['win_rate']:.0%}" for k, v in r["opponents"].items())
    if r.get("deferred"):
        return "deferred until the evaluation in flight ends"
    return "promoted" if r.get("promoted") else "not promoted"


def current_ratings(config: LoopConfig, history: list[dict[str, Any]]) -> dict[int, dict]:
    """Per evaluated iteration, its Elo (random = 0, with the 95% interval) from one fit over all
    of the run's evaluation games. The rating each gauntlet stored came from the games played so
    far; later games (a model met again as "previous") move it, so the stored ratings of two
    iterations are on different scales, and a better model could show a lower one. An
    iteration the fit does not rate (no database, no random anchor, a renamed player) keeps
    its stored rating."""
    from ringrift.errors import UserError
    from ringrift.evaluate.ratings_db import fit_db_elo

    ratings = _stored_ratings(history)
    db = config.path / "evaluation.db"
    try:
        fit, _ = fit_db_elo(db, config.spec)
    except UserError:  # (no database or no games in it yet)
        return ratings
    if fit.anchor != "random":
        return ratings
    rated = {r.name: r for r in fit.ratings if r.connected}
    for h in history:
        r = rated.get(f"iter_{h['iteration']:03d}") if h.get("evaluate") else None
        if r is not None:
            ratings[h["iteration"]] = {"elo": r.elo, "low": r.low, "high": r.high}
    return ratings


def _stored_ratings(history: list[dict[str, Any]]) -> dict[int, dict]:
    """Per iteration, the rating its gauntlet stored (from the games played until then)."""
    return {h["iteration"]: h["evaluate"]["rating"] for h in history
            if (h.get("evaluate") or {}).get("rating")}


def print_summary(history: list[dict[str, Any]], out,
                  ratings: dict[int, dict] | None = None) -> None:
    """The summary table; `ratings` (default: each gauntlet's stored rating) fills the Elo
    column."""
    if ratings is None:
        ratings = _stored_ratings(history)
    opponents = sorted({o for h in history for o in h.get("evaluate", {}).get("opponents", {})})
    tested = any("test" in h.get("train", {}) for h in history)
    head = f"{'iter':>4} {'games':>6} {'samples':>8} {'val loss':>9} " + (
        f"{'test loss':>9} {'test acc':>8} " if tested else "") + " ".join(
        f"{'vs ' + o:>22}" for o in opponents) + f" {'Elo':>6}  promoted"
    print(head, file=out)
    for h in history:
        ev = h.get("evaluate", {}).get("opponents", {})
        cells = []
        for o in opponents:
            v = ev.get(o)
            cells.append(f"{v['win_rate']:>6.0%} [{v['ci95'][0]:.0%}-{v['ci95'][1]:.0%}]"
                         .rjust(22) if v else " " * 22)
        loss = h.get("train", {}).get("val_loss")
        rating = ratings.get(h["iteration"])
        elo = f"{rating['elo']:6.0f}" if rating else "     -"
        test = h.get("train", {}).get("test")
        test_cells = ""
        if tested:
            test_cells = (f"{test['loss']:>9.4f} {test['policy_accuracy']:>8.3f} " if test
                          else f"{'-':>9} {'-':>8} ")
        print(f"{h['iteration']:>4} {h.get('selfplay', {}).get('games', 0):>6} "
              f"{h.get('export', {}).get('samples', 0):>8} "
              f"{loss if isinstance(loss, float) else float('nan'):>9.4f} " + test_cells
              + " ".join(cells)
              + f" {elo}  {'yes' if h.get('promote', {}).get('promoted') else 'no'}", file=out)


def plot_progress(history: list[dict[str, Any]], path: Path,
                  ratings: dict[int, dict] | None = None) -> None:
    """Win rate per opponent and the Elo rating (with 95% intervals) per iteration; `ratings`
    as for `print_summary`."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from ringrift.atomic import atomic_path

    fig = Figure(figsize=(11, 4))
    ax, rating_ax = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    if ratings is None:
        ratings = _stored_ratings(history)
    rated = sorted(ratings.items())
    if rated:
        xs = [i for i, _ in rated]
        elo = [r["elo"] for _, r in rated]
        rating_ax.errorbar(xs, elo, yerr=[[e - r["low"] for e, (_, r) in zip(elo, rated)],
                                          [r["high"] - e for e, (_, r) in zip(elo, rated)]],
                           marker="o", capsize=3)
    rating_ax.set_xlabel("iteration")
    rating_ax.set_ylabel("Elo (random = 0, 95% CI)")
    rating_ax.grid(alpha=0.3)
    opponents = sorted({o for h in history for o in h.get("evaluate", {}).get("opponents", {})})
    for o in opponents:
        xs, ys, lo, hi = [], [], [], []
        for h in history:
            v = h.get("evaluate", {}).get("opponents", {}).get(o)
            if v:
                xs.append(h["iteration"])
                ys.append(v["win_rate"])
                lo.append(v["win_rate"] - v["ci95"][0])
                hi.append(v["ci95"][1] - v["win_rate"])
        ax.errorbar(xs, ys, yerr=[lo, hi], marker="o", capsize=3, label=f"vs {o}")
    from matplotlib.ticker import MaxNLocator

    for axis in (ax, rating_ax):
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("iteration")
    ax.set_ylabel("win rate (95% CI)")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    if opponents:  # (none yet while --async-eval's first evaluation runs)
        ax.legend()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=100)


def _tensorboard(run_dir: Path):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # tensorboard is a dependency; keep the loop usable without it
        return None
    return SummaryWriter(str(run_dir / "tensorboard"))


def _log_scalars(writer, summary: dict[str, Any]) -> None:
    if writer is None:
        return
    i = summary["iteration"]
    for o, v in summary.get("evaluate", {}).get("opponents", {}).items():
        writer.add_scalar(f"win_rate/{o}", v["win_rate"], i)
    loss = summary.get("train", {}).get("val_loss")
    if isinstance(loss, float):
        writer.add_scalar("train/val_loss", loss, i)
    for key, value in (summary.get("train", {}).get("test") or {}).items():
        if key != "positions":
            writer.add_scalar(f"test/{key}", value, i)
    writer.add_scalar("selfplay/games", summary.get("selfplay", {}).get("games", 0), i)
    writer.flush()

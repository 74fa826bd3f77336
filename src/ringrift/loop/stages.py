"""The five stages of one loop iteration. Each is resumable and returns a JSON-able result."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

from ringrift import rules
from ringrift.ai.factory import EngineOptions, make_player
from ringrift.ai.game import play_game
from ringrift.data.gamedb import GameDB
from ringrift.loop.config import LoopConfig
from ringrift.loop.state import LoopState
from ringrift.selfplay.runner import HEURISTIC_TEMPERATURE_SCALE, game_record
from ringrift.selfplay.temperature import get_schedule


def games_dir(cfg: LoopConfig) -> Path:
    return cfg.path / "games"


def iteration_db(cfg: LoopConfig, iteration: int) -> Path:
    return games_dir(cfg) / f"iter_{iteration:03d}.db"


def model_path(cfg: LoopConfig, iteration: int) -> Path:
    return cfg.path / "models" / f"iter_{iteration:03d}.pt"


# --------------------------------------------------------------------------- selfplay
def selfplay_engine(cfg: LoopConfig, state: LoopState) -> tuple[str, EngineOptions]:
    if state.best_model is None:
        return cfg.bootstrap_engine, EngineOptions()
    return cfg.engine, EngineOptions(model_path=state.best_model,
                                     temperature=cfg.policy_temperature,
                                     )


def run_selfplay(cfg: LoopConfig, state: LoopState, log) -> dict[str, Any]:
    """Play this iteration's games into its own database; a resumed stage continues counting."""
    path = iteration_db(cfg, state.iteration)
    path.parent.mkdir(parents=True, exist_ok=True)
    engine, options = selfplay_engine(cfg, state)
    schedule = get_schedule(cfg.selfplay_temperature) if cfg.selfplay_temperature else None
    started = time.perf_counter()
    with GameDB(path) as db:
        done = db.count_games()
        for index in range(done, cfg.selfplay_games):
            seed = (cfg.seed * 1_000_003 + state.iteration * 100_003 + index) & 0x7FFFFFFF
            players = [make_player(engine, cfg.board_type, cfg.num_players, seed * 8 + s, options)
                       for s in range(cfg.num_players)]
            if schedule is not None and engine == "heuristic":
                for p in players:
                    p.temperature = schedule(0) * HEURISTIC_TEMPERATURE_SCALE
            game = play_game(rules.new_game(cfg.board_type, cfg.num_players), players,
                             max_moves=cfg.max_moves)
            db.add_game(game_record(game, [engine] * cfg.num_players, seed, source="selfplay",
                                    temperature_schedule=schedule.spec if schedule else None,
                                    metadata={"iteration": state.iteration, "game_index": index,
                                              "model": state.best_model}))
            if (index + 1) % max(1, cfg.selfplay_games // 5) == 0:
                log(f"    selfplay {index + 1}/{cfg.selfplay_games} games")
        games = db.count_games()
        stats = db.stats()["configs"].get(f"{cfg.board_type}_{cfg.num_players}p", {})
    return {"games": games, "engine": engine, "played_now": games - done,
            "seconds": time.perf_counter() - started,
            "mean_length": stats.get("moves", {}).get("mean")}


# --------------------------------------------------------------------------- export
def window_databases(cfg: LoopConfig, iteration: int) -> tuple[list[str], int]:
    """Newest iteration databases whose games fit the window (at least the newest one)."""
    counts = []
    for i in range(iteration, -1, -1):
        path = iteration_db(cfg, i)
        if path.exists():
            with GameDB(path, readonly=True) as db:
                counts.append((str(path), db.count_games()))
    total = sum(c for _, c in counts)
    window = cfg.window(total)
    chosen, used = [], 0
    for path, count in counts:
        if chosen and used + count > window:
            break
        chosen.append(path)
        used += count
    return chosen, used


def run_export_stage(cfg: LoopConfig, state: LoopState, log) -> dict[str, Any]:
    from ringrift.data.export import ExportFilters, run_export

    dbs, games = window_databases(cfg, state.iteration)
    out = cfg.path / "training" / "window.npz"
    summary = run_export(dbs, cfg.board_type, cfg.num_players, out,
                         ExportFilters(require_completed=False), use_cache=True,
                         workers=cfg.workers)
    return {"path": str(out), "samples": summary.samples, "games": games,
            "databases": len(dbs), "encoded_now": summary.new_games}


# --------------------------------------------------------------------------- train
def run_train_stage(cfg: LoopConfig, state: LoopState, log) -> dict[str, Any]:
    from ringrift.train.config import TrainConfig
    from ringrift.train.trainer import train

    save = model_path(cfg, state.iteration)
    save.parent.mkdir(parents=True, exist_ok=True)
    ckpt_dir = save.parent / f"{save.stem}_ckpt"
    resume = ckpt_dir.exists() and any(ckpt_dir.iterdir())
    tc = TrainConfig(
        board_type=cfg.board_type, num_players=cfg.num_players,
        data_paths=[state.current["export"]["path"]], save_path=str(save),
        model_version=cfg.model_version, batch_size=cfg.batch_size,
        epochs=cfg.training_epochs, learning_rate=cfg.learning_rate,
        init_weights=state.best_model, resume=resume, seed=cfg.seed + state.iteration,
        channels=cfg.channels, blocks=cfg.blocks, augment=cfg.augment, progress=False,
        tensorboard=True, checkpoint_every=200)
    buffer = io.StringIO()
    result = train(tc, out=buffer)
    for line in buffer.getvalue().splitlines():
        if line.startswith("epoch"):
            log(f"    {line}")
    metrics = result.metrics
    best = metrics.get("best") or {}
    return {"model": str(result.save_path), "resumed": resume,
            "val_loss": best.get("val_loss", metrics.get("best_loss")),
            "val_policy_acc": best.get("val_policy_accuracy"),
            "val_value_mse": best.get("val_value_mse")}


# --------------------------------------------------------------------------- evaluate
def run_evaluate_stage(cfg: LoopConfig, state: LoopState, log) -> dict[str, Any]:
    from ringrift.evaluate.match import Participant, play_match
    from ringrift.evaluate.verdict import gauntlet_verdict

    model = state.current["train"]["model"]
    engine = cfg.eval_engine or cfg.engine
    options = EngineOptions(model_path=model, temperature=0.0)
    defaults = {"random": 0.85, "heuristic": 0.6} if cfg.num_players == 2 else \
        {"random": 0.6, "heuristic": 0.35}
    thresholds = {**defaults, **cfg.thresholds}
    results = {}
    eval_db = cfg.path / "evaluation.db"
    with GameDB(eval_db) as db:
        for opponent in cfg.eval_opponents:
            cand = Participant(f"iter_{state.iteration:03d}", lambda s: make_player(
                engine, cfg.board_type, cfg.num_players, s, options))
            opp = Participant(opponent, lambda s, o=opponent: make_player(
                o, cfg.board_type, cfg.num_players, s))
            r = play_match(cand, opp, cfg.board_type, cfg.num_players, cfg.eval_games,
                           seed=cfg.seed + 7 * state.iteration, db=db)
            low, high = r.interval()
            threshold = thresholds.get(opponent, 0.5)
            verdict = gauntlet_verdict(r.wins, r.draws, r.losses, r.games, threshold)
            results[opponent] = {"wins": r.wins, "draws": r.draws, "losses": r.losses,
                                 "win_rate": r.win_rate, "ci95": [low, high],
                                 "threshold": threshold,
                                 "passed": verdict == "pass" or r.win_rate >= threshold}
            log(f"    {r.line()} (threshold {threshold:.0%})")
    return {"engine": engine, "opponents": results,
            "passed": all(v["passed"] for v in results.values())}


# --------------------------------------------------------------------------- promote
def run_promote_stage(cfg: LoopConfig, state: LoopState, log) -> dict[str, Any]:
    from ringrift.registry import ModelRegistry

    model = state.current["train"]["model"]
    evaluation = state.current["evaluate"]
    with ModelRegistry(cfg.path / "registry.db") as registry:
        reg = registry.register(model, f"{cfg.board_type}_{cfg.num_players}p",
                                metrics={"evaluation": evaluation})
        entry = registry.get(reg.id)
        promoted = False
        if evaluation["passed"] and cfg.auto_promote:
            if entry.stage == "development":
                registry.transition(reg.id, "staging", reason="gauntlet passed",
                                    evidence=evaluation)
            registry.transition(reg.id, "production", reason="gauntlet passed",
                                evidence=evaluation)
            promoted = True
        elif not evaluation["passed"] and entry.stage == "development":
            registry.transition(reg.id, "rejected", reason="gauntlet failed",
                                evidence=evaluation)
    if promoted or state.best_model is None:
        # the first trained model becomes the best even if it fails the gate: it is the only one
        state.best_model = model
    return {"model_id": reg.id, "promoted": promoted, "best_model": state.best_model}

"""The five stages of one loop iteration. Each is resumable and returns a JSON-able result."""

from __future__ import annotations

import io
import signal
import time
from pathlib import Path
from typing import Any

from ringrift.ai.options import EngineOptions
from ringrift.data.gamedb import GameDB
from ringrift.errors import Interrupted
from ringrift.loop.config import LoopConfig
from ringrift.loop.state import LoopState
from ringrift.loop.test_set import score_on_test_set, test_set_path


def games_dir(cfg: LoopConfig) -> Path:
    return cfg.path / "games"


def iteration_db(cfg: LoopConfig, iteration: int) -> Path:
    return games_dir(cfg) / f"iter_{iteration:03d}.db"


def model_path(cfg: LoopConfig, iteration: int) -> Path:
    return cfg.path / "models" / f"iter_{iteration:03d}.pt"


# --------------------------------------------------------------------------- selfplay
def curriculum_path(cfg: LoopConfig) -> Path:
    return cfg.path / "curriculum.json"


def curriculum_manager(cfg: LoopConfig):
    """The run's curriculum with its progress so far (None without --curriculum)."""
    if cfg.curriculum is None:
        return None
    from ringrift.loop.curriculum import CurriculumManager

    return CurriculumManager.load_state(curriculum_path(cfg), cfg.curriculum)


def selfplay_engine(cfg: LoopConfig, state: LoopState) -> tuple[str, EngineOptions]:
    """The bootstrap engine until a model has been promoted (at the curriculum's strength when
    there is one), then the best model."""
    if state.best_model is None:
        manager = curriculum_manager(cfg)
        if manager is not None:
            return cfg.bootstrap_engine, EngineOptions(
                heuristic_epsilon=manager.heuristic_epsilon())
        return cfg.bootstrap_engine, EngineOptions()
    return cfg.engine, EngineOptions(model_path=state.best_model, device=cfg.selfplay_device,
                                     temperature=cfg.policy_temperature,
                                     simulations=cfg.mcts_simulations, root_noise=True,
                                     threads=1, amp=cfg.amp)


def selfplay_start(cfg: LoopConfig, iteration: int) -> tuple[list[str], float]:
    """(databases, fraction) that this iteration's selfplay games start from: with a curriculum
    stage's start_fraction > 0, positions of the run's earlier iterations' whole games; none
    (([], 0.0): the opening) without one or before there are such games (iteration 0)."""
    from ringrift.selfplay.start_positions import recorded_games

    manager = curriculum_manager(cfg)
    fraction = manager.start_fraction if manager is not None else 0.0
    if not fraction:
        return [], 0.0
    earlier = [str(p) for p in (iteration_db(cfg, i) for i in range(iteration)) if p.exists()]
    if not recorded_games(earlier, cfg.spec, fraction):
        return [], 0.0
    return earlier, fraction


def selfplay_game_id(iteration: int, index: int) -> str:
    """Game `index` of an iteration has a fixed id, so a resumed stage knows which games exist
    (workers finish games out of order: a kill can leave gaps, not just a shorter prefix)."""
    return f"loop-{iteration:03d}-{index:06d}"


def iteration_schedule(cfg: LoopConfig, iteration: int) -> str:
    """The selfplay temperature schedule of `iteration`: a `curriculum` schedule is set to the
    loop's progress, 0 at the first iteration and 1 at the last (the seed's "based on training
    progress"); any other schedule is the configured one."""
    from ringrift.selfplay.temperature import CurriculumSchedule, get_schedule

    schedule = get_schedule(cfg.selfplay_temperature)
    if isinstance(schedule, CurriculumSchedule):
        return schedule.at_progress(iteration / max(1, cfg.iterations - 1)).spec
    return cfg.selfplay_temperature


def run_selfplay(cfg: LoopConfig, state: LoopState, log) -> dict[str, Any]:
    """Play this iteration's games into its own database through the selfplay runner (the same
    players, schedules and records as `ringrift selfplay`), with `cfg.workers` processes; a
    network engine plays `cfg.selfplay_batch_size` games at once per process, its leaf
    evaluations batched. A resumed stage plays only the games not stored yet."""
    from ringrift.selfplay.missing import play_missing_games
    from ringrift.selfplay.runner import SelfplayConfig

    path = iteration_db(cfg, state.iteration)
    path.parent.mkdir(parents=True, exist_ok=True)
    engine, options = selfplay_engine(cfg, state)
    starts, fraction = selfplay_start(cfg, state.iteration)
    config = SelfplayConfig(board_type=cfg.board_type, num_players=cfg.num_players,
                            engine=engine, seed=cfg.seed * 1000 + state.iteration,
                            max_moves=cfg.max_moves,
                            temperature_schedule=iteration_schedule(cfg, state.iteration),
                            options=options, start_positions=starts or None,
                            start_fraction=fraction)
    config.start_sampler()  # (read once here; the workers get the same list of games)
    if starts:
        log(f"    games start {fraction:.2f} of the way through earlier games "
            f"({len(config.start_sampler().games)} games of {len(starts)} databases)")
    started = time.perf_counter()
    planned = cfg.games_for(bootstrap=state.best_model is None)
    step = max(1, planned // 5)
    played = 0
    with GameDB(path) as db:
        for count in play_missing_games(
                db, config, planned, lambda i: selfplay_game_id(state.iteration, i),
                workers=cfg.workers, batch_size=cfg.selfplay_batch_size,
                backend=cfg.backend, ray_address=cfg.ray_address,
                metadata={"iteration": state.iteration, "model": state.best_model}):
            played += 1
            if count % step == 0:
                log(f"    selfplay {count}/{planned} games "
                    f"({time.perf_counter() - started:.0f} s)")
        games_stored = db.count_games()
        stats = db.stats()["configs"].get(f"{cfg.board_type}_{cfg.num_players}p", {})
    out = {"games": games_stored, "engine": engine, "played_now": played,
           "seconds": time.perf_counter() - started,
           "mean_length": stats.get("moves", {}).get("mean")}
    if options.heuristic_epsilon:
        out["heuristic_epsilon"] = options.heuristic_epsilon
    if cfg.curriculum is not None:
        out["start_fraction"] = fraction  # (0.0: from the opening)
    return out


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
    summary = run_export(dbs, cfg.spec, out, ExportFilters(require_completed=False),
                         use_cache=True, workers=cfg.workers)
    return {"path": str(out), "samples": summary.samples, "games": games,
            "databases": len(dbs), "encoded_now": summary.new_games}


# --------------------------------------------------------------------------- train
class LoopInterrupted(Interrupted):
    """A signal stopped the loop inside a stage that saves its progress first (training: an
    emergency checkpoint); `ringrift loop --resume` continues from there."""

    def __init__(self, signum: int, checkpoint: Path | None, run_dir: str) -> None:
        self.checkpoint = checkpoint
        where = f"; checkpoint saved to {checkpoint}" if checkpoint else ""
        super().__init__(signum, f"{signal.Signals(signum).name} during training{where}; "
                         f"continue with: ringrift loop --run-dir {run_dir} --resume")


def run_train_stage(cfg: LoopConfig, state: LoopState, log) -> dict[str, Any]:
    from ringrift.train.config import TrainConfig
    from ringrift.train.trainer import train

    save = model_path(cfg, state.iteration)
    save.parent.mkdir(parents=True, exist_ok=True)
    ckpt_dir = save.parent / f"{save.stem}_ckpt"
    resume = ckpt_dir.exists() and any(ckpt_dir.iterdir())
    init = state.best_model or state.latest_model
    offset, total = cfg.schedule_span(state.iteration)
    data_paths = [state.current["export"]["path"]]
    hard = _hard_positions(cfg, state, init, data_paths[0], log)
    if hard is not None:
        data_paths.append(hard["output"])
    tc = TrainConfig(
        board_type=cfg.board_type, num_players=cfg.num_players,
        data_paths=data_paths, save_path=str(save),
        model_version=cfg.model_version, batch_size=cfg.batch_size,
        epochs=cfg.training_epochs, samples_per_epoch=cfg.samples_per_epoch,
        learning_rate=cfg.learning_rate, warmup_epochs=cfg.warmup_epochs,
        init_weights=init, init_optimizer=_optimizer_checkpoint(cfg, init), resume=resume,
        schedule_offset_steps=offset, schedule_total_steps=total,
        seed=cfg.seed + state.iteration, split_seed=cfg.seed,  # games keep their side
        channels=cfg.channels, blocks=cfg.blocks, augment=cfg.augment, amp=cfg.amp,
        prioritized_replay=cfg.prioritized_replay, per_alpha=cfg.per_alpha,
        per_beta=cfg.per_beta, ownership_weight=cfg.ownership_weight,
        game_length_weight=cfg.game_length_weight,
        weight_decay=cfg.weight_decay, lr_scheduler=cfg.lr_scheduler, lr_min=cfg.lr_min,
        early_stopping=cfg.early_stopping,
        elo_early_stopping_patience=cfg.elo_early_stopping_patience,
        elo_min_improvement=cfg.elo_min_improvement, entropy_weight=cfg.entropy_weight,
        label_smoothing=cfg.label_smoothing, pcgrad=cfg.pcgrad, grad_accum=cfg.grad_accum,
        progress=False,
        tensorboard=True, checkpoint_every=200)
    if cfg.train_nproc > 1:
        result, text = _train_under_torchrun(cfg.train_nproc, tc)
    else:
        buffer = io.StringIO()
        result = train(tc, out=buffer)
        text = buffer.getvalue()
    for line in text.splitlines():
        if line.startswith(("epoch", "note")):  # (a note: e.g. --amp not honoured here)
            log(f"    {line}")
    if result.interrupted_by is not None:  # SIGTERM/SIGINT: the trainer saved a checkpoint
        raise LoopInterrupted(result.interrupted_by, result.checkpoint, cfg.run_dir)
    metrics = result.metrics
    best = metrics.get("best") or {}
    out = {"model": str(result.save_path), "resumed": resume,
           "precision": metrics.get("precision"),
           "val_loss": best.get("val_loss", metrics.get("best_loss")),
           "val_policy_acc": best.get("val_policy_accuracy"),
           "val_value_mse": best.get("val_value_mse")}
    if hard is not None:
        out["hard_positions"] = hard
    test = test_set_path(cfg)
    if cfg.test_games and test.exists():  # (made when the loop starts)
        out["test"] = score_on_test_set(cfg, str(result.save_path), test)
        t = out["test"]
        log(f"    test set: loss {t['loss']:.4f}, policy acc {t['policy_accuracy']:.3f}, "
            f"value mse {t['value_mse']:.4f} ({t['positions']} held-out positions)")
    return out


def _train_under_torchrun(nproc: int, tc) -> tuple[Any, str]:
    """Run one iteration's training in `nproc` processes (torchrun, DDP): the TrainConfig goes
    to the ranks as a file (`train.run_config`); (TrainResult, rank 0's output)."""
    import json
    import subprocess

    from ringrift.errors import UserError
    from ringrift.train.config import RunPaths
    from ringrift.train.distributed import torchrun_command
    from ringrift.train.run_config import write_config
    from ringrift.train.trainer import TrainResult

    paths = RunPaths.for_model(tc.save_path)
    config_path = Path(tc.save_path).with_suffix(".train_config.json")
    write_config(tc, config_path)
    done = subprocess.run(torchrun_command(nproc, [str(config_path)],
                                           module="ringrift.train.run_config"),
                          capture_output=True, text=True)
    if done.returncode > 128:  # stopped by a signal: the ranks saved an emergency checkpoint
        found = sorted(paths.checkpoints.glob("step_*.pt"))
        return TrainResult(None, {}, interrupted_by=done.returncode - 128,
                           checkpoint=found[-1] if found else None), done.stdout
    if done.returncode != 0:
        tail = " ".join(done.stderr.strip().splitlines()[-3:])[-400:]
        raise UserError(f"training under torchrun ({nproc} processes) failed with exit status "
                        f"{done.returncode}: {tail}")
    return TrainResult(Path(tc.save_path), json.loads(paths.metrics.read_text())), done.stdout


def _hard_positions(cfg: LoopConfig, state: LoopState, model: str | None, window: str,
                    log) -> dict[str, Any] | None:
    """With --hard-positions, the window's hardest positions for the model training starts
    from, mined once per iteration (a resumed stage reuses the file) and added to the data."""
    if not cfg.hard_positions or not model:
        return None
    from ringrift.train.hard_positions import mine_hard_positions

    path = cfg.path / "training" / f"hard_{state.iteration:03d}.npz"
    if path.exists():
        return {"output": str(path), "reused": True}
    summary = mine_hard_positions(model, [window], path, fraction=cfg.hard_positions,
                                  by="both")
    log(f"    hard positions: {summary['samples']} of {summary['from_samples']} "
        f"(policy KL {summary['mean_policy_kl_mined']:.3f} vs "
        f"{summary['mean_policy_kl_all']:.3f}, value error "
        f"{summary['mean_value_error_mined']:.3f} vs {summary['mean_value_error_all']:.3f})")
    return summary


def _optimizer_checkpoint(cfg: LoopConfig, model: str | None) -> str | None:
    """With `keep_optimizer` (implied by one schedule over the run), the training checkpoint
    of the run that made `model` whose AdamW moments carry over to the next iteration: the one
    saved at the step of the best epoch (whose weights `model` holds), else the newest (the
    best one's was pruned); None without one."""
    if not (cfg.keep_optimizer or cfg.lr_span == "run") or not model:
        return None
    from ringrift.train.checkpoint import CheckpointManager

    path = Path(model)  # (the trainer loads and verifies it)
    manager = CheckpointManager(path.with_name(f"{path.stem}_ckpt"))
    # (no best checkpoint: all of them; the best step's pruned: none, so all of them)
    found = manager.checkpoints(manager.best_step()) or manager.checkpoints()
    return str(found[-1]) if found else None


# --------------------------------------------------------------------------- evaluate
def run_evaluate_stage(cfg: LoopConfig, state: LoopState, log) -> dict[str, Any]:
    """Gauntlet (random, heuristic, and the current production model with an optional SPRT)
    and promotion through the model store, as `ringrift promote --gauntlet` does. Games are
    stored in run-dir/evaluation.db, so a killed evaluation resumes from the stored games."""
    from ringrift.evaluate.promotion import gate_and_promote
    from ringrift.registry import ModelRegistry

    model = state.current["train"]["model"]
    engine = cfg.eval_engine or cfg.engine
    gauntlet = cfg.gauntlet_config(state.iteration)
    options = EngineOptions(model_path=model, temperature=0.0,
                            simulations=cfg.eval_simulations or cfg.mcts_simulations, amp=cfg.amp)
    name = f"iter_{state.iteration:03d}"
    if cfg.auto_promote:
        with ModelRegistry(cfg.path / "registry.db") as registry:
            result = gate_and_promote(registry, model, gauntlet, engine=engine, options=options,
                                      name=name, db_path=cfg.path / "evaluation.db",
                                      workers=cfg.workers, batch_size=cfg.eval_batch_size,
                                      backend=cfg.backend, ray_address=cfg.ray_address)
        if result.gauntlet is None:  # already promoted or rejected, by a run killed before it
            return _recorded_outcome(engine, result, log)  # wrote this stage's result
        played, status, promoted = result.gauntlet, result.status, result.promoted
        model_id, rating = result.model_id, result.evidence.get("rating")
    else:  # evaluate only: the model store is left alone
        from ringrift.data.gamedb import GameDB
        from ringrift.evaluate.engine_spec import EngineSpec
        from ringrift.evaluate.gauntlet import previous_spec, run_gauntlet

        candidate = EngineSpec.build(engine, options, name)
        previous, note = (previous_spec(candidate, state.best_model) if state.best_model
                          else (None, "no promoted model yet"))
        with GameDB(cfg.path / "evaluation.db") as db:
            played = run_gauntlet(candidate, gauntlet, previous=previous, previous_note=note,
                                  db=db, workers=cfg.workers,
                                  batch_size=cfg.eval_batch_size, backend=cfg.backend,
                                  ray_address=cfg.ray_address)
        status, promoted, model_id, rating = played.verdict, False, None, None
    for line in played.table():
        log(f"    {line}")
    return {"engine": engine, "status": status, "promoted": promoted, "model_id": model_id,
            "opponents": _opponent_records(played.to_dict()["opponents"]), "rating": rating}


def _opponent_records(opponents: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per opponent, the record the summary and plot read, from the gauntlet's opponent dicts
    (a game just played, or the evidence the model store recorded)."""
    keys = ("wins", "draws", "losses", "win_rate", "ci95", "verdict")
    return {o["opponent"]: {key: o[key] for key in keys} for o in opponents}


def _recorded_outcome(engine: str, result, log) -> dict[str, Any]:
    """The stage result of a model the registry had already promoted or rejected: the records
    are read back from that transition's evidence (nothing is played)."""
    from ringrift.evaluate.promotion import opponent_summary

    evidence = result.evidence
    log(f"    model {result.model_id} is {result.stage} already: its recorded gauntlet is reused"
        f" ({opponent_summary(evidence)})")
    opponents = (evidence.get("gauntlet") or {}).get("opponents") or []
    return {"engine": engine, "status": "promoted" if result.promoted else "rejected",
            "promoted": result.promoted, "model_id": result.model_id,
            "opponents": _opponent_records(opponents), "rating": evidence.get("rating")}


# --------------------------------------------------------------------------- promote
def run_promote_stage(cfg: LoopConfig, state: LoopState, log) -> dict[str, Any]:
    """Adopt the new model as the best one when it was promoted. Until a model is promoted,
    selfplay stays with the bootstrap engine (a network weaker than it makes worse games) and
    training continues from the newest model."""
    model = state.current["train"]["model"]
    evaluation = state.current["evaluate"]
    promoted = bool(evaluation.get("promoted"))
    if promoted:
        state.best_model = model
    state.latest_model = model
    out = {"model_id": evaluation.get("model_id"), "promoted": promoted,
           "best_model": state.best_model}
    manager = curriculum_manager(cfg)
    if manager is not None:
        rates = {name: rec.get("win_rate")
                 for name, rec in (evaluation.get("opponents") or {}).items()}
        # (the fraction this iteration's selfplay played: 0 when there were no earlier games)
        played = (state.current.get("selfplay") or {}).get("start_fraction", 0.0)
        entry = manager.record(state.iteration, rates, start_fraction_played=played)
        manager.save(curriculum_path(cfg))
        out["curriculum"] = entry
        log(f"    curriculum: stage {entry['stage']} (difficulty {entry['difficulty']:.2f}, "
            f"start fraction {entry.get('start_fraction', 0.0):.2f}), "
            f"win rate vs {entry['opponent']} {_rate(entry['win_rate'])} / "
            f"{entry['advance_win_rate']:.2f}" + (f" -> stage {entry['next_stage']}"
                                                  if entry["advanced"] else ""))
    return out


def _rate(rate: float | None) -> str:
    return "n/a" if rate is None else f"{rate:.2f}"

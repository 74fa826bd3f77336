"""The training loop: stages, results in the run directory, resume after SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from ringrift.cli.main import main
from ringrift.data.gamedb import GameDB
from ringrift.loop.config import LoopConfig
from ringrift.loop.state import STAGES, LoopState

TINY = ["--board-type", "square8", "--num-players", "2", "--selfplay-games", "4",
        "--training-epochs", "1", "--channels", "8", "--blocks", "1", "--eval-games", "2",
        "--batch-size", "64"]


def test_window_grows_sublinearly():
    cfg = LoopConfig("square8", 2, "x", min_window=100)
    assert cfg.window(50) == 50
    assert cfg.window(100) == 100
    assert 100 < cfg.window(1000) < 1000
    assert cfg.window(10_000) - cfg.window(1000) < 10_000 - 1000


def test_state_advances_through_stages_and_iterations(tmp_path):
    state = LoopState()
    for stage in STAGES:
        assert state.stage == stage
        state.current[stage] = {"ok": True}
        state.advance()
    assert state.iteration == 1 and state.stage == STAGES[0] and len(state.history) == 1
    state.save(tmp_path)
    assert LoopState.load(tmp_path).history == state.history


def test_loop_runs_and_writes_every_stage(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["loop", *TINY, "--iterations", "1", "--run-dir", str(run)]) == 0
    out = capsys.readouterr().out
    assert "iteration 0" in out and "promoted" in out
    for stage in STAGES:
        assert json.loads((run / "iter_000" / f"{stage}.json").read_text())
    state = json.loads((run / "loop_state.json").read_text())
    assert state["iteration"] == 1 and state["latest_model"]
    assert (run / "progress.png").stat().st_size > 1000
    assert main(["loop", *TINY, "--iterations", "1", "--run-dir", str(run)]) == 2  # exists


def test_a_held_out_test_set_is_played_once_and_scores_every_iteration(tmp_path, capsys):
    """(also: --warmup-epochs and --keep-optimizer reach each iteration's training)"""
    import numpy as np

    run = tmp_path / "run"
    assert main(["loop", *TINY, "--iterations", "2", "--test-games", "3", "--warmup-epochs",
                 "0.5", "--keep-optimizer", "--run-dir", str(run)]) == 0
    out = capsys.readouterr().out
    assert out.count("test set:") == 3  # created once, scored twice
    assert "test acc" in out.splitlines()[-3]  # the summary table's header
    with GameDB(run / "test" / "games.db", readonly=True) as db:
        ids = db.game_ids()
    assert sorted(ids) == ["test-000000", "test-000001", "test-000002"]
    positions = len(np.load(run / "test" / "test.npz")["values"])
    scores = []
    for i in range(2):
        train = json.loads((run / f"iter_00{i}" / "train.json").read_text())
        test = train["test"]
        assert test["positions"] == positions > 0
        assert 0.0 <= test["policy_accuracy"] <= 1.0 and test["loss"] > 0
        scores.append(test["loss"])
        export = json.loads((run / f"iter_00{i}" / "export.json").read_text())
        assert export["games"] == 4 * (i + 1)  # the test games are never trained on
    assert scores[0] != scores[1]  # each iteration's own model was scored
    config = json.loads((run / "loop_config.json").read_text())
    assert config["test_games"] == 3 and config["warmup_epochs"] == 0.5
    # every iteration splits validation games with the run's seed: a game keeps its side
    for i in range(2):
        meta = json.loads((run / "models" / f"iter_00{i}.pt.json").read_text())["metadata"]
        assert meta["train_config"]["split_seed"] == config["seed"]
        assert meta["train_config"]["seed"] == config["seed"] + i
    # --keep-optimizer: iteration 1's AdamW went on from iteration 0's moments
    from tests.train.test_train_run import _adam_steps

    def last_checkpoint(i):
        return sorted((run / "models" / f"iter_00{i}_ckpt").glob("step_*_epoch.pt"))[-1]

    own_steps = int(last_checkpoint(1).name.split("_")[1])
    assert _adam_steps(last_checkpoint(1)) == _best_step(run, 0) + own_steps


def test_loop_killed_with_sigkill_resumes_without_redoing_stages(tmp_path):
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "ringrift.loop", *TINY, "--iterations", "2",
           "--run-dir", str(run)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    state_file = run / "loop_state.json"
    deadline = time.time() + 240
    while time.time() < deadline:
        time.sleep(0.5)
        if state_file.exists():
            state = json.loads(state_file.read_text())
            if state["iteration"] == 1 or state["stage"] in ("evaluate", "promote"):
                break
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    killed_state = json.loads(state_file.read_text())
    with GameDB(run / "games" / "iter_000.db", readonly=True) as db:
        games_before = db.count_games()
    assert games_before == 4
    assert main(["loop", "--resume", "--run-dir", str(run)]) == 0
    state = json.loads(state_file.read_text())
    assert state["iteration"] == 2 and len(state["history"]) == 2
    with GameDB(run / "games" / "iter_000.db", readonly=True) as db:
        assert db.count_games() == 4  # finished selfplay was not redone
    assert killed_state["iteration"] <= 1


def test_resume_needs_an_existing_loop(tmp_path, capsys):
    assert main(["loop", "--resume", "--run-dir", str(tmp_path / "none")]) == 2
    assert "no loop here" in capsys.readouterr().err


@pytest.mark.parametrize("flags,message", [
    (["--board-type", "square9"], "unknown board type"),
    (["--board-type", "square8", "--selfplay-games", "0"], "--selfplay-games"),
    (["--board-type", "square8", "--mcts-simulations", "0"], "--mcts-simulations"),
    (["--board-type", "square8", "--selfplay-batch-size", "0"], "--selfplay-batch-size"),
    (["--board-type", "square8", "--eval-batch-size", "0"], "--eval-batch-size"),
    (["--board-type", "square8", "--samples-per-epoch", "0"], "--samples-per-epoch"),
    (["--board-type", "square8", "--test-games", "-1"], "--test-games"),
    (["--board-type", "square8", "--warmup-epochs", "-1"], "--warmup-epochs"),
    (["--board-type", "square8", "--eval-mcts-simulations", "0"], "--eval-mcts-simulations"),
    (["--board-type", "square8", "--thresholds", "heuristic=2"], "--thresholds"),
    (["--board-type", "square8", "--thresholds", "mcts=0.5"], "not an opponent"),
    (["--board-type", "square8", "--min-window", "0"], "--min-window"),
    (["--board-type", "square8", "--engine", "bogus"], "--engine 'bogus'"),
    (["--board-type", "square8", "--eval-engine", "mixed"], "--eval-engine 'mixed'"),
    (["--board-type", "square8", "--bootstrap-engine", "policy-only"], "--bootstrap-engine"),
    (["--board-type", "square8", "--sprt", "5"], "--sprt"),
    (["--board-type", "square8", "--lr-span", "run"], "--samples-per-epoch"),
])
def test_bad_flags(tmp_path, capsys, flags, message):
    assert main(["loop", *flags, "--run-dir", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "r").exists()  # refused before anything is written


def test_selfplay_stage_plays_only_missing_games_with_workers(tmp_path):
    """Workers finish games out of order, so a kill can leave gaps: a resumed selfplay stage
    plays exactly the games whose ids are missing, and bootstrap iterations play
    --bootstrap-games."""
    from ringrift.loop import stages

    cfg = LoopConfig("square8", 2, str(tmp_path / "run"), selfplay_games=3, bootstrap_games=4,
                     workers=2, max_moves=40)
    state = LoopState()
    first = stages.run_selfplay(cfg, state, lambda line: None)
    assert first["games"] == 4 and first["played_now"] == 4
    path = stages.iteration_db(cfg, 0)
    with GameDB(path) as db:
        ids = sorted(db.game_ids())
        assert ids == [stages.selfplay_game_id(0, i) for i in range(4)]
        kept = {i: db.get_game(i) for i in ids}
    path.unlink()
    with GameDB(path) as db:  # games 0 and 2 survived a kill
        for game_id in (ids[0], ids[2]):
            db.add_game(kept[game_id])
    again = stages.run_selfplay(cfg, state, lambda line: None)
    assert again["games"] == 4 and again["played_now"] == 2
    with GameDB(path, readonly=True) as db:
        assert sorted(db.game_ids()) == ids
        for game_id in ids:  # the replayed games are the same games (seeded by index)
            replayed = [m.move for m in db.get_game(game_id).moves]
            assert replayed == [m.move for m in kept[game_id].moves]


def test_bootstrap_games_must_be_positive(tmp_path, capsys):
    assert main(["loop", *TINY, "--bootstrap-games", "0", "--run-dir", str(tmp_path / "r")]) == 2
    assert "--bootstrap-games" in capsys.readouterr().err


def test_amp_reaches_training_and_the_network_players(tmp_path, monkeypatch):
    from ringrift.loop import stages
    from ringrift.nn import precision

    monkeypatch.setattr(precision, "cpu_supports_bf16", lambda: True)
    run = tmp_path / "run"
    assert main(["loop", *TINY, "--iterations", "1", "--amp", "--run-dir", str(run)]) == 0
    assert json.loads((run / "loop_config.json").read_text())["amp"] is True
    assert json.loads((run / "iter_000" / "train.json").read_text())["precision"] == \
        "bfloat16 autocast"
    cfg = LoopConfig("square8", 2, str(run), engine="gumbel", amp=True)
    state = LoopState(best_model=str(run / "models" / "iter_000.pt"))
    engine, options = stages.selfplay_engine(cfg, state)
    assert engine == "gumbel" and options.amp


@pytest.mark.parametrize("eval_simulations, expected", [(48, 48), (None, 24)])
def test_evaluation_searches_with_eval_simulations(tmp_path, monkeypatch, eval_simulations,
                                                   expected):
    from ringrift.evaluate import promotion
    from ringrift.loop import stages

    class Captured(Exception):
        pass

    def capture(registry, model, gauntlet, *, engine, options, **kwargs):
        raise Captured(engine, options.simulations)

    monkeypatch.setattr(promotion, "gate_and_promote", capture)
    cfg = LoopConfig("square8", 2, str(tmp_path / "run"), engine="gumbel", mcts_simulations=24,
                     eval_simulations=eval_simulations)
    state = LoopState(best_model="best.pt", stage="evaluate",
                      current={"train": {"model": "new.pt"}})
    with pytest.raises(Captured) as caught:
        stages.run_evaluate_stage(cfg, state, lambda line: None)
    assert caught.value.args == ("gumbel", expected)
    assert stages.selfplay_engine(cfg, state)[1].simulations == 24  # selfplay keeps its own


def test_demo_runs_a_small_loop(tmp_path, capsys):
    run = tmp_path / "demo"
    assert main(["demo", "--iterations", "1", "--bootstrap-games", "4", "--training-epochs", "1",
                 "--mcts-simulations", "4", "--eval-mcts-simulations", "4", "--eval-games", "2",
                 "--test-games", "2", "--workers", "1",
                 "--run-dir", str(run)]) == 0
    out = capsys.readouterr().out
    assert "demo finished" in out and "vs heuristic" in out and "test acc" in out
    assert (run / "progress.png").exists()


@pytest.mark.parametrize("threshold, stage, transitions", [
    (1.0, "rejected", ["development", "rejected"]),
    (0.0, "production", ["development", "staging", "production"])])
def test_resume_after_a_kill_between_recorded_outcome_and_stage_result(tmp_path, threshold,
                                                                        stage, transitions):
    """Killed after the registry recorded the model's rejection (or promotion) but before the
    evaluate stage wrote its result: the resumed loop reuses the recorded outcome (nothing is
    played again) and reports the same stage result as the original evaluation."""
    import io

    from ringrift.loop import stages
    from ringrift.loop.runner import run_training_loop
    from ringrift.registry import ModelRegistry

    run = tmp_path / "run"
    cfg = LoopConfig("square8", 2, str(run), iterations=1, eval_engine="random",
                     eval_opponents=["random"], thresholds={"random": threshold}, eval_games=6)
    model = run / "models" / "iter_000.pt"  # a stand-in the random engine does not read
    model.parent.mkdir(parents=True)
    model.write_bytes(b"weak")
    meta = {"architecture": "v2", "encoder_version": "1", "board_type": "square8",
            "num_players": 2}
    (model.parent / "iter_000.pt.json").write_text(json.dumps({"metadata": meta}))
    state = LoopState(stage="evaluate", current={"selfplay": {"games": 4},
                                                 "export": {"samples": 10},
                                                 "train": {"model": str(model)}})
    fresh = stages.run_evaluate_stage(cfg, state, lambda line: None)  # the run that was killed
    promoted = stage == "production"
    assert fresh["status"] == ("promoted" if promoted else "rejected")
    assert fresh["promoted"] is promoted
    assert set(fresh["opponents"]) == {"random"} and fresh["rating"] is not None
    with GameDB(run / "evaluation.db", readonly=True) as db:
        games = db.count_games()
    state.save(run)

    out = io.StringIO()
    resumed = run_training_loop(cfg, resume=True, out=out)
    assert f"{stage} already: its recorded gauntlet is reused" in out.getvalue()
    evaluate = json.loads((run / "iter_000" / "evaluate.json").read_text())
    evaluate.pop("seconds")
    assert evaluate == json.loads(json.dumps(fresh))  # same keys, records and rating
    assert resumed.history[0]["evaluate"]["opponents"] == fresh["opponents"]
    assert resumed.history[0]["promote"]["promoted"] is promoted
    with GameDB(run / "evaluation.db", readonly=True) as db:
        assert db.count_games() == games
    with ModelRegistry(run / "registry.db") as reg:
        [entry] = reg.list_models()
        assert entry.stage == stage and entry.id == fresh["model_id"]
        assert [t.to_stage for t in reg.history(entry.id)] == transitions


def test_demo_bad_flag_is_one_line_before_anything_runs(tmp_path, capsys):
    assert main(["demo", "--eval-engine", "bogus", "--run-dir", str(tmp_path / "d")]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.strip().splitlines()) == 1
    assert "--eval-engine 'bogus'" in captured.err and not (tmp_path / "d").exists()


def test_demo_settings_make_the_loop_the_demo_runs(tmp_path):
    from ringrift.loop import DemoSettings

    config = DemoSettings().loop_config()
    config.validate()
    assert config.run_dir.startswith("runs/demo-") and config.spec.board_type == "square8"
    assert (config.iterations, config.mcts_simulations, config.eval_simulations) == (4, 16, 32)
    mine = DemoSettings(iterations=1, eval_engine="policy-only", run_dir=str(tmp_path),
                        workers=3).loop_config()
    assert (mine.iterations, mine.eval_engine, mine.run_dir, mine.workers) == (
        1, "policy-only", str(tmp_path), 3)


def test_test_set_is_reused_and_completed_after_an_interruption(tmp_path):
    from ringrift.loop.test_set import ensure_test_set, test_set_path

    cfg = LoopConfig("square8", 2, str(tmp_path / "run"), test_games=3, max_moves=300)
    lines: list[str] = []
    assert ensure_test_set(LoopConfig("square8", 2, str(tmp_path / "off")), lines.append) is None
    path = ensure_test_set(cfg, lines.append)
    assert path == test_set_path(cfg) and len(lines) == 1
    stamp = path.stat().st_mtime_ns
    assert ensure_test_set(cfg, lines.append) == path and path.stat().st_mtime_ns == stamp
    assert len(lines) == 1  # reused: nothing played or written again
    # killed after some games were stored, before the arrays were written: the stored games
    # are kept and only the missing one is played
    import sqlite3

    path.unlink()
    with GameDB(path.parent / "games.db", readonly=True) as db:
        kept = db.get_game("test-000000")
    with sqlite3.connect(path.parent / "games.db") as conn:  # as if game 2 was never stored
        conn.execute("DELETE FROM moves WHERE game_id = 'test-000002'")
        conn.execute("DELETE FROM games WHERE id = 'test-000002'")
    conn.close()
    ensure_test_set(cfg, lines.append)
    with GameDB(path.parent / "games.db", readonly=True) as db:
        assert sorted(db.game_ids()) == ["test-000000", "test-000001", "test-000002"]
        assert db.get_game("test-000000").created_at == kept.created_at
    assert path.exists()


def test_a_signal_during_training_stops_the_loop_cleanly_and_resume_finishes(tmp_path, capsys,
                                                                           monkeypatch):
    """The trainer turns SIGTERM into an emergency checkpoint and returns no model: the loop
    stops there with one line and 128+signum (it used to go on and fail on a missing model),
    and --resume trains from that checkpoint."""
    import ringrift.train.trainer as trainer

    class SignalledOnInstall(trainer.StopFlag):
        def install(self):
            super().install()
            os.kill(os.getpid(), signal.SIGTERM)  # as if sent during the first step

    run = tmp_path / "run"
    monkeypatch.setattr(trainer, "StopFlag", SignalledOnInstall)
    assert main(["loop", *TINY, "--iterations", "1", "--run-dir", str(run)]) == 128 + 15
    err = capsys.readouterr().err.splitlines()
    assert "emergency checkpoint" in err[-2]  # (the trainer's own line)
    assert err[-1].startswith("ringrift loop: interrupted: SIGTERM during training")
    assert err[-1].endswith(f"continue with: ringrift loop --run-dir {run} --resume")
    state = json.loads((run / "loop_state.json").read_text())
    assert state["stage"] == "train" and not (run / "iter_000" / "train.json").exists()
    assert list((run / "models" / "iter_000_ckpt").glob("*emergency*"))

    monkeypatch.setattr(trainer, "StopFlag", SignalledOnInstall.__mro__[1])
    assert main(["loop", "--resume", "--run-dir", str(run)]) == 0
    result = json.loads((run / "iter_000" / "train.json").read_text())
    assert result["resumed"] is True and os.path.exists(result["model"])
    assert json.loads((run / "loop_state.json").read_text())["iteration"] == 1


@pytest.mark.parametrize("span, expected_lrs", [
    ("iteration", [[1.0, 0.0], [1.0, 0.0]]),  # each iteration warms up and decays its own
    ("run", [[1.0, 0.75], [0.25, 0.0]]),  # one cosine over the 4 steps of both iterations
])
def test_lr_span_run_makes_the_iterations_one_schedule(tmp_path, span, expected_lrs):
    """--samples-per-epoch 64 at batch 64: one step per epoch, two per iteration. With
    --lr-span run the optimizer also carries over (AdamW's step count continues)."""
    from tests.train.test_train_run import _adam_steps

    run = tmp_path / "run"
    assert main(["loop", *TINY, "--iterations", "2", "--training-epochs", "2",
                 "--samples-per-epoch", "64", "--lr-span", span, "--run-dir", str(run)]) == 0
    lrs = []
    for i in range(2):
        metrics = json.loads((run / "models" / f"iter_00{i}.pt.metrics.json").read_text())
        lrs.append([round(epoch["lr"] / 1e-3, 6) for epoch in metrics["history"]])
    assert lrs == expected_lrs
    steps = [_adam_steps(sorted((run / "models" / f"iter_00{i}_ckpt").glob("step_*_epoch.pt"))[-1])
             for i in range(2)]
    # run span: iteration 1 goes on from the moments saved at iteration 0's best epoch
    assert steps == ([2, 2] if span == "iteration" else [2, _best_step(run, 0) + 2])


def test_a_run_span_loop_stopped_in_training_resumes_with_more_iterations(tmp_path, monkeypatch):
    """Raising --iterations on resume stretches the one schedule, even mid-training."""
    import ringrift.train.trainer as trainer

    class SignalledOnInstall(trainer.StopFlag):
        def install(self):
            super().install()
            os.kill(os.getpid(), signal.SIGTERM)

    run = tmp_path / "run"
    flags = [*TINY, "--training-epochs", "2", "--samples-per-epoch", "64", "--lr-span", "run"]
    monkeypatch.setattr(trainer, "StopFlag", SignalledOnInstall)
    assert main(["loop", *flags, "--iterations", "1", "--run-dir", str(run)]) == 128 + 15
    monkeypatch.setattr(trainer, "StopFlag", SignalledOnInstall.__mro__[1])
    assert main(["loop", "--resume", "--iterations", "2", "--run-dir", str(run)]) == 0
    lrs = []
    for i in range(2):
        metrics = json.loads((run / "models" / f"iter_00{i}.pt.metrics.json").read_text())
        lrs.append([round(epoch["lr"] / 1e-3, 6) for epoch in metrics["history"]])
    assert lrs[1] == [0.25, 0.0]  # the second half of one cosine over 4 steps


def _best_step(run, i):
    """The step of iteration i's best epoch (its AdamW step count: iteration 0 starts fresh)."""
    from ringrift.train.checkpoint import CheckpointManager

    return CheckpointManager(run / "models" / f"iter_00{i}_ckpt").best_step()


def test_kept_optimizer_is_the_one_of_the_best_epoch(tmp_path):
    """The next iteration starts from the best epoch's weights, so it takes the AdamW moments
    saved at that epoch's step, not the last epoch's; the newest when that one was pruned."""
    from ringrift.loop.stages import _optimizer_checkpoint

    model = tmp_path / "iter_000.pt"
    ckpt = tmp_path / "iter_000_ckpt"
    ckpt.mkdir()
    for name in ("best_000000100.pt", "step_000000100_regular.pt", "step_000000100_epoch.pt",
                 "step_000000200_epoch.pt"):
        (ckpt / name).write_bytes(b"")
    keep = LoopConfig("square8", 2, "x", keep_optimizer=True)
    assert _optimizer_checkpoint(keep, str(model)) == str(ckpt / "step_000000100_epoch.pt")
    assert _optimizer_checkpoint(LoopConfig("square8", 2, "x"), str(model)) is None
    (ckpt / "step_000000100_regular.pt").unlink()
    (ckpt / "step_000000100_epoch.pt").unlink()
    assert _optimizer_checkpoint(keep, str(model)) == str(ckpt / "step_000000200_epoch.pt")


def test_the_summary_rates_every_iteration_in_one_fit_over_the_runs_games(tmp_path):
    """Each gauntlet stores the rating fitted over the games played until then; the summary
    and plot refit all of the run's evaluation games, so the iterations share one scale."""
    import io

    from ringrift.evaluate.engine_spec import EngineSpec
    from ringrift.evaluate.gauntlet import GauntletConfig, run_gauntlet
    from ringrift.evaluate.ratings_db import fit_db_elo
    from ringrift.loop.runner import current_ratings, print_summary

    cfg = LoopConfig("square8", 2, str(tmp_path))
    stored = {"elo": 1.0, "low": 0.0, "high": 2.0}
    history = [{"iteration": 0, "evaluate": {"opponents": {}, "rating": stored}},
               {"iteration": 1, "evaluate": {"opponents": {}, "rating": None}},
               {"iteration": 2, "evaluate": {"opponents": {}, "rating": stored}}]
    assert current_ratings(cfg, history) == {0: stored, 2: stored}  # no games: as stored
    gauntlet = GauntletConfig("square8", 2, games=4, opponents=("random", "heuristic"),
                              thresholds={"random": None, "heuristic": None})
    with GameDB(tmp_path / "evaluation.db") as db:
        run_gauntlet(EngineSpec.build("random", name="iter_000"), gauntlet, db=db)
        run_gauntlet(EngineSpec.build("heuristic", name="iter_001"), gauntlet, db=db,
                     previous=EngineSpec.build("random", name="iter_000"))
    fit, _ = fit_db_elo(tmp_path / "evaluation.db", cfg.spec)
    ratings = current_ratings(cfg, history)
    for i in (0, 1):
        assert ratings[i] == {"elo": fit[f"iter_00{i}"].elo, "low": fit[f"iter_00{i}"].low,
                              "high": fit[f"iter_00{i}"].high}
    assert ratings[2] == stored  # not in the games: its stored rating
    out = io.StringIO()
    print_summary(history, out, ratings)
    rows = out.getvalue().splitlines()[1:]
    assert [row.split()[-2] for row in rows] == [f"{ratings[i]['elo']:.0f}" for i in range(3)]

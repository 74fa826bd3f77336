"""`ringrift loop --async-eval`: the same results as the synchronous loop, a promotion picked up
by the later selfplay games, resume after SIGKILL with an evaluation in flight."""

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
from ringrift.loop.async_eval import run_selfplay_watching
from ringrift.loop.config import LoopConfig
from ringrift.loop.stages import iteration_db
from ringrift.loop.state import LoopState
from ringrift.rules.spec import GameSpec

TINY = ["--board-type", "square8", "--num-players", "2", "--selfplay-games", "4",
        "--training-epochs", "1", "--channels", "8", "--blocks", "1", "--eval-games", "2",
        "--batch-size", "64", "--iterations", "2", "--seed", "3"]


def _results(run):
    """Per iteration: what selfplay, training, evaluation and promotion produced."""
    out = []
    for i in range(2):
        folder = run / f"iter_{i:03d}"
        ev = json.loads((folder / "evaluate.json").read_text())
        pr = json.loads((folder / "promote.json").read_text())
        tr = json.loads((folder / "train.json").read_text())
        sp = json.loads((folder / "selfplay.json").read_text())
        out.append({"games": sp["games"], "val_loss": tr["val_loss"],
                    "opponents": ev["opponents"], "status": ev["status"],
                    "promoted": pr["promoted"]})
    return out


def _assert_same(results, expected):
    """Equal, the validation losses up to float noise (a model trained in a subprocess with
    another torch thread count differs in the last digits)."""
    assert [r["val_loss"] for r in results] == pytest.approx(
        [r["val_loss"] for r in expected], rel=1e-4)
    strip = [[{k: v for k, v in r.items() if k != "val_loss"} for r in rs]
             for rs in (results, expected)]
    assert strip[0] == strip[1]


@pytest.fixture(scope="module")
def sync_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("sync") / "run"
    assert main(["loop", *TINY, "--run-dir", str(run)]) == 0
    return _results(run)


@pytest.mark.slow
def test_async_evaluation_gives_the_synchronous_results(tmp_path, sync_run, capsys):
    run = tmp_path / "run"
    assert main(["loop", *TINY, "--run-dir", str(run), "--async-eval"]) == 0
    out = capsys.readouterr().out
    assert "runs in worker pid" in out and "evaluation of iteration 0 applied" in out
    _assert_same(_results(run), sync_run)
    state = json.loads((run / "loop_state.json").read_text())
    assert state["pending_eval"] is None
    assert [h["evaluate"]["opponents"] for h in state["history"]] == [
        r["opponents"] for r in sync_run]


@pytest.mark.slow
def test_a_loop_killed_with_an_evaluation_in_flight_resumes(tmp_path, sync_run):
    run = tmp_path / "run"
    argv = ["loop", *TINY, "--run-dir", str(run), "--async-eval"]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, "-m", "ringrift", *argv], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    try:
        while time.time() < deadline:  # until the state records an evaluation in flight
            time.sleep(0.1)
            try:
                state = json.loads((run / "loop_state.json").read_text())
            except (OSError, json.JSONDecodeError):
                continue
            if state.get("pending_eval"):
                break
        else:
            pytest.fail("no evaluation was ever in flight")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert main(["loop", "--run-dir", str(run), "--resume"]) == 0
    _assert_same(_results(run), sync_run)


def test_a_promotion_mid_selfplay_is_picked_up_by_the_later_games(tmp_path):
    """A stand-in evaluator promotes a model before the third game: games 0-1 are played by
    the bootstrap engine, games 2-4 by the new best model."""
    import torch

    from ringrift.nn.models import build_model, make_config, save_model_file

    torch.manual_seed(0)
    mc = make_config("v2", GameSpec("square8", 2), channels=8, blocks=1)
    model = tmp_path / "best.pt"
    save_model_file(model, {"metadata": {"architecture": "v2", "model_config": mc.to_dict(),
                                         "board_type": "square8", "num_players": 2,
                                         "encoder_version": 1},
                            "model_state": build_model(mc).state_dict()})

    class PromotesOnThirdPoll:
        calls = 0

        def poll_and_apply(self, state):
            self.calls += 1
            if self.calls == 3:
                state.best_model = str(model)
                return True
            return False

    cfg = LoopConfig("square8", 2, str(tmp_path / "run"), selfplay_games=5, max_moves=60,
                     engine="policy-only")
    state = LoopState(iteration=1)
    result = run_selfplay_watching(cfg, state, lambda line: None, PromotesOnThirdPoll())
    assert result["games"] == 5 and result["played_now"] == 5
    assert [(e["from_game"], e["model"]) for e in result["engines"]] == [(0, None),
                                                                         (2, str(model))]
    with GameDB(iteration_db(cfg, 1), readonly=True) as db:
        models = {gid: db.get_game(gid).metadata.get("model") for gid in db.game_ids()}
    assert [models[f"loop-001-{i:06d}"] for i in range(5)] == [None, None] + [str(model)] * 3

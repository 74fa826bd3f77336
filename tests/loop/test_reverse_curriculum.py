"""A reverse curriculum: stages' start_fraction (parsed, validated, saved, resumed) and the
loop's selfplay starting its games that far through the run's earlier games."""

from __future__ import annotations

import json

import pytest

from ringrift.cli.main import main
from ringrift.data.gamedb import GameDB
from ringrift.errors import ConfigError
from ringrift.loop import stages
from ringrift.loop.config import LoopConfig
from ringrift.loop.curriculum import CurriculumManager, load_curriculum_file, manager_from_spec
from ringrift.loop.state import LoopState
from ringrift.selfplay.start_positions import START_POSITION_KEY
from tests.serve.helpers import tiny_model

REVERSE = {"stages": [
    {"difficulty": 1.0, "start_fraction": 0.6, "advance_win_rate": 0.5, "opponent": "random"},
    {"difficulty": 1.0, "start_fraction": 0.3, "advance_win_rate": 0.5, "opponent": "random"},
    {"difficulty": 1.0}]}


def test_start_fraction_is_parsed_recorded_saved_and_resumed(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps(REVERSE))
    manager = manager_from_spec(load_curriculum_file(path))
    assert [s.start_fraction for s in manager.stages] == [0.6, 0.3, 0.0]
    assert manager.start_fraction == 0.6
    entry = manager.record(0, {"random": 0.4})  # below the bar: stays
    assert (entry["start_fraction"], entry["next_start_fraction"]) == (0.6, 0.6)
    entry = manager.record(1, {"random": 0.9})
    assert (entry["start_fraction"], entry["next_start_fraction"]) == (0.6, 0.3)
    manager.save(tmp_path / "state.json")
    resumed = CurriculumManager.load_state(tmp_path / "state.json", {})
    assert resumed.start_fraction == 0.3 and resumed.history == manager.history


def test_an_iteration_that_did_not_play_the_stage_start_does_not_count():
    manager = manager_from_spec(REVERSE)
    held = manager.record(0, {"random": 1.0}, start_fraction_played=0.0)  # no earlier games
    assert not held["advanced"] and not held["counted"] and manager.iterations_in_stage == 0
    moved = manager.record(1, {"random": 1.0}, start_fraction_played=0.6)
    assert moved["advanced"] and moved["counted"] and manager.start_fraction == 0.3
    plain = CurriculumManager(num_stages=2)  # difficulty stages: every iteration counts
    assert plain.record(0, {"heuristic": 0.9}, start_fraction_played=0.0)["advanced"]


def test_a_saved_curriculum_without_start_fractions_plays_from_the_opening(tmp_path):
    """A curriculum.json saved before stages had start_fraction loads as fresh games."""
    old = CurriculumManager(num_stages=2).to_dict()
    for stage in old["stages"]:
        del stage["start_fraction"]
    (tmp_path / "state.json").write_text(json.dumps(old))
    loaded = CurriculumManager.load_state(tmp_path / "state.json", {})
    assert [s.start_fraction for s in loaded.stages] == [0.0, 0.0]
    assert manager_from_spec({"num_stages": 3}).start_fraction == 0.0


@pytest.mark.parametrize("value", [1.0, -0.2, "0.5", True])
def test_bad_start_fraction_names_the_stage(tmp_path, capsys, value):
    spec = {"stages": [{"difficulty": 0.5}, {"difficulty": 1.0, "start_fraction": value}]}
    with pytest.raises(ConfigError) as info:
        manager_from_spec(spec)
    assert str(info.value) == (f"curriculum stage 2: start_fraction must be a number in "
                               f"[0, 1), got {value!r}")
    path = tmp_path / "c.json"
    path.write_text(json.dumps(spec))
    assert main(["loop", "--board-type", "square8", "--run-dir", str(tmp_path / "r"),
                 "--curriculum", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "stage 2: start_fraction must be" in err


def _starts(cfg: LoopConfig, iteration: int) -> list:
    with GameDB(stages.iteration_db(cfg, iteration), readonly=True) as db:
        return [g.metadata.get(START_POSITION_KEY) for g in db.iter_games()]


def test_the_selfplay_stage_starts_games_at_the_current_stage_fraction(tmp_path):
    """Iteration 0 has no earlier games: the opening. Then the stage's fraction through the
    earlier iterations' whole games, for bootstrap and model selfplay alike, until the
    curriculum reaches a stage at 0."""
    cfg = LoopConfig("square8", 2, str(tmp_path / "run"), selfplay_games=3, bootstrap_games=3,
                     max_moves=30, curriculum=REVERSE)
    log: list[str] = []
    state = LoopState()
    first = stages.run_selfplay(cfg, state, log.append)
    assert first["start_fraction"] == 0.0 and _starts(cfg, 0) == [None] * 3

    state.iteration = 1  # still bootstrap (no promoted model)
    second = stages.run_selfplay(cfg, state, log.append)
    assert second["start_fraction"] == 0.6 and second["engine"] == "heuristic"
    starts = _starts(cfg, 1)
    with GameDB(stages.iteration_db(cfg, 0), readonly=True) as db:
        whole = {g.game_id: g.move_count for g in db.iter_games()}
    for start in starts:
        assert start["database"] == str(stages.iteration_db(cfg, 0))
        assert start["move_index"] == round(0.6 * whole[start["game_id"]])
    assert any("start 0.60 of the way through earlier games" in line for line in log)

    manager = stages.curriculum_manager(cfg)  # the evaluation beat the stage's bar
    manager.record(1, {"random": 0.9})
    manager.save(stages.curriculum_path(cfg))
    state.iteration, state.best_model = 2, str(tiny_model(tmp_path, name="m.pt"))
    cfg.mcts_simulations = 2
    third = stages.run_selfplay(cfg, state, log.append)
    assert third["start_fraction"] == 0.3 and third["engine"] == "policy-only"
    starts = _starts(cfg, 2)  # only whole games: iteration 1's started from positions
    assert {s["database"] for s in starts} == {str(stages.iteration_db(cfg, 0))}
    assert all(s["fraction"] == 0.3 for s in starts)

    manager = stages.curriculum_manager(cfg)
    manager.record(2, {"random": 0.9})
    manager.save(stages.curriculum_path(cfg))
    state.iteration = 3
    assert stages.run_selfplay(cfg, state, log.append)["start_fraction"] == 0.0
    assert _starts(cfg, 3) == [None] * 3


def test_without_a_curriculum_the_stage_result_is_unchanged(tmp_path):
    cfg = LoopConfig("square8", 2, str(tmp_path / "run"), bootstrap_games=2, max_moves=20)
    out = stages.run_selfplay(cfg, LoopState(), lambda line: None)
    assert "start_fraction" not in out and _starts(cfg, 0) == [None] * 2


@pytest.mark.slow
def test_tiny_loop_with_a_reverse_curriculum(tmp_path):
    curriculum = tmp_path / "c.json"
    curriculum.write_text(json.dumps({"stages": [
        {"difficulty": 1.0, "start_fraction": 0.5, "advance_win_rate": 0.01,
         "opponent": "random"},
        {"difficulty": 1.0, "start_fraction": 0.25}]}))
    run = tmp_path / "run"
    assert main(["loop", "--board-type", "square8", "--num-players", "2", "--selfplay-games",
                 "3", "--training-epochs", "1", "--channels", "8", "--blocks", "1",
                 "--eval-games", "2", "--batch-size", "32", "--iterations", "2",
                 "--eval-opponents", "random",
                 "--thresholds", "random=none,previous=none",
                 "--curriculum", str(curriculum), "--run-dir", str(run)]) == 0
    sp = [json.loads((run / f"iter_00{i}" / "selfplay.json").read_text()) for i in (0, 1)]
    promote = json.loads((run / "iter_000" / "promote.json").read_text())["curriculum"]
    # iteration 0 had no earlier games: it played from the opening, so it did not count
    # toward stage 1 and iteration 1 plays stage 1's positions
    assert promote["start_fraction"] == 0.5 and promote["start_fraction_played"] == 0.0
    assert not promote["counted"] and not promote["advanced"]
    assert promote["next_start_fraction"] == 0.5
    assert [s["start_fraction"] for s in sp] == [0.0, 0.5]
    with GameDB(run / "games" / "iter_001.db", readonly=True) as db:
        assert {g.metadata[START_POSITION_KEY]["fraction"] for g in db.iter_games()} == {0.5}
    promote = json.loads((run / "iter_001" / "promote.json").read_text())["curriculum"]
    assert promote["start_fraction_played"] == 0.5 and promote["counted"]

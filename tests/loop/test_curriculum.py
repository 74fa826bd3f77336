"""Curriculum stages: transitions on scripted win rates, files, bad input; and a tiny loop with
the issue-21 flags (curriculum, prioritized replay, hard positions, auxiliary heads)."""

from __future__ import annotations

import json

import pytest

from ringrift.cli.main import main
from ringrift.errors import ConfigError
from ringrift.loop.config import LoopConfig
from ringrift.loop.curriculum import (
    CurriculumManager,
    CurriculumStage,
    load_curriculum_file,
    manager_from_spec,
)


def test_seed_api_spaces_stages_from_initial_to_target():
    manager = CurriculumManager(initial_difficulty=0.3, target_difficulty=1.0)
    assert [s.difficulty for s in manager.stages] == [0.3, 0.65, 1.0]
    assert manager.difficulty == 0.3 and manager.heuristic_epsilon() == 0.7
    assert not manager.finished


def test_stages_advance_on_scripted_win_rates():
    manager = CurriculumManager(stages=[
        CurriculumStage(0.2, advance_win_rate=0.6),
        CurriculumStage(0.6, advance_win_rate=0.7, min_iterations=2),
        CurriculumStage(1.0, advance_win_rate=0.5)])
    script = [(0.4, 1), (0.65, 2), (0.9, 2), (0.71, 3), (0.2, 3), (0.99, 3)]
    #  below the bar | reaches 0.6 -> 2 | 1st iter in stage 2: too soon, stays | 2nd: 0.71 -> 3
    #  | last stage: never advances further
    for i, (rate, stage_after) in enumerate(script):
        entry = manager.record(i, {"heuristic": rate, "random": 1.0})
        assert entry["win_rate"] == rate
        assert entry["next_stage"] == stage_after, (i, entry)
    assert [e["advanced"] for e in manager.history] == [False, True, False, True, False, False]
    assert manager.finished and manager.difficulty == 1.0 and manager.heuristic_epsilon() == 0.0


def test_a_missing_rate_never_advances_and_an_iteration_counts_once(tmp_path):
    manager = CurriculumManager(num_stages=2, opponent="heuristic")
    assert not manager.record(0, {"random": 1.0})["advanced"]  # heuristic not played
    first = manager.record(1, {"heuristic": 0.9})
    assert first["advanced"] and manager.stage_index == 1
    assert manager.record(1, {"heuristic": 0.0}) is first  # a resumed stage re-records
    manager.save(tmp_path / "c.json")
    again = CurriculumManager.load_state(tmp_path / "c.json", {})
    assert again.stage_index == 1 and again.history == manager.history


def test_json_and_yaml_files(tmp_path):
    spec = {"stages": [{"difficulty": 0.5, "advance_win_rate": 0.55}, {"difficulty": 1.0}]}
    (tmp_path / "c.json").write_text(json.dumps(spec))
    assert load_curriculum_file(tmp_path / "c.json") == spec
    (tmp_path / "c.yaml").write_text("initial_difficulty: 0.4\nnum_stages: 4\n")
    manager = manager_from_spec(load_curriculum_file(tmp_path / "c.yaml"), "x")
    assert [s.difficulty for s in manager.stages] == [0.4, 0.6, 0.8, 1.0]


@pytest.mark.parametrize("text,message", [
    ("{", "not valid JSON"),
    ('{"stages": [{"advance_win_rate": 0.5}]}', "needs a difficulty"),
    ('{"stages": [{"difficulty": 1.5}]}', "difficulty must be in"),
    ('{"stages": [{"difficulty": 0.5, "bogus": 1}]}', "unknown setting 'bogus'"),
    ('{"speed": 3}', "has an unknown setting 'speed'"),
    ('{"num_stages": 0}', "num_stages"),
    ('[1, 2]', "mapping"),
])
def test_bad_curriculum_files(tmp_path, text, message):
    path = tmp_path / "c.json"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as info:
        load_curriculum_file(path)
    assert info.value.field == "curriculum" and info.value.problem.startswith(f"{path}: ")


def test_bad_curriculum_names_the_field_in_the_library_and_the_flag_in_the_cli(tmp_path,
                                                                                capsys):
    spec = {"stages": [{"difficulty": 0.5}, {"difficulty": 2}]}
    with pytest.raises(ConfigError) as info:
        LoopConfig("square8", 2, str(tmp_path / "r"), curriculum=spec).validate()
    assert str(info.value) == "curriculum stage 2: difficulty must be in [0, 1], got 2"
    path = tmp_path / "c.json"
    path.write_text(json.dumps(spec))
    assert main(["loop", "--board-type", "square8", "--run-dir", str(tmp_path / "r"),
                 "--curriculum", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"ringrift loop: error: --curriculum {path}: stage 2: difficulty must be in "
                   f"[0, 1], got 2")
    with pytest.raises(ConfigError, match=r"^curriculum must be a mapping of settings$"):
        manager_from_spec([1, 2])


def test_bad_curriculum_flag_is_one_line(tmp_path, capsys):
    assert main(["loop", "--board-type", "square8", "--run-dir", str(tmp_path / "r"),
                 "--curriculum", str(tmp_path / "missing.json")]) == 2
    err = capsys.readouterr().err.strip()
    assert "--curriculum" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "r").exists()


@pytest.mark.slow
def test_tiny_loop_with_curriculum_replay_hard_positions_and_aux_heads(tmp_path, capsys):
    curriculum = tmp_path / "c.json"
    curriculum.write_text(json.dumps({"stages": [{"difficulty": 0.4, "advance_win_rate": 0.01,
                                                  "opponent": "random"},
                                                 {"difficulty": 1.0}]}))
    run = tmp_path / "run"
    assert main(["loop", "--board-type", "square8", "--num-players", "2", "--selfplay-games",
                 "3", "--training-epochs", "1", "--channels", "8", "--blocks", "1",
                 "--eval-games", "2", "--batch-size", "32", "--iterations", "2",
                 "--eval-opponents", "random", "--thresholds", "random=none,previous=none",
                 "--curriculum", str(curriculum), "--prioritized-replay",
                 "--hard-positions", "0.25", "--ownership-weight", "0.5",
                 "--game-length-weight", "0.5", "--run-dir", str(run)]) == 0
    sp0 = json.loads((run / "iter_000" / "selfplay.json").read_text())
    assert sp0["heuristic_epsilon"] == pytest.approx(0.6)  # stage 1: difficulty 0.4
    pr0 = json.loads((run / "iter_000" / "promote.json").read_text())
    assert pr0["curriculum"]["stage"] == 1 and "win_rate" in pr0["curriculum"]
    state = json.loads((run / "curriculum.json").read_text())
    assert len(state["history"]) == 2
    train1 = json.loads((run / "iter_001" / "train.json").read_text())
    assert train1["hard_positions"]["samples"] > 0  # mined with iteration 0's model
    assert (run / "training" / "hard_001.npz").exists()
    metrics = json.loads((run / "models" / "iter_001.pt.metrics.json").read_text())
    last = metrics["history"][-1]
    assert last["per_seen"] > 0 and last["train_ownership_ce"] > 0
    assert metrics["history"][-1]["train_game_length_mse"] > 0


def test_seed_names_are_importable_from_the_package():
    from ringrift import CurriculumManager as Seeded
    from ringrift import create_online_learner
    from ringrift.ai.online_learner import create_online_learner as impl

    assert Seeded is CurriculumManager and create_online_learner is impl

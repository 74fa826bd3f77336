"""The gauntlet: thresholds, early stop, SPRT gate, table/JSON, bad flags, resume after a kill.

Games are square8 with the random engine (about 10 ms a game) unless a test needs strength.
"""

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
from ringrift.errors import ConfigError, UserError
from ringrift.evaluate.engine_spec import EngineSpec, engine_options
from ringrift.evaluate.gauntlet import (
    Gauntlet,
    GauntletConfig,
    default_thresholds,
    previous_spec,
    run_gauntlet,
)
from tests.evaluate.gauntlet_helpers import Killed, die_after, resumable_gauntlet

BASE = ["gauntlet", "--board-type", "square8", "--num-players", "2", "--quiet"]
RANDOM_CAND = ["--engine", "random", "--name", "cand"]


def test_default_thresholds_per_player_count():
    assert default_thresholds(2) == {"random": 0.85, "heuristic": 0.6, "previous": 0.55}
    assert default_thresholds(3) == {"random": 0.74, "heuristic": 0.43, "previous": 0.38}
    assert default_thresholds(4) == {"random": 0.65, "heuristic": 0.33, "previous": 0.29}


def test_config_checks_thresholds_opponents_and_sprt():
    # (the flag texts are parsed in the CLI: tests/cli/test_flag_values.py)
    for thresholds in ({"random": 1.5}, {"random": -0.1}, {"random": float("nan")}):
        with pytest.raises(ConfigError, match=r"^thresholds for random must be in \[0, 1\]"):
            GauntletConfig("square8", 2, thresholds=thresholds).validate()
    GauntletConfig("square8", 2, thresholds={"random": None, "heuristic": 1.0}).validate()
    with pytest.raises(ConfigError, match="^opponents lists random twice"):
        GauntletConfig("square8", 2, opponents=("random", "random")).validate()
    for bounds in ((50.0, 0.0), (10.0, 10.0), (0.0, float("inf")), (0.0,)):
        with pytest.raises(ConfigError, match="^sprt needs finite elo0 < elo1"):
            GauntletConfig("square8", 2, sprt=bounds).validate()
    with pytest.raises(ConfigError, match=r"^sprt_beta must be in \(0, 0.5\)"):
        GauntletConfig("square8", 2, sprt=(0.0, 35.0), sprt_beta=0.5).validate()
    config = GauntletConfig("square8", 3, thresholds={"random": 0.5})
    assert config.threshold("random") == 0.5 and config.threshold("heuristic") == 0.43
    with pytest.raises(ConfigError, match="^thresholds gives none for opponent 'policy-only', "
                       "which has no default threshold"):
        GauntletConfig("square8", 2, opponents=("policy-only",)).validate()
    with pytest.raises(UserError, match="not an opponent"):
        GauntletConfig("square8", 2, thresholds={"mcts": 0.5}).validate()
    with pytest.raises(UserError, match="does not include 'previous'"):
        GauntletConfig("square8", 2, opponents=("random",), sprt=(0, 50)).validate()


def test_engine_options_pass_through():
    options = engine_options(temperature=0.5, extra=["heuristic_epsilon=0.1",
                                                     "heuristic-profile=fast"])
    assert options.temperature == 0.5 and options.heuristic_epsilon == 0.1
    assert options.heuristic_profile == "fast"
    for bad in (["nope=1"], ["heuristic_epsilon=abc"], ["model_path=x.pt"], ["temperature"]):
        with pytest.raises(UserError, match="^extra "):  # (the CLI: --engine-option)
            engine_options(extra=bad)


def test_early_stop_pass_and_fail_and_stop_on_fail():
    cand = EngineSpec.build("random", name="cand")
    config = GauntletConfig("square8", 2, games=50, opponents=("random", "heuristic"),
                            thresholds={"random": 0.0, "heuristic": 1.0}, stop_on_fail=False)
    result = run_gauntlet(cand, config)
    by = {r.opponent: r for r in result.results}
    # threshold 0: passed after the first game; threshold 1: failed at the first non-win
    assert by["random"].games == 1 and by["random"].verdict == "pass"
    assert by["random"].early_stop
    assert by["heuristic"].verdict == "fail" and by["heuristic"].match.wins == \
        by["heuristic"].games - 1
    assert result.verdict == "fail" and not result.passed
    config.opponents = ("heuristic", "random")
    config.stop_on_fail = True
    result = run_gauntlet(cand, config)
    assert [r.opponent for r in result.results] == ["heuristic"]
    assert result.skipped == [("random", "not played: heuristic ended fail")]


def test_report_only_opponent_plays_every_game_and_gates_nothing():
    """A report-only opponent (threshold None) is played for all planned games, whatever the
    score, and neither passes nor fails the gauntlet; the gated ones still decide."""
    cand = EngineSpec.build("random", name="cand")
    config = GauntletConfig("square8", 2, games=12, opponents=("heuristic", "random"),
                            thresholds={"heuristic": None, "random": 0.0}, stop_on_fail=True)
    result = run_gauntlet(cand, config)
    by = {r.opponent: r for r in result.results}
    assert by["heuristic"].games == 12 and by["heuristic"].verdict == "reported"
    assert by["heuristic"].match.wins < 12 and not by["heuristic"].early_stop
    assert by["random"].verdict == "pass"  # still played: reported is not a failure
    assert result.verdict == "pass"
    table = "\n".join(result.table())
    assert "reported" in table and "  -  " in table
    config.thresholds = {"heuristic": None, "random": 1.0}
    assert run_gauntlet(cand, config).verdict == "fail"


def test_full_match_is_the_plain_verdict_and_seats_rotate(tmp_path):
    cand = EngineSpec.build("random", name="cand")
    config = GauntletConfig("square8", 3, games=6, opponents=("random",),
                            thresholds={"random": 0.999})
    with GameDB(tmp_path / "e.db") as db:
        # rate 0.999 over 6 games is only reachable by winning all 6: stops at the first miss
        result = run_gauntlet(cand, config, db=db)
        records = list(db.iter_games())
    r = result.results[0]
    assert r.verdict == "fail" and r.games == len(records) >= 1
    for i, record in enumerate(records):
        seat = i % 3 + 1
        assert record.metadata["candidate_seat"] == seat and record.metadata["game_index"] == i
        assert record.engines == ["cand" if s == seat else "random" for s in (1, 2, 3)]
        assert record.source == "evaluation" and record.metadata["kind"] == "gauntlet"


def test_sprt_gate_accepts_strong_and_rejects_equal():
    config = GauntletConfig("square8", 2, opponents=("previous",), sprt=(0, 200),
                            sprt_max_games=200)
    strong = run_gauntlet(EngineSpec.build("heuristic", name="cand"), config,
                          previous=EngineSpec.build("random", name="prev"))
    r = strong.results[0]
    assert r.verdict == "pass" and r.sprt.status == "accept_h1" and r.games < 40
    assert r.threshold is None and strong.passed
    equal = run_gauntlet(EngineSpec.build("random", name="cand"), config,
                         previous=EngineSpec.build("random", name="prev"))
    r = equal.results[0]
    assert r.sprt.status == "accept_h0" and r.verdict == "fail" and r.games < 200
    capped = GauntletConfig("square8", 2, opponents=("previous",), sprt=(0, 5),
                            sprt_max_games=3)
    r = run_gauntlet(EngineSpec.build("random", name="cand"), capped,
                     previous=EngineSpec.build("random", name="prev")).results[0]
    assert (r.games, r.verdict, r.sprt.status) == (3, "undecided", "continue")


def test_multiplayer_sprt_counts_pairwise_results():
    config = GauntletConfig("square8", 4, opponents=("previous",), sprt=(0, 5),
                            sprt_max_games=2)
    r = run_gauntlet(EngineSpec.build("random", name="cand"), config,
                     previous=EngineSpec.build("random", name="prev")).results[0]
    assert r.games == 2 and r.sprt.games == 2 * 3


def test_previous_spec_plays_the_candidate_engine(tmp_path):
    a, b = tmp_path / "m1" / "best.pt", tmp_path / "m2" / "best.pt"
    for path, data in ((a, b"one"), (b, b"two")):
        path.parent.mkdir()
        path.write_bytes(data)
    cand = EngineSpec.build("heuristic", engine_options(model_path=str(a)))
    assert cand.name == "best:heuristic"
    prev, note = previous_spec(cand, str(b))
    assert note is None and prev.engine == "heuristic" and prev.model_path == str(b)
    assert prev.name == f"best:heuristic@{prev.sha256[:8]}"
    same, note = previous_spec(cand, str(a))
    assert same is None and "candidate itself" in note


def test_cli_table_json_and_exit_status(tmp_path, capsys):
    db = tmp_path / "e.db"
    argv = BASE + RANDOM_CAND + ["--games", "10", "--opponents", "random,previous", "--db",
                                 str(db)]
    assert main(argv + ["--thresholds", "random=0.0"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("gauntlet: cand (random) on square8 2p")
    assert out[1].split() == ["OPPONENT", "NAME", "GAMES", "W-D-L", "WIN", "RATE", "95%", "CI",
                              "NEEDS", "VERDICT"]
    assert out[2].split()[:3] == ["random", "random", "1/10"]
    assert "pass (early stop)" in out[2]
    assert any(line.startswith("skipped previous: no previous model") for line in out)
    assert out[-1] == "result: PASS"
    assert main(argv + ["--thresholds", "random=1.0", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["verdict"] == "fail" and data["passed"] is False
    [opp] = data["opponents"]
    assert opp["verdict"] == "fail" and opp["threshold"] == 1.0 and opp["games_planned"] == 10
    assert 0 <= opp["ci95"][0] <= opp["win_rate"] <= opp["ci95"][1] <= 1
    assert opp["resumed_games"] == 1  # game 0 was stored by the first run
    assert data["skipped"][0]["opponent"] == "previous"


def test_cli_previous_and_default_db_beside_model(tmp_path, capsys):
    model, prev = tmp_path / "cand.pt", tmp_path / "old.pt"
    model.write_bytes(b"candidate")
    prev.write_bytes(b"previous")
    argv = BASE + ["--model", str(model), "--engine", "random", "--games", "4",
                   "--opponents", "previous", "--previous", str(prev), "--thresholds",
                   "previous=0.0", "--json"]
    assert main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["db"] == str(tmp_path / "evaluation.db")
    assert data["opponents"][0]["name"] == "old:random"
    assert data["candidate"]["sha256"] and data["candidate"]["name"] == "cand:random"


def test_cli_bad_input_is_one_line_and_writes_nothing(tmp_path, capsys):
    db = tmp_path / "e.db"
    good = BASE + RANDOM_CAND + ["--db", str(db)]
    cases = [
        (good + ["--thresholds", "random=2"], "--thresholds"),
        (good + ["--thresholds", "mcts=0.5"], "not an opponent"),
        (good + ["--sprt", "50,0"], "--sprt"),
        (good + ["--sprt", "0,50", "--opponents", "random"], "does not include 'previous'"),
        (good + ["--sprt", "0,50", "--sprt-alpha", "0.7"], "alpha"),
        (good + ["--games", "0"], "--games"),
        (good + ["--opponents", "random,nosuch"], "no default threshold"),
        (good + ["--opponents", "nosuch", "--thresholds", "nosuch=0.5"], "unknown engine"),
        (good + ["--previous", str(tmp_path / "missing.pt")], "does not exist"),
        (good + ["--opponents", "random", "--previous", "x.pt"], "does not include"),
        (good + ["--mcts-simulations", "0"], "--mcts-simulations"),
        (BASE + ["--engine", "random", "--db", str(db)], "is also the name of opponent"),
        (BASE + ["--db", str(db)], "needs a model"),
        (BASE + ["--model", str(tmp_path / "nope.pt"), "--db", str(db)], "does not exist"),
    ]
    for argv, message in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and message in err, (argv, err)
        assert not db.exists()


def test_resume_after_an_exception_matches_an_uninterrupted_run(tmp_path):
    cand, config, reference = resumable_gauntlet()
    with GameDB(tmp_path / "e.db") as db:
        with pytest.raises(Killed):
            run_gauntlet(cand, config, db=db, on_game=die_after(7))
        assert db.count_games() == 7
        resumed = run_gauntlet(cand, config, db=db).results[0]
        assert db.count_games() == resumed.games
        indexes = [r.metadata["game_index"] for r in db.iter_games()]
    assert resumed.resumed == 7
    assert (resumed.match.wins, resumed.match.draws, resumed.match.losses, resumed.verdict) == \
        (reference.match.wins, reference.match.draws, reference.match.losses, reference.verdict)
    assert indexes == list(range(resumed.games))
    # another seed is another match: nothing read back
    config.seed = 1
    with GameDB(tmp_path / "e.db") as db:
        assert run_gauntlet(cand, config, db=db).results[0].resumed == 0


def test_resume_after_sigkill(tmp_path, capsys):
    db = tmp_path / "e.db"
    argv = BASE + RANDOM_CAND + ["--opponents", "random", "--thresholds", "random=0.5",
                                 "--db", str(db)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-m", "ringrift", *argv, "--games", "1000"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        stored = 0
        while stored < 10:
            assert proc.poll() is None, "gauntlet ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.02)
            if db.exists():
                try:
                    with GameDB(db, readonly=True) as reader:
                        stored = reader.count_games()
                except UserError:  # schema not created yet
                    stored = 0
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert main(["db", "verify", str(db)]) == 0
    with GameDB(db, readonly=True) as reader:
        stored = reader.count_games()
    capsys.readouterr()
    # 40 planned: a verdict needs 20 wins or 21 losses, so every stored game is read back
    assert main(argv + ["--games", "40", "--json"]) in (0, 1)
    data = json.loads(capsys.readouterr().out)["opponents"][0]
    assert stored >= 10 and data["resumed_games"] == stored
    assert main(BASE + RANDOM_CAND + ["--opponents", "random", "--thresholds", "random=0.5",
                                      "--games", "40", "--json"]) in (0, 1)
    fresh = json.loads(capsys.readouterr().out)["opponents"][0]
    assert [fresh[k] for k in ("wins", "draws", "losses", "verdict")] == \
        [data[k] for k in ("wins", "draws", "losses", "verdict")]


def test_gauntlet_object_checks_players_before_playing():
    with pytest.raises(UserError, match="unknown engine"):
        Gauntlet(EngineSpec.build("nosuch", name="cand"),
                 GauntletConfig("square8", 2, opponents=("random",)))

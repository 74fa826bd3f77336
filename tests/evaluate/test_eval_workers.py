"""Evaluation games in worker processes: the same results, stopping points and stored games as
one worker; resume across worker counts; the ordered pool itself; bad --workers.

Engines are random (about 10 ms a game) and heuristic (0.3-1 s), square8, a handful of games.
"""

from __future__ import annotations

import json
import math
import time

import pytest

from ringrift.cli.main import main
from ringrift.data.gamedb import GameDB
from ringrift.errors import UserError
from ringrift.evaluate.engine_spec import EngineSpec
from ringrift.evaluate.gauntlet import GauntletConfig, run_gauntlet
from ringrift.evaluate.match import Participant, play_match
from ringrift.evaluate.tournament import run_tournament
from ringrift.exec import Executor
from ringrift.rules.spec import GameSpec
from tests.evaluate.gauntlet_helpers import Killed, die_after, resumable_gauntlet


def summary(result):
    return [(r.opponent, r.match.wins, r.match.draws, r.match.losses, r.verdict, r.games)
            for r in result.results], result.verdict


def stored(db_path):
    """game id -> what the game was (everything but the creation time)."""
    with GameDB(db_path, readonly=True) as db:
        return {r.game_id: (r.engines, r.seed, r.final_ranks, r.move_count, r.metadata)
                for r in db.iter_games()}


def test_two_workers_gauntlet_equals_one(tmp_path):
    cand = EngineSpec.build("heuristic", name="cand")
    # random at 0.5 passes early, heuristic at 0.6 fails early: both stop before game 8
    config = GauntletConfig("square8", 2, games=8, opponents=("random", "heuristic"),
                            thresholds={"random": 0.5, "heuristic": 0.6})
    runs = {}
    for workers in (1, 2):
        with GameDB(tmp_path / f"w{workers}.db") as db:
            runs[workers] = run_gauntlet(cand, config, db=db, workers=workers)
    one, two = runs[1], runs[2]
    assert summary(two) == summary(one)
    assert any(r.early_stop for r in one.results)
    # nothing past the stopping index is stored: the databases hold the same games
    assert stored(tmp_path / "w2.db") == stored(tmp_path / "w1.db")
    assert len(stored(tmp_path / "w2.db")) == one.games


def test_two_workers_sprt_stops_at_the_same_game():
    config = GauntletConfig("square8", 2, opponents=("previous",), sprt=(0, 200),
                            sprt_max_games=200)
    cand, prev = EngineSpec.build("random", name="cand"), EngineSpec.build("random", name="prev")
    one = run_gauntlet(cand, config, previous=prev).results[0]
    two = run_gauntlet(cand, config, previous=prev, workers=2).results[0]
    assert one.sprt.status == "accept_h0" and one.games < 200
    assert (two.games, two.verdict, two.sprt.llr, two.sprt.status) == \
        (one.games, one.verdict, one.sprt.llr, one.sprt.status)


def test_two_workers_resume_a_one_worker_run_and_lose_only_games_in_flight(tmp_path):
    cand, config, reference = resumable_gauntlet()
    with GameDB(tmp_path / "e.db") as db:
        with pytest.raises(Killed):
            run_gauntlet(cand, config, db=db, on_game=die_after(5))
        assert db.count_games() == 5
        # two workers stopped partway: exactly the games taken so far are stored, in order
        with pytest.raises(Killed):
            run_gauntlet(cand, config, db=db, on_game=die_after(9), workers=2)
        assert db.count_games() == 9
        resumed = run_gauntlet(cand, config, db=db, workers=2).results[0]
        indexes = [r.metadata["game_index"] for r in db.iter_games()]
    assert resumed.resumed == 9
    assert (resumed.match.wins, resumed.match.draws, resumed.match.losses, resumed.verdict,
            resumed.games) == (reference.match.wins, reference.match.draws,
                               reference.match.losses, reference.verdict, reference.games)
    assert sorted(indexes) == list(range(resumed.games))


def test_tournament_two_workers_equals_one(tmp_path):
    specs = [EngineSpec.build("random"), EngineSpec.build("heuristic"),
             EngineSpec.build("random", name="r2")]
    runs, seen = {}, {}
    for workers in (1, 2):
        order = []
        with GameDB(tmp_path / f"w{workers}.db") as db:
            pairs = run_tournament(specs, GameSpec("square8", 2), 3, seed=3, db=db, workers=workers,
                                   on_game=lambda p, order=order: order.append((p.a, p.b,
                                                                                p.games)))
        runs[workers] = [p.to_dict() for p in pairs]
        seen[workers] = order
    assert runs[2] == runs[1]
    assert seen[2] == seen[1]  # progress reported in the same order
    assert stored(tmp_path / "w2.db") == stored(tmp_path / "w1.db")


def test_play_match_two_workers_equals_one(tmp_path):
    cand, opp = EngineSpec.build("heuristic"), EngineSpec.build("random")
    one = play_match(cand, opp, GameSpec("square8", 3), 4, seed=2)
    two = play_match(cand, opp, GameSpec("square8", 3), 4, seed=2, workers=2)
    assert (two.wins, two.draws, two.losses, two.reasons) == \
        (one.wins, one.draws, one.losses, one.reasons)
    with pytest.raises(ValueError, match="EngineSpec"):
        play_match(Participant("x", lambda seed: None), opp, "square8", 2, 1, workers=2)


def test_match_and_promote_cli_with_workers(tmp_path, capsys):
    argv = ["match", "--board-type", "square8", "--candidate", "heuristic", "--games", "3",
            "--json"]
    assert main(argv) == 0
    one = json.loads(capsys.readouterr().out)
    assert main(argv + ["--workers", "2", "--db", str(tmp_path / "m.db")]) == 0
    assert json.loads(capsys.readouterr().out) == one
    with GameDB(tmp_path / "m.db", readonly=True) as db:
        assert db.count_games() == 3

    model = tmp_path / "m1.pt"
    model.write_bytes(b"stand-in")
    (tmp_path / "m1.pt.json").write_text(json.dumps({"metadata": {
        "architecture": "v2", "encoder_version": "1", "board_type": "square8",
        "num_players": 2}}))
    assert main(["promote", "--gauntlet", "--model", str(model), "--engine", "random",
                 "--board-type", "square8", "--num-players", "2", "--registry",
                 str(tmp_path / "registry.db"), "--games", "6", "--opponents", "random",
                 "--thresholds", "random=0.0", "--workers", "2", "--quiet", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["status"] == "promoted"
    assert data["evidence"]["gauntlet"]["opponents"][0]["games"] == 1


def test_bad_workers_is_a_one_line_error_and_writes_nothing(tmp_path, capsys):
    db = tmp_path / "e.db"
    cases = [
        ["gauntlet", "--board-type", "square8", "--num-players", "2", "--engine", "random",
         "--name", "cand", "--db", str(db)],
        ["promote", "--gauntlet", "--model", str(tmp_path / "m.pt"), "--engine", "random",
         "--board-type", "square8", "--num-players", "2", "--registry", str(db)],
        ["tournament", "--board-type", "square8", "--num-players", "2", "--participants",
         "random,heuristic", "--db", str(db)],
        ["match", "--board-type", "square8", "--candidate", "random", "--db", str(db)],
    ]
    (tmp_path / "m.pt").write_bytes(b"x")
    for argv in cases:
        for bad in ("0", "-1"):
            assert main(argv + ["--workers", bad]) == 2, argv
            err = capsys.readouterr().err.strip()
            assert len(err.splitlines()) == 1 and "--workers" in err, (argv, err)
            assert not db.exists()
    with pytest.raises(UserError, match="^workers must be at least 1"):
        run_gauntlet(EngineSpec.build("random", name="cand"),
                     GauntletConfig("square8", 2, opponents=("random",)), workers=0)


def test_pool_yields_in_order_raises_in_order_and_survives_an_early_stop():
    with Executor(2) as pool:
        # the slow first job finishes last, but comes out first
        jobs = [(k, delay) for k, delay in enumerate((0.3, 0.0, 0.0, None, 0.0))]
        assert [k for k, _ in pool.ordered(time.sleep, jobs)] == [0, 1, 2, 3, 4]
        results = pool.ordered(math.sqrt, [(k, x) for k, x in enumerate((4.0, 9.0, -1.0,
                                                                          16.0))])
        assert next(results) == (0, 2.0) and next(results) == (1, 3.0)
        with pytest.raises(ValueError, match="math domain"):
            next(results)
        # stop early while jobs are running: their results are not handed to the next stream
        early = pool.ordered(time.sleep, [(k, 0.2) for k in range(6)])
        assert next(early) == (0, None)
        early.close()
        assert list(pool.ordered(math.sqrt, [("a", 1.0), ("b", None), ("c", 25.0)])) == \
            [("a", 1.0), ("b", None), ("c", 5.0)]


def test_spawned_pool_for_network_players():
    with Executor(2, network=True) as pool:
        assert list(pool.ordered(math.sqrt, [(k, float(k * k)) for k in range(4)])) == \
            [(k, float(k)) for k in range(4)]


def test_one_worker_network_games_run_torch_on_the_workers_thread_count():
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    pool = Executor(1, network=True, threads=1)
    assert list(pool.ordered(lambda _: torch.get_num_threads(), [(0, "task")])) == [(0, 1)]
    assert torch.get_num_threads() == before


def test_match_cli_takes_simulations_and_an_opponent_model(tmp_path, capsys):
    """A search engine's budget and a model for the opponent: e.g. gumbel against policy-only
    with the same network. A self-match keeps the two players apart by name."""
    db = tmp_path / "m.db"
    assert main(["match", "--board-type", "square8", "--candidate", "mcts",
                 "--mcts-simulations", "4", "--opponent", "heuristic", "--games", "2",
                 "--db", str(db), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["games"] == 2
    with GameDB(db, readonly=True) as games:
        engines = {tuple(g.engines) for g in games.iter_games()}
    assert engines == {("mcts", "heuristic"), ("heuristic", "mcts")}
    assert main(["match", "--board-type", "square8", "--candidate", "mcts",
                 "--mcts-simulations", "0", "--games", "1"]) == 2
    assert "--mcts-simulations" in capsys.readouterr().err
    assert main(["match", "--board-type", "square8", "--candidate", "random",
                 "--opponent", "random", "--games", "1", "--json"]) == 0

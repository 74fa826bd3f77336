"""Evaluation games played several at once per process, leaf evaluations batched
(`--batch-size`): the same games as one at a time, real network batches, early stops and resume
as before, bad values refused.

Search players use heuristic leaves (a pure function of the position, so batched games are
exactly the unbatched ones) with 4 simulations; the network player is a tiny v2 model.
"""

from __future__ import annotations

import dataclasses

import pytest

from ringrift.ai.model_cache import load_evaluator
from ringrift.ai.options import EngineOptions
from ringrift.ai.search.leaf import network_leaf
from ringrift.cli.main import main
from ringrift.data.gamedb import GameDB
from ringrift.errors import UserError
from ringrift.evaluate.engine_spec import EngineSpec
from ringrift.evaluate.gauntlet import GauntletConfig, run_gauntlet
from ringrift.evaluate.match import GameTask, play_game_task, play_game_task_batch, play_match
from ringrift.evaluate.tournament import run_tournament
from ringrift.rules.spec import GameSpec
from tests.ai.conftest import tiny_model  # noqa: F401  (fixture)
from tests.evaluate.gauntlet_helpers import Killed, die_after, resumable_gauntlet


def moves_of(record):
    return [m.move for m in record.moves]


def stored(db_path):
    """game id -> (engines, seed, ranks, moves) of every stored game."""
    with GameDB(db_path, readonly=True) as db:
        return {r.game_id: (r.engines, r.seed, r.final_ranks, moves_of(r))
                for r in db.iter_games()}


GUMBEL = EngineSpec.build("gumbel", EngineOptions(simulations=4), name="g4")


def test_a_batch_of_games_is_the_same_games_in_task_order():
    tasks = [GameTask((GUMBEL, EngineSpec.build("random")), GameSpec("square8", 2), seed, 400)
             for seed in (3, 4, 5)]
    batch = play_game_task_batch([tasks[0], None, tasks[1], tasks[2]])
    assert batch[1] is None  # a stored game: nothing played
    singles = [play_game_task(t) for t in tasks]
    for one, batched in zip(singles, [batch[0], batch[2], batch[3]]):
        assert batched.seed == one.seed
        assert moves_of(batched) == moves_of(one)
        assert batched.final_ranks == one.final_ranks


@pytest.mark.parametrize("workers", [1, 2])
def test_batched_gauntlet_equals_unbatched_and_stops_at_the_same_game(tmp_path, workers):
    # random at 0.5 is passed early, before game 10: the batch in flight is thrown away
    config = GauntletConfig("square8", 2, games=10, opponents=("random", "heuristic"),
                            thresholds={"random": 0.5, "heuristic": None}, max_moves=400)
    runs = {}
    for batch in (1, 4):
        with GameDB(tmp_path / f"b{batch}.db") as db:
            runs[batch] = run_gauntlet(GUMBEL, config, db=db, workers=workers,
                                       batch_size=batch)
    one, four = runs[1], runs[4]
    assert [(r.match.wins, r.match.losses, r.verdict, r.games) for r in four.results] == \
        [(r.match.wins, r.match.losses, r.verdict, r.games) for r in one.results]
    assert one.results[0].early_stop and one.results[0].games < 10
    assert one.results[1].games == 10
    assert stored(tmp_path / "b4.db") == stored(tmp_path / "b1.db")


def test_a_batched_run_resumes_a_killed_one_and_loses_only_games_in_flight(tmp_path):
    cand, config, reference = resumable_gauntlet()
    with GameDB(tmp_path / "e.db") as db:
        with pytest.raises(Killed):
            run_gauntlet(cand, config, db=db, on_game=die_after(5), batch_size=4)
        assert db.count_games() == 5  # games 5-7 of the second batch were played, not kept
        resumed = run_gauntlet(cand, config, db=db, batch_size=3, workers=2).results[0]
    assert resumed.resumed == 5
    assert (resumed.match.wins, resumed.match.losses, resumed.verdict, resumed.games) == \
        (reference.match.wins, reference.match.losses, reference.verdict, reference.games)


def test_tournament_and_match_take_a_batch_size():
    specs = [GUMBEL, EngineSpec.build("random")]
    plain = run_tournament(specs, GameSpec("square8", 2), 3, seed=1, max_moves=400)
    batched = run_tournament(specs, GameSpec("square8", 2), 3, seed=1, max_moves=400, batch_size=3)
    assert [(p.wins, p.draws, p.losses) for p in batched] == \
        [(p.wins, p.draws, p.losses) for p in plain]
    one = play_match(GUMBEL, specs[1], GameSpec("square8", 2), 3, seed=2, max_moves=400)
    three = play_match(GUMBEL, specs[1], GameSpec("square8", 2), 3, seed=2, max_moves=400, batch_size=3)
    assert (three.wins, three.draws, three.losses) == (one.wins, one.draws, one.losses)


def test_network_players_share_batches(tiny_model):  # noqa: F811
    leaf = network_leaf(load_evaluator(tiny_model, None, False))
    options = EngineOptions(model_path=tiny_model)
    policy = EngineSpec.build("policy-only", options, name="pol")
    gumbel = EngineSpec.build("gumbel", dataclasses.replace(options, simulations=4), name="gum")
    config = GauntletConfig("square8", 2, games=4, opponents=("heuristic",),
                            thresholds={"heuristic": None}, max_moves=300)
    for spec in (policy, gumbel):
        leaf.reset_stats()
        result = run_gauntlet(spec, config, batch_size=4).results[0]
        assert result.games == 4
        # four games in flight: the network saw batches of up to four positions
        assert max(leaf.batch_sizes) == 4, (spec.name, dict(leaf.batch_sizes))
        assert leaf.positions > leaf.calls


def test_bad_batch_size_is_a_one_line_error_and_writes_nothing(tmp_path, capsys):
    db = tmp_path / "e.db"
    cases = [
        ["gauntlet", "--board-type", "square8", "--num-players", "2", "--engine", "random",
         "--name", "cand", "--db", str(db)],
        ["tournament", "--board-type", "square8", "--num-players", "2", "--participants",
         "random,heuristic", "--db", str(db)],
        ["match", "--board-type", "square8", "--candidate", "random", "--db", str(db)],
    ]
    for argv in cases:
        assert main(argv + ["--batch-size", "0"]) == 2, argv
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "--batch-size" in err, (argv, err)
        assert not db.exists()
    with pytest.raises(UserError, match="^batch_size must be at least 1"):
        run_gauntlet(EngineSpec.build("random", name="cand"),
                     GauntletConfig("square8", 2, opponents=("random",)), batch_size=0)

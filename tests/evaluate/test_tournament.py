"""Round-robin tournaments: seating, stored games, resume, the CLI and its Elo table."""

from __future__ import annotations

import json

import pytest

from ringrift.cli.main import main
from ringrift.data.gamedb import GameDB
from ringrift.errors import ConfigError, UserError
from ringrift.evaluate.engine_spec import EngineSpec, parse_engine_spec
from ringrift.evaluate.tournament import pair_seating, run_tournament
from ringrift.rules.spec import GameSpec


def test_pair_seating_alternates_and_balances_seats():
    assert [pair_seating(2)(g) for g in range(2)] == [[0, 1], [1, 0]]
    assert [pair_seating(3)(g) for g in range(2)] == [[0, 1, 0], [1, 0, 1]]
    assert [pair_seating(4)(g) for g in range(2)] == [[0, 1, 0, 1], [1, 0, 1, 0]]
    for n in (2, 3, 4):
        for seat in range(n):
            assert sorted(pair_seating(n)(g)[seat] for g in range(2)) == [0, 1]


def test_parse_engine_spec(tmp_path):
    model = tmp_path / "a.pt"
    model.write_bytes(b"x")
    assert parse_engine_spec("random").name == "random"
    spec = parse_engine_spec(f"policy-only:{model}")
    assert (spec.name, spec.engine, spec.model_path) == ("a", "policy-only", str(model))
    assert parse_engine_spec(f"mcts:{model}").name == "a:mcts"
    for bad in ("", "policy-only:", ":x.pt"):
        with pytest.raises(UserError):
            parse_engine_spec(bad)
    with pytest.raises(UserError, match="does not exist"):
        parse_engine_spec("policy-only:missing.pt")


def test_round_robin_stores_and_resumes(tmp_path):
    specs = [EngineSpec.build("random"), EngineSpec.build("random", name="r2"),
             EngineSpec.build("random", name="r3")]
    with GameDB(tmp_path / "e.db") as db:
        pairs = run_tournament(specs, GameSpec("square8", 3), 2, db=db)
        assert [(p.a, p.b) for p in pairs] == [("random", "r2"), ("random", "r3"),
                                               ("r2", "r3")]
        assert db.count_games() == 6
        # each 3-player game gives two pairwise results between the pair
        assert all(p.games == 2 and p.wins + p.draws + p.losses == 4 for p in pairs)
        records = list(db.iter_games())
        assert records[0].engines == ["random", "r2", "random"]
        assert records[1].engines == ["r2", "random", "r2"]
        assert all(r.metadata["kind"] == "tournament" for r in records)
        again = run_tournament(specs, GameSpec("square8", 3), 3, db=db)
        assert db.count_games() == 9
    assert all(p.resumed == 2 and p.games == 3 for p in again)
    first = {(p.a, p.b): (p.wins, p.draws, p.losses) for p in pairs}
    with GameDB(tmp_path / "e.db") as db:
        same = run_tournament(specs, GameSpec("square8", 3), 2, db=db)
    assert {(p.a, p.b): (p.wins, p.draws, p.losses) for p in same} == first


def test_tournament_errors():
    with pytest.raises(UserError, match="at least 2"):
        run_tournament([EngineSpec.build("random")], GameSpec("square8", 2), 1)
    with pytest.raises(UserError, match="share the name"):
        run_tournament([EngineSpec.build("random"), EngineSpec.build("random")],
                       GameSpec("square8", 2), 1)
    with pytest.raises(ConfigError, match="^games_per_pair must be at least 1"):
        run_tournament([EngineSpec.build("random"), EngineSpec.build("heuristic")],
                       GameSpec("square8", 2), 0)


def test_tournament_cli(tmp_path, capsys):
    db = tmp_path / "e.db"
    argv = ["tournament", "--board-type", "square8", "--num-players", "2", "--participants",
            "random,heuristic", "--games-per-pair", "2", "--db", str(db), "--quiet"]
    assert main(argv) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("random vs heuristic: 2 games, pairwise")
    assert out[2].split()[:4] == ["RANK", "NAME", "ELO", "95%"]
    assert "2 games; anchor random = 0" in out[-2]
    assert main(argv + ["--json", "--games-per-pair", "3"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["games"] == 3 and data["pairs"][0]["resumed_games"] == 2
    assert {r["name"] for r in data["ratings"]} == {"random", "heuristic"}
    for extra, message in ((["--participants", "random"], "at least 2"),
                           (["--participants", "random,nosuch"], "unknown engine"),
                           (["--participants", "random,policy-only"], "needs a model"),
                           (["--anchor", "nobody"], "not a participant"),
                           (["--games-per-pair", "0"], "games-per-pair")):
        fresh = tmp_path / "fresh.db"
        assert main(argv[:-3] + ["--db", str(fresh), "--quiet", *extra]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and message in err, err
        assert not fresh.exists()

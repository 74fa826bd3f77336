"""Elo from the evaluation games stored in a game database (`ringrift elo --db`)."""

from __future__ import annotations

import json

import pytest

from ringrift.cli.main import main
from ringrift.data.gamedb import GameDB
from ringrift.errors import UserError
from ringrift.evaluate.engine_spec import EngineSpec, engine_options
from ringrift.evaluate.gauntlet import GauntletConfig, run_gauntlet
from ringrift.evaluate.ratings_db import fit_db_elo, read_db_results
from ringrift.rules.spec import GameSpec


def _play(db, cand, games=6, num_players=2, opponents=("random",)):
    # threshold 0.5 over few games: usually plays most of them
    config = GauntletConfig("square8", num_players, games=games, opponents=opponents,
                            thresholds={o: 0.5 for o in opponents})
    return run_gauntlet(cand, config, db=db)


def test_results_from_db_and_fit(tmp_path):
    path = tmp_path / "e.db"
    with GameDB(path) as db:
        _play(db, EngineSpec.build("random", name="cand"))
        _play(db, EngineSpec.build("random", name="cand3"), num_players=3)
        n2 = db.count_games(num_players=2)
    games = read_db_results(path, GameSpec("square8", 2))
    assert len(games) == n2
    assert all(set(g.participants) == {"cand", "random"} for g in games)
    fit, count = fit_db_elo(path, GameSpec("square8", 2))
    assert count == n2 and fit.anchor == "random" and fit["random"].elo == 0.0
    assert fit["cand"].low <= fit["cand"].elo <= fit["cand"].high
    three = read_db_results(path, GameSpec("square8", 3))
    assert three and all(len(g.ranks) == 3 for g in three)
    with pytest.raises(UserError, match="no square8 4-player evaluation games"):
        fit_db_elo(path, GameSpec("square8", 4))
    with pytest.raises(UserError, match="no such game database"):
        read_db_results(tmp_path / "missing.db", GameSpec("square8", 2))


def test_same_stem_different_files_are_rated_apart(tmp_path):
    paths = []
    for folder, data in (("a", b"first"), ("b", b"second")):
        (tmp_path / folder).mkdir()
        paths.append(tmp_path / folder / "latest.pt")
        paths[-1].write_bytes(data)
    with GameDB(tmp_path / "e.db") as db:
        for path in paths:
            _play(db, EngineSpec.build("random", engine_options(model_path=str(path))), games=3)
    names = {n for g in read_db_results(tmp_path / "e.db", GameSpec("square8", 2))
             for n in g.participants}
    assert len(names) == 3 and "random" in names
    assert all(n.startswith("latest:random@") for n in names - {"random"})


def test_elo_cli_with_db(tmp_path, capsys):
    path = tmp_path / "e.db"
    with GameDB(path) as db:
        _play(db, EngineSpec.build("random", name="cand_v1"))
        _play(db, EngineSpec.build("random", name="cand_v2"))
    plot = tmp_path / "elo.png"
    assert main(["elo", "--board-type", "square8", "--num-players", "2", "--db", str(path),
                 "--plot", str(plot)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:4] == ["RANK", "NAME", "ELO", "95%"]
    assert {line.split()[1] for line in out[1:4]} == {"random", "cand_v1", "cand_v2"}
    assert "anchor random = 0" in out[-2] and plot.read_bytes()[:4] == b"\x89PNG"
    assert main(["elo", "--board-type", "square8", "--num-players", "2", "--db", str(path),
                 "--anchor", "cand_v1=1000", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {r["name"]: r["elo"] for r in data["ratings"]}["cand_v1"] == 1000.0
    for argv, message in (
            (["--db", str(tmp_path / "nope.db")], "no such game database"),
            ([], "--results"),
            (["--db", str(path), "--num-players", "4"], "no square8 4-player games")):
        full = ["elo", "--board-type", "square8", "--num-players", "2", *argv]
        assert main(full) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and message in err

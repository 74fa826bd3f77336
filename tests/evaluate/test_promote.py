"""`gate_and_promote` and `ringrift promote --gauntlet`: registry transitions and exit statuses.

The model files are small stand-ins (bytes plus a sidecar) played by the random engine: the
registry only hashes them, and the gauntlet's verdict is steered by its thresholds.
"""

from __future__ import annotations

import json

import pytest

from ringrift.cli.main import main
from ringrift.data.gamedb import GameDB
from ringrift.errors import UserError
from ringrift.evaluate.engine_spec import engine_options
from ringrift.evaluate.gauntlet import GauntletConfig
from ringrift.evaluate.promotion import gate_and_promote
from ringrift.registry import ModelRegistry


def model_file(folder, name, content):
    path = folder / name
    path.write_bytes(content)
    meta = {"architecture": "v2", "encoder_version": "1", "board_type": "square8",
            "num_players": 2}
    (folder / f"{name}.json").write_text(json.dumps({"metadata": meta}))
    return path


def promote(registry, model, *extra):
    return main(["promote", "--gauntlet", "--model", str(model), "--engine", "random",
                 "--board-type", "square8", "--num-players", "2", "--registry", str(registry),
                 "--quiet", *extra])


def test_promote_pass_then_sprt_rejection(tmp_path, capsys):
    registry = tmp_path / "registry.db"
    first = model_file(tmp_path, "m1.pt", b"first")
    assert promote(registry, first, "--games", "5", "--opponents", "random,previous",
                   "--thresholds", "random=0.0") == 0
    out = capsys.readouterr().out
    assert "skipped previous: no production model" in out
    assert "model 1 (square8_2p v1) promoted to production" in out
    with ModelRegistry(registry) as reg:
        entry = reg.get(1)
        history = reg.history(1)
    assert entry.stage == "production" and entry.rating is not None
    assert [(t.from_stage, t.to_stage) for t in history] == [
        (None, "development"), ("development", "staging"), ("staging", "production")]
    evidence = history[-1].evidence
    assert evidence["gauntlet"]["verdict"] == "pass"
    assert evidence["gauntlet"]["opponents"][0]["games"] == 1
    assert evidence["gauntlet"]["db"] == str(tmp_path / "evaluation.db")

    # promoting it again plays nothing
    assert promote(registry, first) == 0
    assert "already in production" in capsys.readouterr().out

    # the same engine on another file: the SPRT against production accepts H0 -> rejected
    second = model_file(tmp_path, "m2.pt", b"second")
    assert promote(registry, second, "--opponents", "previous", "--sprt", "0,300",
                   "--json") == 1
    data = json.loads(capsys.readouterr().out)
    assert data["status"] == "rejected" and data["stage"] == "rejected"
    opp = data["evidence"]["gauntlet"]["opponents"][0]
    assert opp["name"] == "m1:random" and opp["sprt"]["status"] == "accept_h0"
    assert data["evidence"]["replaces"]["id"] == 1
    with ModelRegistry(registry) as reg:
        assert reg.get_production("square8", 2).id == 1
        assert [t.to_stage for t in reg.history(2)] == ["development", "rejected"]
        assert reg.history(2)[-1].evidence["gauntlet"]["verdict"] == "fail"
    # gating a rejected model again plays nothing: one line with its recorded records, exit 1
    with GameDB(tmp_path / "evaluation.db", readonly=True) as db:
        games = db.count_games()
    assert promote(registry, second) == 1
    captured = capsys.readouterr()
    assert captured.err == ""
    [line] = captured.out.splitlines()
    assert line.startswith("model 2 (square8_2p v2) was already rejected: previous ")
    assert f"{opp['wins']}-{opp['draws']}-{opp['losses']}" in line and "fail" in line
    with GameDB(tmp_path / "evaluation.db", readonly=True) as db:
        assert db.count_games() == games
    with ModelRegistry(registry) as reg:
        assert [t.to_stage for t in reg.history(2)] == ["development", "rejected"]


def test_promotion_replaces_production_and_undecided_stays(tmp_path):
    config = GauntletConfig("square8", 2, games=3, opponents=("random", "previous"),
                            thresholds={"random": 0.0, "previous": 0.0})
    options = engine_options()
    with ModelRegistry(tmp_path / "r.db") as reg:
        one = gate_and_promote(reg, model_file(tmp_path, "a.pt", b"a"), config,
                               engine="random", options=options, store_games=False)
        two = gate_and_promote(reg, model_file(tmp_path, "b.pt", b"b"), config,
                               engine="random", options=options, store_games=False)
        assert one.promoted and two.status == "promoted"
        assert reg.get(one.model_id).stage == "archived"
        assert reg.get_production("square8", 2).id == two.model_id
        assert two.evidence["replaces"]["id"] == one.model_id
        assert two.evidence["rating"] is None  # no games stored, no rating
        capped = GauntletConfig("square8", 2, opponents=("previous",), sprt=(0, 5),
                                sprt_max_games=2)
        three = gate_and_promote(reg, model_file(tmp_path, "c.pt", b"c"), capped,
                                 engine="random", store_games=False)
        assert (three.status, three.promoted, three.stage) == ("undecided", False,
                                                               "development")
        assert [t.to_stage for t in reg.history(three.model_id)] == ["development"]
        with pytest.raises(UserError, match="registered as a square8 2-player"):
            gate_and_promote(reg, tmp_path / "a.pt", GauntletConfig("square8", 3),
                             engine="random")


def test_promote_bad_input_exit_2_and_nothing_written(tmp_path, capsys):
    registry = tmp_path / "registry.db"
    model = model_file(tmp_path, "m.pt", b"m")
    bare = tmp_path / "bare.pt"
    bare.write_bytes(b"no sidecar")
    cases = [
        (["--thresholds", "random=x"], model, "--thresholds"),
        (["--sprt", "1"], model, "--sprt"),
        (["--engine", "nosuch"], model, "unknown engine"),
        ([], tmp_path / "missing.pt", "does not exist"),
    ]
    for extra, path, message in cases:
        assert promote(registry, path, *extra) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and message in err, err
        assert not registry.exists() and not (tmp_path / "evaluation.db").exists()
    # a file the registry cannot describe: refused before any game is played
    assert promote(registry, bare) == 2
    assert "--architecture is not known" in capsys.readouterr().err
    assert not (tmp_path / "evaluation.db").exists()
    assert main(["promote", "--model", str(model), "--board-type", "square8",
                 "--num-players", "2", "--registry", str(registry)]) == 2
    assert "--gauntlet" in capsys.readouterr().err


def test_promote_rejection_exit_1(tmp_path, capsys):
    registry = tmp_path / "registry.db"
    model = model_file(tmp_path, "weak.pt", b"weak")
    assert promote(registry, model, "--opponents", "random", "--thresholds", "random=1.0",
                   "--games", "20") == 1
    out = capsys.readouterr().out
    assert "result: FAIL" in out and "rejected" in out.splitlines()[-2]
    with ModelRegistry(registry) as reg:
        [entry] = reg.list_models()
        assert entry.stage == "rejected"
        transition = reg.history(entry.id)[-1]
    assert transition.reason == "failed the gauntlet"
    assert transition.evidence["gauntlet"]["opponents"][0]["verdict"] == "fail"


def test_gating_a_rejected_model_reports_the_recorded_rejection(tmp_path):
    """An already rejected model is not played again: the evidence recorded with its rejection
    comes back (how a loop killed after the rejection was recorded resumes); an archived model
    still cannot be gated."""
    config = GauntletConfig("square8", 2, games=6, opponents=("random",),
                            thresholds={"random": 1.0})
    model = model_file(tmp_path, "weak.pt", b"weak")
    db_path = tmp_path / "evaluation.db"
    with ModelRegistry(tmp_path / "r.db") as reg:
        first = gate_and_promote(reg, model, config, engine="random", db_path=db_path)
        assert (first.status, first.stage, first.promoted) == ("rejected", "rejected", False)
        assert first.evidence["rating"] is not None
        with GameDB(db_path, readonly=True) as db:
            games = db.count_games()
        assert games == first.gauntlet.games > 0

        again = gate_and_promote(reg, model, config, engine="random", db_path=db_path)
        assert (again.status, again.model_id, again.stage) == ("already_rejected",
                                                               first.model_id, "rejected")
        assert not again.promoted and again.gauntlet is None
        assert again.evidence == reg.history(first.model_id)[-1].evidence
        assert again.evidence["gauntlet"] == first.gauntlet.to_dict()
        assert again.evidence["rating"] == first.evidence["rating"]
        assert again.to_dict()["status"] == "already_rejected"
        with GameDB(db_path, readonly=True) as db:
            assert db.count_games() == games  # nothing played
        assert [t.to_stage for t in reg.history(first.model_id)] == ["development", "rejected"]

        reg.transition(first.model_id, "archived", "cleanup")
        with pytest.raises(UserError, match="is archived; it cannot be promoted"):
            gate_and_promote(reg, model, config, engine="random", db_path=db_path)


def test_previous_keeps_the_name_it_was_rated_under_when_played_alike(tmp_path):
    """The production model, met as "previous", plays under the name of its own gauntlet when
    it plays as it did there (same engine and options), so one Elo fit over the evaluation
    database links both gauntlets; played otherwise it is another player with a name of its
    own."""
    config = GauntletConfig("square8", 2, games=4, opponents=("random", "previous"),
                            thresholds={"random": 0.0, "previous": 0.0})
    db = tmp_path / "evaluation.db"
    with ModelRegistry(tmp_path / "r.db") as reg:
        first = gate_and_promote(reg, model_file(tmp_path, "a.pt", b"a"), config,
                                 engine="random", name="iter_000", db_path=db)
        second = gate_and_promote(reg, model_file(tmp_path, "b.pt", b"b"), config,
                                  engine="random", name="iter_001", db_path=db)
        third = gate_and_promote(reg, model_file(tmp_path, "c.pt", b"c"), config,
                                 engine="random", name="iter_002", db_path=db,
                                 options=engine_options(temperature=0.5))
    assert first.promoted and second.promoted and third.promoted
    opponents = {r.opponent: r.name for r in second.gauntlet.results}
    assert opponents["previous"] == "iter_000"
    assert second.evidence["rating"] is not None  # iter_001 is linked to random through both
    other = {r.opponent: r.name for r in third.gauntlet.results}
    assert other["previous"] != "iter_001"  # other options: not the player rated as iter_001

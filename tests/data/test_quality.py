"""Quality checks find real problems."""

from __future__ import annotations

import numpy as np
import pytest

from ringrift.cli.main import main
from ringrift.data.export import ExportFilters, run_export
from ringrift.data.gamedb import GameDB
from ringrift.data.npz_format import read_npz
from ringrift.data.quality import check_arrays, check_database
from ringrift.rules.spec import GameSpec
from ringrift.selfplay.runner import SelfplayConfig, play_selfplay_game


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    folder = tmp_path_factory.mktemp("q")
    db_path = folder / "g.db"
    config = SelfplayConfig("square8", 2, engine="random", seed=1)
    with GameDB(db_path) as db:
        for i in range(3):
            db.add_game(play_selfplay_game(config, i))
    run_export([str(db_path)], GameSpec("square8", 2), folder / "g.npz", ExportFilters())
    return db_path, folder / "g.npz"


def test_clean_data_scores_100(export, capsys):
    db_path, npz = export
    assert check_database(str(db_path)).score == 100
    assert main(["quality", "--npz", str(npz)]) == 0
    assert "100/100" in capsys.readouterr().out


@pytest.mark.parametrize("corrupt,message", [
    (lambda a: a["policy_probs"].__setitem__(0, 0.5), "not 1"),
    (lambda a: a["values"].__setitem__((0, 0), 3.0), "outside [-1, 1]"),
    (lambda a: a["globals"].__setitem__((0, 0), np.nan), "NaN or infinite"),
    (lambda a: a["policy_indices"].__setitem__(0, 10**7), "outside"),
])
def test_corrupt_arrays_are_hard_errors(export, corrupt, message):
    _, npz = export
    arrays, meta = read_npz(npz)
    arrays = {k: v.copy() for k, v in arrays.items()}
    corrupt(arrays)
    report = check_arrays(arrays, meta)
    assert any(message in p.message for p in report.errors), report.problems


def test_policy_on_an_illegal_index_is_an_error(export):
    _, npz = export
    arrays, meta = read_npz(npz)
    arrays = {k: v.copy() for k, v in arrays.items()}
    legal = set(arrays["legal_indices"][arrays["legal_offsets"][0]:arrays["legal_offsets"][1]])
    arrays["policy_indices"][0] = next(i for i in range(10**6) if i not in legal)
    assert any("illegal" in p.message for p in check_arrays(arrays, meta).errors)


def test_database_with_a_game_that_does_not_replay(tmp_path):
    db_path = tmp_path / "bad.db"
    record = play_selfplay_game(SelfplayConfig("square8", 2, engine="random", seed=3), 0)
    record.moves[5].move = dict(record.moves[7].move)  # tamper: a move out of place
    with GameDB(db_path) as db:
        db.add_game(record)
        clean = play_selfplay_game(SelfplayConfig("square8", 2, engine="random", seed=3), 1)
        db.add_game(clean)
        twin = play_selfplay_game(SelfplayConfig("square8", 2, engine="random", seed=3), 1)
        db.add_game(twin)
    report = check_database(str(db_path))
    assert report.errors and "not legal" in report.errors[0].message
    assert report.stats["duplicates"] == 1
    assert main(["quality", "--db", str(db_path)]) == 1


@pytest.mark.parametrize("corrupt,message", [
    (lambda a, m: a["ranks"].__setitem__((0, 0), 7), "ranks outside"),
    (lambda a, m: m.update(board_type="hex8"), "hex board hex8 needs an odd square grid"),
    (lambda a, m: m.update(num_players=5), "num_players must be 2, 3 or 4"),
])
def test_quality_refuses_what_training_refuses_with_the_same_check(export, tmp_path, capsys,
                                                                   corrupt, message):
    from ringrift.data.npz_format import write_npz
    from ringrift.errors import UserError
    from ringrift.train.dataset import load_training_file

    _, npz = export
    arrays, meta = read_npz(npz)
    arrays = {k: v.copy() for k, v in arrays.items()}
    spec = GameSpec(meta["board_type"], meta["num_players"])  # what the file was made for
    corrupt(arrays, meta)
    bad = tmp_path / "bad.npz"
    write_npz(bad, arrays, meta)
    with pytest.raises(UserError, match=message):
        load_training_file(bad, spec)
    assert main(["quality", "--npz", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "0/100" in out and message in out

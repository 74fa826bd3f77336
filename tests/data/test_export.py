"""Export to training arrays: samples, targets, cache, npz selfplay, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from ringrift import rules
from ringrift.cli.main import main
from ringrift.data.export import ExportFilters, rotate, run_export
from ringrift.data.gamedb import GameDB
from ringrift.data.npz_format import read_npz
from ringrift.data.quality import check_arrays
from ringrift.nn import actions, encoding
from ringrift.rules.spec import GameSpec
from ringrift.rules.victory import outcome_values
from ringrift.selfplay.runner import SelfplayConfig, play_selfplay_game


@pytest.fixture(scope="module")
def games_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("db") / "games.db"
    config = SelfplayConfig("square8", 3, engine="random", seed=2)
    with GameDB(path) as db:
        for i in range(4):
            db.add_game(play_selfplay_game(config, i))
    return path


def test_one_sample_per_decision_with_rotated_targets(games_db, tmp_path):
    out = tmp_path / "x.npz"
    summary = run_export([str(games_db)], GameSpec("square8", 3), out, ExportFilters())
    arrays, meta = read_npz(out)
    with GameDB(games_db, readonly=True) as db:
        records = list(db.iter_games())
    # count decisions by replaying the games ourselves
    decisions = 0
    first = None
    for record in records:
        state = rules.state_from_json(record.initial_state)
        for m in record.moves:
            legal = rules.legal_moves(state)
            if len(legal) > 1:
                decisions += 1
                if first is None:
                    first = (state.copy(), rules.move_from_json(state.geo, m.move, state.phase),
                             record)
            rules.apply_move(state, rules.move_from_json(state.geo, m.move, state.phase))
    assert summary.samples == decisions == len(arrays["move_numbers"])
    assert meta["board_type"] == "square8" and meta["num_players"] == 3
    assert meta["encoder_version"] == encoding.ENCODER_VERSION
    assert meta["policy_size"] == actions.policy_size("square8")
    state, move, record = first
    planes, glob = encoding.encode_state(state)
    assert np.array_equal(arrays["features"][0], planes.astype(np.float16))
    legal = arrays["legal_indices"][arrays["legal_offsets"][0]:arrays["legal_offsets"][1]]
    assert sorted(legal) == sorted(actions.legal_indices(state))
    target = arrays["policy_indices"][arrays["policy_offsets"][0]:arrays["policy_offsets"][1]]
    assert list(target) == [actions.encode(move, state)]
    expected = rotate(outcome_values(record.final_ranks), state.current_player)
    assert np.allclose(arrays["values"][0], expected)
    assert not check_arrays(arrays, meta).errors


def test_rotate_puts_the_mover_first():
    assert rotate([10, 20, 30], 2) == [20, 30, 10]
    assert rotate([10, 20], 1) == [10, 20]


def test_cache_reuses_work_and_adds_only_new_games(games_db, tmp_path, capsys):
    out = tmp_path / "c.npz"
    args = ["export", "--db", str(games_db), "--board-type", "square8", "--num-players", "3",
            "--output", str(out), "--use-cache"]
    assert main(args) == 0
    assert "4 games encoded" in capsys.readouterr().out
    assert main(args) == 0
    assert "up to date" in capsys.readouterr().out
    with GameDB(games_db) as db:
        db.add_game(play_selfplay_game(SelfplayConfig("square8", 3, engine="random", seed=2), 9))
    assert main(args) == 0
    assert "1 games encoded, 4 reused" in capsys.readouterr().out
    full = tmp_path / "full.npz"
    assert main(args[:-1] + ["--output", str(full)]) == 0
    a, _ = read_npz(out)
    b, _ = read_npz(full)
    assert sorted(a["game_ids"].tolist()) == sorted(b["game_ids"].tolist())
    assert len(a["features"]) == len(b["features"])


def test_filters_and_workers(games_db, tmp_path):
    one = run_export([str(games_db)], GameSpec("square8", 3), tmp_path / "a.npz",
                     ExportFilters(max_games=2), workers=2)
    assert one.games == 2
    none = run_export([str(games_db)], GameSpec("square8", 3), tmp_path / "b.npz",
                      ExportFilters(min_moves=10**6))
    assert none.samples == 0


def test_selfplay_npz_matches_export_of_the_same_games(tmp_path):
    assert main(["selfplay", "--board-type", "hex8", "--num-players", "2", "--engine", "random",
                 "--num-games", "2", "--seed", "5", "--output-dir", str(tmp_path / "n"),
                 "--format", "npz", "--quiet"]) == 0
    assert main(["selfplay", "--board-type", "hex8", "--num-players", "2", "--engine", "random",
                 "--num-games", "2", "--seed", "5", "--output-dir", str(tmp_path / "d"),
                 "--quiet"]) == 0
    direct, _ = read_npz(tmp_path / "n" / "selfplay.npz")
    exported = run_export([str(tmp_path / "d" / "games.db")], GameSpec("hex8", 2), tmp_path / "e.npz",
                          ExportFilters())
    via_db, _ = read_npz(exported.output)
    assert np.array_equal(direct["features"], via_db["features"])
    assert np.array_equal(direct["policy_indices"], via_db["policy_indices"])


def test_bad_inputs(games_db, tmp_path, capsys):
    assert main(["export", "--db", str(games_db), "--board-type", "hex8", "--num-players", "2",
                 "--output", str(tmp_path / "x.npz")]) == 2
    assert "no hex8 2-player games" in capsys.readouterr().err
    assert not (tmp_path / "x.npz").exists()
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"PK\x03\x04 truncated")
    assert main(["quality", "--npz", str(junk)]) == 2
    assert "not a readable .npz" in capsys.readouterr().err
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, a=np.zeros(3))
    assert main(["quality", "--npz", str(foreign)]) == 2
    assert "not a ringrift training file" in capsys.readouterr().err


def test_since_and_discovery(games_db, tmp_path, capsys):
    folder = tmp_path / "found" / "deep"
    folder.mkdir(parents=True)
    import shutil

    shutil.copy(games_db, folder / "copy.db")
    base = ["export", "--board-type", "square8", "--num-players", "3"]
    with GameDB(games_db, readonly=True) as db:
        games = db.count_games()  # other tests of this module add games to the fixture
    assert main([*base, "--use-discovery", str(tmp_path / "found"), "--output",
                 str(tmp_path / "d.npz")]) == 0
    assert f"from {games} games" in capsys.readouterr().out
    assert main([*base, "--db", str(games_db), "--since", "2999-01-01", "--output",
                 str(tmp_path / "s.npz")]) == 0
    assert "0 samples from 0 games" in capsys.readouterr().out
    assert main([*base, "--db", str(games_db), "--since", "2000-01-01", "--output",
                 str(tmp_path / "s.npz")]) == 0
    assert f"from {games} games" in capsys.readouterr().out
    assert main([*base, "--db", str(games_db), "--since", "not a date", "--output",
                 str(tmp_path / "x.npz")]) == 2
    assert "--since" in capsys.readouterr().err
    assert main([*base, "--use-discovery", str(tmp_path / "nothing-here"), "--output",
                 str(tmp_path / "y.npz")]) == 2

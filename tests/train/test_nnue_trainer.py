"""The NNUE trainer: positions and targets from game databases, learning, the saved model file
(loaded by the nnue-guided engine), determinism, and bad input."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch

from ringrift import rules
from ringrift.ai.engines import make_player
from ringrift.ai.game import play_game
from ringrift.ai.options import EngineOptions
from ringrift.ai.search.nnue_search import NNUEValue
from ringrift.cli.main import main
from ringrift.data.gamedb import GameDB
from ringrift.data.played import game_record
from ringrift.data.replay import replay_steps
from ringrift.nn import encoding
from ringrift.nn.models import load_model, read_sidecar
from ringrift.rules.spec import GameSpec
from ringrift.rules.victory import outcome_values
from ringrift.selfplay.runner import SelfplayConfig, play_selfplay_game
from ringrift.train.nnue_config import NNUETrainConfig
from ringrift.train.nnue_trainer import (
    feature_permutations,
    game_positions,
    load_positions,
    split_games,
    train_nnue,
)

GAMES = 20


@pytest.fixture(scope="module")
def games_db(tmp_path_factory) -> Path:
    """A small database of square8 2-player games, heuristic against random (seats alternate).

    Heuristic-vs-heuristic outcomes are barely predictable (2,400 such games give a validation
    MSE near 0.97 against 1.0 for predicting 0), so a test on 20 of them would pass by luck;
    here the winner shows in the position, and learning it is a reliable signal."""
    path = tmp_path_factory.mktemp("nnue") / "games.db"
    with GameDB(path) as db:
        for i in range(GAMES):
            engines = ["heuristic", "random"] if i % 2 == 0 else ["random", "heuristic"]
            players = [make_player(e, GameSpec("square8", 2), seed=100 + 2 * i + s)
                       for s, e in enumerate(engines)]
            game = play_game(rules.new_game("square8", 2), players, max_moves=400)
            db.add_game(game_record(game, engines, 100 + i, source="selfplay"))
        # and a game of another configuration, which the trainer must leave out
        db.add_game(play_selfplay_game(SelfplayConfig("hex8", 2, engine="random", seed=1), 0))
    return path


def _config(db: Path, save: Path, **kw) -> NNUETrainConfig:
    base = dict(db_paths=[str(db)], board_type="square8", num_players=2, save_path=str(save),
                epochs=6, batch_size=64, learning_rate=3e-3, hidden=32, val_fraction=0.2,
                patience=0, seed=0, progress=False)
    base.update(kw)
    return NNUETrainConfig(**base)


@pytest.fixture(scope="module")
def trained(games_db, tmp_path_factory):
    save = tmp_path_factory.mktemp("model") / "nnue.pt"
    result = train_nnue(_config(games_db, save), out=io.StringIO())
    return save, result


def test_positions_follow_export_conventions(games_db):
    with GameDB(games_db, readonly=True) as db:
        record = next(db.iter_games("square8", 2, status="completed"))
    feats, values = game_positions(record)
    seat_values = outcome_values(list(record.final_ranks))
    steps = [s for s in replay_steps(record, keep_states=True) if len(s.legal) > 1]
    assert len(feats) == len(values) == len(steps) > 0
    for f, v, step in zip(feats, values, steps):
        mover = step.state.current_player
        other = 2 if mover == 1 else 1
        assert v == [seat_values[mover - 1], seat_values[other - 1]]  # slot 0 = the mover
        assert np.array_equal(f, encoding.nnue_features(step.state))


@pytest.mark.parametrize("board", ["square8", "hex8"])
def test_feature_permutations_match_transformed_states(board):
    from ringrift.nn.symmetry import transform_state

    perms = feature_permutations(board)
    assert perms.shape[1] == encoding.nnue_num_features(board)
    assert np.array_equal(perms[0], np.arange(perms.shape[1]))
    record = play_selfplay_game(SelfplayConfig(board, 2, engine="random", seed=2), 0)
    for step in list(replay_steps(record, keep_states=True))[::7]:
        feats = encoding.nnue_features(step.state)
        for k in range(len(perms)):
            image = encoding.nnue_features(transform_state(step.state, k))
            assert np.array_equal(np.sort(perms[k][feats]), image)


def test_batches_and_split_by_game(games_db):
    data = load_positions([str(games_db)], GameSpec("square8", 2))
    assert len(data.game_ids) == GAMES
    assert int(data.offsets[-1]) == len(data.indices)
    idx = np.array([5, 0, len(data) - 1])
    ind, off, target = data.batch(idx, torch.device("cpu"))
    for k, i in enumerate(idx):
        end = off[k + 1] if k + 1 < len(idx) else len(ind)
        assert ind[off[k]:end].tolist() == data.indices[data.offsets[i]:data.offsets[i + 1]].tolist()
    assert torch.equal(target, torch.from_numpy(data.values[idx]))
    train_idx, val_idx = split_games(data, 0.2, seed=3)
    assert set(data.games[train_idx]).isdisjoint(data.games[val_idx])
    assert len(set(data.games[val_idx])) == 4
    again = split_games(data, 0.2, seed=3)
    assert np.array_equal(again[1], val_idx)


def test_training_beats_untrained_and_predicting_zero(trained):
    _, result = trained
    m = result.metrics
    assert m["val_mse"] < m["val_untrained_mse"]
    assert m["val_mse"] < m["val_zero_mse"]
    assert m["history"][0]["positions_per_s"] > 0


def test_saved_model_loads_and_plays(trained):
    save, _ = trained
    meta = read_sidecar(save)["metadata"]
    assert meta["architecture"] == "nnue"
    assert (meta["board_type"], meta["num_players"]) == ("square8", 2)
    assert meta["encoder_version"] == encoding.ENCODER_VERSION
    assert meta["data"]["games"] == GAMES and meta["metrics"]["val_mse"] is not None
    model, _ = load_model(save)
    assert model.config.num_features == encoding.nnue_num_features("square8")
    value = NNUEValue.from_file(str(save))
    state = rules.new_game("square8", 2)
    v = value(state)
    assert len(v) == 2 and all(-1 <= x <= 1 for x in v)
    players = [make_player("nnue-guided", GameSpec("square8", 2),
                           EngineOptions(model_path=str(save)), seed=1),
               make_player("heuristic", GameSpec("square8", 2), seed=2)]
    game = play_game(rules.new_game("square8", 2), players, max_moves=400)
    assert game.final_state.is_over or len(game.moves) == 400


def test_same_seed_same_weights(games_db, trained, tmp_path):
    save, _ = trained
    again = tmp_path / "again.pt"
    train_nnue(_config(games_db, again), out=io.StringIO())
    a, _ = load_model(save)
    b, _ = load_model(again)
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.equal(x, y), name
    other = tmp_path / "other.pt"
    train_nnue(_config(games_db, other, seed=1), out=io.StringIO())
    c, _ = load_model(other)
    assert not torch.equal(a.embed.weight, c.embed.weight)


def test_unaugmented_training_is_deterministic(games_db, tmp_path):
    paths = [tmp_path / "a.pt", tmp_path / "b.pt"]
    for path in paths:
        train_nnue(_config(games_db, path, epochs=2, augment=False), out=io.StringIO())
    a, _ = load_model(paths[0])
    b, _ = load_model(paths[1])
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(),
                                                 b.state_dict().values()))


def test_cli_trains(games_db, tmp_path, capsys):
    save = tmp_path / "cli.pt"
    assert main(["train-nnue", "--db", str(games_db), "--board-type", "square8",
                 "--num-players", "2", "--save-path", str(save), "--epochs", "1",
                 "--hidden", "16", "--batch-size", "128", "--no-augment",
                 "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "val mse" in out and "positions/s" in out
    assert save.is_file() and Path(f"{save}.json").is_file()


@pytest.mark.parametrize("extra", [
    ["--db", "MISSING"],
    ["--db", "GAMES", "--board-type", "hex8"],
    ["--db", "GAMES", "--num-players", "3"],
    ["--db", "GAMES", "--epochs", "0"],
    ["--db", "GAMES", "--val-fraction", "1.5"],
    ["--db", "GAMES", "--db", "MISSING"],
    ["--db", "NOTADB"],
    ["--db", "GAMES", "--threads", "0"],
    ["--db", "GAMES", "--max-games", "0"],
])
def test_bad_input_exits_2_and_writes_nothing(games_db, tmp_path, capsys, extra):
    bad = tmp_path / "notadb.db"
    bad.write_text("hello")
    names = {"GAMES": str(games_db), "MISSING": str(tmp_path / "missing.db"),
             "NOTADB": str(bad)}
    argv = ["train-nnue", "--board-type", "square8", "--num-players", "2",
            "--save-path", str(tmp_path / "out" / "nnue.pt"), "--no-progress"]
    argv += [names.get(x, x) for x in extra]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("ringrift train-nnue: error:")
    assert not (tmp_path / "out").exists()

"""Auxiliary heads: shapes in every configuration, losses, training with --ownership-weight /
--game-length-weight on exported data, and one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from ringrift.cli.main import main
from ringrift.data.export import ExportFilters, run_export
from ringrift.data.gamedb import GameDB
from ringrift.nn.losses import game_length_loss, ownership_loss
from ringrift.nn.models import build_model, load_model, make_config
from ringrift.rules.spec import GameSpec
from ringrift.selfplay.runner import SelfplayConfig, play_selfplay_game
from tests.train.synth_npz import write_training_file

TINY = ["--channels", "8", "--blocks", "1", "--no-progress", "--no-tensorboard"]


@pytest.mark.parametrize("board", ["square8", "hex8", "square19", "hexagonal"])
@pytest.mark.parametrize("players", [2, 3, 4])
def test_heads_have_the_board_shapes(board, players):
    cfg = make_config("v2", GameSpec(board, players), channels=8, blocks=1, ownership_head=True,
                      game_length_head=True)
    out = build_model(cfg).eval()(torch.zeros(2, cfg.in_channels, cfg.height, cfg.width),
                                  torch.zeros(2, cfg.num_globals))
    assert out.ownership.shape == (2, players + 1, cfg.height, cfg.width)
    assert out.game_length.shape == (2,)
    plain = build_model(make_config("v2", GameSpec(board, players), channels=8, blocks=1))
    assert plain(torch.zeros(1, cfg.in_channels, cfg.height, cfg.width),
                 torch.zeros(1, cfg.num_globals)).ownership is None


def test_ownership_loss_ignores_cells_without_target_and_length_loss_unknowns():
    logits = torch.zeros(2, 3, 2, 2)
    logits[0, 1] = 5.0  # confident class 1 everywhere in row 0
    target = torch.tensor([[[1, 1], [-1, -1]], [[-1, -1], [-1, -1]]])
    loss = ownership_loss(logits, target)
    expect = -torch.log_softmax(torch.tensor([0.0, 5.0, 0.0]), 0)[1]
    assert loss.item() == pytest.approx(expect.item(), rel=1e-5)  # mean over the 2 cells only
    pred = torch.tensor([1.0, 2.0, 3.0])
    assert game_length_loss(pred, torch.tensor([2.0, -1.0, 3.0])).item() == pytest.approx(0.5)
    assert ownership_loss(logits, torch.full_like(target, -1)).item() == 0.0


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("auxtrain")
    with GameDB(root / "g.db") as db:
        for i in range(4):
            db.add_game(play_selfplay_game(SelfplayConfig("square8", 2, engine="random",
                                                          seed=5), i))
    run_export([str(root / "g.db")], GameSpec("square8", 2), root / "x.npz", ExportFilters())
    return root / "x.npz"


def _train(data, save, *extra):
    return main(["train", "--board-type", "square8", "--num-players", "2", "--data-path",
                 str(data), "--save-path", str(save), *TINY, *extra])


@pytest.mark.slow
def test_training_with_auxiliary_heads_learns_them(exported, tmp_path):
    torch.manual_seed(0)
    save = tmp_path / "aux.pt"
    assert _train(exported, save, "--epochs", "3", "--batch-size", "32", "--learning-rate",
                  "3e-3", "--ownership-weight", "1.0", "--game-length-weight", "0.5",
                  "--max-samples", "192", "--val-split", "0.25") == 0
    hist = json.loads((tmp_path / "aux.pt.metrics.json").read_text())["history"]
    assert hist[-1]["train_ownership_ce"] < hist[0]["train_ownership_ce"]
    assert hist[-1]["train_game_length_mse"] < hist[0]["train_game_length_mse"]
    assert hist[-1]["val_ownership_ce"] > 0
    model = load_model(save)[0]
    assert model.config.ownership_head and model.config.game_length_head
    # a model without the heads can start from it (the heads are dropped) and vice versa
    assert _train(exported, tmp_path / "plain.pt", "--epochs", "1", "--init-weights",
                  str(save), "--max-samples", "64") == 0
    assert _train(exported, tmp_path / "again.pt", "--epochs", "1", "--ownership-weight", "1",
                  "--init-weights", str(tmp_path / "plain.pt"), "--max-samples", "64") == 0


def test_aux_weight_without_targets_or_negative_is_a_one_line_error(tmp_path, capsys):
    v1 = write_training_file(tmp_path / "v1.npz", n_games=4, moves_per_game=4)
    assert _train(v1, tmp_path / "m.pt", "--ownership-weight", "1") == 2
    err = capsys.readouterr().err.strip()
    assert "--ownership-weight" in err and "no ownership targets" in err
    assert len(err.splitlines()) == 1
    assert _train(v1, tmp_path / "m.pt", "--game-length-weight", "-1") == 2
    assert "--game-length-weight" in capsys.readouterr().err
    assert np.load(v1)["features"].shape[0] == 16  # the input is untouched

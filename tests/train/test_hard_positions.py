"""Hard-position mining: on constructed data the mined positions are exactly the surprising
ones, the file is a valid weighted training file, training reads its weights, bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from ringrift.cli.main import main
from ringrift.data import npz_format
from ringrift.nn.losses import legal_log_softmax
from ringrift.nn.models import build_model, make_config, save_model_file
from ringrift.rules.spec import GameSpec
from ringrift.train.dataset import BatchBuilder, load_training_data
from ringrift.train.hard_positions import select_hard
from tests.train.synth_npz import make_arrays

N_GAMES, MOVES = 5, 8
POLICY_HARD = [3, 17, 30]  # the search disagreed with the network here
VALUE_HARD = [5, 22]  # the outcome contradicted the value head here


def _meta(arrays):
    return json.loads(str(arrays["metadata"][()]))


@pytest.fixture(scope="module")
def constructed(tmp_path_factory):
    """A model and data whose targets equal the model's own outputs except on known rows."""
    root = tmp_path_factory.mktemp("mine")
    torch.manual_seed(0)
    arrays = make_arrays(n_games=N_GAMES, moves_per_game=MOVES, seed=9)
    meta = _meta(arrays)
    mc = make_config("v2", GameSpec("square8", 2), in_channels=meta["in_channels"],
                     num_globals=meta["num_globals"], policy_planes=meta["policy_planes"],
                     scalar_actions=meta["scalar_actions"], height=8, width=8, channels=8,
                     blocks=1)
    model = build_model(mc).eval()
    model_path = root / "m.pt"
    save_model_file(model_path, {"metadata": {"architecture": "v2", "model_config": mc.to_dict(),
                                              "board_type": "square8", "num_players": 2,
                                              "encoder_version": 1},
                                 "model_state": model.state_dict()})
    raw = dict(arrays)
    raw.pop("metadata")
    with torch.no_grad():
        out = model(torch.from_numpy(raw["features"].astype(np.float32)),
                    torch.from_numpy(raw["globals"]))
    lo = raw["legal_offsets"]
    indices, probs = [], []
    for i in range(len(lo) - 1):
        legal = raw["legal_indices"][lo[i]:lo[i + 1]]
        mask = torch.zeros(1, out.policy.shape[1], dtype=torch.bool)
        mask[0, torch.from_numpy(legal.astype(np.int64))] = True
        prior = legal_log_softmax(out.policy[i:i + 1], mask).exp()[0, legal].numpy()
        if i in POLICY_HARD:  # all the search's mass on the move the network liked least
            indices.append(legal[[int(np.argmin(prior))]])
            probs.append(np.ones(1))
        else:
            indices.append(legal)
            probs.append(prior / prior.sum())
    raw["policy_indices"] = np.concatenate(indices).astype(np.int32)
    raw["policy_probs"] = np.concatenate(probs).astype(np.float32)
    raw["policy_offsets"] = np.concatenate([[0], np.cumsum([len(x) for x in indices])]
                                           ).astype(np.int64)
    values = out.value.numpy().astype(np.float32).copy()
    for i in VALUE_HARD:
        values[i] = -np.sign(values[i]) * 0.99  # the opposite outcome
    raw["values"] = values
    data_path = root / "d.npz"
    npz_format.write_npz(data_path, raw, {k: v for k, v in meta.items()
                                          if k not in ("format", "format_version")})
    return {"root": root, "model": model_path, "data": data_path}


def _mine(c, out, *extra):
    return main(["mine", "--model", str(c["model"]), "--data-path", str(c["data"]),
                 "--output", str(out), *extra])


@pytest.mark.parametrize("by,expect", [("policy", POLICY_HARD), ("value", VALUE_HARD)])
def test_mined_positions_are_the_surprising_ones(constructed, tmp_path, by, expect, capsys):
    n = N_GAMES * MOVES
    out = tmp_path / f"{by}.npz"
    assert _mine(constructed, out, "--by", by, "--fraction", str(len(expect) / n)) == 0
    assert "wrote" in capsys.readouterr().out
    arrays, meta = npz_format.read_npz(out)
    npz_format.validate(out, arrays, meta)
    source, _ = npz_format.read_npz(constructed["data"])
    rows = [int(np.flatnonzero((source["game_ids"] == g) & (source["move_numbers"] == m))[0])
            for g, m in zip(arrays["game_ids"], arrays["move_numbers"], strict=True)]
    assert sorted(rows) == sorted(expect)
    assert arrays["sample_weights"].mean() == pytest.approx(1.0, rel=1e-5)
    # every mined sample carries its source sample's arrays (ragged ones re-based)
    for k, row in enumerate(rows):
        lo, slo = arrays["legal_offsets"], source["legal_offsets"]
        np.testing.assert_array_equal(arrays["legal_indices"][lo[k]:lo[k + 1]],
                                      source["legal_indices"][slo[row]:slo[row + 1]])
        np.testing.assert_array_equal(arrays["features"][k], source["features"][row])
    assert meta["mined"]["by"] == by and meta["counts"]["samples"] == len(expect)


def test_both_measures_find_both_kinds_and_training_reads_the_weights(constructed, tmp_path):
    out = tmp_path / "both.npz"
    assert _mine(constructed, out, "--by", "both", "--fraction", "0.125") == 0
    arrays, _ = npz_format.read_npz(out)
    assert len(arrays["move_numbers"]) == 5
    data = load_training_data([out], GameSpec("square8", 2))
    batch = BatchBuilder(data).build(np.arange(len(data)))
    np.testing.assert_allclose(batch.sample_weights.numpy(), arrays["sample_weights"])
    assert main(["train", "--board-type", "square8", "--num-players", "2", "--data-path",
                 str(constructed["data"]), str(out), "--save-path", str(tmp_path / "t.pt"),
                 "--channels", "8", "--blocks", "1", "--epochs", "1", "--batch-size", "8",
                 "--no-progress", "--no-tensorboard", "--val-split", "0"]) == 0


def test_select_hard_orders_by_score_and_keeps_at_least_one():
    scores = np.array([0.1, 5.0, 0.3, 5.0, 2.0])
    assert select_hard(scores, 0.6).tolist() == [1, 3, 4]
    assert select_hard(scores, 0.01).tolist() == [1]


@pytest.mark.parametrize("extra,message", [
    (("--fraction", "0"), "--fraction"),
    (("--fraction", "1.5"), "--fraction"),
    (("--device", "nonsense"), "--device"),
    (("--batch-size", "0"), "--batch-size"),
])
def test_bad_mine_input_is_one_line(constructed, tmp_path, capsys, extra, message):
    assert _mine(constructed, tmp_path / "x.npz", *extra) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "x.npz").exists()


def test_missing_model_is_one_line(constructed, tmp_path, capsys):
    assert main(["mine", "--model", str(tmp_path / "nope.pt"), "--data-path",
                 str(constructed["data"]), "--output", str(tmp_path / "x.npz")]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1

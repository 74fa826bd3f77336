import numpy as np
import pytest
import torch

from ringrift.errors import UserError
from ringrift.rules.spec import GameSpec
from ringrift.train.dataset import (
    BatchBuilder,
    epoch_batches,
    load_training_data,
    split_by_game,
)
from tests.train.synth_npz import make_arrays, set_meta, write_npz, write_training_file


def load(paths, board="square8", players=2, **kw):
    return load_training_data([str(p) for p in paths], GameSpec(board, players), **kw)


def expect_error(path, fragment, board="square8", players=2, **kw):
    with pytest.raises(UserError) as err:
        load([path], board, players, **kw)
    message = str(err.value)
    assert str(path) in message, message
    assert fragment in message, message
    assert "\n" not in message
    return message


def test_load_valid_file_and_concatenate(tmp_path):
    a = write_training_file(tmp_path / "a.npz", seed=1, n_games=3, moves_per_game=4)
    b = write_training_file(tmp_path / "b.npz", seed=2, n_games=2, moves_per_game=5,
                            feature_dtype=np.float32)
    data = load([a, b])
    assert len(data) == 22
    assert data.features.dtype == np.float32  # mixed f16/f32 -> f32
    assert data.policy_offsets[-1] == len(data.policy_indices)
    assert data.legal_offsets[-1] == len(data.legal_indices)
    assert [s["path"] for s in data.sources] == [str(a), str(b)]
    assert all(len(s["sha256"]) == 64 for s in data.sources)
    # Sample 12 is sample 0 of b: its sparse rows survived the offset rebasing.
    raw = make_arrays(seed=2, n_games=2, moves_per_game=5)
    lo, hi = data.legal_offsets[12], data.legal_offsets[13]
    np.testing.assert_array_equal(data.legal_indices[lo:hi],
                                  raw["legal_indices"][: raw["legal_offsets"][1]])
    assert load([a], max_samples=5).policy_offsets.shape == (6,)


@pytest.mark.parametrize("board,players", [("hex8", 3), ("hexagonal", 4), ("square19", 2)])
def test_other_boards_load(tmp_path, board, players):
    path = write_training_file(tmp_path / "x.npz", board_type=board, num_players=players,
                               n_games=2, moves_per_game=2)
    assert len(load([path], board, players)) == 4


def test_missing_file_garbage_truncated_corrupt(tmp_path):
    expect_error(tmp_path / "nope.npz", "no such file")
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"hello, not a zip")
    expect_error(garbage, "not an .npz")
    good = write_training_file(tmp_path / "good.npz")
    raw = good.read_bytes()
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(raw[: len(raw) // 2])
    expect_error(truncated, "truncated or corrupt")
    corrupt = tmp_path / "corrupt.npz"
    flipped = bytearray(raw)
    for i in range(2000, 2100):
        flipped[i] ^= 0xFF
    corrupt.write_bytes(bytes(flipped))
    expect_error(corrupt, "corrupt")


@pytest.mark.parametrize("key", ["features", "policy_probs", "legal_offsets", "game_ids",
                                 "metadata"])
def test_missing_array(tmp_path, key):
    arrays = make_arrays()
    del arrays[key]
    expect_error(write_npz(tmp_path / "x.npz", arrays), f"missing array '{key}'")


@pytest.mark.parametrize("key,dtype", [("features", np.int16), ("globals", np.float64),
                                       ("values", np.float16), ("ranks", np.int32),
                                       ("policy_offsets", np.int32), ("legal_indices", np.int64),
                                       ("move_numbers", np.int64)])
def test_wrong_dtype(tmp_path, key, dtype):
    arrays = make_arrays()
    arrays[key] = arrays[key].astype(dtype)
    expect_error(write_npz(tmp_path / "x.npz", arrays), f"{key} has dtype")


@pytest.mark.parametrize("key", ["features", "globals", "values", "ranks", "policy_offsets",
                                 "policy_probs", "game_ids"])
def test_wrong_shape(tmp_path, key):
    arrays = make_arrays()
    arrays[key] = arrays[key][..., :-1] if arrays[key].ndim > 1 else arrays[key][:-1]
    expect_error(write_npz(tmp_path / "x.npz", arrays), f"{key} has shape")


def test_object_arrays_refused(tmp_path):
    arrays = make_arrays()
    arrays["game_ids"] = arrays["game_ids"].astype(object)
    expect_error(write_npz(tmp_path / "x.npz", arrays), "object (pickled)")


@pytest.mark.parametrize("changes,fragment", [
    ({"format": "something-else"}, "metadata format"),
    ({"format_version": 99}, "unsupported format_version"),
    ({"counts": None}, "metadata lacks 'counts'"),
    ({"policy_size": 5}, "policy_size"),
    ({"in_channels": 7}, "features has shape"),
])
def test_bad_metadata(tmp_path, changes, fragment):
    path = write_npz(tmp_path / "x.npz", set_meta(make_arrays(), **changes))
    expect_error(path, fragment)


def test_metadata_not_json(tmp_path):
    arrays = make_arrays()
    arrays["metadata"] = np.array("{not json")
    expect_error(write_npz(tmp_path / "x.npz", arrays), "not valid JSON")


def test_foreign_board_players_encoder(tmp_path):
    path = write_training_file(tmp_path / "x.npz", encoder_version=3)
    expect_error(path, "board type 'square8' does not match the requested 'hex8'", board="hex8")
    expect_error(path, "holds 2-player data, but 3 players", players=3)
    expect_error(path, "encoder_version 3 does not match the expected 4", encoder_version=4)
    other = write_training_file(tmp_path / "y.npz", encoder_version=4)
    with pytest.raises(UserError, match="encoder_version 4 does not match the expected 3"):
        load([path, other])


def test_inconsistent_contents(tmp_path):
    base = make_arrays()
    cases = {
        "probs": ("policy_probs", lambda a: a * 0.5, "sum to"),
        "values": ("values", lambda a: a * 3, "values outside"),
        "ranks": ("ranks", lambda a: a + 2, "ranks outside"),
        "offsets": ("legal_offsets", lambda a: np.concatenate([[1], a[1:]]), "legal_offsets"),
        "nan": ("globals", lambda a: np.where(a > 1, np.nan, a).astype(np.float32), "NaN"),
    }
    for name, (key, change, fragment) in cases.items():
        arrays = dict(base)
        arrays[key] = change(base[key]).astype(base[key].dtype)
        expect_error(write_npz(tmp_path / f"{name}.npz", arrays), fragment)
    arrays = dict(base)
    arrays["policy_indices"] = arrays["policy_indices"].copy()
    legal0 = set(base["legal_indices"][: base["legal_offsets"][1]].tolist())
    arrays["policy_indices"][0] = next(i for i in range(130) if i not in legal0)
    expect_error(write_npz(tmp_path / "illegal.npz", arrays), "illegal move index")


def test_split_by_game_never_leaks_and_is_seeded():
    ids = np.repeat([f"g{i}" for i in range(20)], 7)
    train, val = split_by_game(ids, 0.25, seed=3)
    assert len(train) + len(val) == len(ids)
    assert set(ids[train]).isdisjoint(set(ids[val]))
    assert 2 <= len(set(ids[val])) <= 9  # about a quarter of the 20 games
    again_train, again_val = split_by_game(ids, 0.25, seed=3)
    np.testing.assert_array_equal(val, again_val)
    assert not np.array_equal(val, split_by_game(ids, 0.25, seed=4)[1])
    assert len(split_by_game(ids, 0.0, seed=0)[1]) == 0
    with pytest.raises(UserError):
        split_by_game(np.array(["only"] * 5), 0.2, seed=0)


def test_split_by_game_keeps_each_game_on_its_side_as_the_data_grows():
    small = np.repeat([f"g{i}" for i in range(40)], 3)
    grown = np.repeat([f"g{i}" for i in range(200)], 3)  # a loop's window after more games
    val_small = set(small[split_by_game(small, 0.1, seed=7)[1]])
    train_small = set(small[split_by_game(small, 0.1, seed=7)[0]])
    val_grown = set(grown[split_by_game(grown, 0.1, seed=7)[1]])
    assert val_small and val_small <= val_grown
    assert not (train_small & val_grown)  # never validated on a game trained on before
    # each side gets at least one game, even when the hash would put all on one side
    for ids in (np.array(["a", "b"]), np.repeat(["a", "b", "c"], 2)):
        train, val = split_by_game(ids, 0.01, seed=0)
        assert len(val) and len(train)
        train, val = split_by_game(ids, 0.99, seed=0)
        assert len(val) and len(train)


def test_epoch_batches_deterministic_and_drop_last():
    idx = np.arange(10)
    b1 = epoch_batches(idx, 4, seed=1, epoch=0)
    assert [len(b) for b in b1] == [4, 4]
    np.testing.assert_array_equal(np.concatenate(b1), np.concatenate(
        epoch_batches(idx, 4, seed=1, epoch=0)))
    assert not np.array_equal(np.concatenate(b1), np.concatenate(
        epoch_batches(idx, 4, seed=1, epoch=1)))
    assert [len(b) for b in epoch_batches(idx, 4)] == [4, 4, 2]  # validation keeps all


def test_epoch_batches_limit_draws_a_fresh_random_subset_each_epoch():
    idx = np.arange(100, 200)
    first = np.concatenate(epoch_batches(idx, 8, seed=3, epoch=0, limit=40))
    second = np.concatenate(epoch_batches(idx, 8, seed=3, epoch=1, limit=40))
    assert len(first) == len(second) == 40
    assert len(set(first.tolist())) == 40 and set(first.tolist()) <= set(idx.tolist())
    assert set(first.tolist()) != set(second.tolist())  # another subset next epoch
    np.testing.assert_array_equal(first, np.concatenate(  # reproducible, so resumable
        epoch_batches(idx, 8, seed=3, epoch=0, limit=40)))
    # a limit beyond the data is the whole epoch
    assert sum(len(b) for b in epoch_batches(idx, 8, seed=3, epoch=0, limit=500)) == 96


def test_batches_have_dense_targets_matching_the_sparse_rows(tmp_path):
    path = write_training_file(tmp_path / "x.npz", board_type="hex8", num_players=3)
    data = load([path], "hex8", 3)
    batch = BatchBuilder(data).build(np.array([5, 0, 17]))
    assert batch.features.dtype == torch.float32 and batch.features.shape == (3, 4, 9, 9)
    assert batch.policy_target.shape == batch.legal_mask.shape == (3, 2 * 81 + 2)
    for row, i in enumerate([5, 0, 17]):
        lo, hi = data.policy_offsets[i], data.policy_offsets[i + 1]
        dense = np.zeros(164, dtype=np.float32)
        dense[data.policy_indices[lo:hi]] = data.policy_probs[lo:hi]
        np.testing.assert_allclose(batch.policy_target[row].numpy(), dense)
        lo, hi = data.legal_offsets[i], data.legal_offsets[i + 1]
        assert set(np.flatnonzero(batch.legal_mask[row].numpy())) == set(
            data.legal_indices[lo:hi].tolist())
    assert batch.ranks.dtype == torch.long and batch.values.shape == (3, 3)
    assert batch.has_policy.all()

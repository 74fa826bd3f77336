"""Prioritized replay: sampling follows the priorities, IS weights are exact, the trainer uses
it (and resumes it), bad flags are one-line errors."""

import json

import numpy as np
import pytest
import torch

from ringrift.cli.main import main
from ringrift.errors import UserError
from ringrift.train.prioritized import PrioritizedReplay, ReplaySettings, parse_beta
from tests.train.synth_npz import write_training_file

TINY = ["--channels", "8", "--blocks", "1", "--no-progress", "--no-tensorboard"]


def _replay(n: int, alpha: float, beta: tuple[float, float] = (0.4, 1.0)) -> PrioritizedReplay:
    return PrioritizedReplay(np.arange(100, 100 + n), ReplaySettings(alpha, *beta))


def test_a_sample_with_ten_times_the_loss_is_drawn_ten_times_as_often():
    replay = _replay(20, alpha=1.0)
    losses = np.ones(20)
    losses[3] = 10.0
    replay.update(np.arange(100, 120), losses)
    rows, _ = replay.sample(200_000, np.random.default_rng(0), progress=0.0)
    counts = np.bincount(rows - 100, minlength=20)
    others = np.delete(counts, 3).mean()
    assert counts[3] / others == pytest.approx(10.0, rel=0.05)


def test_alpha_flattens_and_zero_alpha_is_uniform():
    replay = _replay(4, alpha=0.5)
    replay.update(np.arange(100, 104), np.array([1.0, 4.0, 9.0, 16.0]))
    np.testing.assert_allclose(replay.probabilities(), np.array([1, 2, 3, 4]) / 10)
    uniform = _replay(4, alpha=0.0)
    uniform.update(np.arange(100, 104), np.array([1.0, 4.0, 9.0, 16.0]))
    np.testing.assert_allclose(uniform.probabilities(), 0.25)


def test_importance_weights_are_n_p_to_minus_beta_over_their_maximum():
    replay = _replay(4, alpha=1.0, beta=(0.5, 1.0))
    replay.update(np.arange(100, 104), np.array([1.0, 2.0, 3.0, 4.0]))
    probs = np.array([1, 2, 3, 4]) / 10
    for progress, beta in ((0.0, 0.5), (0.5, 0.75), (1.0, 1.0)):
        rows, weights = replay.sample(50, np.random.default_rng(1), progress)
        expect = (4 * probs[rows - 100]) ** -beta / (4 * probs.min()) ** -beta
        np.testing.assert_allclose(weights, expect, rtol=1e-6)
        assert weights.max() <= 1.0 + 1e-6
    # with beta 1 the weighted draw is unbiased: E[w * x] / max-normaliser == mean(x)
    rows, weights = replay.sample(400_000, np.random.default_rng(2), 1.0)
    x = np.array([5.0, -1.0, 2.0, 7.0])
    unbiased = (weights * x[rows - 100]).mean() / (4 * probs.min())
    assert unbiased == pytest.approx(x.mean(), rel=0.02)


def test_unseen_samples_get_the_highest_priority_and_updates_replace():
    replay = _replay(3, alpha=1.0)
    replay.update(np.array([100]), np.array([2.0]))
    np.testing.assert_allclose(replay.probabilities(), [1 / 3] * 3)  # unseen = max seen
    replay.update(np.array([101, 102]), np.array([1.0, 1.0]))
    np.testing.assert_allclose(replay.probabilities(), [0.5, 0.25, 0.25])
    replay.update(np.array([100]), np.array([0.0]))  # a zero loss keeps a tiny chance
    assert 0 < replay.probabilities()[0] < 1e-5
    state = replay.state_dict()
    again = _replay(3, alpha=1.0)
    again.load_state_dict(state)
    np.testing.assert_allclose(again.probabilities(), replay.probabilities())


@pytest.mark.parametrize("text,expect", [("0.4->1.0", (0.4, 1.0)), ("0.7", (0.7, 0.7)),
                                         (" 0 -> 0.5 ", (0.0, 0.5))])
def test_parse_beta(text, expect):
    assert parse_beta(text) == expect


@pytest.mark.parametrize("text", ["x", "0.4->", "1.5", "0.2->1.2", ""])
def test_bad_beta_is_a_user_error(text):
    with pytest.raises(UserError, match="^per_beta "):
        parse_beta(text)


def _train(tmp_path, data, name, *extra):
    return main(["train", "--board-type", "square8", "--num-players", "2", "--data-path",
                 str(data), "--save-path", str(tmp_path / name), *TINY, *extra])


def test_training_with_prioritized_replay_learns_and_records_priorities(tmp_path):
    torch.manual_seed(0)
    data = write_training_file(tmp_path / "d.npz", learnable=True, n_games=20,
                               moves_per_game=16, seed=3)
    rc = _train(tmp_path, data, "per.pt", "--epochs", "4", "--batch-size", "32",
                "--learning-rate", "3e-3", "--prioritized-replay", "--per-alpha", "0.6",
                "--per-beta", "0.4->1.0", "--samples-per-epoch", "128")
    assert rc == 0
    hist = json.loads((tmp_path / "per.pt.metrics.json").read_text())["history"]
    assert len(hist) == 4
    assert hist[-1]["val_loss"] < hist[0]["val_loss"]
    assert hist[0]["per_seen"] > 0.2 and hist[-1]["per_seen"] >= hist[0]["per_seen"]
    assert hist[0]["per_beta"] < hist[-1]["per_beta"] <= 1.0
    assert hist[-1]["per_priority_max"] >= hist[-1]["per_priority_mean"] > 0


def test_prioritized_run_resumes_with_its_priorities(tmp_path):
    data = write_training_file(tmp_path / "d.npz", n_games=10, moves_per_game=8, seed=4)
    flags = ("--epochs", "2", "--batch-size", "16", "--prioritized-replay", "--lr-scheduler", "none",
             "--per-beta", "0.5",
             "--checkpoint-every", "0")
    assert _train(tmp_path, data, "a.pt", *flags) == 0
    full = json.loads((tmp_path / "a.pt.metrics.json").read_text())["history"]
    # a second run stopped after epoch 1 (by asking for 1 epoch), then resumed to 2 (constant
    # beta and lr, so the shorter first run computes the same steps)
    assert _train(tmp_path, data, "b.pt", "--epochs", "1", *flags[2:]) == 0
    assert _train(tmp_path, data, "b.pt", *flags, "--resume") == 0
    resumed = json.loads((tmp_path / "b.pt.metrics.json").read_text())["history"]
    assert resumed[-1]["train_loss"] == pytest.approx(full[-1]["train_loss"], rel=1e-5)
    assert resumed[-1]["per_priority_mean"] == pytest.approx(full[-1]["per_priority_mean"],
                                                             rel=1e-5)


@pytest.mark.parametrize("flags,message", [
    (("--per-alpha", "-1"), "--per-alpha"),
    (("--per-beta", "2"), "--per-beta"),
])
def test_bad_replay_flags_are_one_line_errors(tmp_path, capsys, flags, message):
    data = write_training_file(tmp_path / "d.npz", n_games=4, moves_per_game=4)
    assert _train(tmp_path, data, "x.pt", "--prioritized-replay", *flags) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_a_checkpoint_from_before_the_replay_settings_resumes_with_their_defaults(tmp_path):
    from ringrift.train.checkpoint import CheckpointManager, load_checkpoint, save_checkpoint

    data = write_training_file(tmp_path / "d.npz", n_games=6, moves_per_game=8, seed=4)
    assert _train(tmp_path, data, "old.pt", "--epochs", "1", "--batch-size", "16") == 0
    ckpt, _ = CheckpointManager(tmp_path / "old_ckpt").latest()
    payload = load_checkpoint(ckpt)
    for key in ("prioritized_replay", "per_alpha", "per_beta", "ownership_weight",
                "game_length_weight"):
        del payload["metadata"]["train_config"][key]
    save_checkpoint(ckpt, payload)
    assert _train(tmp_path, data, "old.pt", "--epochs", "2", "--batch-size", "16",
                  "--resume") == 0
    assert _train(tmp_path, data, "old.pt", "--epochs", "3", "--batch-size", "16",
                  "--resume", "--prioritized-replay") == 2  # a changed setting is refused

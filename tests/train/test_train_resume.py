"""A training run killed with SIGKILL (and later stopped with SIGTERM) resumes from its
checkpoints and ends exactly where an uninterrupted run with the same seed ends."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from ringrift.train.checkpoint import load_checkpoint
from tests.train.synth_npz import write_training_file

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def command(data: Path, save: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "ringrift", "train", "--board-type", "square8",
            "--num-players", "2", "--data-path", str(data), "--save-path", str(save),
            "--channels", "8", "--blocks", "1", "--batch-size", "16", "--epochs", "3",
            "--learning-rate", "3e-3", "--checkpoint-every", "10", "--seed", "7",
            "--no-progress", "--no-tensorboard", "--rank-head", *extra]


def wait_for_checkpoint(proc: subprocess.Popen, folder: Path, min_step: int,
                        timeout: float = 60.0) -> int:
    """Poll until a regular checkpoint of at least `min_step` is committed; return its step."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"training ended (rc {proc.returncode}) before it could be interrupted")
        steps = [int(p.name.split("_")[1]) for p in folder.glob("step_*_regular.pt")]
        if steps and max(steps) >= min_step:
            return max(steps)
        time.sleep(0.005)
    pytest.fail("no checkpoint appeared")


def assert_all_checkpoints_verify(folder: Path) -> None:
    paths = list(folder.glob("*.pt"))
    assert paths
    for path in paths:
        load_checkpoint(path)  # raises on a partial/corrupt/unverified file


def final_state(save: Path) -> tuple[list[float], dict[str, torch.Tensor]]:
    metrics = json.loads(save.with_name(save.name + ".metrics.json").read_text())
    return ([h["val_loss"] for h in metrics["history"]],
            torch.load(save, weights_only=True)["model_state"])


def test_resume_after_sigkill_and_sigterm_matches_uninterrupted(tmp_path):
    data = write_training_file(tmp_path / "d.npz", learnable=True, n_games=40,
                               moves_per_game=25, seed=3)
    ref = tmp_path / "ref" / "m.pt"
    done = subprocess.run(command(data, ref), env=ENV, capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0, done.stderr

    save = tmp_path / "run" / "m.pt"
    ckpt_dir = tmp_path / "run" / "m_ckpt"
    proc = subprocess.Popen(command(data, save), env=ENV, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    wait_for_checkpoint(proc, ckpt_dir, 30)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert not save.exists()
    assert_all_checkpoints_verify(ckpt_dir)

    # Resume, then stop it cleanly with SIGTERM: an emergency checkpoint, exit 128+15.
    proc = subprocess.Popen(command(data, save, "--resume"), env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    killed_at = max(int(p.name.split("_")[1]) for p in ckpt_dir.glob("step_*.pt"))
    wait_for_checkpoint(proc, ckpt_dir, killed_at + 20)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "resuming from" in out and "--resume" in out
    assert list(ckpt_dir.glob("step_*_emergency.pt"))
    assert not save.exists()
    assert_all_checkpoints_verify(ckpt_dir)

    done = subprocess.run(command(data, save, "--resume"), env=ENV, capture_output=True,
                          text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    assert_all_checkpoints_verify(ckpt_dir)

    ref_losses, ref_weights = final_state(ref)
    losses, weights = final_state(save)
    assert len(losses) == 3
    assert losses == pytest.approx(ref_losses, rel=1e-6, abs=1e-7)
    for name, tensor in ref_weights.items():
        torch.testing.assert_close(weights[name], tensor, rtol=1e-5, atol=1e-6)

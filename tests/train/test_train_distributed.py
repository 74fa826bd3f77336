"""Training under torchrun (2 CPU processes, gloo) against one process with the same global
batch: the same loss curve within tolerance (each rank's BatchNorm normalises its own half of the
batch on the CPU, the only difference), rank 0 alone writes files, and a 2-process run killed with
SIGKILL resumes to the same end as an unkilled one. Plus the torchrun command line and the
options refused with several processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from ringrift.errors import UserError
from ringrift.train.distributed import DistContext, torchrun_command
from tests.train.synth_npz import write_training_file

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def command(data: Path, save: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "ringrift", "train", "--board-type", "square8",
            "--num-players", "2", "--data-path", str(data), "--save-path", str(save),
            "--channels", "8", "--blocks", "1", "--batch-size", "32", "--epochs", "2",
            "--learning-rate", "3e-3", "--checkpoint-every", "5", "--seed", "7",
            "--no-progress", "--rank-head", *extra]


def history(save: Path) -> list[dict]:
    return json.loads(save.with_name(save.name + ".metrics.json").read_text())["history"]


def written(folder: Path) -> list[str]:
    """Every file under `folder`, TensorBoard event files by count only (their names hold the
    writing process's id)."""
    names = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    return [n if "tfevents" not in n else "<tfevents>" for n in names]


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return write_training_file(tmp_path_factory.mktemp("dist") / "d.npz", learnable=True,
                               n_games=40, moves_per_game=25, seed=3)


@pytest.fixture(scope="module")
def two_process_run(data, tmp_path_factory) -> Path:
    save = tmp_path_factory.mktemp("two") / "m.pt"
    done = subprocess.run(command(data, save, "--nproc-per-node", "2"), env=ENV,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("epoch 1/2") == 1  # rank 0 alone reports
    return save


@pytest.mark.slow
def test_two_processes_follow_one_process_loss_curve_and_rank_0_alone_writes(
        data, two_process_run, tmp_path):
    one = tmp_path / "one" / "m.pt"
    done = subprocess.run(command(data, one), env=ENV, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    ref, dist = history(one), history(two_process_run)
    assert [h["step"] for h in dist] == [h["step"] for h in ref]  # the same global batches
    for key in ("train_loss", "val_loss"):
        assert [h[key] for h in dist] == pytest.approx([h[key] for h in ref], rel=0.05)
    assert dist[-1]["train_loss"] < dist[0]["train_loss"]  # it learns
    # the same files as one process writes: one TensorBoard writer, one set of checkpoints
    assert written(two_process_run.parent) == written(one.parent)
    assert written(two_process_run.parent).count("<tfevents>") == 1


@pytest.mark.slow
def test_a_killed_two_process_run_resumes_to_the_unkilled_end(data, two_process_run, tmp_path):
    save = tmp_path / "run" / "m.pt"
    ckpt_dir = save.parent / "m_ckpt"
    proc = subprocess.Popen(command(data, save, "--nproc-per-node", "2"), env=ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 240
    while not list(ckpt_dir.glob("step_*_regular.pt")) or \
            max(int(p.name.split("_")[1]) for p in ckpt_dir.glob("step_*_regular.pt")) < 20:
        assert proc.poll() is None, "training ended before it could be killed"
        assert time.monotonic() < deadline, "no checkpoint appeared"
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)  # torchrun and both ranks
    proc.wait(timeout=30)
    assert not save.exists()
    done = subprocess.run(command(data, save, "--nproc-per-node", "2", "--resume"), env=ENV,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "resuming from step_" in done.stdout
    ref, resumed = history(two_process_run), history(save)
    for key in ("train_loss", "val_loss"):
        assert [h[key] for h in resumed] == pytest.approx([h[key] for h in ref], rel=1e-5)
    ref_weights = torch.load(two_process_run, weights_only=True)["model_state"]
    weights = torch.load(save, weights_only=True)["model_state"]
    for name, tensor in ref_weights.items():
        torch.testing.assert_close(weights[name], tensor, rtol=1e-4, atol=1e-5)


def test_each_rank_takes_its_slice_of_every_global_batch():
    import numpy as np

    group = [np.arange(10), np.arange(10, 13)]
    parts = [DistContext(rank, 4).shard_group(group) for rank in range(4)]
    # every sample once, over the ranks; each slice's loss scale is its share of 13 times 4
    for k in range(2):
        taken = [p for local, shares in parts for p, s in zip(local[k], [shares[k]] * 99)
                 if s > 0]
        assert sorted(taken) == list(group[k])
    assert parts[0][1] == pytest.approx([3 / 13 * 4, 1 / 13 * 4])
    # a rank with nothing of the 3-sample micro-batch joins with one sample of weight 0
    assert len(parts[3][0][1]) == 1 and parts[3][1][1] == 0.0


def test_torchrun_command_lines_and_bad_flags():
    one_node = torchrun_command(2, ["--epochs", "1"])
    assert one_node[1:] == ["-m", "torch.distributed.run", "--nproc-per-node=2", "--standalone",
                            "-m", "ringrift.train", "--epochs", "1"]
    nodes = torchrun_command(8, [], nnodes=2, rdzv_endpoint="head:29400")
    assert "--nnodes=2" in nodes and "--rdzv-endpoint=head:29400" in nodes
    assert "--standalone" not in nodes
    with pytest.raises(UserError, match="^rdzv_endpoint HOST:PORT"):
        torchrun_command(2, [], nnodes=2)
    with pytest.raises(UserError, match="^nproc_per_node must be at least 1"):
        torchrun_command(0, [])


def test_unsupported_options_are_refused_before_torchrun_starts(data, tmp_path, capsys):
    from ringrift.cli.main import main

    argv = ["train", *command(data, tmp_path / "m.pt", "--nproc-per-node", "2",
                              "--pcgrad")[4:]]
    old = sys.argv
    sys.argv = ["ringrift", *argv]
    try:
        assert main(argv) == 2
    finally:
        sys.argv = old
    assert "--pcgrad is not supported with distributed training" in capsys.readouterr().err
    assert not (tmp_path / "m_ckpt").exists()

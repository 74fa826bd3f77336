"""End-to-end training through the CLI (in process): learning, files, bad input, transfer,
distillation, describe and the benchmark."""

import argparse
import json
import math

import numpy as np
import pytest
import torch

from ringrift.cli.bench_train import add_bench_train
from ringrift.cli.main import main
from ringrift.cli.models_describe import add_describe
from ringrift.nn.losses import legal_log_softmax
from ringrift.nn.models import (
    build_model,
    count_parameters,
    load_model,
    make_config,
    save_model_file,
    sha256_file,
)
from ringrift.rules.spec import GameSpec
from ringrift.train.benchmark import TrainBenchSettings, run_train_benchmark
from ringrift.train.config import TrainConfig
from ringrift.train.epoch_end import end_epoch
from ringrift.train.run_state import RunState
from tests.train.synth_npz import write_training_file

TINY = ["--channels", "8", "--blocks", "1", "--no-progress"]


def train_args(data, save, *extra, board="square8", players="2"):
    return ["train", "--board-type", board, "--num-players", players, "--data-path", str(data),
            "--save-path", str(save), *TINY, *extra]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny model trained on learnable data (shared by several tests)."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("trained")
    data = write_training_file(root / "learn.npz", learnable=True, n_games=30, moves_per_game=16,
                               seed=5, encoder_version=2)
    save = root / "models" / "sq8.pt"
    rc = main(train_args(data, save, "--epochs", "5", "--batch-size", "32",
                         "--learning-rate", "3e-3", "--rank-head", "--checkpoint-every", "7",
                         "--warmup-epochs", "0.5"))
    torch.set_num_threads(old)
    assert rc == 0
    return {"root": root, "data": data, "save": save}


def test_training_learns_and_writes_every_file(trained):
    save = trained["save"]
    metrics = json.loads((save.parent / "sq8.pt.metrics.json").read_text())
    hist = metrics["history"]
    assert len(hist) == 5 and metrics["epochs_run"] == 5
    assert hist[-1]["val_loss"] < 0.75 * hist[0]["val_loss"]
    assert hist[-1]["train_loss"] < hist[0]["train_loss"]
    assert hist[-1]["val_policy_accuracy"] > 0.5 > hist[0]["val_policy_accuracy"] - 0.2
    assert hist[-1]["val_value_mse"] < hist[0]["val_value_mse"]
    assert all(h["samples_per_s"] > 0 for h in hist)
    model, meta = load_model(save)
    assert meta["architecture"] == "v2" and meta["board_type"] == "square8"
    assert meta["num_players"] == 2 and meta["encoder_version"] == 2
    assert meta["policy_size"] == 2 * 64 + 2 and meta["parent_model"] is None
    assert meta["data"][0]["sha256"] == sha256_file(trained["data"])
    assert meta["model_config"]["channels"] == 8 and meta["model_config"]["rank_head"]
    assert meta["epoch"] == metrics["best_epoch"] and "created_at" in meta
    raw = torch.load(save, weights_only=True)
    assert "optimizer_state" not in raw  # the final model carries weights only
    ckpts = sorted(p.name for p in (save.parent / "sq8_ckpt").glob("*.pt"))
    assert any(n.startswith("best_") for n in ckpts)
    assert len([n for n in ckpts if n.startswith("step_")]) == 3  # keep-checkpoints default
    assert any((save.parent / "sq8_tb").iterdir())


def test_all_options_together_run(tmp_path):
    data = write_training_file(tmp_path / "d.npz", board_type="hex8", num_players=3,
                               n_games=6, moves_per_game=6)
    save = tmp_path / "h.pt"
    rc = main(train_args(data, save, "--epochs", "2", "--batch-size", "8", "--grad-accum", "2",
                         "--pcgrad", "--label-smoothing", "0.1", "--entropy-weight", "0.01",
                         "--lr-scheduler", "step", "--lr-step-size", "1", "--weight-decay",
                         "0.01", "--rank-head", "--amp", "--no-tensorboard", "--val-split",
                         "0.3", "--max-samples", "30", "--model-version", "v3", board="hex8",
                         players="3"))
    assert rc == 0
    metrics = json.loads((tmp_path / "h.pt.metrics.json").read_text())
    assert all(math.isfinite(h["val_loss"]) for h in metrics["history"])
    assert metrics["history"][1]["lr"] == pytest.approx(1e-4)  # step schedule: 1e-3 * 0.1
    assert load_model(save)[1]["model_config"]["se"] is True
    assert not (tmp_path / "h_tb").exists()


def run_error(capsys, argv):
    rc = main(argv)
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert len(err.splitlines()) == 1, err
    return err


def test_bad_inputs_give_one_line_and_exit_2(trained, tmp_path, capsys):
    data, save = trained["data"], trained["save"]
    err = run_error(capsys, train_args(data, tmp_path / "x.pt", board="hex8"))
    assert str(data) in err and "board type 'square8'" in err
    err = run_error(capsys, train_args(data, tmp_path / "x.pt", "--encoder-version", "9"))
    assert "encoder_version 2 does not match the expected 9" in err
    err = run_error(capsys, train_args(data, tmp_path / "x.pt", "--model-version", "v3",
                                       "--init-weights", str(save)))
    assert str(save) in err and "architecture 'v2'" in err
    hex_data = write_training_file(tmp_path / "hex.npz", board_type="hex8", encoder_version=2)
    err = run_error(capsys, train_args(hex_data, tmp_path / "x.pt", "--init-weights", str(save),
                                       board="hex8"))
    assert "model is for board 'square8'" in err
    err = run_error(capsys, train_args(data, tmp_path / "x.pt", "--init-weights", str(save),
                                       "--channels", "16"))
    assert "channels is 8, this run needs 16" in err
    err = run_error(capsys, train_args(data, tmp_path / "x.pt", "--batch-size", "0"))
    assert "--batch-size" in err
    err = run_error(capsys, train_args(tmp_path / "missing.npz", tmp_path / "x.pt"))
    assert "no such file" in err
    if not torch.cuda.is_available():
        err = run_error(capsys, train_args(data, tmp_path / "x.pt", "--device", "cuda"))
        assert "CUDA is not available" in err
    assert not (tmp_path / "x.pt").exists()


def test_samples_per_epoch_fixes_the_steps_of_an_epoch(trained, tmp_path, capsys):
    data = trained["data"]  # 30 games of 16 moves: ~430 training samples
    save = tmp_path / "s.pt"
    assert main(train_args(data, save, "--epochs", "2", "--batch-size", "32",
                           "--samples-per-epoch", "128", "--checkpoint-every", "0",
                           "--no-tensorboard")) == 0
    out = capsys.readouterr().out
    assert "4 steps per epoch (128 samples drawn per epoch)" in out
    metrics = json.loads((tmp_path / "s.pt.metrics.json").read_text())
    assert metrics["history"][-1]["step"] == 8  # 2 epochs of 128 samples, batches of 32
    err = run_error(capsys, train_args(data, tmp_path / "x.pt", "--samples-per-epoch", "0"))
    assert "--samples-per-epoch" in err


def _adam_steps(checkpoint) -> int:
    from ringrift.train.checkpoint import load_checkpoint

    state = load_checkpoint(checkpoint)["optimizer_state"]["state"]
    return int(next(iter(state.values()))["step"])


def test_init_optimizer_continues_the_adam_moments(trained, tmp_path, capsys):
    save, data = trained["save"], trained["data"]
    ckpts = sorted((save.parent / "sq8_ckpt").glob("step_*_epoch.pt"))
    before = _adam_steps(ckpts[-1])
    assert before > 0
    out = tmp_path / "next.pt"
    assert main(train_args(data, out, "--epochs", "1", "--batch-size", "32", "--rank-head",
                           "--init-weights", str(save), "--init-optimizer", str(ckpts[-1]),
                           "--no-tensorboard")) == 0
    [last] = sorted((tmp_path / "next_ckpt").glob("step_*_epoch.pt"))
    steps = int(last.name.split("_")[1])
    assert _adam_steps(last) == before + steps  # the moments went on, not restarted
    fresh = tmp_path / "fresh.pt"
    assert main(train_args(data, fresh, "--epochs", "1", "--batch-size", "32", "--rank-head",
                           "--init-weights", str(save), "--no-tensorboard")) == 0
    [last] = sorted((tmp_path / "fresh_ckpt").glob("step_*_epoch.pt"))
    assert _adam_steps(last) == steps
    capsys.readouterr()
    err = run_error(capsys, train_args(data, tmp_path / "x.pt", "--init-weights", str(save),
                                       "--init-optimizer", str(save)))
    assert "not a training checkpoint" in err
    err = run_error(capsys, train_args(data, tmp_path / "x.pt", "--channels", "16",
                                       "--init-optimizer", str(ckpts[-1])))
    assert "channels is 8, this run needs 16" in err


def test_init_weights_records_parent(trained, tmp_path):
    save = tmp_path / "child.pt"
    rc = main(train_args(trained["data"], save, "--init-weights", str(trained["save"]),
                         "--epochs", "1", "--no-tensorboard", "--rank-head"))
    assert rc == 0
    assert load_model(save)[1]["parent_model"] == sha256_file(trained["save"])


def test_transfer_to_four_players(trained, tmp_path, capsys):
    out = tmp_path / "sq8_4p.pt"
    assert main(["transfer", "--source", str(trained["save"]), "--num-players", "4",
                 "--output", str(out)]) == 0
    assert "4p from 2p" in capsys.readouterr().out
    src, _ = load_model(trained["save"])
    dst, meta = load_model(out)
    assert meta["num_players"] == 4 and meta["parent_model"] == sha256_file(trained["save"])
    s, d = src.state_dict(), dst.state_dict()
    for name, t in s.items():
        if not name.startswith(("value_head.fc2", "rank_head.fc2")):
            assert torch.equal(d[name], t), name
    w_old, w_new = s["value_head.fc2.weight"], d["value_head.fc2.weight"]
    assert w_new.shape == (4, w_old.shape[1])
    assert torch.equal(w_new[0], w_old[0])
    for row in (1, 2, 3):
        assert torch.allclose(w_new[row], w_old[1:].mean(0))
    assert d["rank_head.fc2.weight"].shape == (16, w_old.shape[1])
    r_old = s["rank_head.fc2.weight"].view(2, 2, -1)
    r_new = d["rank_head.fc2.weight"].view(4, 4, -1)
    assert torch.allclose(r_new[0, 0], r_old[0, 0]) and torch.allclose(r_new[0, 3], r_old[0, 1])
    out4 = dst.eval()(torch.randn(2, 4, 8, 8), torch.randn(2, 3))
    assert out4.value.shape == (2, 4) and out4.rank.shape == (2, 4, 4)
    # The transferred model initialises 4-player training.
    data4 = write_training_file(tmp_path / "d4.npz", num_players=4, encoder_version=2,
                                n_games=4, moves_per_game=4)
    assert main(train_args(data4, tmp_path / "t4.pt", "--init-weights", str(out), "--epochs",
                           "1", "--no-tensorboard", "--rank-head", players="4")) == 0
    assert main(["transfer", "--source", str(trained["save"]), "--num-players", "2",
                 "--output", str(tmp_path / "same.pt")]) == 2


def kl_at(teacher, student, data_path, temperature):
    from ringrift.train.dataset import BatchBuilder, load_training_data

    data = load_training_data([str(data_path)], GameSpec("square8", 2))
    batch = BatchBuilder(data).build(np.arange(len(data)))
    with torch.no_grad():
        t = legal_log_softmax(teacher.eval()(batch.features, batch.globals).policy,
                              batch.legal_mask, temperature)
        s = legal_log_softmax(student.eval()(batch.features, batch.globals).policy,
                              batch.legal_mask, temperature)
    return float(((t.exp() * (t - s)) * batch.legal_mask).sum(1).mean())


def test_distill_reduces_kl(trained, tmp_path):
    teacher, _ = load_model(trained["save"])
    data = write_training_file(tmp_path / "unlabelled.npz", learnable=True, n_games=20,
                               moves_per_game=16, seed=9, encoder_version=2)
    torch.manual_seed(0)
    fresh = build_model(make_config("v2", GameSpec("square8", 2), in_channels=4, num_globals=3,
                                    policy_planes=2, scalar_actions=2, channels=8, blocks=1))
    before = kl_at(teacher, fresh, data, 2.0)
    save = tmp_path / "student.pt"
    rc = main(["distill", "--teacher", str(trained["save"]), "--student-arch", "v2",
               "--data-path", str(data), "--temperature", "2.0", "--save-path", str(save),
               "--epochs", "4", "--batch-size", "32", "--learning-rate", "3e-3",
               "--no-tensorboard", *TINY])
    assert rc == 0
    student, meta = load_model(save)
    assert meta["teacher_model"] == sha256_file(trained["save"])
    assert meta["distill_temperature"] == 2.0
    after = kl_at(teacher, student, data, 2.0)
    assert after < 0.5 * before, (before, after)


def test_early_stopping_patience():
    cfg = TrainConfig(board_type="square8", num_players=2, data_paths=[], save_path="x.pt",
                      early_stopping=2)
    state = RunState()
    stopped = []
    for epoch, loss in enumerate([1.0, 0.9, 0.95, 0.97]):
        state.accum = {"loss": loss, "_samples": 1.0}
        record = end_epoch(cfg, state, epoch, None, None, np.zeros(0, dtype=np.int64), None,
                           None, None, 1e-3, 1.0)
        stopped.append(record["early_stopped"])
    assert stopped == [False, False, False, True]
    assert state.best_epoch == 1 and state.best_loss == 0.9


def test_models_describe_prints_parameter_counts(capsys):
    parser = argparse.ArgumentParser()
    add_describe(parser.add_subparsers())
    args = parser.parse_args(["describe", "--model-version", "v3", "--board-type", "hex8",
                              "--num-players", "3"])
    assert args.func(args) == 0
    text = capsys.readouterr().out
    total = count_parameters(build_model(make_config("v3", GameSpec("hex8", 3))))
    assert f"{total:,}" in text and "squeeze-excitation" in text
    args = parser.parse_args(["describe", "--board-type", "square8", "--json"])
    args.func(args)
    info = json.loads(capsys.readouterr().out)
    assert info["parameters"]["total"] == count_parameters(
        build_model(make_config("v2", GameSpec("square8", 2))))


def test_bench_train(capsys):
    result = run_train_benchmark(TrainBenchSettings(
        "v2", "hex8", 2, batch_size=8, steps=2, warmup_steps=1, channels=8, blocks=1,
        device="cpu", pcgrad=True))
    assert result["samples_per_s"] > 0 and result["steps"] == 2
    parser = argparse.ArgumentParser()
    add_bench_train(parser.add_subparsers())
    args = parser.parse_args(["train", "--batch-size", "4", "--steps", "1", "--warmup-steps",
                              "0", "--channels", "8", "--blocks", "1", "--json"])
    assert args.func(args) == 0
    assert json.loads(capsys.readouterr().out)["samples_per_s"] > 0


def test_saved_model_files_need_sidecars(trained, tmp_path, capsys):
    fake = tmp_path / "fake.pt"
    save_model_file(fake, {"metadata": {"architecture": "v2"}, "model_state": {}})
    fake.with_name("fake.pt.json").unlink()
    err = run_error(capsys, train_args(trained["data"], tmp_path / "y.pt", "--init-weights",
                                       str(fake)))
    assert "missing SHA-256 sidecar" in err


def test_existing_checkpoints_need_resume(trained, tmp_path, capsys):
    save = tmp_path / "again.pt"
    argv = train_args(trained["data"], save, "--epochs", "1", "--no-tensorboard")
    assert main(argv) == 0
    err = run_error(capsys, argv)
    assert "again_ckpt" in err and "--resume" in err
    assert main([*argv, "--resume"]) == 0  # finished run: re-saves the final model


def test_resume_when_only_a_best_checkpoint_survives(trained, tmp_path, capsys):
    """A run killed after saving its first best model but before its first epoch checkpoint
    leaves nothing to resume from: --resume starts over (the best file is replaced), and
    without --resume the folder is still refused."""
    save = tmp_path / "killed.pt"
    argv = train_args(trained["data"], save, "--epochs", "1", "--no-tensorboard")
    assert main(argv) == 0
    ckpt = tmp_path / "killed_ckpt"
    for path in ckpt.iterdir():  # keep only best_*.pt (and its sidecar)
        if not path.name.startswith("best_"):
            path.unlink()
    save.unlink()
    assert "--resume" in run_error(capsys, argv)
    assert main([*argv, "--resume"]) == 0
    assert save.exists()
    assert "no checkpoint" in capsys.readouterr().out


def test_resume_refuses_a_folder_of_unusable_checkpoints_and_keeps_them(trained, tmp_path,
                                                                          capsys):
    save = tmp_path / "broken.pt"
    argv = train_args(trained["data"], save, "--epochs", "1", "--no-tensorboard")
    assert main(argv) == 0
    steps = sorted((tmp_path / "broken_ckpt").glob("step_*.pt"))
    assert steps
    for path in steps:
        path.write_bytes(path.read_bytes()[:100])  # truncated: fails its SHA-256 check
    before = {p.name: p.read_bytes() for p in steps}
    assert main([*argv, "--resume"]) == 2
    err = capsys.readouterr().err.strip().splitlines()  # a warning per file, then the error
    assert "skipping unusable checkpoint" in err[0] and "no usable checkpoint" in err[-1]
    assert {p.name: p.read_bytes() for p in steps} == before

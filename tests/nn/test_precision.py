"""Mixed precision: which autocast dtype a device gets, and bf16 inference and training on CPU.

Whether this CPU has native bf16 kernels is patched both ways: autocast to bf16 works on any
CPU (emulated where not native), so both branches run everywhere.
"""

import json

import numpy as np
import pytest
import torch

from ringrift.cli.main import main
from ringrift.nn import precision
from ringrift.nn.inference import Evaluator
from tests.nn.test_nn_inference import random_inputs, tiny_model
from tests.train.synth_npz import write_training_file

CPU = torch.device("cpu")


@pytest.fixture(params=[True, False], ids=["native-bf16", "no-bf16"])
def native_bf16(request, monkeypatch):
    monkeypatch.setattr(precision, "cpu_supports_bf16", lambda: request.param)
    return request.param


def test_cpu_autocast_is_bf16_only_where_native(native_bf16):
    dtype, note = precision.autocast_dtype(CPU, "bf16")
    assert (dtype, note is None) == ((torch.bfloat16, True) if native_bf16 else (None, False))
    dtype, note = precision.autocast_dtype(CPU, "fp16")  # fp16 autocast is CUDA only
    assert dtype == (torch.bfloat16 if native_bf16 else None)
    assert "bf16" in note


def test_evaluator_amp_on_cpu_stays_close_to_float32(native_bf16):
    model, cfg = tiny_model()
    x, g, legal = random_inputs(cfg, 4)
    exact_probs, exact_values = Evaluator(model, device="cpu").evaluate_arrays(x, g, legal)
    if native_bf16:
        amp = Evaluator(model, device="cpu", amp=True)
    else:  # asked for and not honoured: a warning says so
        with pytest.warns(RuntimeWarning, match="no native bf16"):
            amp = Evaluator(model, device="cpu", amp=True)
    assert amp.amp_dtype == (torch.bfloat16 if native_bf16 else None)
    probs, values = amp.evaluate_arrays(x, g, legal)
    assert values.dtype == np.float32
    np.testing.assert_allclose(values, exact_values, atol=0.03)
    for p, q in zip(probs, exact_probs, strict=True):
        assert p.dtype == np.float32 and p.sum() == pytest.approx(1.0, abs=1e-5)
        np.testing.assert_allclose(p, q, atol=0.03)
    if native_bf16:  # bf16 really ran: not bit-identical to float32
        assert not np.array_equal(values, exact_values)


def test_training_with_amp_on_cpu_uses_bf16_where_native(tmp_path, capsys, native_bf16):
    data = write_training_file(tmp_path / "d.npz", n_games=6, moves_per_game=6)
    rc = main(["train", "--board-type", "square8", "--num-players", "2", "--data-path",
               str(data), "--save-path", str(tmp_path / "m.pt"), "--channels", "8", "--blocks",
               "1", "--no-progress", "--no-tensorboard", "--epochs", "1", "--batch-size", "8",
               "--amp"])
    out = capsys.readouterr().out
    assert rc == 0
    assert ("bfloat16 autocast" in out) == native_bf16
    assert ("mixed precision is ignored" in out) == (not native_bf16)
    metrics = json.loads((tmp_path / "m.pt.metrics.json").read_text())
    assert metrics["precision"] == ("bfloat16 autocast" if native_bf16 else "float32")

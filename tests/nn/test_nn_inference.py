import numpy as np
import pytest
import torch

from ringrift.errors import UserError
from ringrift.nn.inference import Evaluator
from ringrift.nn.models import build_model, make_config, save_model_file
from ringrift.rules.spec import GameSpec


def tiny_model(board="hex8", players=3):
    torch.manual_seed(0)
    cfg = make_config("v2", GameSpec(board, players), in_channels=4, num_globals=2, policy_planes=2,
                      scalar_actions=2, channels=8, blocks=1)
    return build_model(cfg), cfg


def random_inputs(cfg, n, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, cfg.in_channels, cfg.height, cfg.width)).astype(np.float32)
    g = rng.standard_normal((n, cfg.num_globals)).astype(np.float32)
    legal = [rng.choice(cfg.policy_size, size=k, replace=False) for k in (1, 5, 17, 40)[:n]]
    return x, g, legal


def test_probabilities_sum_to_one_over_legal_and_match_softmax():
    model, cfg = tiny_model()
    ev = Evaluator(model, device="cpu", max_batch=3)  # forces two chunks
    x, g, legal = random_inputs(cfg, 4)
    probs, values = ev.evaluate_arrays(x, g, legal)
    assert values.shape == (4, 3) and values.dtype == np.float32
    assert np.all(np.abs(values) <= 1)
    with torch.no_grad():
        out = model.eval()(torch.from_numpy(x), torch.from_numpy(g))
    for i, (p, idx) in enumerate(zip(probs, legal, strict=True)):
        assert p.shape == idx.shape
        assert p.sum() == pytest.approx(1.0, abs=1e-5)
        expected = torch.softmax(out.policy[i, torch.as_tensor(idx)], dim=0).numpy()
        np.testing.assert_allclose(p, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(values, out.value.numpy(), rtol=1e-5, atol=1e-6)


def test_off_board_legal_index_gets_no_probability():
    model, cfg = tiny_model("hex8", 2)
    x, g, _ = random_inputs(cfg, 1)
    on_board = 4 * 9 + 4  # centre cell, plane 0
    off_board = 0  # corner (0, 0) is off the hexagon
    probs, _ = Evaluator(model).evaluate_arrays(x, g, [np.array([off_board, on_board])])
    assert probs[0][0] == 0.0 and probs[0][1] == pytest.approx(1.0)


def test_from_checkpoint_and_bad_indices(tmp_path):
    model, cfg = tiny_model()
    path = tmp_path / "m.pt"
    save_model_file(path, {"metadata": {"architecture": "v2", "model_config": cfg.to_dict()},
                           "model_state": model.state_dict()})
    ev = Evaluator.from_checkpoint(path, device="cpu")
    x, g, legal = random_inputs(cfg, 2)
    p1, v1 = ev.evaluate_arrays(x, g, legal)
    p2, v2 = Evaluator(model).evaluate_arrays(x, g, legal)
    np.testing.assert_allclose(v1, v2)
    with pytest.raises(ValueError):
        ev.evaluate_arrays(x, g, [np.array([cfg.policy_size]), np.array([0])])
    with pytest.raises(UserError):
        Evaluator.from_checkpoint(tmp_path / "missing.pt")

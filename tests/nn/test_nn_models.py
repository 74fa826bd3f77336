import numpy as np
import pytest
import torch

from ringrift.nn.models import (
    MASKED_LOGIT,
    NNUE,
    PRESETS,
    ModelConfig,
    NNUEConfig,
    build_model,
    count_parameters,
    default_board_io,
    make_config,
    parameter_breakdown,
    valid_mask_for,
)
from ringrift.rules.spec import GameSpec

BOARDS = ["square8", "square19", "hex8", "hexagonal"]


def tiny(board: str, players: int, **kw) -> ModelConfig:
    return make_config("v2", GameSpec(board, players), in_channels=5, num_globals=3,
                       policy_planes=2, scalar_actions=3, channels=8, blocks=1, **kw)


@pytest.mark.parametrize("board", BOARDS)
@pytest.mark.parametrize("players", [2, 3, 4])
def test_forward_shapes_every_board_and_player_count(board, players):
    cfg = tiny(board, players, rank_head=True, se=(players == 3))
    model = build_model(cfg).eval()
    size = {"square8": 8, "square19": 19, "hex8": 9, "hexagonal": 25}[board]
    out = model(torch.randn(3, 5, size, size), torch.randn(3, 3))
    assert out.policy.shape == (3, 2 * size * size + 3) == (3, cfg.policy_size)
    assert out.value.shape == (3, players)
    assert out.rank.shape == (3, players, players)
    assert out.value.abs().max() <= 1.0
    assert torch.isfinite(out.policy).all()


def test_no_rank_head_by_default():
    out = build_model(tiny("square8", 2)).eval()(torch.randn(2, 5, 8, 8), torch.randn(2, 3))
    assert out.rank is None


def test_hex_mask_shape_and_count():
    mask = np.array(valid_mask_for("hex8", 9, 9))
    assert mask.sum() == 61  # 3r^2 + 3r + 1 with r = 4
    assert mask[4, 4] == 1 and mask[0, 0] == 0 and mask[8, 8] == 0 and mask[0, 8] == 1
    assert np.array(valid_mask_for("hexagonal", 25, 25)).sum() == 469
    assert np.array(valid_mask_for("square19", 19, 19)).all()


@pytest.mark.parametrize("board", ["hex8", "hexagonal"])
def test_hex_off_board_cells_never_get_probability(board):
    cfg = tiny(board, 2)
    model = build_model(cfg).eval()
    h = cfg.height
    mask = torch.tensor(cfg.valid_mask, dtype=torch.bool)
    with torch.no_grad():
        out = model(torch.randn(4, 5, h, h) * 10, torch.randn(4, 3))
    spatial = out.policy[:, : 2 * h * h].view(4, 2, h, h)
    assert (spatial[:, :, ~mask] == MASKED_LOGIT).all()
    probs = torch.softmax(out.policy, dim=1)[:, : 2 * h * h].view(4, 2, h, h)
    assert (probs[:, :, ~mask] == 0).all()
    assert (probs[:, :, mask] > 0).any()


def test_off_board_inputs_do_not_change_outputs():
    cfg = tiny("hex8", 2, rank_head=True)
    model = build_model(cfg).eval()
    mask = torch.tensor(cfg.valid_mask, dtype=torch.bool)
    x, g = torch.randn(2, 5, 9, 9), torch.randn(2, 3)
    x2 = x.clone()
    x2[:, :, ~mask] = 100.0
    with torch.no_grad():
        a, b = model(x, g), model(x2, g)
    for ta, tb in zip(a, b, strict=True):
        if ta is None:  # an auxiliary head this model does not have
            assert tb is None
            continue
        assert torch.equal(ta, tb)


def test_globals_change_the_outputs():
    model = build_model(tiny("square8", 2)).eval()
    x = torch.randn(1, 5, 8, 8)
    with torch.no_grad():
        a = model(x, torch.zeros(1, 3))
        b = model(x, torch.ones(1, 3) * 3)
    assert not torch.allclose(a.value, b.value)
    assert not torch.allclose(a.policy, b.policy)


def test_masked_logit_is_safe_in_half_precision():
    cfg = tiny("hex8", 2)
    model = build_model(cfg).eval()
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(torch.randn(2, 5, 9, 9), torch.randn(2, 3))
    assert torch.isfinite(out.policy).all()
    assert torch.tensor(MASKED_LOGIT, dtype=torch.float16).isfinite()


def test_presets_and_parameter_counts():
    assert PRESETS["v2"] == {"channels": 96, "blocks": 6, "se": False}
    assert PRESETS["v3"] == {"channels": 192, "blocks": 12, "se": True}
    v2 = build_model(make_config("v2", GameSpec("square8", 2)))
    v3 = build_model(make_config("v3", GameSpec("square8", 2)))
    parts = parameter_breakdown(v2)
    assert parts["total"] == count_parameters(v2) == sum(
        v for k, v in parts.items() if k != "total")
    assert 0.5e6 < count_parameters(v2) < 2e6
    assert count_parameters(v3) > 5 * count_parameters(v2)
    assert any(m.__class__.__name__ == "SqueezeExcitation" for m in v3.modules())
    assert not any(m.__class__.__name__ == "SqueezeExcitation" for m in v2.modules())


def test_default_board_io_and_config_round_trip():
    from ringrift.nn import actions, encoding

    c, g, planes, scalars, h, w, mask = default_board_io(GameSpec("hexagonal", 3))
    spec = encoding.board_io(GameSpec("hexagonal", 3))
    assert (c, g, planes, scalars, h, w) == (spec.in_channels, spec.num_globals,
                                             spec.policy_planes, spec.scalar_actions, 25, 25)
    assert mask == valid_mask_for("hexagonal", 25, 25)
    cfg = make_config("v3", GameSpec("hexagonal", 3), rank_head=True)
    assert ModelConfig.from_dict(cfg.to_dict()) == cfg
    assert cfg.policy_size == actions.policy_size("hexagonal")
    with pytest.raises(ValueError):
        make_config("v9", GameSpec("square8", 2))


def test_nnue_forward_embeddingbag_style():
    model = NNUE(NNUEConfig(num_features=100, num_players=3, hidden=16))
    assert isinstance(build_model(NNUEConfig(num_features=10, num_players=2)), NNUE)
    indices = torch.tensor([1, 5, 7, 2, 99, 3])
    offsets = torch.tensor([0, 3, 3])  # second sample has no active features
    values = model(indices, offsets)
    assert values.shape == (3, 3)
    assert values.abs().max() <= 1.0
    # Sample order of the active ids does not matter (a sum).
    again = model(torch.tensor([7, 5, 1, 2, 99, 3]), offsets)
    assert torch.allclose(values, again, atol=1e-6)


def test_nnue_model_file_round_trip(tmp_path):
    from ringrift.nn.models import load_model, save_model_file

    cfg = NNUEConfig(num_features=50, num_players=2, hidden=8, board_type="hex8")
    model = NNUE(cfg)
    path = tmp_path / "nnue.pt"
    save_model_file(path, {"metadata": {"architecture": "nnue", "model_config": cfg.to_dict()},
                           "model_state": model.state_dict()})
    loaded, meta = load_model(path)
    assert isinstance(loaded, NNUE) and loaded.config == cfg
    idx, off = torch.tensor([3, 4, 49]), torch.tensor([0, 1])
    assert torch.equal(loaded(idx, off), model(idx, off))

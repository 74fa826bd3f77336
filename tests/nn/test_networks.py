"""The network table (nn.models.networks): architecture name -> config class and network."""

from __future__ import annotations

import pytest

from ringrift.errors import UserError
from ringrift.nn.architectures import PRESETS
from ringrift.nn.models import NETWORKS, NNUE, NNUEConfig, RingRiftNet, build_model, make_config
from ringrift.nn.models.files import config_from_metadata
from ringrift.nn.models.networks import config_from_dict
from ringrift.rules.spec import GameSpec


def test_every_architecture_builds_from_its_config_and_its_dict():
    assert set(NETWORKS) == {*PRESETS, "nnue"}
    configs = {name: make_config(name, GameSpec("square8", 2), channels=8, blocks=1) for name in PRESETS}
    configs["nnue"] = NNUEConfig(num_features=40, num_players=3, hidden=8, board_type="hex8")
    for name, cfg in configs.items():
        model = build_model(cfg)
        assert isinstance(model, NNUE if name == "nnue" else RingRiftNet)
        again = config_from_dict(name, cfg.to_dict())
        assert again == cfg
        assert config_from_metadata({"architecture": name, "model_config": cfg.to_dict()}) == cfg


def test_unknown_architecture_is_named():
    cfg = make_config("v2", GameSpec("square8", 2), channels=8, blocks=1)
    with pytest.raises(ValueError, match="unknown architecture 'resnet9' .*v2, v3, nnue"):
        config_from_dict("resnet9", cfg.to_dict())
    with pytest.raises(UserError, match="bad model_config .*unknown architecture 'resnet9'"):
        config_from_metadata({"architecture": "resnet9", "model_config": cfg.to_dict()}, "m.pt")
    # files that name the network only inside the config still load
    assert config_from_metadata({"model_config": cfg.to_dict()}) == cfg

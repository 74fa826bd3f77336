"""The network table: architecture name -> its config class and its network class.

`build_model(config)` and `config_from_dict(architecture, data)` look the name up here. To add a
network, add one entry (and, for a new residual preset, a row of ringrift.nn.architectures).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torch import nn

from ringrift.nn.architectures import PRESETS
from ringrift.nn.models.config import ModelConfig
from ringrift.nn.models.network import RingRiftNet
from ringrift.nn.models.nnue import NNUE, NNUEConfig


@dataclass(frozen=True)
class Network:
    config: type  # has from_dict(data) and a `model_version` field naming the entry
    network: type[nn.Module]  # built from the config


NETWORKS: dict[str, Network] = {
    **{name: Network(ModelConfig, RingRiftNet) for name in PRESETS},  # v2, v3 residual nets
    "nnue": Network(NNUEConfig, NNUE),
}


def _entry(architecture: str) -> Network:
    try:
        return NETWORKS[architecture]
    except (KeyError, TypeError):
        raise ValueError(f"unknown architecture {architecture!r} (expected one of "
                         f"{', '.join(NETWORKS)})") from None


def build_model(config: ModelConfig | NNUEConfig) -> nn.Module:
    """Build the network a config describes."""
    return _entry(config.model_version).network(config)


def config_from_dict(architecture: str, data: dict[str, Any]) -> ModelConfig | NNUEConfig:
    """The config of an `architecture` network from its dict form (a model file's metadata)."""
    return _entry(architecture).config.from_dict(data)

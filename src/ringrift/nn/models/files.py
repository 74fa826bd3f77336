"""Model files that hold networks: the recorded model config and the network built from it.

The file format itself (torch.save payload, SHA-256 sidecar, digests) is ringrift.nn.model_file.
"""

from __future__ import annotations

import os
from typing import Any

import torch

from ringrift.errors import UserError
from ringrift.nn.model_file import load_model_file
from ringrift.nn.models.config import ModelConfig
from ringrift.nn.models.networks import build_model, config_from_dict
from ringrift.nn.models.nnue import NNUEConfig


def config_from_metadata(metadata: dict[str, Any], path: str | os.PathLike[str] = "?"
                         ) -> ModelConfig | NNUEConfig:
    """The model configuration recorded in a model file's metadata."""
    try:
        cfg = metadata["model_config"]
        # files name their network by "architecture" (older ones only in the config)
        architecture = metadata.get("architecture") or cfg.get("model_version", "v2")
        return config_from_dict(architecture, cfg)
    except (KeyError, TypeError, ValueError) as exc:
        raise UserError(f"{path}: bad model_config in metadata ({exc})") from None


def load_model(path: str | os.PathLike[str], map_location: str | torch.device = "cpu"
               ) -> tuple[torch.nn.Module, dict[str, Any]]:
    """Build the network recorded in a model file and load its weights: (model, metadata)."""
    payload = load_model_file(path, map_location=map_location)
    config = config_from_metadata(payload["metadata"], path)
    model = build_model(config)
    try:
        model.load_state_dict(payload["model_state"])
    except RuntimeError as exc:
        raise UserError(f"{path}: weights do not fit the recorded model config "
                        f"({str(exc).splitlines()[0]})") from None
    return model.to(map_location), payload["metadata"]

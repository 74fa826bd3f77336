"""Network definitions: v2/v3 residual policy-value nets, NNUE, configs, model files.

Importing this package imports torch; CLI modules import it inside their command functions.
"""

from __future__ import annotations

from torch import nn

# The model-file names are ringrift.nn.model_file's (the one implementation), offered here too.
from ringrift.nn.model_file import (
    load_model_file,
    read_sidecar,
    save_model_file,
    sha256_file,
    sidecar_path,
)
from ringrift.nn.models.config import PRESETS, ModelConfig, make_config
from ringrift.nn.models.files import config_from_metadata, load_model
from ringrift.nn.models.heads import MASKED_LOGIT
from ringrift.nn.models.io_defaults import default_board_io, valid_mask_for
from ringrift.nn.models.network import NetOutput, RingRiftNet
from ringrift.nn.models.networks import NETWORKS, build_model
from ringrift.nn.models.nnue import NNUE, NNUEConfig

__all__ = [
    "MASKED_LOGIT", "NETWORKS", "NNUE", "PRESETS", "ModelConfig", "NNUEConfig", "NetOutput", "RingRiftNet",
    "build_model", "config_from_metadata", "count_parameters", "default_board_io", "load_model",
    "load_model_file", "make_config", "parameter_breakdown", "read_sidecar", "save_model_file",
    "sha256_file", "sidecar_path", "valid_mask_for",
]


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def parameter_breakdown(model: nn.Module) -> dict[str, int]:
    """Parameter count per top-level part (stem, blocks, heads) plus "total"."""
    parts: dict[str, int] = {}
    for name, param in model.named_parameters():
        top = name.split(".")[0]
        key = "stem" if top.startswith("stem") else top
        parts[key] = parts.get(key, 0) + param.numel()
    parts["total"] = count_parameters(model)
    return parts

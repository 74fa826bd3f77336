"""Starting a run from earlier weights: --init-weights (a model's weights, checked against
this run's board, players, encoder and architecture) and --init-optimizer (a training
checkpoint's optimizer moments)."""

from __future__ import annotations

from typing import Any

import torch

from ringrift.errors import ConfigError, UserError
from ringrift.nn.models import ModelConfig, RingRiftNet
from ringrift.train.checkpoint import load_checkpoint
from ringrift.train.config import TrainConfig
from ringrift.train.dataset import TrainingData

# the model_config fields whose values an --init-weights / --init-optimizer file must share
_ARCH_FIELDS = ("in_channels", "num_globals", "height", "width", "policy_planes",
                "scalar_actions", "channels", "blocks", "se")


def init_payload(cfg: TrainConfig, data: TrainingData) -> dict[str, Any] | None:
    """Load --init-weights and check it fits this run (UserError otherwise)."""
    if not cfg.init_weights:
        return None
    path = cfg.init_weights
    payload = load_checkpoint(path)
    meta = payload["metadata"]
    arch = meta.get("architecture")
    if arch != cfg.model_version:
        raise ConfigError("init_weights", f"{path}: architecture {arch!r}, this run trains "
                                          f"{cfg.model_version!r}")
    if meta.get("board_type") != cfg.board_type:
        raise UserError(f"{path}: model is for board {meta.get('board_type')!r}, not "
                        f"{cfg.board_type!r}")
    if meta.get("num_players") != cfg.num_players:
        raise UserError(f"{path}: model is for {meta.get('num_players')} players, not "
                        f"{cfg.num_players} (use `ringrift transfer` first)")
    enc = meta.get("encoder_version")
    if enc is not None and enc != data.meta["encoder_version"]:
        raise UserError(f"{path}: model uses encoder_version {enc}, the data "
                        f"{data.meta['encoder_version']}")
    return payload


def check_init_fits(path: str, src: dict[str, Any], config: ModelConfig) -> None:
    """The saved model_config `src` has this run's architecture sizes (UserError otherwise)."""
    want = config.to_dict()
    for key in _ARCH_FIELDS:
        if src.get(key) != want[key]:
            raise UserError(f"{path}: model {key} is {src.get(key)!r}, this run needs "
                            f"{want[key]!r}")


def load_weights(model: RingRiftNet, state: dict[str, Any], path: str) -> None:
    """Load `state` into `model`; only the optional heads may be missing or extra."""
    try:
        missing, unexpected = model.load_state_dict(state, strict=False)
    except (RuntimeError, TypeError, AttributeError) as exc:  # (shapes that do not fit)
        text = str(exc).strip().splitlines()
        detail = (text[1] if len(text) > 1 else text[0]).strip() if text else type(exc).__name__
        raise UserError(f"{path}: weights do not fit this model ({detail})") from None
    # A rank or auxiliary head may be added to (or dropped from) a model: it starts fresh / is
    # discarded.
    optional = ("rank_head.", "ownership_head.", "game_length_head.")
    bad = [k for k in missing if not k.startswith(optional)]
    bad += [k for k in unexpected if not k.startswith(optional)]
    if bad:
        raise UserError(f"{path}: weights do not fit this model (e.g. {bad[0]!r})")


def load_optimizer_moments(optimizer: torch.optim.Optimizer, path: str,
                           config: ModelConfig) -> None:
    """Start `optimizer` from the state saved in training checkpoint `path` (its moment
    estimates); learning rate and weight decay stay this run's."""
    payload = load_checkpoint(path)
    if "optimizer_state" not in payload:
        raise ConfigError("init_optimizer", f"{path}: not a training checkpoint (no optimizer "
                                            "state); give a file from a <model>_ckpt folder")
    check_init_fits(path, payload["metadata"].get("model_config", {}), config)
    keep = [(g["lr"], g["weight_decay"]) for g in optimizer.param_groups]
    try:
        optimizer.load_state_dict(payload["optimizer_state"])
    except ValueError as exc:
        raise UserError(f"{path}: optimizer state does not fit this model ({exc})") from None
    for group, (lr, decay) in zip(optimizer.param_groups, keep, strict=True):
        group["lr"], group["weight_decay"] = lr, decay

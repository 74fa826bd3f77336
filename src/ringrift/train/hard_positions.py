"""Hard-position mining: the positions a network gets most wrong, as a weighted training file.

Two measures per position (KataGo's policy-surprise weighting, and its value counterpart):
- policy surprise: KL(search policy || network prior) over the legal moves, how far the stored
  search result moved away from what the network proposed;
- value error: mean squared error of the value head against the game's outcome.
The mined file holds the top `fraction` of positions by the chosen measure ("both": each measure
divided by its mean, summed), with `sample_weights` proportional to that score (mean 1), so
training on it leans hardest on the most surprising positions.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ringrift.config_defaults import field_default
from ringrift.data import npz_format
from ringrift.errors import ConfigError, UserError
from ringrift.nn.losses import legal_log_softmax
from ringrift.rules.spec import GameSpec
from ringrift.train.dataset import BatchBuilder, TrainingData, epoch_batches, load_training_data
from ringrift.train.mine_settings import MEASURES, MineSettings


@dataclass
class Surprise:
    """Per position: policy KL (0 without a policy target) and value MSE."""

    policy_kl: np.ndarray
    value_error: np.ndarray

    def score(self, by: str) -> np.ndarray:
        if by == "policy":
            return self.policy_kl
        if by == "value":
            return self.value_error
        if by == "both":
            return (self.policy_kl / max(float(self.policy_kl.mean()), 1e-12)
                    + self.value_error / max(float(self.value_error.mean()), 1e-12))
        raise ConfigError("by", f"must be one of {', '.join(MEASURES)}, got {by!r}")


def measure_surprise(model: torch.nn.Module, data: TrainingData, *, batch_size: int = 256,
                     device: torch.device | str = "cpu") -> Surprise:
    """Policy KL and value error of `model` on every position of `data` (eval mode)."""
    device = torch.device(device)
    model = model.to(device).eval()
    builder = BatchBuilder(data, device)
    kl_out = np.zeros(len(data), np.float64)
    val_out = np.zeros(len(data), np.float64)
    with torch.no_grad():
        for idx in epoch_batches(np.arange(len(data)), batch_size):
            batch = builder.build(idx)
            out = model(batch.features, batch.globals)
            logp = legal_log_softmax(out.policy, batch.legal_mask)
            target = batch.policy_target
            tlog = torch.where(target > 0, target.clamp_min(1e-30).log(), torch.zeros_like(target))
            kl = (target * (tlog - logp)).sum(dim=1) * batch.has_policy.float()
            kl_out[idx] = kl.clamp_min(0).double().cpu().numpy()
            err = ((out.value.float() - batch.values) ** 2).mean(dim=1)
            val_out[idx] = err.double().cpu().numpy()
    return Surprise(kl_out, val_out)


def select_hard(scores: np.ndarray, fraction: float) -> np.ndarray:
    """Rows of the top `fraction` of scores (at least one), highest first (ties: lower row)."""
    if not 0 < fraction <= 1:
        raise ConfigError("fraction", f"must be in (0, 1], got {fraction}")
    count = max(1, int(round(fraction * len(scores))))
    order = np.lexsort((np.arange(len(scores)), -scores))
    return order[:count]


def mine_hard_positions(model_path: str | os.PathLike[str], data_paths: list[str],
                        output: str | os.PathLike[str], *,
                        fraction: float = field_default(MineSettings, "fraction"),
                        by: str = field_default(MineSettings, "by"),
                        batch_size: int = field_default(MineSettings, "batch_size"),
                        device: str = field_default(MineSettings, "device")) -> dict[str, Any]:
    """Score every position of the data with the model, write the hardest as a weighted
    training file; returns a summary (counts and the score figures)."""
    from ringrift.nn.inference import resolve_device
    from ringrift.nn.models import load_model

    resolved = resolve_device(device)  # (UserError for a device this machine lacks)
    if by not in MEASURES:
        raise ConfigError("by", f"must be one of {', '.join(MEASURES)}, got {by!r}")
    if not 0 < fraction <= 1:
        raise ConfigError("fraction", f"must be in (0, 1], got {fraction}")
    model, meta = load_model(model_path)
    board, players = meta.get("board_type"), meta.get("num_players")
    if board is None or players is None:
        raise UserError(f"{model_path}: no board_type/num_players in its metadata")
    spec = GameSpec.checked(board, players, error=UserError)
    data = load_training_data(list(data_paths), spec)
    config = getattr(model, "config", None)
    if config is None or not hasattr(config, "policy_size"):
        raise UserError(f"{model_path}: mining needs a policy/value network (v2/v3)")
    if config.policy_size != data.meta["policy_size"] \
            or config.in_channels != data.meta["in_channels"]:
        raise UserError(f"{model_path}: model sizes do not fit the data "
                        f"(policy {config.policy_size} vs {data.meta['policy_size']})")
    surprise = measure_surprise(model, data, batch_size=batch_size, device=resolved)
    scores = surprise.score(by)
    rows = select_hard(scores, fraction)
    chosen = scores[rows]
    weights = (chosen / max(float(chosen.mean()), 1e-12)).astype(np.float32)
    arrays = npz_format.take(data.arrays(), rows)
    if data.sample_weights is not None:  # mining a mined file: weights compound
        weights = weights * arrays["sample_weights"]
    arrays["sample_weights"] = weights
    out_meta = {k: v for k, v in data.meta.items() if k not in ("format", "format_version")}
    out_meta["counts"] = {"samples": len(rows), "games": int(len(np.unique(arrays["game_ids"])))}
    out_meta["mined"] = {"model": str(model_path), "by": by, "fraction": fraction,
                         "from_samples": len(data),
                         "sources": [s["path"] for s in data.sources]}
    npz_format.write_npz(output, arrays, out_meta)
    return {"output": str(Path(output)), "samples": len(rows), "from_samples": len(data),
            "mean_policy_kl_all": float(surprise.policy_kl.mean()),
            "mean_policy_kl_mined": float(surprise.policy_kl[rows].mean()),
            "mean_value_error_all": float(surprise.value_error.mean()),
            "mean_value_error_mined": float(surprise.value_error[rows].mean())}

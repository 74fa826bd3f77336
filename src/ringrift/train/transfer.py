"""Transfer a trained network to another player count.

The trunk and policy head are copied as they are. The value head's last layer gets one row per
new player: row 0 ("me", the player to move) is copied, every opponent row is the mean of the old
opponent rows. The rank head's last layer is resized the same way over players, and linearly
interpolated over ranks (old first and last rank stay first and last).
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch

from ringrift.errors import UserError
from ringrift.nn.model_file import load_model_file, save_model_file, sha256_file
from ringrift.nn.models import ModelConfig, build_model, config_from_metadata
from ringrift.rules.spec import check_num_players


def resize_players(t: torch.Tensor, new: int, dim: int = 0) -> torch.Tensor:
    """Resize a per-player axis: keep index 0 ("me"), fill opponents with the old opponent mean."""
    old = t.shape[dim]
    me = t.narrow(dim, 0, 1)
    opponents = t.narrow(dim, 1, old - 1).mean(dim=dim, keepdim=True)
    return torch.cat([me] + [opponents] * (new - 1), dim=dim)


def resize_ranks(t: torch.Tensor, new: int, dim: int) -> torch.Tensor:
    """Linearly interpolate a rank axis of size P onto P' positions (ends map to ends)."""
    old = t.shape[dim]
    rows = []
    for k in range(new):
        pos = k * (old - 1) / (new - 1)
        lo = int(pos)
        hi = min(lo + 1, old - 1)
        frac = pos - lo
        rows.append((1 - frac) * t.narrow(dim, lo, 1) + frac * t.narrow(dim, hi, 1))
    return torch.cat(rows, dim=dim)


def _resize_rank_layer(t: torch.Tensor, old_p: int, new_p: int) -> torch.Tensor:
    # Rows are laid out player-major: row = player * P + rank.
    shaped = t.reshape(old_p, old_p, *t.shape[1:])
    shaped = resize_ranks(resize_players(shaped, new_p, dim=0), new_p, dim=1)
    return shaped.reshape(new_p * new_p, *t.shape[1:])


def transfer_state(state: dict[str, torch.Tensor], source: ModelConfig, target: ModelConfig,
                   fresh: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The state dict for `target` built from a `source` state (see module docstring)."""
    old_p, new_p = source.num_players, target.num_players
    out = {}
    for name, new_t in fresh.items():
        old_t = state.get(name)
        if old_t is None:
            out[name] = new_t  # e.g. a rank head the source lacks: fresh initialisation
        elif name.startswith("value_head.fc2."):
            out[name] = resize_players(old_t, new_p, dim=0)
        elif name.startswith("rank_head.fc2."):
            out[name] = _resize_rank_layer(old_t, old_p, new_p)
        elif old_t.shape == new_t.shape:
            out[name] = old_t.clone()
        else:
            raise UserError(f"cannot transfer {name}: shape {list(old_t.shape)} vs "
                            f"{list(new_t.shape)}")
    return out


# the seed's transfer script turns a 2-player model into a 4-player one
SEED_TARGET_PLAYERS = 4


def transfer_model(source_path: str | os.PathLike[str], num_players: int,
                   output: str | os.PathLike[str], *, rank_head: bool | None = None
                   ) -> dict[str, Any]:
    """Write a model for `num_players` initialised from the model at `source_path`;
    return the new metadata."""
    payload = load_model_file(source_path)
    meta = payload["metadata"]
    source = config_from_metadata(meta, source_path)
    if not isinstance(source, ModelConfig):
        raise UserError(f"{source_path}: transfer needs a v2/v3 policy-value model")
    check_num_players(num_players, error=UserError)
    if num_players == source.num_players:
        raise UserError(f"{source_path}: already a {num_players}-player model")
    target = replace(source, num_players=num_players,
                     rank_head=source.rank_head if rank_head is None else rank_head)
    fresh = build_model(target).state_dict()
    state = transfer_state(payload["model_state"], source, target, fresh)
    model = build_model(target)
    model.load_state_dict(state)
    new_meta = {
        "architecture": target.model_version,
        "model_config": target.to_dict(),
        "board_type": target.board_type,
        "num_players": num_players,
        "encoder_version": meta.get("encoder_version"),
        "policy_size": target.policy_size,
        "data": [],
        "epoch": 0,
        "metrics": {},
        "parent_model": sha256_file(source_path),
        "transferred_from": {"path": str(source_path), "num_players": source.num_players},
        "kind": "model",
        "created_at": datetime.now(UTC).isoformat(),
    }
    save_model_file(Path(output), {"metadata": new_meta, "model_state": model.state_dict()})
    return new_meta

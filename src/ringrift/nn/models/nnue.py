"""NNUE: a small, fast value network on sparse features, for an NNUE-guided search engine.

The sparse feature ids come from the encoding module (later); here they are just ids in
[0, num_features). Input follows nn.EmbeddingBag: a flat `indices` tensor of active ids and
`offsets` giving where each sample's ids start.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn


@dataclass(frozen=True)
class NNUEConfig:
    """Sizes of an NNUE network; `model_version` is always "nnue"."""

    num_features: int
    num_players: int
    hidden: int = 256
    board_type: str = ""
    model_version: str = "nnue"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NNUEConfig:
        return cls(**{k: data[k] for k in ("num_features", "num_players", "hidden", "board_type")
                      if k in data})


class NNUE(nn.Module):
    """Sum of active feature embeddings -> clipped ReLU -> linear -> tanh, one value per player."""

    def __init__(self, config: NNUEConfig) -> None:
        super().__init__()
        self.config = config
        self.embed = nn.EmbeddingBag(config.num_features, config.hidden, mode="sum")
        self.bias = nn.Parameter(torch.zeros(config.hidden))
        self.out = nn.Linear(config.hidden, config.num_players)
        # Small embeddings keep the clipped ReLU out of saturation at the start.
        nn.init.normal_(self.embed.weight, std=0.05)

    def forward(self, indices: torch.Tensor, offsets: torch.Tensor,
                per_sample_weights: torch.Tensor | None = None) -> torch.Tensor:
        h = self.embed(indices, offsets, per_sample_weights=per_sample_weights) + self.bias
        return torch.tanh(self.out(torch.clamp(h, 0.0, 1.0)))

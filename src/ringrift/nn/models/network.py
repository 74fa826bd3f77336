"""The policy/value network (v2 and v3 presets): residual tower over the board planes."""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from ringrift.nn.models.blocks import ResidualBlock, apply_mask
from ringrift.nn.models.config import ModelConfig
from ringrift.nn.models.heads import (
    GameLengthHead,
    OwnershipHead,
    PolicyHead,
    RankHead,
    ValueHead,
)


class NetOutput(NamedTuple):
    """policy logits [B, policy_size]; value [B, P] in [-1, 1]; rank logits [B, P, P] or None;
    the auxiliary heads' ownership logits [B, P+1, H, W] and log(1 + moves left) [B], or None."""

    policy: torch.Tensor
    value: torch.Tensor
    rank: torch.Tensor | None
    ownership: torch.Tensor | None = None
    game_length: torch.Tensor | None = None


class RingRiftNet(nn.Module):
    """Residual tower (optionally with squeeze-excitation) with policy, value and rank heads.

    Globals enter twice: as a per-channel bias plane added to the stem and appended to the pooled
    features of every head. Off-board cells (hex boards) are zeroed after every block and get the
    logit MASKED_LOGIT in the spatial policy planes.
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        ch = config.channels
        mask = torch.tensor(config.valid_mask, dtype=torch.float32)[None, None]
        # Derived from the config, so not saved in the state dict.
        self.register_buffer("valid_mask", mask, persistent=False)
        self.register_buffer("valid_count", mask.sum(), persistent=False)
        self.stem_conv = nn.Conv2d(config.in_channels, ch, 3, padding=1, bias=False)
        self.stem_bn = nn.BatchNorm2d(ch)
        self.stem_globals = nn.Linear(config.num_globals, ch) if config.num_globals > 0 else None
        self.blocks = nn.ModuleList(ResidualBlock(ch, config.se) for _ in range(config.blocks))
        self.policy_head = PolicyHead(ch, config.num_globals, config.policy_planes,
                                      config.scalar_actions)
        self.value_head = ValueHead(ch, config.num_globals, config.num_players)
        self.rank_head = (RankHead(ch, config.num_globals, config.num_players)
                          if config.rank_head else None)
        # auxiliary heads: trained on the export's ownership / remaining_moves targets, they
        # shape the shared trunk; players never read them
        self.ownership_head = (OwnershipHead(ch, config.num_players)
                               if config.ownership_head else None)
        self.game_length_head = (GameLengthHead(ch, config.num_globals)
                                 if config.game_length_head else None)

    def trunk_parameters(self) -> list[nn.Parameter]:
        """Parameters shared by all heads (stem and tower); PCGrad projects on these."""
        mods: list[nn.Module] = [self.stem_conv, self.stem_bn, self.blocks]
        if self.stem_globals is not None:
            mods.append(self.stem_globals)
        return [p for m in mods for p in m.parameters()]

    def forward(self, features: torch.Tensor, globals_: torch.Tensor) -> NetOutput:
        mask, count = self.valid_mask, self.valid_count
        # Off-board input cells are ignored, whatever the encoder put there.
        x = self.stem_bn(self.stem_conv(apply_mask(features, mask)))
        if self.stem_globals is not None:
            x = x + self.stem_globals(globals_)[:, :, None, None].to(x.dtype)
        x = apply_mask(torch.relu(x), mask)
        for block in self.blocks:
            x = block(x, mask, count)
        policy = self.policy_head(x, globals_, mask, count)
        value = self.value_head(x, globals_, mask, count)
        rank = self.rank_head(x, globals_, mask, count) if self.rank_head is not None else None
        ownership = self.ownership_head(x) if self.ownership_head is not None else None
        length = (self.game_length_head(x, globals_, mask, count)
                  if self.game_length_head is not None else None)
        return NetOutput(policy, value, rank, ownership, length)

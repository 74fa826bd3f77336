"""Network heads: spatial policy (+ scalar actions), per-player value, optional per-player rank."""

from __future__ import annotations

import torch
from torch import nn

from ringrift.nn.models.blocks import masked_max, masked_mean

# Logit given to off-board cells: very negative but finite in fp16 (max 65504) and bf16.
MASKED_LOGIT = -1.0e4


class PolicyHead(nn.Module):
    """Convolutions straight to the action planes; a pooled linear layer for scalar actions.

    Output [B, planes*H*W + scalar_actions] in the action-index layout plane*H*W + y*W + x.
    """

    def __init__(self, channels: int, num_globals: int, planes: int, scalar_actions: int) -> None:
        super().__init__()
        self.planes = planes
        self.scalar_actions = scalar_actions
        self.conv = nn.Conv2d(channels, channels, 1, bias=False)
        self.bn = nn.BatchNorm2d(channels)
        self.out = nn.Conv2d(channels, planes, 1) if planes > 0 else None
        self.scalar = (nn.Linear(channels + num_globals, scalar_actions)
                       if scalar_actions > 0 else None)

    def forward(self, x: torch.Tensor, globals_: torch.Tensor, mask: torch.Tensor,
                count: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.bn(self.conv(x)))
        parts = []
        if self.out is not None:
            spatial = self.out(h).masked_fill(mask == 0, MASKED_LOGIT)
            parts.append(spatial.flatten(1))
        if self.scalar is not None:
            pooled = torch.cat([masked_mean(h, mask, count), globals_.to(h.dtype)], dim=1)
            parts.append(self.scalar(pooled).to(h.dtype))
        return torch.cat(parts, dim=1) if len(parts) > 1 else parts[0]


class PooledHead(nn.Module):
    """1x1 conv, then mean+max pooling over on-board cells, globals appended, then an MLP."""

    def __init__(self, channels: int, num_globals: int, outputs: int,
                 head_channels: int = 32, hidden: int = 128) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, head_channels, 1, bias=False)
        self.bn = nn.BatchNorm2d(head_channels)
        self.fc1 = nn.Linear(2 * head_channels + num_globals, hidden)
        self.fc2 = nn.Linear(hidden, outputs)

    def forward(self, x: torch.Tensor, globals_: torch.Tensor, mask: torch.Tensor,
                count: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.bn(self.conv(x)))
        pooled = torch.cat([masked_mean(h, mask, count), masked_max(h, mask),
                            globals_.to(h.dtype)], dim=1)
        return self.fc2(torch.relu(self.fc1(pooled)))


class ValueHead(PooledHead):
    """One value per player in the rotated order (index 0 = player to move), tanh to [-1, 1]."""

    def __init__(self, channels: int, num_globals: int, num_players: int) -> None:
        super().__init__(channels, num_globals, num_players)

    def forward(self, x: torch.Tensor, globals_: torch.Tensor, mask: torch.Tensor,
                count: torch.Tensor) -> torch.Tensor:
        return torch.tanh(super().forward(x, globals_, mask, count))


class RankHead(PooledHead):
    """Per player, logits over the num_players final ranks: output [B, P, P]."""

    def __init__(self, channels: int, num_globals: int, num_players: int) -> None:
        super().__init__(channels, num_globals, num_players * num_players)
        self.num_players = num_players

    def forward(self, x: torch.Tensor, globals_: torch.Tensor, mask: torch.Tensor,
                count: torch.Tensor) -> torch.Tensor:
        out = super().forward(x, globals_, mask, count)
        return out.view(-1, self.num_players, self.num_players)


class OwnershipHead(nn.Module):
    """Per cell, logits over the final owner: nobody, then each player in the rotated order.
    Output [B, P + 1, H, W] (off-board cells are masked out by the loss, not here)."""

    def __init__(self, channels: int, num_players: int, head_channels: int = 32) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, head_channels, 1, bias=False)
        self.bn = nn.BatchNorm2d(head_channels)
        self.out = nn.Conv2d(head_channels, num_players + 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(torch.relu(self.bn(self.conv(x))))


class GameLengthHead(PooledHead):
    """log(1 + moves left in the game), a scalar per position: output [B]."""

    def __init__(self, channels: int, num_globals: int) -> None:
        super().__init__(channels, num_globals, 1)

    def forward(self, x: torch.Tensor, globals_: torch.Tensor, mask: torch.Tensor,
                count: torch.Tensor) -> torch.Tensor:
        return super().forward(x, globals_, mask, count).squeeze(1)

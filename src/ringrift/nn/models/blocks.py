"""Building blocks of the residual tower: masked pooling, squeeze-excitation, residual block."""

from __future__ import annotations

import torch
from torch import nn


def apply_mask(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Zero the off-board cells, keeping x's dtype (mask is a float 0/1 [1,1,H,W] buffer)."""
    return x * mask.to(x.dtype)


def masked_mean(x: torch.Tensor, mask: torch.Tensor, count: torch.Tensor) -> torch.Tensor:
    """Mean over the on-board cells: x [B,C,H,W], mask [1,1,H,W] (0/1), count = mask.sum()."""
    return apply_mask(x, mask).sum(dim=(2, 3)) / count.to(x.dtype)


def masked_max(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Max over the on-board cells (off-board cells are ignored)."""
    neg = torch.finfo(x.dtype).min
    return x.masked_fill(mask == 0, neg).amax(dim=(2, 3))


class SqueezeExcitation(nn.Module):
    """Channel gating from the board-wide mean (Hu et al.); pools over on-board cells only."""

    def __init__(self, channels: int, reduction: int = 4) -> None:
        super().__init__()
        hidden = max(channels // reduction, 4)
        self.fc1 = nn.Linear(channels, hidden)
        self.fc2 = nn.Linear(hidden, channels)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, count: torch.Tensor) -> torch.Tensor:
        s = masked_mean(x, mask, count)
        s = torch.sigmoid(self.fc2(torch.relu(self.fc1(s))))
        return x * s[:, :, None, None]


class ResidualBlock(nn.Module):
    """conv-BN-ReLU-conv-BN (+SE) + skip, ReLU; off-board cells are zeroed after each block."""

    def __init__(self, channels: int, se: bool) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        # Zero-init the last BN scale so a deep tower starts close to the identity.
        nn.init.zeros_(self.bn2.weight)
        self.se = SqueezeExcitation(channels) if se else None

    def forward(self, x: torch.Tensor, mask: torch.Tensor, count: torch.Tensor) -> torch.Tensor:
        y = apply_mask(torch.relu(self.bn1(self.conv1(x))), mask)
        y = self.bn2(self.conv2(y))
        if self.se is not None:
            y = self.se(y, mask, count)
        return apply_mask(torch.relu(x + y), mask)

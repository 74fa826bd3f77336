"""The optimizer for a network's parameters, shared by every trainer (supervised, NNUE, online).
"""

from __future__ import annotations

import torch
from torch import nn


def make_optimizer(model: nn.Module, learning_rate: float, weight_decay: float
                   ) -> torch.optim.AdamW:
    """AdamW; weight decay on conv/linear/embedding weights only (not biases or norms)."""
    decay = [p for p in model.parameters() if p.requires_grad and p.ndim > 1]
    no_decay = [p for p in model.parameters() if p.requires_grad and p.ndim <= 1]
    return torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                              {"params": no_decay, "weight_decay": 0.0}], lr=learning_rate)

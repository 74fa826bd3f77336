"""One batch of training targets as tensors on a device: what the loss terms (`nn.losses`)
consume. Built by the training data pipeline (`train.dataset.BatchBuilder`) and by the online
learner (`ai.online_learner`) alike, so it lives with the network it feeds."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class Batch:
    """Tensors of one batch on the training device. Dense policy targets over policy_size.

    `policy_temperature` divides the logits in the policy loss (distillation sets it).
    `sample_weights` (None: all 1) scale each sample's loss: importance-sampling weights of
    prioritized replay times the weights a weighted file (mined hard positions) carries.
    """

    features: torch.Tensor
    globals: torch.Tensor
    values: torch.Tensor
    ranks: torch.Tensor
    policy_target: torch.Tensor
    legal_mask: torch.Tensor
    has_policy: torch.Tensor
    policy_temperature: float = 1.0
    sample_weights: torch.Tensor | None = None
    # auxiliary targets, when the data has them: owner class per cell [B, H, W] (-1 none) and
    # log(1 + moves left) [B] (-1 unknown)
    ownership: torch.Tensor | None = None
    game_length: torch.Tensor | None = None

    def __len__(self) -> int:
        return len(self.features)

"""Where the training targets come from: the data set itself, or a teacher network.

The trainer calls a target source on every batch; distillation is the same training loop with
a `TeacherTargets` source.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Protocol

import torch

from ringrift.errors import UserError
from ringrift.nn.batch import Batch
from ringrift.nn.losses import legal_log_softmax
from ringrift.nn.models import RingRiftNet


class TargetSource(Protocol):
    """Turns a batch with data-set targets into a batch with the targets to train on."""

    def __call__(self, batch: Batch) -> Batch: ...


def dataset_targets(batch: Batch) -> Batch:
    """The data set's own targets (search policy, game results)."""
    return batch


class TeacherTargets:
    """Soft policy (softmax of teacher logits / T over legal moves) and values of a teacher.

    The student's logits are divided by the same T in the loss (scaled by T^2); ranks keep the
    data-set targets.
    """

    def __init__(self, teacher: RingRiftNet, temperature: float = 1.0,
                 name: str = "teacher") -> None:
        if temperature <= 0:
            raise ValueError("temperature must be > 0")
        self.teacher = teacher.eval()
        self.temperature = temperature
        self.name = name

    def check_data(self, meta: dict[str, Any]) -> None:
        """UserError unless the data has the sizes the teacher was built for."""
        cfg = self.teacher.config.to_dict()
        for key in ("in_channels", "num_globals", "height", "width", "policy_planes",
                    "scalar_actions"):
            if meta.get(key) != cfg[key]:
                raise UserError(f"{self.name}: teacher has {key}={cfg[key]}, the data "
                                f"{meta.get(key)}")

    def __call__(self, batch: Batch) -> Batch:
        # no_grad rather than inference_mode: the targets enter autograd graphs as constants.
        with torch.no_grad():
            out = self.teacher(batch.features, batch.globals)
            policy = legal_log_softmax(out.policy, batch.legal_mask, self.temperature).exp()
            policy = policy * batch.legal_mask
            values = out.value.float()
        return replace(batch, policy_target=policy, values=values,
                       has_policy=batch.legal_mask.any(dim=1),
                       policy_temperature=self.temperature)

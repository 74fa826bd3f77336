"""One optimizer step (micro-batches, AMP, PCGrad) and the validation pass."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn

from ringrift.nn.batch import Batch
from ringrift.nn.losses import LossTerms, LossWeights, compute_losses, pcgrad_combine
from ringrift.nn.models import RingRiftNet
from ringrift.train.dataset import BatchBuilder, epoch_batches
from ringrift.train.schedule import LRSchedule
from ringrift.train.targets import TargetSource, dataset_targets

METRIC_NAMES = ("loss", "policy_ce", "policy_kl", "value_mse", "value_mae", "rank_ce",
                "entropy", "policy_accuracy", "ownership_ce", "game_length_mse")


def _metric_tensors(terms: LossTerms) -> list[torch.Tensor]:
    zero = torch.zeros((), device=terms.total.device)
    return [terms.total, terms.policy_ce, terms.policy_kl, terms.value_mse, terms.value_mae,
            terms.rank_ce, terms.entropy, terms.policy_accuracy,
            zero if terms.ownership_ce is None else terms.ownership_ce,
            zero if terms.game_length_mse is None else terms.game_length_mse]


def autocast_context(device: torch.device, amp_dtype: torch.dtype | None
                     ) -> contextlib.AbstractContextManager:
    """Autocast (CUDA, or bf16 on CPU) when an AMP dtype is set; nothing otherwise."""
    if amp_dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=amp_dtype)


class TrainStep:
    """Runs one optimizer step over a group of micro-batches (gradient accumulation)."""

    def __init__(self, model: RingRiftNet, optimizer: torch.optim.Optimizer,
                 schedule: LRSchedule, weights: LossWeights, *, device: torch.device,
                 amp_dtype: torch.dtype | None = None, pcgrad: bool = False) -> None:
        self.model = model
        self.optimizer = optimizer
        self.schedule = schedule
        self.weights = weights
        self.device = device
        self.amp_dtype = amp_dtype
        # loss scaling only for fp16 (bf16 has float32's exponent range)
        self.scaler = torch.amp.GradScaler(
            "cuda", enabled=device.type == "cuda" and amp_dtype == torch.float16)
        self.pcgrad = pcgrad
        self._params = [p for p in model.parameters() if p.requires_grad]
        trunk = {id(p) for p in model.trunk_parameters()}
        self._trunk_mask = [id(p) in trunk for p in self._params]
        # with record_sample_losses, per micro-batch of the last `run`, each sample's loss
        # (prioritized replay reads it; off otherwise: it costs a device sync per micro-batch)
        self.record_sample_losses = False
        self.last_sample_losses: list[np.ndarray] = []
        # distributed training (train.distributed): forward/backward through the DDP wrapper,
        # and the step's metrics averaged over ranks
        self.forward_module: nn.Module = model
        self.reduce_metrics: Callable[[torch.Tensor], torch.Tensor] | None = None

    def run(self, batches: Sequence[Batch], step: int,
            shares: Sequence[float] | None = None) -> dict[str, float]:
        """Forward/backward every micro-batch, then one optimizer step at lr(step).

        `shares` scale each micro-batch's loss (default: its share of the group's samples; a
        distributed rank passes its share of the global group times the world size).
        Returns the sample-weighted mean metrics of the group and "lr".
        """
        lr = self.schedule.lr(step)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        self.model.train()
        self.optimizer.zero_grad(set_to_none=True)
        total = sum(len(b) for b in batches)
        sums = torch.zeros(len(METRIC_NAMES), device=self.device)
        self.last_sample_losses = []
        for k, batch in enumerate(batches):
            share = len(batch) / total if shares is None else shares[k]
            # DDP all-reduces gradients at the last micro-batch's backward only
            sync = k == len(batches) - 1 or not hasattr(self.forward_module, "no_sync")
            with (contextlib.nullcontext() if sync else self.forward_module.no_sync()):
                with autocast_context(self.device, self.amp_dtype):
                    out = self.forward_module(batch.features, batch.globals)
                terms = compute_losses(out, batch, self.weights)
                if self.pcgrad:
                    self._pcgrad_backward(terms, share)
                else:
                    self.scaler.scale(terms.total * share).backward()
            sums += torch.stack(_metric_tensors(terms)).detach() * share
            if self.record_sample_losses and terms.sample_loss is not None:
                self.last_sample_losses.append(terms.sample_loss.float().cpu().numpy())
        self.scaler.step(self.optimizer)
        self.scaler.update()
        if self.reduce_metrics is not None:
            sums = self.reduce_metrics(sums)
        metrics = dict(zip(METRIC_NAMES, sums.tolist(), strict=True))
        metrics["lr"] = lr
        return metrics

    def _pcgrad_backward(self, terms: LossTerms, share: float) -> None:
        # Gradients of the two tasks separately; PCGrad on the shared trunk, plain sum elsewhere.
        gp = torch.autograd.grad(self.scaler.scale(terms.policy_part * share), self._params,
                                 retain_graph=True, allow_unused=True)
        gv = torch.autograd.grad(self.scaler.scale(terms.value_part * share), self._params,
                                 allow_unused=True)
        idx = [i for i, t in enumerate(self._trunk_mask) if t]
        trunk = dict(zip(idx, pcgrad_combine([gp[i] for i in idx], [gv[i] for i in idx]),
                         strict=True))
        for i, param in enumerate(self._params):
            if i in trunk:
                g = trunk[i]
            elif gp[i] is None:
                g = gv[i]
            elif gv[i] is None:
                g = gp[i]
            else:
                g = gp[i] + gv[i]
            if g is None:
                continue
            param.grad = g.detach() if param.grad is None else param.grad + g.detach()


def evaluate(model: RingRiftNet, builder: BatchBuilder, indices: np.ndarray, batch_size: int,
             weights: LossWeights, *, amp_dtype: torch.dtype | None = None,
             target_source: TargetSource | None = None) -> dict[str, float]:
    """Sample-weighted mean metrics over `indices` in eval mode. "loss" excludes the entropy
    bonus and label smoothing, so it is comparable across settings."""
    source = target_source or dataset_targets
    plain = LossWeights(value=weights.value, rank=weights.rank)
    model.eval()
    sums = torch.zeros(len(METRIC_NAMES), device=builder.device)
    count = 0
    with torch.no_grad():
        for idx in epoch_batches(indices, batch_size):
            batch = source(builder.build(idx))
            batch.sample_weights = None  # validation scores every position alike
            with autocast_context(builder.device, amp_dtype):
                out = model(batch.features, batch.globals)
            terms = compute_losses(out, batch, plain)
            sums += torch.stack(_metric_tensors(terms)) * len(batch)
            count += len(batch)
    return dict(zip(METRIC_NAMES, (sums / max(count, 1)).tolist(), strict=True))

"""Training losses: policy cross-entropy over legal moves, per-player value MSE, rank CE,
entropy bonus; and the PCGrad projection between the policy and value gradients."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ringrift.nn.batch import Batch
from ringrift.nn.models import NetOutput

# Finite stand-in for -inf on illegal moves (fp32): keeps 0 * log p at 0 instead of NaN.
ILLEGAL_LOGIT = -1.0e9


@dataclass(frozen=True)
class LossWeights:
    """Weights of the loss terms; entropy_weight is a bonus (subtracted)."""

    value: float = 1.0
    rank: float = 0.5
    entropy: float = 0.0
    label_smoothing: float = 0.0
    ownership: float = 0.0  # auxiliary: per-cell final owner cross-entropy
    game_length: float = 0.0  # auxiliary: log(1 + moves left) squared error


@dataclass
class LossTerms:
    """Scalar loss tensors. `policy_part + value_part == total` (PCGrad uses the two parts)."""

    total: torch.Tensor
    policy_part: torch.Tensor
    value_part: torch.Tensor
    policy_ce: torch.Tensor
    policy_kl: torch.Tensor
    value_mse: torch.Tensor
    value_mae: torch.Tensor
    rank_ce: torch.Tensor
    entropy: torch.Tensor
    policy_accuracy: torch.Tensor
    ownership_ce: torch.Tensor | None = None
    game_length_mse: torch.Tensor | None = None
    # per-sample policy ce + weighted value loss, unweighted and detached: replay priorities
    sample_loss: torch.Tensor | None = None


def legal_log_softmax(logits: torch.Tensor, legal: torch.Tensor,
                      temperature: float = 1.0) -> torch.Tensor:
    """log-softmax of logits/T restricted to the legal entries (illegal entries ~ -1e9), fp32."""
    return F.log_softmax((logits.float() / temperature).masked_fill(~legal, ILLEGAL_LOGIT), dim=1)


def policy_terms(logits: torch.Tensor, target: torch.Tensor, legal: torch.Tensor,
                 has_policy: torch.Tensor, *, label_smoothing: float = 0.0,
                 temperature: float = 1.0, row_weights: torch.Tensor | None = None
                 ) -> dict[str, torch.Tensor]:
    """Per-batch means over rows with a target: ce (vs the smoothed target, scaled by T^2),
    kl (vs the raw target), entropy of the model's legal distribution, accuracy (argmax hit).
    `row_weights` scale each row's ce (the divisor stays the count of rows with a target);
    "ce_rows" holds the unweighted per-row ce (0 where there is no target)."""
    logp = legal_log_softmax(logits, legal, temperature)
    legal_f = legal.float()
    smoothed = target
    if label_smoothing > 0:
        uniform = legal_f / legal_f.sum(dim=1, keepdim=True).clamp_min(1.0)
        smoothed = (1 - label_smoothing) * target + label_smoothing * uniform
    weight = has_policy.float()
    denom = weight.sum().clamp_min(1.0)
    ce_rows = -(smoothed * logp).sum(dim=1)
    target_log = torch.where(target > 0, target.clamp_min(1e-30).log(), torch.zeros_like(target))
    kl_rows = (target * (target_log - logp)).sum(dim=1)
    p = logp.exp() * legal_f
    entropy_rows = -(p * logp).sum(dim=1)
    hit = (logp.argmax(dim=1) == target.argmax(dim=1)).float()
    loss_weight = weight if row_weights is None else weight * row_weights
    return {
        # T^2 keeps gradient magnitudes comparable across temperatures (Hinton et al.).
        "ce": (ce_rows * loss_weight).sum() / denom * temperature ** 2,
        "ce_rows": (ce_rows * weight).detach() * temperature ** 2,
        "kl": (kl_rows * weight).sum() / denom,
        "entropy": (entropy_rows * weight).sum() / denom,
        "accuracy": (hit * weight).sum() / denom,
    }


def compute_losses(out: NetOutput, batch: Batch, weights: LossWeights) -> LossTerms:
    """All loss terms for one batch of network outputs."""
    row_w = batch.sample_weights
    pol = policy_terms(out.policy, batch.policy_target, batch.legal_mask, batch.has_policy,
                       label_smoothing=weights.label_smoothing,
                       temperature=batch.policy_temperature, row_weights=row_w)
    value = out.value.float()
    value_rows = ((value - batch.values) ** 2).mean(dim=1)
    value_mse = _weighted_mean(value_rows, row_w)
    value_mae = (value - batch.values).abs().mean()
    if out.rank is not None:
        p = out.rank.shape[-1]
        rank_rows = F.cross_entropy(out.rank.float().reshape(-1, p), batch.ranks.reshape(-1),
                                    reduction="none").reshape(len(value), -1).mean(dim=1)
        rank_ce = _weighted_mean(rank_rows, row_w)
    else:
        rank_rows = torch.zeros(len(value), device=value.device)
        rank_ce = torch.zeros((), device=value.device)
    zero = torch.zeros((), device=value.device)
    ownership_ce = (ownership_loss(out.ownership, batch.ownership, row_w)
                    if out.ownership is not None and batch.ownership is not None else zero)
    length_mse = (game_length_loss(out.game_length, batch.game_length, row_w)
                  if out.game_length is not None and batch.game_length is not None else zero)
    policy_part = pol["ce"] - weights.entropy * pol["entropy"]
    value_part = weights.value * value_mse + weights.rank * rank_ce
    if weights.ownership:
        value_part = value_part + weights.ownership * ownership_ce
    if weights.game_length:
        value_part = value_part + weights.game_length * length_mse
    sample_loss = (pol["ce_rows"] + weights.value * value_rows.detach()
                   + weights.rank * rank_rows.detach())
    return LossTerms(total=policy_part + value_part, policy_part=policy_part,
                     value_part=value_part, policy_ce=pol["ce"], policy_kl=pol["kl"],
                     value_mse=value_mse, value_mae=value_mae, rank_ce=rank_ce,
                     entropy=pol["entropy"], policy_accuracy=pol["accuracy"],
                     ownership_ce=ownership_ce, game_length_mse=length_mse,
                     sample_loss=sample_loss)


def ownership_loss(logits: torch.Tensor, target: torch.Tensor,
                   row_weights: torch.Tensor | None = None) -> torch.Tensor:
    """Mean cross-entropy over the cells with a target (class -1 = none: off-board cells and
    unfinished games); 0 when the batch has none."""
    ce = F.cross_entropy(logits.float(), target, ignore_index=-1, reduction="none")  # [B,H,W]
    has = (target >= 0).float()
    if row_weights is not None:
        ce = ce * row_weights[:, None, None]
    return (ce * has).sum() / has.sum().clamp_min(1.0)


def game_length_loss(pred: torch.Tensor, target: torch.Tensor,
                     row_weights: torch.Tensor | None = None) -> torch.Tensor:
    """Mean squared error of log(1 + moves left) over the samples with a target (>= 0)."""
    has = (target >= 0).float()
    err = (pred.float() - target) ** 2 * has
    if row_weights is not None:
        err = err * row_weights
    return err.sum() / has.sum().clamp_min(1.0)


def _weighted_mean(rows: torch.Tensor, row_weights: torch.Tensor | None) -> torch.Tensor:
    """mean(w * rows): the plain mean when unweighted (IS weights scale, not renormalise)."""
    return rows.mean() if row_weights is None else (rows * row_weights).mean()


def pcgrad_combine(grads_a: list[torch.Tensor | None], grads_b: list[torch.Tensor | None]
                   ) -> list[torch.Tensor | None]:
    """PCGrad (Yu et al. 2020) for two tasks: if the gradients conflict (negative dot product),
    project each onto the normal plane of the other, then sum."""
    pairs = [(a, b) for a, b in zip(grads_a, grads_b, strict=True)]
    dot = sum(((a * b).sum() for a, b in pairs if a is not None and b is not None),
              torch.zeros(()))
    if dot >= 0:
        return [_add(a, b) for a, b in pairs]
    sq_a = sum(((a * a).sum() for a, _ in pairs if a is not None), torch.zeros(()))
    sq_b = sum(((b * b).sum() for _, b in pairs if b is not None), torch.zeros(()))
    ca = dot / sq_b.clamp_min(1e-20)  # a' = a - ca * b
    cb = dot / sq_a.clamp_min(1e-20)  # b' = b - cb * a
    out: list[torch.Tensor | None] = []
    for a, b in pairs:
        new_a = a - ca * b if (a is not None and b is not None) else a
        new_b = b - cb * a if (a is not None and b is not None) else b
        out.append(_add(new_a, new_b))
    return out


def _add(a: torch.Tensor | None, b: torch.Tensor | None) -> torch.Tensor | None:
    if a is None:
        return b
    if b is None:
        return a
    return a + b

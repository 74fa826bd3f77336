import math

import pytest
import torch

from ringrift.nn.batch import Batch
from ringrift.nn.losses import LossWeights, compute_losses, pcgrad_combine
from ringrift.nn.models import NetOutput
from ringrift.train.schedule import LRSchedule


def tiny_batch(target, legal, values, ranks, temperature=1.0):
    n = len(target)
    return Batch(features=torch.zeros(n, 1, 1, 1), globals=torch.zeros(n, 0),
                 values=torch.tensor(values), ranks=torch.tensor(ranks),
                 policy_target=torch.tensor(target), legal_mask=torch.tensor(legal),
                 has_policy=torch.tensor(target).sum(1) > 0, policy_temperature=temperature)


def hand_example(entropy=0.0, smoothing=0.0):
    out = NetOutput(policy=torch.tensor([[2.0, 1.0, 0.0, 3.0, -1.0]]),
                    value=torch.tensor([[0.5, -0.5]]), rank=torch.zeros(1, 2, 2))
    batch = tiny_batch([[0.5, 0.5, 0.0, 0.0, 0.0]], [[True, True, True, False, False]],
                       [[1.0, -1.0]], [[0, 1]])
    return compute_losses(out, batch, LossWeights(value=1.0, rank=0.5, entropy=entropy,
                                                  label_smoothing=smoothing))


def test_losses_on_a_hand_computed_example():
    lse = math.log(math.exp(2) + math.exp(1) + math.exp(0))  # the illegal 3.0 is excluded
    logp = [2 - lse, 1 - lse, 0 - lse]
    ce = -(0.5 * logp[0] + 0.5 * logp[1])
    p = [math.exp(v) for v in logp]
    entropy = -sum(pi * li for pi, li in zip(p, logp, strict=True))
    terms = hand_example(entropy=0.1)
    assert terms.policy_ce.item() == pytest.approx(ce, rel=1e-6)
    assert terms.policy_kl.item() == pytest.approx(ce + math.log(0.5), rel=1e-5)
    assert terms.value_mse.item() == pytest.approx(0.25)
    assert terms.value_mae.item() == pytest.approx(0.5)
    assert terms.rank_ce.item() == pytest.approx(math.log(2))
    assert terms.entropy.item() == pytest.approx(entropy, rel=1e-6)
    assert terms.policy_accuracy.item() == 1.0  # argmax 2.0 is a target move
    expected = ce + 0.25 + 0.5 * math.log(2) - 0.1 * entropy
    assert terms.total.item() == pytest.approx(expected, rel=1e-6)
    assert (terms.policy_part + terms.value_part).item() == pytest.approx(expected, rel=1e-6)

    smoothed = [0.9 * 0.5 + 0.1 / 3, 0.9 * 0.5 + 0.1 / 3, 0.1 / 3]
    ce_s = -sum(t * li for t, li in zip(smoothed, logp, strict=True))
    assert hand_example(smoothing=0.1).policy_ce.item() == pytest.approx(ce_s, rel=1e-6)


def test_rows_without_policy_target_are_ignored_and_temperature_scales():
    out = NetOutput(policy=torch.tensor([[2.0, 0.0], [0.0, 9.0]]),
                    value=torch.zeros(2, 2), rank=None)
    batch = tiny_batch([[1.0, 0.0], [0.0, 0.0]], [[True, True], [True, True]],
                       [[0.0, 0.0], [0.0, 0.0]], [[0, 1], [1, 0]])
    terms = compute_losses(out, batch, LossWeights())
    assert terms.policy_ce.item() == pytest.approx(-math.log(1 / (1 + math.exp(-2))), rel=1e-6)
    assert terms.rank_ce.item() == 0.0
    batch.policy_temperature = 2.0
    hot = compute_losses(out, batch, LossWeights())
    assert hot.policy_ce.item() == pytest.approx(4 * -math.log(1 / (1 + math.exp(-1))),
                                                 rel=1e-6)


def test_policy_loss_gradient_is_zero_on_illegal_moves():
    logits = torch.tensor([[2.0, 1.0, 0.0, 3.0, -1.0]], requires_grad=True)
    out = NetOutput(policy=logits, value=torch.zeros(1, 2), rank=None)
    batch = tiny_batch([[0.5, 0.5, 0.0, 0.0, 0.0]], [[True, True, True, False, False]],
                       [[0.0, 0.0]], [[0, 1]])
    compute_losses(out, batch, LossWeights(entropy=0.2, label_smoothing=0.1)).total.backward()
    assert torch.isfinite(logits.grad).all()
    assert logits.grad[0, 3] == 0 and logits.grad[0, 4] == 0


def test_pcgrad_projects_conflicting_gradients_only():
    a, b = [torch.tensor([1.0, 0.0])], [torch.tensor([-1.0, 1.0])]
    (combined,) = pcgrad_combine(a, b)
    # a' = a - (a.b/|b|^2) b = [0.5, 0.5]; b' = b - (a.b/|a|^2) a = [0, 1]
    torch.testing.assert_close(combined, torch.tensor([0.5, 1.5]))
    (plain,) = pcgrad_combine([torch.tensor([1.0, 0.0])], [torch.tensor([1.0, 1.0])])
    torch.testing.assert_close(plain, torch.tensor([2.0, 1.0]))
    out = pcgrad_combine([torch.tensor([1.0]), None], [torch.tensor([-2.0]), torch.tensor([3.0])])
    assert out[1].item() == 3.0


def test_warmup_then_cosine():
    s = LRSchedule("cosine", 1e-2, total_steps=110, warmup_steps=10)
    assert s.lr(0) == pytest.approx(1e-3)
    assert s.lr(4) == pytest.approx(5e-3)
    assert s.lr(9) == pytest.approx(1e-2)
    assert s.lr(10) == pytest.approx(1e-2)
    assert s.lr(10 + 33) == pytest.approx(1e-2 * 0.5 * (1 + math.cos(math.pi / 3)))
    assert s.lr(109) == pytest.approx(0.0, abs=1e-12)
    after = [s.lr(i) for i in range(10, 110)]
    assert all(x >= y for x, y in zip(after, after[1:], strict=False))
    floor = LRSchedule("cosine", 1.0, total_steps=11, min_lr_ratio=0.1)
    assert floor.lr(10) == pytest.approx(0.1)


def test_an_offset_schedule_continues_a_longer_one():
    whole = LRSchedule("cosine", 1e-2, total_steps=110, warmup_steps=10)
    second_half = LRSchedule("cosine", 1e-2, total_steps=110, warmup_steps=10, offset=55)
    assert [second_half.lr(i) for i in range(55)] == [whole.lr(55 + i) for i in range(55)]


def test_step_and_constant_schedules():
    s = LRSchedule("step", 1.0, total_steps=100, step_size=5, gamma=0.5)
    assert [s.lr(i) for i in (0, 4, 5, 9, 10)] == [1.0, 1.0, 0.5, 0.5, 0.25]
    w = LRSchedule("none", 2.0, total_steps=100, warmup_steps=4)
    assert [w.lr(i) for i in (0, 1, 3, 4, 99)] == [0.5, 1.0, 2.0, 2.0, 2.0]
    with pytest.raises(ValueError):
        LRSchedule("linear", 1.0, 10)

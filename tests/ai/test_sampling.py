"""Sampling a move index at a temperature (ai.sampling)."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from ringrift.ai.sampling import sample_with_temperature


def _frequencies(probs, temperature, rng, n=20000):
    counts = np.zeros(len(probs))
    for _ in range(n):
        counts[sample_with_temperature(probs, temperature, rng)] += 1
    return counts / n


def test_temperature_zero_is_argmax():
    rng = random.Random(0)
    assert {sample_with_temperature([0.1, 0.7, 0.2], 0.0, rng) for _ in range(50)} == {1}


def test_temperature_zero_breaks_ties_with_the_rng():
    freq = _frequencies([0.4, 0.1, 0.4, 0.1], 0.0, random.Random(1), n=4000)
    assert freq[1] == freq[3] == 0.0
    assert freq[0] == pytest.approx(0.5, abs=0.03)


def test_temperature_one_follows_the_probabilities():
    probs = [0.5, 0.3, 0.15, 0.05, 0.0]
    freq = _frequencies(probs, 1.0, random.Random(2))
    assert freq == pytest.approx(probs, abs=0.015)
    assert freq[4] == 0.0


def test_temperature_sharpens_and_flattens():
    probs = np.array([0.6, 0.3, 0.1])
    sharp = probs**2 / (probs**2).sum()
    assert _frequencies(probs, 0.5, np.random.default_rng(3)) == pytest.approx(sharp, abs=0.015)
    flat = np.sqrt(probs) / np.sqrt(probs).sum()
    assert _frequencies(probs, 2.0, random.Random(4)) == pytest.approx(flat, abs=0.015)


def test_extreme_temperatures_are_numerically_safe():
    rng = random.Random(5)
    probs = [1e-300, 0.3, 0.7, 0.0]
    assert {sample_with_temperature(probs, 1e-9, rng) for _ in range(100)} == {2}
    near_uniform = _frequencies(probs, 1e9, rng, n=6000)
    assert near_uniform[:3] == pytest.approx([1 / 3] * 3, abs=0.03) and near_uniform[3] == 0
    assert _frequencies(probs, math.inf, rng, n=3000)[3] == 0.0
    assert sample_with_temperature([5.0, 15.0], 1.0, random.Random(0)) in (0, 1)  # unnormalised


@pytest.mark.parametrize("probs, temperature", [
    ([], 1.0), ([0.0, 0.0], 1.0), ([0.5, -0.1], 1.0), ([0.5, math.nan], 1.0),
    ([0.5, 0.5], -1.0), ([0.5, 0.5], math.nan),
])
def test_sampling_rejects_bad_arguments(probs, temperature):
    with pytest.raises(ValueError):
        sample_with_temperature(probs, temperature, random.Random(0))

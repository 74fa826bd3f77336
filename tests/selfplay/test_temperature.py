"""Temperature schedules (values, specs, parse errors) and sampling at a temperature."""

from __future__ import annotations

import itertools
import math
import random

import numpy as np
import pytest

from ringrift.errors import UserError
from ringrift.selfplay.temperature import (
    SCHEDULES,
    AlphaZeroSchedule,
    ConstantSchedule,
    CosineSchedule,
    LinearSchedule,
    get_schedule,
    sample_with_temperature,
)


def test_alphazero_step():
    default = get_schedule("alphazero")
    assert default == AlphaZeroSchedule(moves=30)
    assert [default(n) for n in (0, 29, 30, 500)] == [1.0, 1.0, 0.0, 0.0]
    short = get_schedule("alphazero:moves=20")
    assert short(19) == 1.0 and short(20) == 0.0
    assert get_schedule("alphazero:moves=0")(0) == 0.0


def test_constant():
    assert get_schedule("constant")(1000) == 1.0
    assert get_schedule("constant:t=0.25")(0) == 0.25


def test_linear():
    schedule = get_schedule("linear:start=1.0,end=0.1,moves=60")
    assert schedule(0) == 1.0
    assert schedule(30) == pytest.approx(0.55)
    assert schedule(60) == pytest.approx(0.1) and schedule(1000) == pytest.approx(0.1)
    values = [schedule(n) for n in range(61)]
    assert all(a > b for a, b in itertools.pairwise(values))
    assert get_schedule("linear:moves=0,end=0.3")(0) == 0.3


def test_cosine():
    schedule = get_schedule("cosine:start=2,end=0.5,moves=40")
    assert schedule(0) == pytest.approx(2.0)
    assert schedule(20) == pytest.approx(1.25)
    assert schedule(10) == pytest.approx(0.5 + 1.5 * 0.5 * (1 + math.cos(math.pi / 4)))
    assert schedule(40) == 0.5 and schedule(99) == 0.5


@pytest.mark.parametrize("spec, canonical", [
    ("alphazero", "alphazero:moves=30,start=1.0,end=0.0"),
    ("alphazero:moves=20", "alphazero:moves=20,start=1.0,end=0.0"),
    (" linear : end = 0.1 , start=1 , moves=60 ", "linear:start=1.0,end=0.1,moves=60"),
    ("cosine:moves=10", "cosine:start=1.0,end=0.0,moves=10"),
    ("constant:t=0.3", "constant:t=0.3"),
])
def test_spec_is_canonical_and_round_trips(spec, canonical):
    schedule = get_schedule(spec)
    assert schedule.spec == canonical
    assert get_schedule(schedule.spec) == schedule


def test_specs_of_constructed_schedules():
    assert LinearSchedule(start=2, end=1, moves=5).spec == "linear:start=2.0,end=1.0,moves=5"
    assert ConstantSchedule().spec == "constant:t=1.0"
    assert CosineSchedule(moves=3.0).moves == 3


@pytest.mark.parametrize("spec, message", [
    ("boltzmann", "unknown name 'boltzmann' (valid: alphazero, constant, linear, cosine, "),
    ("", "unknown name ''"),
    ("alphazero:steps=3", "unknown key 'steps' for alphazero (valid: moves, start, end)"),
    ("constant:start=1", "unknown key 'start' for constant (valid: t)"),
    ("alphazero:moves=1.5", "moves='1.5' is not an integer"),
    ("linear:start=hot", "start='hot' is not a number"),
    ("linear:start", "expected key=value"),
    ("linear:moves=3,moves=4", "moves given twice"),
    ("linear:moves=-1", "moves=-1 must be >= 0"),
    ("constant:t=-0.5", "t=-0.5 must be a finite number >= 0"),
    ("constant:t=nan", "must be a finite number"),
    ("cosine:end=inf", "must be a finite number"),
])
def test_bad_specs(spec, message):
    with pytest.raises(UserError) as info:
        get_schedule(spec)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_every_registered_schedule_parses_by_name():
    for name in SCHEDULES:
        assert get_schedule(name).spec.startswith(f"{name}:")


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

"""Temperature schedules (values, specs, parse errors)."""

from __future__ import annotations

import itertools
import math

import pytest

from ringrift.errors import UserError
from ringrift.selfplay.temperature import (
    SCHEDULES,
    AlphaZeroSchedule,
    ConstantSchedule,
    CosineSchedule,
    LinearSchedule,
    get_schedule,
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

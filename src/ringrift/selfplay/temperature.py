"""Temperature schedules for stochastic move choice, and sampling at a temperature.

A schedule maps the index of the move about to be played (0-based, counted like
`MoveRecord.index`, bookkeeping moves included) to a temperature; 0.0 means "play the argmax".
Schedules are named by spec strings, "name" or "name:key=value,...":

    alphazero[:moves=30,start=1.0,end=0.0]   start for the first `moves` moves, then end
    constant[:t=1.0]                         t throughout
    linear[:start=1.0,end=0.0,moves=30]      straight line from start to end over `moves`
    cosine[:start=1.0,end=0.0,moves=30]      half cosine from start to end over `moves`

`schedule.spec` spells out every parameter, so the string recorded with a game still means the
same schedule if the defaults change.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import Any, Protocol

from ringrift.errors import UserError


class _Random(Protocol):
    def random(self) -> float: ...


def _normalize(schedule: Any) -> None:
    """Coerce each parameter to its default's type (1 -> 1.0) and check its range."""
    for f in fields(schedule):
        value = getattr(schedule, f.name)
        if isinstance(f.default, int):
            if isinstance(value, bool) or not float(value).is_integer():
                raise UserError(f"temperature schedule: {f.name}={value!r} must be an integer")
            value = int(value)
            if value < 0:
                raise UserError(f"temperature schedule: {f.name}={value} must be >= 0")
        else:
            value = float(value)
            if not (math.isfinite(value) and value >= 0.0):
                raise UserError(f"temperature schedule: {f.name}={value} must be a finite "
                                "number >= 0")
        object.__setattr__(schedule, f.name, value)


def _spec(name: str, schedule: Any) -> str:
    parts = [f"{f.name}={getattr(schedule, f.name)!r}" for f in fields(schedule)]
    return f"{name}:{','.join(parts)}"


@dataclass(frozen=True)
class AlphaZeroSchedule:
    """`start` for the first `moves` moves, then `end` (0.0 = argmax), as in AlphaZero."""

    moves: int = 30
    start: float = 1.0
    end: float = 0.0

    def __post_init__(self) -> None:
        _normalize(self)

    def __call__(self, move_number: int) -> float:
        return self.start if move_number < self.moves else self.end

    @property
    def spec(self) -> str:
        return _spec("alphazero", self)


@dataclass(frozen=True)
class ConstantSchedule:
    """The same temperature `t` for every move."""

    t: float = 1.0

    def __post_init__(self) -> None:
        _normalize(self)

    def __call__(self, move_number: int) -> float:
        return self.t

    @property
    def spec(self) -> str:
        return _spec("constant", self)


@dataclass(frozen=True)
class LinearSchedule:
    """From `start` at move 0 straight down (or up) to `end` at move `moves`, then `end`."""

    start: float = 1.0
    end: float = 0.0
    moves: int = 30

    def __post_init__(self) -> None:
        _normalize(self)

    def __call__(self, move_number: int) -> float:
        if move_number >= self.moves:
            return self.end
        fraction = max(move_number, 0) / self.moves
        return self.start + (self.end - self.start) * fraction

    @property
    def spec(self) -> str:
        return _spec("linear", self)


@dataclass(frozen=True)
class CosineSchedule:
    """From `start` at move 0 to `end` at move `moves` along a half cosine, then `end`."""

    start: float = 1.0
    end: float = 0.0
    moves: int = 30

    def __post_init__(self) -> None:
        _normalize(self)

    def __call__(self, move_number: int) -> float:
        if move_number >= self.moves:
            return self.end
        fraction = max(move_number, 0) / self.moves
        return self.end + (self.start - self.end) * 0.5 * (1.0 + math.cos(math.pi * fraction))

    @property
    def spec(self) -> str:
        return _spec("cosine", self)


Schedule = AlphaZeroSchedule | ConstantSchedule | LinearSchedule | CosineSchedule

SCHEDULES: dict[str, Callable[..., Schedule]] = {
    "alphazero": AlphaZeroSchedule,
    "constant": ConstantSchedule,
    "linear": LinearSchedule,
    "cosine": CosineSchedule,
}


def get_schedule(spec: str) -> Schedule:
    """Parse "name" or "name:key=value,..." into a schedule; UserError if unknown or malformed."""
    if not isinstance(spec, str):
        raise UserError(f"temperature schedule: expected a string, got {type(spec).__name__}")
    name, _, arg_text = spec.strip().partition(":")
    name = name.strip()
    factory = SCHEDULES.get(name)
    if factory is None:
        raise UserError(f"temperature schedule: unknown name {name!r} "
                        f"(valid: {', '.join(SCHEDULES)})")
    defaults = {f.name: f.default for f in fields(factory)}  # type: ignore[arg-type]
    kwargs: dict[str, Any] = {}
    for part in arg_text.split(",") if arg_text.strip() else []:
        key, eq, text = (s.strip() for s in part.partition("="))
        if not eq or not key:
            raise UserError(f"temperature schedule {spec!r}: expected key=value, got {part!r}")
        if key not in defaults:
            raise UserError(f"temperature schedule {spec!r}: unknown key {key!r} for {name} "
                            f"(valid: {', '.join(defaults)})")
        if key in kwargs:
            raise UserError(f"temperature schedule {spec!r}: {key} given twice")
        integer = isinstance(defaults[key], int)
        try:
            kwargs[key] = int(text) if integer else float(text)
        except ValueError:
            raise UserError(f"temperature schedule {spec!r}: {key}={text!r} is not "
                            f"{'an integer' if integer else 'a number'}") from None
    return factory(**kwargs)


def sample_with_temperature(probs: Sequence[float], temperature: float, rng: _Random) -> int:
    """Index drawn from `probs` sharpened by `temperature`: p^(1/T), renormalised.

    Temperature 0 plays the argmax, ties broken by `rng`. Works in log space, so tiny
    temperatures neither overflow nor underflow; zero probabilities are never chosen.
    `rng` is anything with .random() in [0, 1): random.Random or numpy.random.Generator.
    """
    values = [float(p) for p in probs]
    if not values:
        raise ValueError("sample_with_temperature: empty probability list")
    if not all(math.isfinite(p) and p >= 0.0 for p in values):
        raise ValueError("sample_with_temperature: probabilities must be finite and >= 0")
    top = max(values)
    if top <= 0.0:
        raise ValueError("sample_with_temperature: probabilities sum to zero")
    if math.isnan(temperature) or temperature < 0.0:
        raise ValueError(f"sample_with_temperature: temperature {temperature} must be >= 0")
    if temperature == 0.0:
        ties = [i for i, p in enumerate(values) if p == top]
        return ties[_index_below(len(ties), rng)]
    if math.isinf(temperature):
        weights = [1.0 if p > 0.0 else 0.0 for p in values]
    else:
        # (p / top)^(1/T) = exp((log p - log top) / T): the largest weight is exactly 1.
        log_top = math.log(top)
        weights = [math.exp((math.log(p) - log_top) / temperature) if p > 0.0 else 0.0
                   for p in values]
    total = math.fsum(weights)
    threshold = rng.random() * total
    cumulative = 0.0
    last_positive = 0
    for i, weight in enumerate(weights):
        if weight > 0.0:
            cumulative += weight
            last_positive = i
            if threshold < cumulative:
                return i
    return last_positive  # rounding left the threshold just past the final sum


def _index_below(n: int, rng: _Random) -> int:
    return min(int(rng.random() * n), n - 1)

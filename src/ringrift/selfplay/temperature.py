"""Temperature schedules for stochastic move choice (sampling at a temperature: ai.sampling).

A schedule maps the index of the move about to be played (0-based, counted like
`MoveRecord.index`, bookkeeping moves included) to a temperature; 0.0 means "play the argmax".
Schedules are named by spec strings, "name" or "name:key=value,...":

    alphazero[:moves=30,start=1.0,end=0.0]   start for the first `moves` moves, then end
    constant[:t=1.0]                         t throughout
    linear[:start=1.0,end=0.0,moves=30]      straight line from start to end over `moves`
    cosine[:start=1.0,end=0.0,moves=30]      half cosine from start to end over `moves`
    aggressive_exploration[:moves=60,start=1.5,end=0.5]   alphazero, hotter and longer
    conservative[:moves=8,start=0.5,end=0.0]               alphazero, cooler and shorter
    adaptive[:high=1.0,low=0.1,reference_moves=40,moves=30]  from the position: more legal
                                             moves, more exploration (see AdaptiveSchedule)
    curriculum[:start=1.5,end=0.5,progress=0.0,moves=30]  from training progress in [0, 1]

`schedule.spec` spells out every parameter, so the string recorded with a game still means the
same schedule if the defaults change.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from typing import Any

from ringrift.errors import UserError


class _TemperatureSchedule:
    """The seed's interface on every schedule: `get_temperature(move_number, game_state)`."""

    def get_temperature(self, move_number: int, game_state: Any = None) -> float:
        return self(move_number, game_state)  # type: ignore[operator]


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
class AlphaZeroSchedule(_TemperatureSchedule):
    """`start` for the first `moves` moves, then `end` (0.0 = argmax), as in AlphaZero."""

    moves: int = 30
    start: float = 1.0
    end: float = 0.0

    def __post_init__(self) -> None:
        _normalize(self)

    def __call__(self, move_number: int, game_state: Any = None) -> float:
        return self.start if move_number < self.moves else self.end

    @property
    def spec(self) -> str:
        return _spec("alphazero", self)


@dataclass(frozen=True)
class ConstantSchedule(_TemperatureSchedule):
    """The same temperature `t` for every move."""

    t: float = 1.0

    def __post_init__(self) -> None:
        _normalize(self)

    def __call__(self, move_number: int, game_state: Any = None) -> float:
        return self.t

    @property
    def spec(self) -> str:
        return _spec("constant", self)


@dataclass(frozen=True)
class LinearSchedule(_TemperatureSchedule):
    """From `start` at move 0 straight down (or up) to `end` at move `moves`, then `end`."""

    start: float = 1.0
    end: float = 0.0
    moves: int = 30

    def __post_init__(self) -> None:
        _normalize(self)

    def __call__(self, move_number: int, game_state: Any = None) -> float:
        if move_number >= self.moves:
            return self.end
        fraction = max(move_number, 0) / self.moves
        return self.start + (self.end - self.start) * fraction

    @property
    def spec(self) -> str:
        return _spec("linear", self)


@dataclass(frozen=True)
class CosineSchedule(_TemperatureSchedule):
    """From `start` at move 0 to `end` at move `moves` along a half cosine, then `end`."""

    start: float = 1.0
    end: float = 0.0
    moves: int = 30

    def __post_init__(self) -> None:
        _normalize(self)

    def __call__(self, move_number: int, game_state: Any = None) -> float:
        if move_number >= self.moves:
            return self.end
        fraction = max(move_number, 0) / self.moves
        return self.end + (self.start - self.end) * 0.5 * (1.0 + math.cos(math.pi * fraction))

    @property
    def spec(self) -> str:
        return _spec("cosine", self)


@dataclass(frozen=True)
class AggressiveExplorationSchedule(AlphaZeroSchedule):
    """The seed's `aggressive_exploration`: a hot opening that stays warm afterwards."""

    moves: int = 60
    start: float = 1.5
    end: float = 0.5

    @property
    def spec(self) -> str:
        return _spec("aggressive_exploration", self)


@dataclass(frozen=True)
class ConservativeSchedule(AlphaZeroSchedule):
    """The seed's `conservative`: a short, cool opening, then the argmax."""

    moves: int = 8
    start: float = 0.5
    end: float = 0.0

    @property
    def spec(self) -> str:
        return _spec("conservative", self)


@dataclass(frozen=True)
class AdaptiveSchedule(_TemperatureSchedule):
    """Temperature from the position's complexity: `low + (high - low) * c`, where
    c = log(legal moves) / log(reference_moves), clipped to [0, 1]. A forced move gets 0.

    Why: many legal moves mean many near-equal choices worth exploring; few mean a tactical
    position where a random pick is usually a blunder. Without a position (game_state None) it
    falls back to `high` for the first `moves` moves, then `low`.
    """

    high: float = 1.0
    low: float = 0.1
    reference_moves: int = 40
    moves: int = 30

    def __post_init__(self) -> None:
        _normalize(self)
        if self.reference_moves < 2:
            raise UserError("temperature schedule: reference_moves must be at least 2")

    def __call__(self, move_number: int, game_state: Any = None) -> float:
        if game_state is None:
            return self.high if move_number < self.moves else self.low
        legal = len(_legal_moves(game_state))
        if legal <= 1:
            return 0.0
        complexity = min(1.0, math.log(legal) / math.log(self.reference_moves))
        return self.low + (self.high - self.low) * complexity

    @property
    def spec(self) -> str:
        return _spec("adaptive", self)


@dataclass(frozen=True)
class CurriculumSchedule(_TemperatureSchedule):
    """Temperature from training progress (0 = first iteration, 1 = last): the opening's
    temperature goes from `start` to `end` as training progresses, then 0 after `moves`.

    Why: an early network's policy is poor, so its games need more exploration; a late one's
    games are worth more when they follow its (better) policy closely.
    """

    start: float = 1.5
    end: float = 0.5
    progress: float = 0.0
    moves: int = 30

    def __post_init__(self) -> None:
        _normalize(self)
        if self.progress > 1.0:
            raise UserError(f"temperature schedule: progress={self.progress} must be in [0, 1]")

    def __call__(self, move_number: int, game_state: Any = None) -> float:
        if move_number >= self.moves:
            return 0.0
        return self.start + (self.end - self.start) * self.progress

    def at_progress(self, progress: float) -> CurriculumSchedule:
        """The same schedule at another point of training (progress clipped to [0, 1])."""
        return replace(self, progress=min(1.0, max(0.0, float(progress))))

    @property
    def spec(self) -> str:
        return _spec("curriculum", self)


def _legal_moves(game_state: Any) -> Any:
    from ringrift import rules

    return rules.legal_moves(game_state)


Schedule = (AlphaZeroSchedule | ConstantSchedule | LinearSchedule | CosineSchedule
            | AdaptiveSchedule | CurriculumSchedule)

SCHEDULES: dict[str, Callable[..., Schedule]] = {
    "alphazero": AlphaZeroSchedule,
    "constant": ConstantSchedule,
    "linear": LinearSchedule,
    "cosine": CosineSchedule,
    "aggressive_exploration": AggressiveExplorationSchedule,
    "conservative": ConservativeSchedule,
    "adaptive": AdaptiveSchedule,
    "curriculum": CurriculumSchedule,
}


def create_scheduler(name: str = "alphazero", **params: float) -> Schedule:
    """The seed's `create_scheduler`: a schedule by name with optional parameters
    (`create_scheduler("adaptive", high=1.2)`); `.get_temperature(move_number, game_state)`."""
    if not isinstance(name, str) or ":" in name:
        raise UserError(f"create_scheduler: expected a schedule name, got {name!r} "
                        f"(valid: {', '.join(SCHEDULES)})")
    spec = name + (":" + ",".join(f"{k}={v}" for k, v in params.items()) if params else "")
    return get_schedule(spec)


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

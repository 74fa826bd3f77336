"""Curriculum: stages of rising difficulty that advance on measured win rates.

Difficulty here is the strength of the bootstrap opponent's play, a number in [0, 1] that means
something measurable in RingRift: the heuristic player plays a uniformly random move with
probability 1 - difficulty (`heuristic_epsilon`), so difficulty 1 is the full heuristic player and
0.3 plays 70% random moves. The loop's bootstrap selfplay (the games played while no model has
been promoted) uses the current stage's epsilon. A stage advances when the evaluated model's win
rate against the stage's opponent (a gauntlet opponent, "heuristic" by default) reaches the
stage's `advance_win_rate`, after at least `min_iterations` iterations in the stage; every
iteration's check is recorded in the loop's stage results.

A stage may also say where games start (a reverse curriculum): with `start_fraction` f > 0 the
loop's selfplay (bootstrap and model games alike) starts each game from a position f of the way
through one of the run's earlier whole games (`selfplay.start_positions`), so stages like 0.6 ->
0.3 -> 0.0 begin near the end, where outcomes are easy to learn, and move back to the opening as
the win rate rises. 0 (the default) plays from the opening.

A curriculum file (JSON, or YAML when PyYAML is installed):

    {"initial_difficulty": 0.3, "target_difficulty": 1.0, "num_stages": 3,
     "advance_win_rate": 0.6, "opponent": "heuristic"}

or explicit stages: {"stages": [{"difficulty": 0.3, "advance_win_rate": 0.7,
"start_fraction": 0.6}, ...]}.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ringrift.errors import ConfigError, UserError
from ringrift.selfplay.start_positions import check_start_fraction

_TOP_KEYS = ("initial_difficulty", "target_difficulty", "num_stages", "advance_win_rate",
             "opponent", "min_iterations", "stages")
_STAGE_KEYS = ("difficulty", "advance_win_rate", "opponent", "min_iterations",
               "start_fraction")


@dataclass(frozen=True)
class CurriculumStage:
    difficulty: float
    advance_win_rate: float = 0.6
    opponent: str = "heuristic"
    min_iterations: int = 1
    start_fraction: float = 0.0  # where selfplay starts in earlier games (0: the opening)

    def validate(self, where: str = "stage") -> None:
        """ConfigError("curriculum", ...) naming `where` (the stage) and the bad setting."""
        if not 0 <= self.difficulty <= 1:
            raise _bad(f"{where}: difficulty must be in [0, 1], got {self.difficulty}")
        if not 0 < self.advance_win_rate <= 1:
            raise _bad(f"{where}: advance_win_rate must be in (0, 1], got "
                       f"{self.advance_win_rate}")
        if self.min_iterations < 1:
            raise _bad(f"{where}: min_iterations must be >= 1")
        if not self.opponent:
            raise _bad(f"{where}: opponent must be a gauntlet opponent name")
        try:
            check_start_fraction(self.start_fraction)  # (selfplay's own check of the value)
        except ConfigError as exc:
            raise _bad(f"{where}: start_fraction {exc.problem}") from None


@dataclass
class CurriculumManager:
    """The seed's API: CurriculumManager(initial_difficulty=0.3, target_difficulty=1.0); stages
    evenly spaced from the initial to the target difficulty unless given."""

    initial_difficulty: float = 0.3
    target_difficulty: float = 1.0
    num_stages: int = 3
    advance_win_rate: float = 0.6
    opponent: str = "heuristic"
    min_iterations: int = 1
    stages: list[CurriculumStage] = field(default_factory=list)
    stage_index: int = 0
    iterations_in_stage: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.stages = [s if isinstance(s, CurriculumStage) else CurriculumStage(**s)
                       for s in self.stages]
        if not self.stages:
            if self.num_stages < 1:
                raise _bad("num_stages must be >= 1")
            span = self.target_difficulty - self.initial_difficulty
            steps = max(self.num_stages - 1, 1)
            self.stages = [CurriculumStage(
                difficulty=round(self.initial_difficulty + span * k / steps, 6)
                if self.num_stages > 1 else self.target_difficulty,
                advance_win_rate=self.advance_win_rate, opponent=self.opponent,
                min_iterations=self.min_iterations) for k in range(self.num_stages)]
        for k, stage in enumerate(self.stages):
            stage.validate(f"stage {k + 1}")

    @property
    def stage(self) -> CurriculumStage:
        return self.stages[self.stage_index]

    @property
    def difficulty(self) -> float:
        return self.stage.difficulty

    @property
    def finished(self) -> bool:
        """In the last stage (its difficulty stays)."""
        return self.stage_index == len(self.stages) - 1

    @property
    def start_fraction(self) -> float:
        """How far through an earlier game this stage's selfplay starts (0: the opening)."""
        return self.stage.start_fraction

    def heuristic_epsilon(self) -> float:
        """The bootstrap heuristic's random-move probability at this difficulty."""
        return round(1.0 - self.difficulty, 6)

    def record(self, iteration: int, win_rates: dict[str, float | None],
               start_fraction_played: float | None = None) -> dict[str, Any]:
        """One iteration's measured win rates: advance when the stage's opponent was beaten
        often enough. Recording an iteration twice (a resumed stage) returns the first record.
        An iteration whose selfplay did not start where the stage says (`start_fraction_played`
        given and different: no earlier games yet) is recorded but does not count toward the
        stage, so every stage is trained from its own start positions before it advances."""
        for old in self.history:
            if old["iteration"] == iteration:
                return old
        stage = self.stage
        rate = win_rates.get(stage.opponent)
        counts = start_fraction_played is None or start_fraction_played == stage.start_fraction
        if counts:
            self.iterations_in_stage += 1
        advance = (counts and rate is not None and rate >= stage.advance_win_rate
                   and self.iterations_in_stage >= stage.min_iterations and not self.finished)
        entry = {"iteration": iteration, "stage": self.stage_index + 1,
                 "difficulty": stage.difficulty, "start_fraction": stage.start_fraction,
                 "opponent": stage.opponent, "win_rate": rate,
                 "advance_win_rate": stage.advance_win_rate, "advanced": advance}
        if start_fraction_played is not None:
            entry["start_fraction_played"] = start_fraction_played
            entry["counted"] = counts
        if advance:
            self.stage_index += 1
            self.iterations_in_stage = 0
        entry["next_stage"] = self.stage_index + 1
        entry["next_difficulty"] = self.difficulty
        entry["next_start_fraction"] = self.start_fraction
        self.history.append(entry)
        return entry

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CurriculumManager:
        return cls(**data)

    def save(self, path: str | Path) -> None:
        from ringrift.atomic import atomic_write_text

        atomic_write_text(path, json.dumps(self.to_dict(), indent=1) + "\n")

    @classmethod
    def load_state(cls, path: str | Path, spec: dict[str, Any]) -> CurriculumManager:
        """The saved progress at `path`, else a fresh manager from the file's `spec`."""
        p = Path(path)
        if p.exists():
            try:
                return cls.from_dict(json.loads(p.read_text()))
            except (json.JSONDecodeError, TypeError) as exc:
                raise UserError(f"{p}: unreadable curriculum state ({exc})") from None
        return manager_from_spec(spec)


def _bad(problem: str) -> ConfigError:
    return ConfigError("curriculum", problem)


def manager_from_spec(spec: Any, source: str | None = None) -> CurriculumManager:
    """A manager from a curriculum's settings (a curriculum file's content). A bad one raises
    ConfigError("curriculum", problem), the problem prefixed with `source` (the file) if given."""
    try:
        return _manager(spec)
    except ConfigError as exc:
        if source is None:
            raise
        raise _bad(f"{source}: {exc.problem}") from None


def _manager(spec: Any) -> CurriculumManager:
    if not isinstance(spec, dict):
        raise _bad("must be a mapping of settings")
    unknown = sorted(set(spec) - set(_TOP_KEYS))
    if unknown:
        raise _bad(f"has an unknown setting {unknown[0]!r} (known: {', '.join(_TOP_KEYS)})")
    stages = spec.get("stages") or []
    if not isinstance(stages, list):
        raise _bad("stages must be a list")
    parsed = []
    for k, stage in enumerate(stages):
        if not isinstance(stage, dict) or "difficulty" not in stage:
            raise _bad(f"stage {k + 1} needs a difficulty")
        bad = sorted(set(stage) - set(_STAGE_KEYS))
        if bad:
            raise _bad(f"stage {k + 1}: unknown setting {bad[0]!r}")
        parsed.append(CurriculumStage(**stage))
    try:
        return CurriculumManager(**{k: v for k, v in spec.items() if k != "stages"},
                                 stages=parsed)
    except TypeError as exc:  # a setting of the wrong type
        raise _bad(f"has a setting of the wrong type ({exc})") from None


def load_curriculum_file(path: str | Path) -> dict[str, Any]:
    """The content of a curriculum file (JSON, or YAML with PyYAML), checked by building a
    manager from it. An unreadable or bad file raises ConfigError("curriculum", ...)."""
    p = Path(path)
    try:
        text = p.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise _bad(f"{p}: cannot read ({getattr(exc, 'strerror', None) or exc})") from None
    if p.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:
            raise _bad(f"{p}: YAML needs PyYAML (pip install pyyaml), or write the "
                       f"curriculum as JSON") from None
        try:
            spec = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise _bad(f"{p}: not valid YAML ({str(exc).splitlines()[0]})") from None
    else:
        try:
            spec = json.loads(text)
        except json.JSONDecodeError as exc:
            raise _bad(f"{p}: not valid JSON ({exc})") from None
    manager_from_spec(spec, str(p))
    return spec

"""The state of a loop run: a small JSON file written atomically after every stage.

A run killed at any moment (even SIGKILL) restarts from the stage it was in: finished stages are
never redone, and stages themselves resume (selfplay keeps finished games, training resumes from
its checkpoints).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ringrift.atomic import atomic_write_text
from ringrift.errors import UserError

STAGES = ("selfplay", "export", "train", "evaluate", "promote")


@dataclass
class LoopState:
    iteration: int = 0
    stage: str = STAGES[0]
    best_model: str | None = None  # path of the current best (promoted) model
    latest_model: str | None = None  # the newest trained model (promoted or not)
    history: list[dict[str, Any]] = field(default_factory=list)  # one summary per iteration
    current: dict[str, Any] = field(default_factory=dict)  # stage results of this iteration
    # --async-eval: the evaluation in flight (iteration, its train result, the best and
    # latest models when it started), so a killed loop starts its worker again
    pending_eval: dict[str, Any] | None = None

    def save(self, run_dir: Path) -> None:
        atomic_write_text(run_dir / "loop_state.json", json.dumps(asdict(self), indent=1))

    @classmethod
    def load(cls, run_dir: Path, saved_run_dir: str | None = None) -> LoopState:
        """The saved state of the loop in `run_dir`. Paths the state recorded under
        `saved_run_dir` (where the run was when it wrote them) are moved to `run_dir`, so a
        copied or moved run, or one resumed from another folder, acts on itself."""
        path = run_dir / "loop_state.json"
        if not path.exists():
            return cls()
        try:
            data = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise UserError(f"{path}: unreadable loop state ({exc})") from None
        problem = _field_problem(data)
        if problem:
            raise UserError(f"{path}: unreadable loop state ({problem})")
        state = cls(**data)
        if saved_run_dir and Path(saved_run_dir) not in (Path(run_dir), Path(".")):
            for name in ("best_model", "latest_model", "history", "current", "pending_eval"):
                setattr(state, name, _rebase(getattr(state, name), str(saved_run_dir),
                                             str(run_dir)))
        return state

    def advance(self) -> None:
        """Move to the next stage (or the next iteration after the last stage)."""
        i = STAGES.index(self.stage)
        if i + 1 < len(STAGES):
            self.stage = STAGES[i + 1]
        else:
            self.history.append(dict(self.current, iteration=self.iteration))
            self.current = {}
            self.iteration += 1
            self.stage = STAGES[0]


def _field_problem(data: Any) -> str | None:
    """What is wrong with the fields of a loaded state, or None."""
    if not isinstance(data, dict):
        return "not a JSON object"
    unknown = set(data) - set(LoopState.__dataclass_fields__)
    if unknown:
        return f"unknown field {sorted(unknown)[0]!r}"
    iteration = data.get("iteration", 0)
    if not isinstance(iteration, int) or isinstance(iteration, bool) or iteration < 0:
        return f"iteration must be a non-negative integer, got {iteration!r}"
    if data.get("stage", STAGES[0]) not in STAGES:
        return f"stage must be one of {', '.join(STAGES)}, got {data.get('stage')!r}"
    for name in ("best_model", "latest_model"):
        if not isinstance(data.get(name), str | None):
            return f"{name} must be a path or null, got {data.get(name)!r}"
    history = data.get("history", [])
    if not isinstance(history, list) or not all(isinstance(h, dict) for h in history):
        return "history must be a list of objects"
    if not isinstance(data.get("current", {}), dict):
        return "current must be an object"
    return None


def _rebase(value: Any, old: str, new: str) -> Any:
    """`value` with every path string under folder `old` moved under `new`."""
    if isinstance(value, str):
        old_path = Path(old)
        try:
            return str(Path(new) / Path(value).relative_to(old_path))
        except ValueError:
            return value
    if isinstance(value, list):
        return [_rebase(v, old, new) for v in value]
    if isinstance(value, dict):
        return {k: _rebase(v, old, new) for k, v in value.items()}
    return value

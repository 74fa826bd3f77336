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

    def save(self, run_dir: Path) -> None:
        atomic_write_text(run_dir / "loop_state.json", json.dumps(asdict(self), indent=1))

    @classmethod
    def load(cls, run_dir: Path) -> LoopState:
        path = run_dir / "loop_state.json"
        if not path.exists():
            return cls()
        try:
            return cls(**json.loads(path.read_text()))
        except (json.JSONDecodeError, TypeError) as exc:
            raise UserError(f"{path}: unreadable loop state ({exc})") from None

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

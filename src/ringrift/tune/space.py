"""The search space of `ringrift tune`: training flags and their ranges, from a small JSON file.

Format: {"<TrainConfig field>": {"type": "float", "low": L, "high": H, "log": bool} |
{"type": "int", "low": L, "high": H, "log": bool} | {"type": "categorical", "choices": [...]}}.
Only the training knobs in TUNABLE may be searched; the default space is `default_space.json`
beside this module (learning rate, weight decay, batch size, warmup, value/entropy weights,
label smoothing).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ringrift.errors import UserError

DEFAULT_SPACE = Path(__file__).with_name("default_space.json")

# TrainConfig fields a search may set, with the type of their values.
TUNABLE: dict[str, type] = {
    "learning_rate": float, "weight_decay": float, "batch_size": int, "warmup_epochs": float,
    "value_weight": float, "entropy_weight": float, "label_smoothing": float,
    "rank_weight": float, "lr_scheduler": str, "grad_accum": int, "channels": int,
    "blocks": int, "augment": bool, "pcgrad": bool,
}


@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # float | int | categorical
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple = ()

    def contains(self, value: Any) -> bool:
        if self.kind == "categorical":
            return value in self.choices
        return value is not None and self.low <= value <= self.high

    def suggest(self, trial) -> Any:
        """The value an Optuna trial draws for this parameter."""
        if self.kind == "float":
            return trial.suggest_float(self.name, self.low, self.high, log=self.log)
        if self.kind == "int":
            return trial.suggest_int(self.name, int(self.low), int(self.high), log=self.log)
        return trial.suggest_categorical(self.name, list(self.choices))


def load_space(path: str | Path | None = None) -> list[Param]:
    """Parse and check a search-space file (default: the packaged one); UserError naming the
    file and the parameter on any problem."""
    path = Path(path) if path else DEFAULT_SPACE
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        raise UserError(f"search space file {path} does not exist") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise UserError(f"{path}: not a readable JSON search space ({exc})") from None
    if not isinstance(raw, dict) or not raw:
        raise UserError(f"{path}: expected a non-empty JSON object of parameters")
    return [_param(path, name, spec) for name, spec in raw.items()]


def _param(path: Path, name: str, spec: Any) -> Param:
    if name not in TUNABLE:
        raise UserError(f"{path}: unknown parameter {name!r} (tunable: "
                        f"{', '.join(sorted(TUNABLE))})")
    if not isinstance(spec, dict):
        raise UserError(f"{path}: {name}: expected an object with a 'type'")
    kind = spec.get("type")
    unknown = set(spec) - {"type", "low", "high", "log", "choices"}
    if unknown:
        raise UserError(f"{path}: {name}: unknown key {sorted(unknown)[0]!r}")
    if kind == "categorical":
        choices = spec.get("choices")
        if not isinstance(choices, list) or not choices:
            raise UserError(f"{path}: {name}: 'choices' must be a non-empty list")
        want = TUNABLE[name]
        for c in choices:
            if not (isinstance(c, want) or (want is float and isinstance(c, int))) or (
                    want is int and isinstance(c, bool)):
                raise UserError(f"{path}: {name}: choice {c!r} is not a {want.__name__}")
        return Param(name, kind, choices=tuple(choices))
    if kind not in ("float", "int"):
        raise UserError(f"{path}: {name}: 'type' must be float, int or categorical")
    if kind == "float" and TUNABLE[name] is not float or kind == "int" and TUNABLE[name] is not int:
        raise UserError(f"{path}: {name} takes {TUNABLE[name].__name__} values, not {kind}")
    low, high, log = spec.get("low"), spec.get("high"), bool(spec.get("log", False))
    for key, value in (("low", low), ("high", high)):
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(
                value):
            raise UserError(f"{path}: {name}: '{key}' must be a finite number")
    if not low < high:
        raise UserError(f"{path}: {name}: 'low' must be below 'high'")
    if log and low <= 0:
        raise UserError(f"{path}: {name}: a log range needs 'low' > 0")
    return Param(name, kind, float(low), float(high), log)

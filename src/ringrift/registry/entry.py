"""Rows of the registry as plain dataclasses."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ModelEntry:
    """One registered model file. `path` is absolute; `version` counts per name from 1."""

    id: int
    name: str
    version: int
    board_type: str
    num_players: int
    architecture: str
    encoder_version: str
    sha256: str
    path: Path
    parent_id: int | None
    parent_sha256: str | None
    training_data: Any
    metrics: Any
    rating: float | None
    rating_low: float | None
    rating_high: float | None
    stage: str
    created_at: str
    updated_at: str

    @classmethod
    def from_row(cls, row: sqlite3.Row, base: Path) -> ModelEntry:
        """Build from a `models` row; relative paths are relative to the registry folder."""
        data = dict(row)
        stored = Path(data["path"])
        data["path"] = stored if stored.is_absolute() else base / stored
        for key in ("training_data", "metrics"):
            data[key] = None if data[key] is None else json.loads(data[key])
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        data = {field: getattr(self, field) for field in self.__dataclass_fields__}
        data["path"] = str(self.path)
        return data


@dataclass(frozen=True)
class Transition:
    """One recorded stage change (from_stage is None for the initial registration)."""

    model_id: int
    from_stage: str | None
    to_stage: str
    reason: str
    evidence: Any
    at: str

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Transition:
        evidence = None if row["evidence"] is None else json.loads(row["evidence"])
        return cls(model_id=row["model_id"], from_stage=row["from_stage"],
                   to_stage=row["to_stage"], reason=row["reason"], evidence=evidence,
                   at=row["at"])

    def to_dict(self) -> dict[str, Any]:
        return {field: getattr(self, field) for field in self.__dataclass_fields__}

"""The seed's quality classes over ringrift.data.quality's checks (one implementation):

    DatabaseQualityChecker().get_quality_score("games.db")          -> 0..100
    TrainingDataValidator().validate_npz_file("data.npz")           -> bool
    TrainingDataValidator().check_feature_distribution("data.npz")  -> per-plane statistics
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ringrift.data import quality
from ringrift.data.quality import QualityReport
from ringrift.errors import UserError


def check_npz_file(path: str | Path, detailed: bool = False) -> QualityReport:
    """Every check of `ringrift quality --npz` on one training file."""
    from ringrift.data.npz_format import read_npz

    arrays, meta = read_npz(path)
    return quality.check_arrays(arrays, meta, str(path), detailed=detailed)


class DatabaseQualityChecker:
    """Scores game databases (`ringrift quality --db`): structure, replays, targets."""

    def __init__(self, limit: int | None = None, detailed: bool = False) -> None:
        self.limit = limit  # check at most this many games per database (None: all)
        self.detailed = detailed
        self.last_report: QualityReport | None = None

    def check(self, db_path: str | Path) -> QualityReport:
        self.last_report = quality.check_database(str(db_path), detailed=self.detailed,
                                                  limit=self.limit)
        return self.last_report

    def get_quality_score(self, db_path: str | Path) -> int:
        """0 (unusable) to 100 (no problem found)."""
        return self.check(db_path).score


class TrainingDataValidator:
    """Validates training files (`ringrift quality --npz`) and describes their features."""

    def __init__(self, detailed: bool = False) -> None:
        self.detailed = detailed
        self.last_report: QualityReport | None = None

    def check(self, path: str | Path) -> QualityReport:
        try:
            self.last_report = check_npz_file(path, detailed=self.detailed)
        except UserError as exc:  # unreadable: a report with that one error
            self.last_report = QualityReport(str(path))
            self.last_report.error(str(exc))
            self.last_report.unusable = True
        return self.last_report

    def validate_npz_file(self, path: str | Path) -> bool:
        """True when the file has no errors (warnings allowed); the reasons are in
        `last_report.problems`."""
        return not self.check(path).errors

    def check_feature_distribution(self, path: str | Path) -> dict[str, Any]:
        """Per input plane and per global feature: mean, std, min, max and the fraction of
        non-zero entries, plus the planes that never vary (constant inputs teach nothing)."""
        from ringrift.data.npz_format import read_npz

        arrays, _ = read_npz(path)
        features, globals_ = arrays["features"], arrays["globals"]
        planes = [_describe(features[:, c]) for c in range(features.shape[1])]
        globals_stats = [_describe(globals_[:, g]) for g in range(globals_.shape[1])]
        return {
            "samples": int(features.shape[0]),
            "planes": planes,
            "globals": globals_stats,
            "constant_planes": [c for c, s in enumerate(planes) if s["std"] == 0.0],
            "constant_globals": [g for g, s in enumerate(globals_stats) if s["std"] == 0.0],
        }


def _describe(values: np.ndarray) -> dict[str, float]:
    if values.size == 0:
        return {"mean": 0.0, "std": 0.0, "min": 0.0, "max": 0.0, "nonzero": 0.0}
    v = values.astype(np.float64, copy=False)
    return {"mean": float(v.mean()), "std": float(v.std()), "min": float(v.min()),
            "max": float(v.max()), "nonzero": float(np.count_nonzero(v) / v.size)}

"""Data quality checks for game databases and training arrays.

Each check appends `Problem`s: "error" (hard: the data is wrong, e.g. a game that does not replay,
a policy that does not sum to 1, non-finite values) or "warning" (suspicious: duplicate games,
lopsided results, very short games). The report also carries distributions (results, lengths,
phases) and a 0-100 score. The trainer can call `check_arrays` on what it loads.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ringrift.data import npz_format
from ringrift.data.gamedb import GameDB
from ringrift.data.replay import verify_record
from ringrift.errors import UserError


@dataclass
class Problem:
    severity: str  # "error" or "warning"
    message: str


@dataclass
class QualityReport:
    source: str
    problems: list[Problem] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    unusable: bool = False  # the trainer would refuse it: the score is 0

    def error(self, message: str) -> None:
        self.problems.append(Problem("error", message))

    def warning(self, message: str) -> None:
        self.problems.append(Problem("warning", message))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def score(self) -> int:
        """100 minus 25 per kind of hard error and 5 per warning, floored at 0 (0 for data the
        trainer refuses)."""
        if self.unusable:
            return 0
        return max(0, 100 - 25 * len(self.errors) - 5 * (len(self.problems) - len(self.errors)))

    def as_json(self) -> dict[str, Any]:
        return {"source": self.source, "score": self.score, "stats": self.stats,
                "problems": [p.__dict__ for p in self.problems]}


# --------------------------------------------------------------------------- databases
def check_database(path: str, detailed: bool = False, limit: int | None = None) -> QualityReport:
    report = QualityReport(path)
    lengths: list[int] = []
    results: Counter[str] = Counter()
    phases: Counter[str] = Counter()
    seen: dict[str, str] = {}
    duplicates = 0
    not_replaying = []
    with GameDB(path, readonly=True) as db:
        for problem in db.check():
            report.error(problem)
        for record in db.iter_games(limit=limit):
            lengths.append(record.move_count)
            config = f"{record.board_type}_{record.num_players}p"
            results[f"{config} winner {record.winner} ({record.victory_reason or record.status})"] \
                += 1
            phases.update(m.phase for m in record.moves)
            digest = hashlib.sha256(repr([m.move for m in record.moves]).encode()).hexdigest()
            key = f"{config}:{digest}"
            if key in seen:
                duplicates += 1
                if detailed:
                    report.warning(f"game {record.game_id} duplicates game {seen[key]}")
            else:
                seen[key] = record.game_id
            error = verify_record(record)
            if error:
                not_replaying.append(error)
            for m in record.moves:
                bad = _bad_move_targets(m.policy, m.value, record.num_players)
                if bad:
                    report.error(f"game {record.game_id} move {m.index}: {bad}")
                    break
    for error in not_replaying[: None if detailed else 5]:
        report.error(error)
    if len(not_replaying) > 5 and not detailed:
        report.error(f"... and {len(not_replaying) - 5} more games that do not replay")
    if duplicates and not detailed:
        report.warning(f"{duplicates} duplicate game(s) (same moves as an earlier game)")
    games = len(lengths)
    if games == 0:
        report.warning("the database holds no games")
    report.stats = {
        "games": games,
        "duplicates": duplicates,
        "not_replaying": len(not_replaying),
        "length": _summary(lengths),
        "results": dict(results.most_common()),
        "phases": dict(phases.most_common()),
    }
    if lengths and np.mean(lengths) < 20:
        report.warning(f"games are very short (mean {np.mean(lengths):.1f} moves)")
    return report


def _bad_move_targets(policy, value, num_players: int) -> str | None:
    if policy is not None:
        probs = np.asarray([p for _, p in policy], dtype=np.float64)
        if not np.all(np.isfinite(probs)) or np.any(probs < 0):
            return "search policy has negative or non-finite probabilities"
        if probs.size and abs(probs.sum() - 1.0) > 1e-3:
            return f"search policy sums to {probs.sum():.4f}, not 1"
    if value is not None:
        v = np.asarray(value, dtype=np.float64)
        if v.shape != (num_players,) or not np.all(np.isfinite(v)) or np.any(np.abs(v) > 1 + 1e-6):
            return f"value estimate {value} is not {num_players} finite numbers in [-1, 1]"
    return None


# --------------------------------------------------------------------------- arrays
def check_arrays(arrays: dict[str, np.ndarray], meta: dict[str, Any],
                 source: str = "arrays", detailed: bool = False) -> QualityReport:
    """Structural and statistical checks of exported training arrays."""
    report = QualityReport(source)
    try:  # the training loader's own checks first: what `train` refuses scores 0 here
        npz_format.validate(source, arrays, meta)
    except UserError as exc:
        report.error(str(exc))
        report.unusable = True
        return report
    n = npz_format.sample_count(arrays)
    players = int(meta.get("num_players", arrays["values"].shape[1] if n else 0))
    policy_size = int(meta.get("policy_size", 0))
    for key in (f.name for f in npz_format.ARRAY_FIELDS if f.per_sample and f.name in arrays):
        if len(arrays[key]) != n:
            report.error(f"{key} has {len(arrays[key])} rows, expected {n}")
    for key in ("features", "globals", "values", "policy_probs"):
        if not np.all(np.isfinite(arrays[key])):
            report.error(f"{key} contains non-finite numbers")
    values = arrays["values"]
    if values.size and (np.abs(values).max() > 1 + 1e-6):
        report.error("values outside [-1, 1]")
    if values.ndim != 2 or (n and values.shape[1] != players):
        report.error(f"values have shape {values.shape}, expected ({n}, {players})")
    _check_sparse(report, arrays, "policy", n, policy_size)
    _check_sparse(report, arrays, "legal", n, policy_size)
    if not report.errors:
        _check_policy_against_legal(report, arrays, n, detailed)
    games = len(set(arrays["game_ids"].tolist())) if n else 0
    duplicates = _duplicate_games(arrays, n)
    if duplicates:
        report.warning(f"{duplicates} game(s) have exactly the same samples as another game")
    if n == 0:
        report.warning("no samples")
    winners: Counter[int] = Counter()
    if n and values.ndim == 2:
        winners.update(np.argmax(values, axis=1).tolist())
        draws = int(np.sum(np.all(values == values[:, :1], axis=1)))
        if draws > 0.5 * n:
            report.warning(f"{draws} of {n} samples have equal values for every player "
                           "(unfinished games?)")
    report.stats = {
        "samples": int(n),
        "games": games,
        "samples_per_game": round(n / games, 1) if games else 0,
        "duplicate_games": duplicates,
        "mean_legal_moves": (float(np.mean(np.diff(arrays["legal_offsets"]))) if n else 0.0),
        "mean_policy_entries": (float(np.mean(np.diff(arrays["policy_offsets"]))) if n else 0.0),
        "value_mean_by_slot": values.mean(axis=0).round(3).tolist() if n else [],
        "best_slot_counts": dict(sorted(winners.items())),
    }
    return report


def _duplicate_games(arrays: dict[str, np.ndarray], n: int) -> int:
    """Games whose samples (positions and targets) repeat another game's exactly."""
    if not n:
        return 0
    ids = arrays["game_ids"]
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    ends = np.r_[starts[1:], n]
    po, pi = arrays["policy_offsets"], arrays["policy_indices"]
    seen: set[str] = set()
    duplicates = 0
    for a, b in zip(starts, ends):
        h = hashlib.sha256(arrays["features"][a:b].tobytes())
        h.update(pi[po[a]:po[b]].tobytes())
        digest = h.hexdigest()
        if digest in seen:
            duplicates += 1
        seen.add(digest)
    return duplicates


def _check_sparse(report: QualityReport, arrays: dict[str, np.ndarray], name: str, n: int,
                  policy_size: int) -> None:
    offsets = arrays[f"{name}_offsets"]
    indices = arrays[f"{name}_indices"]
    if len(offsets) != n + 1 or (n and (offsets[0] != 0 or np.any(np.diff(offsets) < 0))):
        report.error(f"{name}_offsets are not {n + 1} non-decreasing offsets from 0")
        return
    if offsets[-1] != len(indices):
        report.error(f"{name}_offsets end at {offsets[-1]} but there are {len(indices)} indices")
        return
    if indices.size and (indices.min() < 0 or (policy_size and indices.max() >= policy_size)):
        report.error(f"{name}_indices outside [0, {policy_size})")
    if n and np.any(np.diff(offsets) == 0):
        report.error(f"some samples have no {name} entries")


def _check_policy_against_legal(report: QualityReport, arrays: dict[str, np.ndarray], n: int,
                                detailed: bool) -> None:
    po, pi, pp = arrays["policy_offsets"], arrays["policy_indices"], arrays["policy_probs"]
    lo, li = arrays["legal_offsets"], arrays["legal_indices"]
    sums = np.add.reduceat(pp, po[:-1]) if n else np.zeros(0)
    bad_sum = np.nonzero(np.abs(sums - 1.0) > 1e-3)[0]
    if bad_sum.size:
        report.error(f"{bad_sum.size} policies do not sum to 1 (first: sample {bad_sum[0]}, "
                     f"sum {sums[bad_sum[0]]:.4f})")
    if np.any(pp < 0):
        report.error("negative policy probabilities")
    illegal = 0
    duplicate_legal = 0
    first_illegal = -1
    for i in range(n):
        legal = li[lo[i]:lo[i + 1]]
        if len(np.unique(legal)) != len(legal):
            duplicate_legal += 1
        if not np.all(np.isin(pi[po[i]:po[i + 1]], legal)):
            illegal += 1
            if first_illegal < 0:
                first_illegal = i
    if illegal:
        report.error(f"{illegal} policy targets put mass on illegal indices (first: sample "
                     f"{first_illegal})")
    if duplicate_legal:
        report.error(f"{duplicate_legal} samples list the same legal index twice (collision)")


def _summary(values: list[int]) -> dict[str, float]:
    if not values:
        return {}
    arr = np.asarray(values)
    return {"mean": round(float(arr.mean()), 1), "min": int(arr.min()), "max": int(arr.max()),
            "p10": float(np.percentile(arr, 10)), "p90": float(np.percentile(arr, 90))}


if __name__ == "__main__":  # `python -m ringrift.data.quality ...` is `ringrift quality ...`
    import importlib  # (by name: the data layer does not depend on the CLI, only this shim)
    import sys

    sys.exit(importlib.import_module("ringrift.cli.main").main(["quality", *sys.argv[1:]]))

"""Elo-based early stopping: every K epochs the current weights play a short match series and
training stops (keeping the best-Elo weights) once the Elo estimate has not improved by E for N
checks.

Two pieces behind one seam, so the decision logic is tested on a scripted Elo sequence:
- `EloEarlyStopping`: the decision (best Elo, checks without improvement, stop), resumable
  through `state()` / `restore()`;
- a scorer: `scorer(candidate, epoch, previous) -> Elo`. `MatchEloScorer` plays the candidate
  (policy-only) against a fixed opponent (the anchor, Elo 0) and against the previous check's
  weights, and fits one Bradley-Terry model (`evaluate.elo.fit_elo`) over every game of the
  run's checks so far; the candidate's rating in that fit is its estimate. Earlier estimates
  are not revised afterwards: each check is compared with the best value recorded.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ringrift.rules.spec import GameSpec

# (candidate model file, its epoch (1-based), the previous check's model file or None) -> Elo
EloScorer = Callable[[Path, int, Path | None], float]


def check_name(epoch: int) -> str:
    """The rated name of the weights checked after `epoch` (1-based)."""
    return f"epoch_{epoch:04d}"


@dataclass
class EloCheck:
    epoch: int
    elo: float
    improved: bool
    low: float | None = None
    high: float | None = None


@dataclass
class EloEarlyStopping:
    """Stop after `patience` checks without an Elo gain of more than `min_improvement` over
    the best so far (like loss early stopping's patience, counted in checks, not epochs)."""

    patience: int
    min_improvement: float = 5.0
    best_elo: float = -math.inf
    best_epoch: int | None = None
    bad_checks: int = 0
    stopped: bool = False
    history: list[dict[str, Any]] = field(default_factory=list)

    def update(self, epoch: int, elo: float, interval: tuple[float, float] | None = None
               ) -> EloCheck:
        """Record the Elo measured after `epoch`; returns whether it is the new best."""
        improved = elo > self.best_elo + self.min_improvement
        if improved:
            self.best_elo, self.best_epoch, self.bad_checks = elo, epoch, 0
        else:
            self.bad_checks += 1
        if self.patience and self.bad_checks >= self.patience:
            self.stopped = True
        check = EloCheck(epoch, elo, improved, *(interval or (None, None)))
        self.history.append({"epoch": epoch, "elo": elo, "low": check.low, "high": check.high,
                             "improved": improved, "bad_checks": self.bad_checks})
        return check

    def state(self) -> dict[str, Any]:
        return {"best_elo": None if self.best_elo == -math.inf else self.best_elo,
                "best_epoch": self.best_epoch, "bad_checks": self.bad_checks,
                "stopped": self.stopped, "history": list(self.history)}

    def restore(self, state: dict[str, Any]) -> None:
        best = state.get("best_elo")
        self.best_elo = -math.inf if best is None else float(best)
        self.best_epoch = state.get("best_epoch")
        self.bad_checks = int(state.get("bad_checks", 0))
        self.stopped = bool(state.get("stopped", False))
        self.history = list(state.get("history", []))


class MatchEloScorer:
    """Plays `games` games of the candidate against the fixed `opponent` engine and as many
    against the previous check's weights; the Elo comes from one fit over all checks' games,
    the opponent anchored at 0. `state()` holds those games' counts (for a resumed run)."""

    def __init__(self, spec: GameSpec, *, opponent: str = "heuristic",
                 games: int = 20, seed: int = 0, engine: str = "policy-only") -> None:
        from ringrift.errors import ConfigError

        if games < 1:
            raise ConfigError("elo_games", "must be >= 1")  # (TrainConfig.elo_games)
        self.spec = spec
        self.opponent = opponent
        self.games = games
        self.seed = seed
        self.engine = engine
        # (a, b, wins of a, draws, losses of a): every match played so far
        self.results: list[list[Any]] = []
        self.last_interval: tuple[float, float] | None = None

    def _spec(self, path: Path, epoch: int | None):
        from ringrift.ai.options import EngineOptions
        from ringrift.evaluate.engine_spec import EngineSpec

        if path is None:
            return EngineSpec.build(self.opponent)
        return EngineSpec.build(self.engine, EngineOptions(model_path=str(path)),
                                name=check_name(epoch))

    def __call__(self, candidate: Path, epoch: int, previous: Path | None) -> float:
        from ringrift.evaluate.elo import fit_elo
        from ringrift.evaluate.match import play_match
        from ringrift.evaluate.pairwise import PairwiseResults

        me = self._spec(candidate, epoch)
        opponents = [self._spec(None, None)]
        if previous is not None and previous.exists():  # (gone: a resume redid a check)
            opponents.append(self._spec(previous, _epoch_of(previous)))
        for k, other in enumerate(opponents):
            result = play_match(me, other, self.spec, self.games,
                                seed=self.seed * 1000 + epoch * 10 + k)
            self.results.append([me.name, other.name, result.wins, result.draws,
                                 result.losses])
        pairs = PairwiseResults()
        pairs.add_participant(self.opponent)
        for a, b, wins, draws, losses in self.results:
            for score, count in ((1.0, wins), (0.5, draws), (0.0, losses)):
                for _ in range(count):
                    pairs.add(a, b, score)
        rating = fit_elo(pairs, anchor=self.opponent)[me.name]
        self.last_interval = (rating.low, rating.high)
        return rating.elo

    def state(self) -> dict[str, Any]:
        return {"results": [list(r) for r in self.results]}

    def restore(self, state: dict[str, Any]) -> None:
        self.results = [list(r) for r in state.get("results", [])]


def _epoch_of(path: Path) -> int:
    # (files are named elo_epoch_NNNN.pt by the trainer)
    return int(path.stem.rsplit("_", 1)[-1])


class EloMonitor:
    """The trainer's side: writes the weights of a checked epoch to `folder`/elo_epoch_N.pt,
    scores them, keeps only the previous check's and the best check's files, and holds the
    state that goes into training checkpoints (so a resumed run continues the same checks)."""

    def __init__(self, folder: Path, scorer: EloScorer, stopping: EloEarlyStopping) -> None:
        self.folder = Path(folder)
        self.scorer = scorer
        self.stopping = stopping
        self.previous: Path | None = None

    def path(self, epoch: int) -> Path:
        return self.folder / f"elo_epoch_{epoch:04d}.pt"

    def best_path(self) -> Path | None:
        epoch = self.stopping.best_epoch
        return None if epoch is None else self.path(epoch)

    def check(self, epoch: int, payload: dict[str, Any]) -> EloCheck:
        """Score the weights in `payload` (a model file's payload) after `epoch` (1-based)."""
        from ringrift.train.checkpoint import save_checkpoint

        path = self.path(epoch)
        save_checkpoint(path, payload)
        old_best = self.best_path()
        elo = float(self.scorer(path, epoch, self.previous))
        interval = getattr(self.scorer, "last_interval", None)
        result = self.stopping.update(epoch, elo, interval)
        # only this check's file (the next one's "previous") and the best one are needed
        for stale in {self.previous, old_best} - {path, self.best_path(), None}:
            _remove_model_file(stale)
        self.previous = path
        return result

    def state(self) -> dict[str, Any]:
        scorer_state = getattr(self.scorer, "state", None)
        return {**self.stopping.state(),
                "previous": None if self.previous is None else self.previous.name,
                "scorer": scorer_state() if scorer_state else None}

    def restore(self, state: dict[str, Any]) -> None:
        if not state:
            return
        self.stopping.restore(state)
        self.previous = self.folder / state["previous"] if state.get("previous") else None
        restore = getattr(self.scorer, "restore", None)
        if restore is not None and state.get("scorer"):
            restore(state["scorer"])


def monitor_for(cfg: Any, folder: Path, scorer: EloScorer | None) -> EloMonitor | None:
    """The Elo monitor a TrainConfig asks for (None when Elo early stopping is off); the
    match scorer unless one is injected."""
    if not cfg.elo_early_stopping_patience:
        return None
    if scorer is None:
        scorer = MatchEloScorer(cfg.spec, opponent=cfg.elo_opponent,
                                games=cfg.elo_games, seed=cfg.seed)
    return EloMonitor(folder, scorer, EloEarlyStopping(cfg.elo_early_stopping_patience,
                                                       cfg.elo_min_improvement))


def _remove_model_file(path: Path) -> None:
    from ringrift.nn.model_file import sidecar_path

    for p in (path, sidecar_path(path)):
        try:
            p.unlink()
        except OSError:
            pass

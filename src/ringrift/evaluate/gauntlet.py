"""The gauntlet: a candidate against a list of opponents, each with a pass threshold.

Against each opponent the candidate plays a match (candidate in one seat, the opponent engine in
all the others, seats rotated; a win is a sole first place, a shared first place is a draw).
The result is the score rate (wins + draws/2) / games with a 95% Wilson interval, and the match
stops early as soon as the verdict can no longer change (`gauntlet_verdict` after every game).

Opponents: "random", "heuristic" (or any engine the factory knows), and "previous": the
previous model, played with the candidate's engine and options. With `sprt=(elo0, elo1)` the
previous-model match is a sequential test instead: it runs until the SPRT accepts H1 (pass) or H0
(fail), or stops undecided at `sprt_max_games`. For 3-4 players each game feeds the SPRT one
pairwise result per opponent seat (by final rank, as in Elo fitting); these are correlated, so
the test's error rates are somewhat above the nominal alpha and beta there.

Workers. `run(workers=N)` plays each match's games in N processes (one pool kept for all the
opponents), a sliding window of games ahead of the next one due; results are taken strictly in
game order, the verdict (or SPRT) is updated in that order, and the match stops at exactly the
game a one-worker run stops at. Games still running past that point are discarded: not stored,
not counted. So the W-D-L, verdicts and game counts do not depend on the number of workers.
`batch_size=B` has each worker play B games at once with their leaf evaluations batched (one
network call per round instead of one per position: much faster for network players); the games
are the same up to floating-point differences between batch sizes, and B games per worker are
in flight, so a decided match may discard more unfinished games.

Default thresholds. Two players: random 0.85, heuristic 0.60, previous 0.55. With N players a
first place against N-1 copies of the opponent is harder (1/N at equal strength), so the default
asks for the same Elo edge as the two-player threshold, under the Bradley-Terry / Luce choice
model: with r = s/(1-s) the two-player odds, the N-player threshold is r / (r + N - 1), rounded
to two decimals: 3 players random 0.74, heuristic 0.43, previous 0.38; 4 players random 0.65,
heuristic 0.33, previous 0.29.

Report-only opponents (threshold None, "--thresholds heuristic=none"): every planned game is
played and the win rate reported (verdict "reported"), but the opponent gates nothing: a loop can
track its strength against a reference it is not expected to beat yet.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

from ringrift import rules
from ringrift.ai.game import DEFAULT_MAX_MOVES
from ringrift.config_defaults import DEFAULT_GAMES_PER_WORKER, DEFAULT_WORKERS
from ringrift.errors import ConfigError, UserError
from ringrift.evaluate.engine_spec import EngineSpec
from ringrift.evaluate.match import MatchResult, seat_outcome
from ringrift.evaluate.series import Series, pairwise_counts
from ringrift.evaluate.sprt import SPRT
from ringrift.evaluate.verdict import Verdict, gauntlet_verdict
from ringrift.exec import Executor, check_batch_size, check_workers

PREVIOUS = "previous"
DEFAULT_OPPONENTS = ("random", "heuristic", PREVIOUS)
TWO_PLAYER_THRESHOLDS = {"random": 0.85, "heuristic": 0.60, PREVIOUS: 0.55}


def default_thresholds(num_players: int) -> dict[str, float]:
    """Default pass thresholds for `num_players` (see the module docstring)."""
    out = {}
    for name, s in TWO_PLAYER_THRESHOLDS.items():
        odds = s / (1.0 - s)
        out[name] = round(odds / (odds + num_players - 1), 2)
    return out


@dataclass
class GauntletConfig:
    """What to play: board, players, opponents, thresholds (overrides of the defaults), games."""

    board_type: str
    num_players: int
    games: int = 100
    opponents: tuple[str, ...] = DEFAULT_OPPONENTS
    thresholds: dict[str, float | None] = field(default_factory=dict)  # None: report-only
    seed: int = 0
    sprt: tuple[float, float] | None = None
    sprt_alpha: float = 0.05
    sprt_beta: float = 0.05
    sprt_max_games: int = 400
    max_moves: int = DEFAULT_MAX_MOVES
    stop_on_fail: bool = False

    @property
    def spec(self) -> rules.GameSpec:
        return rules.GameSpec.checked(self.board_type, self.num_players, error=UserError)

    def validate(self) -> None:
        self.spec  # noqa: B018 (validates board type and player count)
        if self.games < 1:
            raise ConfigError("games", f"must be at least 1, got {self.games}")
        if self.max_moves < 1:
            raise ConfigError("max_moves", f"must be at least 1, got {self.max_moves}")
        if not self.opponents:
            raise ConfigError("opponents", "names no opponent")
        if not all(self.opponents):
            raise ConfigError("opponents", f"has an empty name: {list(self.opponents)}")
        repeated = sorted({n for n in self.opponents if self.opponents.count(n) > 1})
        if repeated:
            raise ConfigError("opponents", f"lists {', '.join(repeated)} twice")
        for name, value in self.thresholds.items():
            if value is not None and not (math.isfinite(value) and 0.0 <= value <= 1.0):
                raise ConfigError("thresholds", f"for {name} must be in [0, 1], got {value:g}")
        known = set(self.opponents) | set(DEFAULT_OPPONENTS)
        unknown = sorted(set(self.thresholds) - known)
        if unknown:
            raise ConfigError("thresholds", f"names {', '.join(unknown)}, not an opponent "
                              f"(opponents: {', '.join(self.opponents)})")
        for name in self.opponents:
            self.threshold(name)
        if self.sprt is not None:
            if len(self.sprt) != 2 or not all(math.isfinite(e) for e in self.sprt) \
                    or self.sprt[1] <= self.sprt[0]:
                raise ConfigError("sprt", "needs finite elo0 < elo1, got "
                                  f"{','.join(f'{e:g}' for e in self.sprt)}")
            if PREVIOUS not in self.opponents:
                raise ConfigError("sprt", "tests the previous model, but the opponent list does not "
                                  "include 'previous'")
            if self.sprt_max_games < 1:
                raise ConfigError("sprt_max_games", f"must be at least 1, got "
                                  f"{self.sprt_max_games}")
            for name in ("sprt_alpha", "sprt_beta"):  # the SPRT's error rates
                if not 0.0 < getattr(self, name) < 0.5:
                    raise ConfigError(name, f"must be in (0, 0.5), got {getattr(self, name)}")

    def threshold(self, opponent: str) -> float | None:
        """Pass threshold for `opponent`: the explicit one (None: report-only), else the
        player-count default."""
        if opponent in self.thresholds:
            return self.thresholds[opponent]
        defaults = default_thresholds(self.num_players)
        if opponent not in defaults:
            raise ConfigError("thresholds", f"gives none for opponent {opponent!r}, which has no "
                              f"default threshold (add {opponent}=RATE)")
        return defaults[opponent]

    def uses_sprt(self, opponent: str) -> bool:
        return self.sprt is not None and opponent == PREVIOUS


@dataclass
class OpponentResult:
    """The candidate's record against one opponent."""

    opponent: str  # label in the opponent list ("random", "previous", ...)
    name: str  # the opponent's rated name
    threshold: float | None  # None when an SPRT decides, or the opponent is report-only
    planned: int  # games planned (the cap, for an SPRT)
    match: MatchResult
    verdict: Verdict = "undecided"
    resumed: int = 0  # games read back from the database instead of played
    sprt: SPRT | None = None

    @property
    def games(self) -> int:
        return self.match.games

    @property
    def early_stop(self) -> bool:
        return self.verdict != "undecided" and self.games < self.planned

    def to_dict(self) -> dict[str, Any]:
        low, high = self.match.interval()
        return {"opponent": self.opponent, "name": self.name, "threshold": self.threshold,
                "games": self.games, "games_planned": self.planned, "wins": self.match.wins,
                "draws": self.match.draws, "losses": self.match.losses,
                "win_rate": self.match.win_rate, "ci95": [low, high], "verdict": self.verdict,
                "early_stop": self.early_stop, "resumed_games": self.resumed,
                "sprt": None if self.sprt is None else self.sprt.summary()}


@dataclass
class GauntletResult:
    candidate: EngineSpec
    config: GauntletConfig
    results: list[OpponentResult]
    skipped: list[tuple[str, str]]  # (opponent, why it was not played)
    db_path: str | None = None

    @property
    def verdict(self) -> Verdict:
        """'fail' if any opponent failed, 'undecided' if any SPRT ran out of games, 'no games'
        when no opponent could be played (0 games are no evidence), else 'pass'."""
        if not self.results:
            return "no games"
        verdicts = {r.verdict for r in self.results}
        if "fail" in verdicts:
            return "fail"
        return "undecided" if "undecided" in verdicts else "pass"

    @property
    def passed(self) -> bool:
        return self.verdict == "pass"

    @property
    def games(self) -> int:
        return sum(r.games for r in self.results)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready evidence: per opponent win rates, intervals, verdicts, SPRT, game counts."""
        cfg = self.config
        return {"candidate": self.candidate.describe(), "board_type": cfg.board_type,
                "num_players": cfg.num_players, "seed": cfg.seed, "games_per_opponent":
                cfg.games, "verdict": self.verdict, "passed": self.passed,
                "games": self.games, "db": self.db_path,
                "opponents": [r.to_dict() for r in self.results],
                "skipped": [{"opponent": o, "reason": why} for o, why in self.skipped]}

    def table(self) -> list[str]:
        """Human-readable lines: one row per opponent, then notes and the overall verdict."""
        cfg = self.config
        lines = [f"gauntlet: {self.candidate.name} ({self.candidate.engine}) on "
                 f"{cfg.board_type} {cfg.num_players}p, seed {cfg.seed}"]
        header = ("OPPONENT", "NAME", "GAMES", "W-D-L", "WIN RATE", "95% CI", "NEEDS", "VERDICT")
        rows = []
        for r in self.results:
            low, high = r.match.interval()
            needs = ("SPRT" if r.sprt is not None else
                     "-" if r.threshold is None else f"{r.threshold:.0%}")
            verdict = r.verdict
            if r.sprt is not None:
                s = r.sprt
                verdict += (f" (SPRT {s.elo0:g},{s.elo1:g}: {s.status}, llr {s.llr:.2f} in "
                            f"[{s.lower:.2f}, {s.upper:.2f}])")
            elif r.early_stop:
                verdict += " (early stop)"
            rows.append((r.opponent, r.name, f"{r.games}/{r.planned}",
                         f"{r.match.wins}-{r.match.draws}-{r.match.losses}",
                         f"{r.match.win_rate:.1%}", f"[{low:.1%}, {high:.1%}]", needs, verdict))
        if rows:
            widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
            for row in (header, *rows):
                lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True))
                             .rstrip())
        for opponent, why in self.skipped:
            lines.append(f"skipped {opponent}: {why}")
        resumed = sum(r.resumed for r in self.results)
        if self.db_path:
            note = f" ({resumed} read back from an earlier run)" if resumed else ""
            lines.append(f"{self.games} games in {self.db_path}{note}")
        lines.append(f"result: {self.verdict.upper()}")
        return lines


GameCallback = Callable[[OpponentResult], None]


class Gauntlet:
    """A candidate and its prepared opponents; constructing it checks every flag and player, so
    bad input fails before anything is played or written."""

    def __init__(self, candidate: EngineSpec, config: GauntletConfig, *,
                 previous: EngineSpec | None = None, previous_note: str | None = None) -> None:
        config.validate()
        self.candidate = candidate
        self.config = config
        self.opponents: list[tuple[str, EngineSpec]] = []
        self.skipped: list[tuple[str, str]] = []
        candidate.check(config.spec)
        for label in config.opponents:
            if label == PREVIOUS:
                if previous is None:
                    self.skipped.append((label, previous_note or "no previous model"))
                    continue
                spec = previous
            else:
                spec = EngineSpec.build(label)
            if spec.name == candidate.name:
                raise ConfigError("name", f"{spec.name!r} is also the name of opponent "
                                          f"{label!r}; give the candidate another")
            spec.check(config.spec)
            self.opponents.append((label, spec))

    def run(self, db=None, on_game: GameCallback | None = None, *,
            workers: int = DEFAULT_WORKERS, batch_size: int = DEFAULT_GAMES_PER_WORKER,
            backend: str = "local", ray_address: str | None = None) -> GauntletResult:
        """Play (or resume) every opponent's match; `db` stores the games (None: not stored).
        `workers` processes play the games, with the same result as one, `batch_size` games at
        once in each (module docstring)."""
        check_workers(workers)
        check_batch_size(batch_size)
        results: list[OpponentResult] = []
        skipped = list(self.skipped)
        specs = [self.candidate, *(spec for _, spec in self.opponents)]
        with Executor.for_players(specs, workers, backend=backend,
                                  ray_address=ray_address) as pool:
            for k, (label, spec) in enumerate(self.opponents):
                result = self._play(label, spec, db, on_game, pool, batch_size)
                results.append(result)
                if self.config.stop_on_fail and result.verdict not in ("pass", "reported"):
                    why = f"not played: {label} ended {result.verdict}"
                    skipped += [(later, why) for later, _ in self.opponents[k + 1:]]
                    break
        db_path = None if db is None else str(db.path)
        return GauntletResult(self.candidate, self.config, results, skipped, db_path)

    def _play(self, label: str, spec: EngineSpec, db, on_game: GameCallback | None,
              pool: Executor, batch_size: int) -> OpponentResult:
        cfg = self.config
        n = cfg.num_players
        sprt = None
        if cfg.uses_sprt(label):
            sprt = SPRT(*cfg.sprt, alpha=cfg.sprt_alpha, beta=cfg.sprt_beta)
            planned, threshold = cfg.sprt_max_games, None
        else:
            planned, threshold = cfg.games, cfg.threshold(label)
        result = OpponentResult(label, spec.name, threshold, planned,
                                MatchResult(self.candidate.name, spec.name), sprt=sprt)
        series = Series("gauntlet", [self.candidate, spec], cfg.spec, cfg.seed,
                        candidate_seating(n), db=db, max_moves=cfg.max_moves)
        games = series.games(range(planned), pool,
                             lambda index: {"candidate_seat": index % n + 1}, batch_size)
        with closing(games):  # stopping early discards the games still being played
            for game in games:
                seat = game.index % n
                result.match.add(seat_outcome(game.ranks, seat))
                result.resumed += game.stored
                if sprt is not None:
                    wins, draws, losses = pairwise_counts(game.ranks, seat, n)
                    status = sprt.update_counts(wins, draws, losses)
                    result.verdict = {"accept_h1": "pass",
                                      "accept_h0": "fail"}.get(status, "undecided")
                elif threshold is None:  # report-only: every game, no gate
                    result.verdict = "reported" if result.games == planned else "undecided"
                else:
                    result.verdict = gauntlet_verdict(result.match.wins, result.match.draws,
                                                      result.match.losses, planned, threshold)
                if on_game is not None:
                    on_game(result)
                if result.verdict != "undecided":
                    break
        return result


def candidate_seating(num_players: int) -> Callable[[int], list[int]]:
    """Game g seats the candidate (participant 0) in seat (g mod N) + 1, the opponent elsewhere."""
    def seating(index: int) -> list[int]:
        return [0 if s == index % num_players else 1 for s in range(num_players)]

    return seating


def previous_spec(candidate: EngineSpec, model_path: str,
                  name: str | None = None) -> tuple[EngineSpec | None, str | None]:
    """The previous model played like the candidate, or (None, why it is skipped)."""
    spec = candidate.with_model(model_path, name)
    if candidate.sha256 is not None and spec.sha256 == candidate.sha256:
        return None, f"the previous model {model_path} is the candidate itself"
    if spec.name == candidate.name:
        spec = spec.renamed(f"{spec.name}@{spec.sha256[:8]}")
    return spec, None


def run_gauntlet(candidate: EngineSpec, config: GauntletConfig, *,
                 previous: EngineSpec | None = None, previous_note: str | None = None,
                 db=None, on_game: GameCallback | None = None,
                 workers: int = DEFAULT_WORKERS, batch_size: int = DEFAULT_GAMES_PER_WORKER,
                 backend: str = "local", ray_address: str | None = None) -> GauntletResult:
    """Check everything, then play the gauntlet (see `Gauntlet`) with `workers` processes,
    `batch_size` games at once in each."""
    check_workers(workers)
    check_batch_size(batch_size)
    return Gauntlet(candidate, config, previous=previous,
                    previous_note=previous_note).run(db, on_game, workers=workers,
                                                     batch_size=batch_size, backend=backend,
                                                     ray_address=ray_address)


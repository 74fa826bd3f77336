"""Gate a model with the gauntlet and move it through the registry's stages.

`gate_and_promote` registers the model file if needed, plays the gauntlet (the "previous"
opponent is the registry's production model of the configuration, tested with the SPRT when one
is configured), then:

- pass: development -> staging -> production (the registry archives the old production model),
  each transition recording the evidence (per opponent win rates, intervals, verdicts, SPRT
  summary, game counts, database, seed, the model it replaced);
- fail: -> rejected, with the same evidence;
- undecided (the SPRT reached its game cap without a decision): the model stays where it was
  (development), so it can be gated again with a higher cap; nothing is recorded in the registry.

A model already in production or already rejected is reported as such without playing
("already_production", promoted; "already_rejected", not promoted), with the evidence recorded by
that transition, so a caller killed after the registry recorded the outcome can pick it up (the
training loop relies on it). An archived model cannot be gated (UserError). The
registry is passed in (a `ModelRegistry`), so this module does not depend on the registry
package.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ringrift.ai.options import EngineOptions
from ringrift.config_defaults import DEFAULT_GAMES_PER_WORKER, DEFAULT_WORKERS
from ringrift.errors import UserError
from ringrift.evaluate.engine_spec import DEFAULT_MODEL_ENGINE, EngineSpec
from ringrift.evaluate.gauntlet import (
    Gauntlet,
    GauntletConfig,
    GauntletResult,
    OpponentResult,
    previous_spec,
)
from ringrift.exec import check_batch_size, check_workers

EVALUATION_DB = "evaluation.db"


@dataclass
class PromotionResult:
    """What happened: status is promoted, already_production, rejected, already_rejected or
    undecided. `gauntlet` is None when nothing was played (the already_* statuses)."""

    status: str
    model_id: int
    stage: str
    gauntlet: GauntletResult | None
    evidence: dict[str, Any]

    @property
    def promoted(self) -> bool:
        return self.status in ("promoted", "already_production")

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "promoted": self.promoted, "model_id": self.model_id,
                "stage": self.stage, "evidence": self.evidence}


def default_db_path(model_path: str | os.PathLike[str]) -> Path:
    """Where evaluation games are stored by default: `<model dir>/evaluation.db`."""
    return Path(model_path).parent / EVALUATION_DB


def gate_and_promote(registry, model_path: str | os.PathLike[str], config: GauntletConfig, *,
                     engine: str = DEFAULT_MODEL_ENGINE, options: EngineOptions | None = None,
                     name: str | None = None, model_name: str | None = None,
                     architecture: str | None = None, encoder_version: str | None = None,
                     parent: int | str | None = None, db_path: str | os.PathLike[str] | None
                     = None, store_games: bool = True,
                     on_game: Callable[[OpponentResult], None] | None = None,
                     workers: int = DEFAULT_WORKERS, batch_size: int = DEFAULT_GAMES_PER_WORKER,
                     backend: str = "local", ray_address: str | None = None) -> PromotionResult:
    """Register (if needed), gauntlet, and promote or reject the model (module docstring).

    `name` is the candidate's rated name (default: the file stem), `model_name` its registry
    name (default '<board>_<n>p'); games go to `db_path` (default beside the model) unless
    `store_games` is False; `workers` processes play them (the same games and result as one),
    `batch_size` at once in each (see `Gauntlet.run`). Bad input raises UserError before
    anything is written.
    """
    config.validate()
    check_workers(workers)
    check_batch_size(batch_size)
    options = dataclasses.replace(options or EngineOptions(), model_path=str(model_path))
    candidate = EngineSpec.build(engine, options, name)
    entry = _registered_entry(registry, candidate.sha256, config)
    if entry is not None and entry.stage in ("production", "rejected"):
        return PromotionResult(f"already_{entry.stage}", entry.id, entry.stage, None,
                               _recorded_evidence(registry, entry.id, entry.stage))
    if entry is not None and entry.stage == "archived":
        raise UserError(f"model {entry.id} ({entry.name} v{entry.version}) is {entry.stage}; "
                        "it cannot be promoted (register a new model file)")

    production = registry.get_production(config.board_type, config.num_players)
    previous, note = None, "no production model for this configuration"
    if production is not None:
        previous, note = previous_spec(candidate, str(registry.load_path(production)),
                                       _rated_name(registry, production.id, candidate))
    gauntlet = Gauntlet(candidate, config, previous=previous, previous_note=note)

    if entry is None:
        entry = registry.register(
            model_path, model_name or f"{config.board_type}_{config.num_players}p",
            board_type=config.board_type, num_players=config.num_players,
            architecture=architecture, encoder_version=encoder_version, parent=parent).entry

    db = None
    if store_games:
        from ringrift.data.gamedb import GameDB

        db = GameDB(db_path if db_path is not None else default_db_path(model_path))
    try:
        result = gauntlet.run(db, on_game, workers=workers, batch_size=batch_size,
                              backend=backend, ray_address=ray_address)
    finally:
        if db is not None:
            db.close()

    evidence: dict[str, Any] = {"gauntlet": result.to_dict(), "replaces": None, "rating": None}
    if production is not None:
        evidence["replaces"] = {"id": production.id, "name": production.name,
                                "version": production.version, "sha256": production.sha256}
    if result.db_path and result.games:
        evidence["rating"] = _store_rating(registry, entry.id, candidate.name, config,
                                           result.db_path)

    if result.verdict == "pass":
        if entry.stage == "development":
            registry.transition(entry.id, "staging", "passed the gauntlet", evidence)
        entry = registry.transition(entry.id, "production", "passed the gauntlet", evidence)
        status = "promoted"
    elif result.verdict == "fail":
        entry = registry.transition(entry.id, "rejected", "failed the gauntlet", evidence)
        status = "rejected"
    else:
        status = "undecided"
        entry = registry.get(entry.id)
    return PromotionResult(status, entry.id, entry.stage, result, evidence)


def opponent_summary(evidence: dict[str, Any]) -> str:
    """One line of the per-opponent records in promotion evidence, e.g.
    'random 3-0-17 (15%, fail); heuristic ...'."""
    opponents = (evidence.get("gauntlet") or {}).get("opponents") or []
    return "; ".join(f"{o['opponent']} {o['wins']}-{o['draws']}-{o['losses']} "
                     f"({o['win_rate']:.0%}, {o['verdict']})"
                     for o in opponents) or "no gauntlet recorded"


def _recorded_evidence(registry, model_id: int, stage: str) -> dict[str, Any]:
    """The evidence recorded with the model's latest transition to `stage` (production or
    rejected); for a model moved there by hand without a gauntlet, a note and no gauntlet or
    rating."""
    moves = [t for t in registry.history(model_id) if t.to_stage == stage]
    evidence = moves[-1].evidence if moves else None
    if not isinstance(evidence, dict) or "gauntlet" not in evidence:
        reason = moves[-1].reason if moves else ""
        evidence = {"note": f"the model is already {stage}, without gauntlet evidence "
                            f"({reason or 'no reason'})", "gauntlet": None, "rating": None}
    return evidence


def _rated_name(registry, model_id: int, candidate: EngineSpec) -> str | None:
    """The name the production model was rated under in its own gauntlet, when it played there
    as the candidate plays now (same engine and options): as the "previous" opponent it keeps
    that name, so the Elo fit over the evaluation games links both gauntlets (under a new name
    it would be a second, unconnected player). None otherwise: a name of its own."""
    evidence = _recorded_evidence(registry, model_id, "production")
    recorded = (evidence.get("gauntlet") or {}).get("candidate") or {}
    mine = candidate.identity()
    if (recorded.get("engine"), recorded.get("options")) == (mine["engine"], mine["options"]):
        return recorded.get("name")
    return None


def _registered_entry(registry, sha256: str | None, config: GauntletConfig):
    """The newest entry of this file for the configuration; UserError if registered only for
    another configuration."""
    entries = registry.find_by_sha256(sha256) if sha256 else []
    same = [e for e in entries
            if (e.board_type, e.num_players) == (config.board_type, config.num_players)]
    if entries and not same:
        other = entries[-1]
        raise UserError(f"this model file is registered as a {other.board_type} "
                        f"{other.num_players}-player model (id {other.id}), not "
                        f"{config.board_type} {config.num_players}-player")
    return same[-1] if same else None


def _store_rating(registry, model_id: int, name: str, config: GauntletConfig,
                  db_path: str) -> dict[str, Any] | None:
    """Fit Elo over the database's evaluation games; store the candidate's rating when it is
    anchored at random (else the scale would mean nothing across models)."""
    from ringrift.evaluate.ratings_db import fit_db_elo

    fit, games = fit_db_elo(db_path, config.spec)
    if fit.anchor != "random":
        return None
    try:
        rating = fit[name]
    except KeyError:  # renamed (two files share the stem): left unrated
        return None
    if not rating.connected:
        return None
    registry.set_rating(model_id, rating.elo, rating.low, rating.high)
    return {"elo": rating.elo, "low": rating.low, "high": rating.high, "anchor": "random",
            "games_in_db": games}

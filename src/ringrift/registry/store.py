"""The model store: register model files, move them through lifecycle stages, verify them.

Every write runs in one SQLite transaction (BEGIN IMMEDIATE), so a failed or refused operation
leaves the database as it was. Model paths inside the registry's folder are stored relative to
it, so the folder can be moved as a whole.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

from ringrift.errors import ConfigError, UserError
from ringrift.nn.model_file import sha256_file, sidecar_info, sidecar_path
from ringrift.registry.entry import ModelEntry, Transition
from ringrift.registry.schema import open_registry_db
from ringrift.registry.stages import ALLOWED_TRANSITIONS, Stage
from ringrift.rules.errors import RulesError
from ringrift.rules.spec import GameSpec

DEFAULT_REGISTRY = Path("models/registry.db")
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Registration:
    """Result of `register`: the entry, and whether it was new (False: same file already there)."""

    entry: ModelEntry
    created: bool

    @property
    def id(self) -> int:
        return self.entry.id

    @property
    def version(self) -> int:
        return self.entry.version

    def __iter__(self) -> Iterator[int]:
        # the seed's `model_id, version = store.register(...)`
        return iter((self.id, self.version))


class ModelRegistry:
    """SQLite-backed model store at `path`; `create=False` refuses to make a new database."""

    def __init__(self, path: str | os.PathLike[str] = DEFAULT_REGISTRY, create: bool = True):
        self.path = Path(path)
        self._base = self.path.resolve().parent
        self._conn = open_registry_db(self.path, create=create)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------- reading

    def get(self, model_id: int) -> ModelEntry:
        """The entry with this id; UserError when there is none."""
        row = self._conn.execute("SELECT * FROM models WHERE id = ?", (model_id,)).fetchone()
        if row is None:
            raise UserError(f"no model with id {model_id} in registry {self.path}")
        return ModelEntry.from_row(row, self._base)

    def list_models(self, board_type: str | None = None, num_players: int | None = None,
             stage: Stage | str | None = None, name: str | None = None) -> list[ModelEntry]:
        """Entries matching every given filter, oldest first."""
        clauses, params = [], []
        for column, value in (("board_type", board_type), ("num_players", num_players),
                              ("stage", None if stage is None else str(stage)), ("name", name)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._conn.execute(f"SELECT * FROM models{where} ORDER BY id", params)
        return [ModelEntry.from_row(row, self._base) for row in rows]

    def find_by_sha256(self, sha256: str) -> list[ModelEntry]:
        """Entries (under any name) of the file with this digest, oldest first."""
        rows = self._conn.execute("SELECT * FROM models WHERE sha256 = ? ORDER BY id",
                                  (sha256.lower(),))
        return [ModelEntry.from_row(row, self._base) for row in rows]

    def get_production(self, board_type: str, num_players: int | None = None
                       ) -> ModelEntry | None:
        """The production model for this configuration, or None. The seed's form names the
        configuration by one key, `get_production("square8_2p")` (so: no GameSpec here)."""
        if num_players is None:
            board_type, num_players = parse_config_key(board_type)
        row = self._conn.execute(
            "SELECT * FROM models WHERE board_type = ? AND num_players = ? AND stage = ?",
            (board_type, num_players, Stage.PRODUCTION.value)).fetchone()
        return None if row is None else ModelEntry.from_row(row, self._base)

    def history(self, model_id: int) -> list[Transition]:
        """Stage transitions of a model, oldest first."""
        self.get(model_id)
        rows = self._conn.execute(
            "SELECT * FROM transitions WHERE model_id = ? ORDER BY id", (model_id,))
        return [Transition.from_row(row) for row in rows]

    def lineage(self, model_id: int) -> list[ModelEntry]:
        """The model followed by its registered ancestors (parent, grandparent, ...)."""
        chain = [self.get(model_id)]
        seen = {model_id}
        while chain[-1].parent_id is not None and chain[-1].parent_id not in seen:
            seen.add(chain[-1].parent_id)
            chain.append(self.get(chain[-1].parent_id))
        return chain

    # ------------------------------------------------------------ verification

    def verify(self, entry: ModelEntry) -> None:
        """Check the model file still matches its recorded SHA-256; UserError if not."""
        if not entry.path.is_file():
            raise UserError(f"model file {entry.path} (model id {entry.id}) is missing")
        actual = sha256_file(entry.path)
        if actual != entry.sha256:
            raise UserError(f"model file {entry.path} (model id {entry.id}) does not match its "
                            f"recorded SHA-256 {entry.sha256[:12]} (file hashes to "
                            f"{actual[:12]})")

    def load_path(self, entry: ModelEntry) -> Path:
        """The verified path to load the model from."""
        self.verify(entry)
        return entry.path

    # ----------------------------------------------------------------- writing

    def register(self, model_path: str | os.PathLike[str], name: str, *,
                 board_type: str | None = None, num_players: int | None = None,
                 architecture: str | None = None, encoder_version: str | int | None = None,
                 parent: int | str | None = None, training_data: Any = None,
                 metrics: Any = None,
                 rating: tuple[float, float, float] | None = None,
                 elo: float | None = None) -> Registration:
        """Add a model file under `name` (next version) in development.

        Fields missing from the arguments come from the `<file>.json` sidecar's metadata.
        Registering a file already registered under `name` returns that entry unchanged.
        `parent` is a model id or a SHA-256; `rating` is (elo, low, high); `elo` (the seed's
        argument) is a rating without an interval. The result unpacks as the seed's
        `model_id, version = store.register(...)`.
        """
        if elo is not None:
            if rating is not None:
                raise UserError("give rating=(elo, low, high) or elo=, not both")
            rating = (float(elo), None, None)
        path = Path(model_path)
        if not path.is_file():
            raise UserError(f"model file {path} does not exist")
        if not name or not name.strip():
            raise UserError("model name must not be empty")
        sha256 = sha256_file(path)
        sidecar = sidecar_info(path)
        if sidecar is not None and sidecar.sha256 and sidecar.sha256 != sha256:
            raise UserError(f"sidecar {sidecar_path(path)} records SHA-256 {sidecar.sha256[:12]}"
                            f" but {path} hashes to {sha256[:12]}")
        existing = self._conn.execute("SELECT * FROM models WHERE name = ? AND sha256 = ?",
                                      (name, sha256)).fetchone()
        if existing is not None:
            return Registration(ModelEntry.from_row(existing, self._base), created=False)

        fields = {"board_type": board_type, "num_players": num_players,
                  "architecture": architecture, "encoder_version": encoder_version}
        for key, value in fields.items():
            if value is None and sidecar is not None:
                fields[key] = getattr(sidecar, key)
            if fields[key] is None:
                raise ConfigError(key, f"is not known for {path}: give it, or add "
                                       f"metadata.{key} to the sidecar {sidecar_path(path)}")
        try:
            GameSpec(fields["board_type"], fields["num_players"])
        except RulesError as exc:
            raise UserError(f"{path}: {exc}") from None
        if rating is not None and len(rating) != 3:
            raise UserError(f"rating must be (elo, low, high), got {rating!r}")
        parent_id, parent_sha = self._resolve_parent(parent)
        stored_path = self._stored_path(path)
        now = _now()
        with self._transaction():
            version = self._conn.execute(
                "SELECT COALESCE(MAX(version), 0) + 1 FROM models WHERE name = ?",
                (name,)).fetchone()[0]
            cursor = self._conn.execute(
                "INSERT INTO models (name, version, board_type, num_players, architecture, "
                "encoder_version, sha256, path, parent_id, parent_sha256, training_data, "
                "metrics, rating, rating_low, rating_high, stage, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (name, version, fields["board_type"], fields["num_players"],
                 str(fields["architecture"]), str(fields["encoder_version"]), sha256,
                 stored_path, parent_id, parent_sha, _json_or_none(training_data),
                 _json_or_none(metrics), *(rating or (None, None, None)),
                 Stage.DEVELOPMENT.value, now, now))
            model_id = cursor.lastrowid
            self._record(model_id, None, Stage.DEVELOPMENT, "registered", None, now)
        return Registration(self.get(model_id), created=True)

    def transition(self, model_id: int, to_stage: Stage | str, reason: str = "",
                   evidence: Any = None) -> ModelEntry:
        """Move a model to `to_stage` if the stage table allows it, recording why.

        Moving to production archives the previous production model of the same
        (board_type, num_players) in the same transaction.
        """
        try:
            target = Stage(to_stage)
        except ValueError:
            raise UserError(f"unknown stage {to_stage!r} (expected one of "
                            f"{', '.join(s.value for s in Stage)})") from None
        now = _now()
        with self._transaction():
            entry = self.get(model_id)
            current = Stage(entry.stage)
            if target not in ALLOWED_TRANSITIONS[current]:
                allowed = ", ".join(sorted(s.value for s in ALLOWED_TRANSITIONS[current]))
                raise UserError(f"model {model_id} is in {current.value}; it cannot move to "
                                f"{target.value} (allowed: {allowed})")
            if target is Stage.PRODUCTION:
                previous = self.get_production(entry.board_type, entry.num_players)
                if previous is not None:
                    self._set_stage(previous.id, Stage.ARCHIVED, now)
                    self._record(previous.id, Stage.PRODUCTION, Stage.ARCHIVED,
                                 f"superseded by {model_id}", None, now)
            self._set_stage(model_id, target, now)
            self._record(model_id, current, target, reason, evidence, now)
        return self.get(model_id)

    def promote(self, model_id: int, stage: Stage | str, reason: str = "promoted") -> ModelEntry:
        """The seed's name for `transition`: `store.promote(model_id, "staging")`."""
        return self.transition(model_id, stage, reason)

    def archive(self, model_id: int, reason: str = "") -> ModelEntry:
        """Move a model to archived (allowed from every stage but archived)."""
        return self.transition(model_id, Stage.ARCHIVED, reason)

    def set_rating(self, model_id: int, elo: float, low: float, high: float) -> ModelEntry:
        """Store a rating with its interval (e.g. after an evaluation)."""
        with self._transaction():
            self.get(model_id)
            self._conn.execute(
                "UPDATE models SET rating = ?, rating_low = ?, rating_high = ?, updated_at = ? "
                "WHERE id = ?", (elo, low, high, _now(), model_id))
        return self.get(model_id)

    # ---------------------------------------------------------------- internal

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def _set_stage(self, model_id: int, stage: Stage, now: str) -> None:
        self._conn.execute("UPDATE models SET stage = ?, updated_at = ? WHERE id = ?",
                           (stage.value, now, model_id))

    def _record(self, model_id: int, from_stage: Stage | None, to_stage: Stage, reason: str,
                evidence: Any, now: str) -> None:
        self._conn.execute(
            "INSERT INTO transitions (model_id, from_stage, to_stage, reason, evidence, at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (model_id, None if from_stage is None else from_stage.value, to_stage.value,
             reason, _json_or_none(evidence), now))

    def _resolve_parent(self, parent: int | str | None) -> tuple[int | None, str | None]:
        if parent is None:
            return None, None
        text = str(parent).strip().lower()
        if text.isdigit():
            entry = self.get(int(text))
            return entry.id, entry.sha256
        if _SHA256.fullmatch(text):
            known = self.find_by_sha256(text)
            return (known[0].id if known else None), text
        raise UserError(f"parent must be a model id or a 64-digit SHA-256, got {parent!r}")

    def _stored_path(self, path: Path) -> str:
        resolved = path.resolve()
        try:
            return resolved.relative_to(self._base).as_posix()
        except ValueError:
            return str(resolved)


def get_model_store(path: str | os.PathLike[str] = DEFAULT_REGISTRY) -> ModelRegistry:
    """The seed's entry point: the model store at `path` (default models/registry.db)."""
    return ModelRegistry(path)


def parse_config_key(key: str) -> tuple[str, int]:
    """"square8_2p" -> ("square8", 2): the seed's name for a board and player count."""
    board, _, players = str(key).rpartition("_")
    if not board or not players.endswith("p") or not players[:-1].isdigit():
        raise UserError(f"config key {key!r}: expected BOARD_Np, e.g. square8_2p")
    return board, int(players[:-1])


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _json_or_none(value: Any) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True)

"""The model a server or engine plays with: a file, or the registry's production model.

`ModelSource.poll()` asks the model store for the production model of the board and player
count and loads it when it changed (a promotion), so a long-running server follows the loop's
promotions without a restart. The swap is one attribute assignment: analyses already running
finish with the network they started with.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ringrift.errors import UserError
from ringrift.rules.spec import GameSpec
from ringrift.serve.analysis import Leaves


@dataclass(frozen=True)
class LoadedModel:
    leaves: Leaves
    name: str  # shown in responses and /v1/health
    path: str
    board_type: str
    num_players: int
    model_id: int | None = None  # registry id (production models)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "path": self.path, "boardType": self.board_type,
                "numPlayers": self.num_players, "modelId": self.model_id}


NO_MODEL = LoadedModel(Leaves(), "none", "", "", 0)


class ModelSource:
    """`spec` is None (no network: heuristic leaves), a model file path, or "production";
    `game` (None: any) is the board and player count a model must have been made for."""

    def __init__(self, spec: str | None, *, game: GameSpec | None = None,
                 registry: str | Path | None = None,
                 device: str | None = None, amp: bool = False) -> None:
        self.spec = spec
        self.game = game
        self.registry = registry
        self.device = device
        self.amp = amp
        self.reloads = 0
        self.last_error = ""
        self._lock = threading.Lock()
        self.current: LoadedModel = NO_MODEL
        if spec == "production":
            if game is None:
                raise UserError("--model production needs --board-type and --num-players")
            if not self.poll():
                raise UserError(f"no production model for {game} in "
                                f"{self._registry_path()}" + (f" ({self.last_error})"
                                                              if self.last_error else ""))
        elif spec:
            self.current = self._load(spec, name=Path(spec).name)

    def _registry_path(self) -> Path:
        from ringrift.registry import DEFAULT_REGISTRY

        return Path(self.registry) if self.registry else DEFAULT_REGISTRY

    def _load(self, path: str, name: str, model_id: int | None = None) -> LoadedModel:
        from ringrift.ai.search.leaf import NetworkLeaf
        from ringrift.nn.inference import Evaluator

        evaluator = Evaluator.from_checkpoint(path, device=self.device, amp=self.amp)
        cfg = evaluator.config
        if self.game is not None:
            check_fits(path, cfg, self.game)
        # a fresh NetworkLeaf (not the shared per-evaluator one): its counters are this
        # server's
        return LoadedModel(Leaves(NetworkLeaf(evaluator), name), name, str(path),
                           cfg.board_type, cfg.num_players, model_id)

    def poll(self) -> bool:
        """Load the registry's production model if it is not the one served; True when a
        production model is being served afterwards. Errors are kept in `last_error` (a bad
        new model leaves the old one serving)."""
        if self.spec != "production":
            return self.current is not NO_MODEL
        from ringrift.registry import ModelRegistry

        with self._lock:
            path = self._registry_path()
            try:
                if not path.exists():
                    raise UserError(f"no model registry at {path}")
                with ModelRegistry(path, create=False) as reg:
                    assert self.game is not None  # (checked when a production source is made)
                    entry = reg.get_production(self.game.board_type, self.game.num_players)
                    if entry is None:
                        raise UserError("no production model yet")
                    if entry.id == self.current.model_id:
                        return True
                    model_path = str(reg.load_path(entry))
                loaded = self._load(model_path, f"{entry.name} v{entry.version}", entry.id)
            except (UserError, OSError, RuntimeError, sqlite3.Error) as exc:
                self.last_error = str(exc)
                return self.current is not NO_MODEL
            self.last_error = ""
            if self.current is not NO_MODEL:
                self.reloads += 1
            self.current = loaded
            return True


def check_fits(path: str, config: Any, spec: GameSpec) -> None:
    """UserError unless the network (its ModelConfig) was made for this board and players."""
    if (config.board_type, config.num_players) != (spec.board_type, spec.num_players):
        raise UserError(f"{path} is a {config.board_type} {config.num_players}-player model, "
                        f"not {spec}")

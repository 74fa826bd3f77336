"""Evaluated players as data: an engine name, its options, and the name it is rated under.

The rated name is what game records store per seat (and what Elo tables show): the engine name
for model-free engines ("random", "heuristic"), else the model file's stem, with ":<engine>" added
when the engine is not the default policy-only one ("cand" / "cand:mcts"). Models are identified
by the SHA-256 of their file, kept beside the name, so a stored match knows exactly what played.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ringrift.ai.engines import make_player
from ringrift.ai.options import EngineOptions
from ringrift.errors import ConfigError, UserError
from ringrift.evaluate.match import Participant
from ringrift.nn.model_file import sha256_file
from ringrift.rules.spec import GameSpec

DEFAULT_MODEL_ENGINE = "policy-only"
# EngineOptions fields that say where or how fast a player runs, not how it plays.
_NOT_IDENTITY = ("model_path", "device")
# Names the search engines' simulation-count option may have in EngineOptions.
_SIMULATION_FIELDS = ("mcts_simulations", "simulations", "num_simulations")


@dataclass(frozen=True)
class EngineSpec:
    """One evaluated player; `sha256` is the model file's digest (None without a model)."""

    name: str
    engine: str
    options: EngineOptions = field(default_factory=EngineOptions)
    sha256: str | None = None

    @classmethod
    def build(cls, engine: str, options: EngineOptions | None = None,
              name: str | None = None) -> EngineSpec:
        """Spec for `engine` with `options`; hashes the model file (UserError if missing)."""
        options = options or EngineOptions()
        sha = None
        if options.model_path:
            path = Path(options.model_path)
            if not path.is_file():
                raise UserError(f"model file {path} does not exist")
            sha = sha256_file(path)
        if name is None:
            if options.model_path:
                stem = Path(options.model_path).stem
                name = stem if engine == DEFAULT_MODEL_ENGINE else f"{stem}:{engine}"
            else:
                name = engine
        if not name or not name.strip():
            raise UserError("a participant name must not be empty")
        return cls(name=name, engine=engine, options=options, sha256=sha)

    def with_model(self, model_path: str | Path, name: str | None = None) -> EngineSpec:
        """The same engine and options playing another model file."""
        options = dataclasses.replace(self.options, model_path=str(model_path))
        return EngineSpec.build(self.engine, options, name)

    def renamed(self, name: str) -> EngineSpec:
        return dataclasses.replace(self, name=name)

    @property
    def model_path(self) -> str | None:
        return self.options.model_path

    def identity(self) -> dict[str, Any]:
        """What makes two specs the same player: name, engine, model digest, playing options."""
        options = {k: v for k, v in dataclasses.asdict(self.options).items()
                   if k not in _NOT_IDENTITY}
        return {"name": self.name, "engine": self.engine, "sha256": self.sha256,
                "options": options}

    def describe(self) -> dict[str, Any]:
        """JSON-ready summary for reports (the playing options too: with the name, they tell
        whether a later gauntlet plays this model as the same player)."""
        identity = self.identity()
        return {"name": self.name, "engine": self.engine, "model": self.model_path,
                "sha256": self.sha256, "options": identity["options"]}

    def participant(self, spec: GameSpec) -> Participant:
        """A match participant making a fresh player per game."""
        def make(seed: int):
            return make_player(self.engine, spec, self.options, seed=seed)

        return Participant(self.name, make)

    def check(self, spec: GameSpec) -> None:
        """Build one player now, so a bad engine or model fails before any game is played."""
        make_player(self.engine, spec, self.options, seed=0)


def engine_options(*, model_path: str | None = None, temperature: float = 0.0,
                   device: str | None = None, simulations: int | None = None,
                   extra: list[str] | None = None) -> EngineOptions:
    """EngineOptions from command-line values; `extra` holds KEY=VALUE settings of any field."""
    options = EngineOptions(model_path=model_path, temperature=temperature, device=device)
    fields = {f.name: f for f in dataclasses.fields(EngineOptions)}
    if simulations is not None:
        if simulations < 1:
            raise ConfigError("simulations", f"must be at least 1, got {simulations}")
        target = next((n for n in _SIMULATION_FIELDS if n in fields), None)
        if target is None:
            raise ConfigError("simulations", "is a setting no engine of this build takes")
        options = dataclasses.replace(options, **{target: simulations})
    for item in extra or []:
        key, sep, text = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or key not in fields or key in ("model_path",):
            known = ", ".join(n for n in fields if n != "model_path")
            raise ConfigError("extra", f"expects KEY=VALUE with KEY one of {known}, "
                                       f"got {item!r}")
        options = dataclasses.replace(options, **{key: _convert(key, text,
                                                                getattr(options, key))})
    return options


def _convert(key: str, text: str, current: Any) -> Any:
    """Parse `text` like the field's current value (int, float, bool or str); a simulation
    count may be a budget name (quality, ...)."""
    if key in _SIMULATION_FIELDS:
        from ringrift.ai.search.gumbel import parse_budget

        try:
            return parse_budget(text)
        except ValueError as exc:
            raise ConfigError("extra", f"{key}: {exc}") from None
    try:
        if isinstance(current, bool):
            if text.lower() not in ("true", "false", "1", "0"):
                raise ValueError
            return text.lower() in ("true", "1")
        if isinstance(current, int):
            return int(text)
        if isinstance(current, float):
            return float(text)
    except ValueError:
        raise ConfigError("extra", f"{key}: {text!r} is not a valid "
                                   f"{type(current).__name__}") from None
    return text or None


def parse_engine_spec(text: str, template: EngineOptions | None = None) -> EngineSpec:
    """'ENGINE' or 'ENGINE:MODEL_PATH' (e.g. 'policy-only:models/a.pt') -> EngineSpec.

    `template` supplies the other options (temperature, device, ...) for model players.
    """
    engine, sep, model = text.strip().partition(":")
    engine = engine.strip()
    if not engine or (sep and not model.strip()):
        raise UserError(f"participant {text!r}: expected ENGINE or ENGINE:MODEL_PATH")
    options = dataclasses.replace(template or EngineOptions(),
                                  model_path=model.strip() if sep else None)
    return EngineSpec.build(engine, options)

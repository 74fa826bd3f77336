"""Configuration of the training loop (`ringrift loop`)."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from ringrift import rules
from ringrift.ai.engines import BASIC_ENGINES, ENGINES, SEARCH_ENGINES
from ringrift.config_defaults import DEFAULT_WORKERS, field_default
from ringrift.errors import ConfigError, UserError
from ringrift.train.config import TrainConfig
from ringrift.train.launch_settings import LaunchSettings

# engines the loop can name (mixed needs a mix of its own), and those that need no model
LR_SPANS = ("iteration", "run")
_LOOP_ENGINES = tuple(e for e in ENGINES if e != "mixed")
_BOOTSTRAP_ENGINES = (*BASIC_ENGINES, *SEARCH_ENGINES)
# the gauntlet's config fields that this config names otherwise
_GAUNTLET_FIELDS = {"opponents": "eval_opponents", "games": "eval_games"}


@dataclass
class LoopConfig:
    board_type: str
    num_players: int
    run_dir: str
    iterations: int = 10
    selfplay_games: int = 200
    engine: str = "policy-only"  # engine of the current best model in selfplay
    mcts_simulations: int = 64
    bootstrap_engine: str = "heuristic"  # iteration 0 (no model yet)
    bootstrap_games: int | None = None  # games per bootstrap iteration (None: selfplay_games)
    selfplay_temperature: str = "alphazero:moves=16"
    policy_temperature: float = 1.0  # policy-only selfplay sampling temperature
    workers: int = DEFAULT_WORKERS  # processes for selfplay, export and evaluation
    backend: str = "local"  # where selfplay and evaluation workers run: local or ray (exec)
    ray_address: str | None = None  # --backend ray: None starts a local Ray instance
    # training processes (torchrun, DDP) per iteration
    train_nproc: int = field_default(LaunchSettings, "nproc_per_node")
    selfplay_batch_size: int = 16  # network engines: games per process, leaves batched
    # training
    model_version: str = field_default(TrainConfig, "model_version")
    training_epochs: int = 4
    samples_per_epoch: int | None = None  # per epoch, drawn at random from the window (None: all)
    warmup_epochs: float = 0.0  # linear LR warmup of each iteration's training
    keep_optimizer: bool = False  # start each iteration's AdamW from the previous one's moments
    # "iteration": each iteration's training has its own warmup and cosine decay; "run": one
    # warmup and one decay span all iterations, each training its share (the optimizer carried
    # over), so the iterations continue a single training run as AlphaZero's do
    lr_span: str = "iteration"
    batch_size: int = 256
    learning_rate: float = field_default(TrainConfig, "learning_rate")
    # the trainer's knobs, defaults from ringrift.train.config.TrainConfig (one home each)
    weight_decay: float = field_default(TrainConfig, "weight_decay")
    lr_scheduler: str = field_default(TrainConfig, "lr_scheduler")
    lr_min: float = field_default(TrainConfig, "lr_min")
    early_stopping: int = field_default(TrainConfig, "early_stopping")
    elo_early_stopping_patience: int = field_default(TrainConfig, "elo_early_stopping_patience")
    elo_min_improvement: float = field_default(TrainConfig, "elo_min_improvement")
    entropy_weight: float = field_default(TrainConfig, "entropy_weight")
    label_smoothing: float = field_default(TrainConfig, "label_smoothing")
    pcgrad: bool = field_default(TrainConfig, "pcgrad")
    grad_accum: int = field_default(TrainConfig, "grad_accum")
    # network selfplay: None = CUDA when present (leaves batched there), "cpu" = never
    selfplay_device: str | None = None
    channels: int | None = None
    blocks: int | None = None
    augment: bool = True
    # learning from better data (issue 21): prioritized replay over the window, a share of
    # mined hard positions added to it, auxiliary ownership / game-length heads
    prioritized_replay: bool = field_default(TrainConfig, "prioritized_replay")
    per_alpha: float = field_default(TrainConfig, "per_alpha")
    per_beta: str = field_default(TrainConfig, "per_beta")
    hard_positions: float = 0.0  # mine this share of the window with the newest model (0: off)
    ownership_weight: float = field_default(TrainConfig, "ownership_weight")
    game_length_weight: float = field_default(TrainConfig, "game_length_weight")
    # a curriculum (loop/curriculum.py): the file's content, so a resumed run keeps it
    curriculum: dict[str, Any] | None = None
    amp: bool = False  # bf16 for training and network players (CUDA, or a CPU with native bf16)
    # data window (KataGo style): the newest games, window = min_window * (games/min_window)^0.75
    min_window: int = 400
    max_window: int = 200_000
    window_exponent: float = 0.75
    # a fixed held-out test set of bootstrap games, scored every iteration (0: none)
    test_games: int = 0
    # evaluation and promotion
    eval_games: int = 40
    eval_opponents: list[str] = field(default_factory=lambda: ["random", "heuristic"])
    eval_engine: str | None = None  # default: the selfplay engine
    eval_simulations: int | None = None  # search engines at evaluation (None: mcts_simulations)
    eval_batch_size: int = 16  # evaluation games per process at once, leaf evaluations batched
    thresholds: dict[str, float | None] = field(default_factory=dict)  # None: report-only
    auto_promote: bool = True
    # evaluate candidate k in a worker process while selfplay k+1 runs (loop/async_eval.py)
    async_eval: bool = False
    sprt: list[float] | None = None  # [elo0, elo1]: the SPRT gates the previous-model match
    seed: int = 0
    max_moves: int = 2000

    @property
    def spec(self) -> rules.GameSpec:
        return rules.GameSpec.checked(self.board_type, self.num_players, error=UserError)

    def validate(self) -> None:
        self.spec  # noqa: B018 (validates board type and player count)
        from ringrift.exec import check_backend

        check_backend(self.backend, self.ray_address)
        for name in ("iterations", "selfplay_games", "training_epochs", "eval_games", "workers",
                     "selfplay_batch_size", "eval_batch_size", "mcts_simulations",
                     "train_nproc"):
            if getattr(self, name) < 1:
                raise ConfigError(name, "must be at least 1")
        if self.bootstrap_games is not None and self.bootstrap_games < 1:
            raise ConfigError("bootstrap_games", "must be at least 1")
        if self.eval_simulations is not None and self.eval_simulations < 1:
            raise ConfigError("eval_simulations", "must be at least 1")
        if self.test_games < 0:
            raise ConfigError("test_games", "must be at least 0")
        if self.warmup_epochs < 0:
            raise ConfigError("warmup_epochs", "must be at least 0")
        if self.samples_per_epoch is not None and self.samples_per_epoch < 1:
            raise ConfigError("samples_per_epoch", "must be at least 1")
        if self.lr_span not in LR_SPANS:
            raise ConfigError("lr_span", f"must be one of {', '.join(LR_SPANS)}")
        if self.lr_span == "run" and self.samples_per_epoch is None:
            raise ConfigError("samples_per_epoch", "must be set when the learning-rate span is "
                              "'run' (a fixed number of steps per iteration)")
        if self.min_window < 1:
            raise ConfigError("min_window", "must be at least 1")
        if not 0 <= self.hard_positions < 1:
            raise ConfigError("hard_positions", "must be in [0, 1)")
        if self.curriculum is not None:
            from ringrift.loop.curriculum import manager_from_spec

            manager_from_spec(self.curriculum)  # ConfigError("curriculum", ...) when bad
            if self.bootstrap_engine != "heuristic":
                raise ConfigError("bootstrap_engine", "must be heuristic with a curriculum (the "
                                  "curriculum sets the bootstrap heuristic's strength)")
        for name, engine, allowed in (("engine", self.engine, _LOOP_ENGINES),
                                      ("eval_engine", self.eval_engine or self.engine,
                                       _LOOP_ENGINES),
                                      ("bootstrap_engine", self.bootstrap_engine,
                                       _BOOTSTRAP_ENGINES)):
            if engine not in allowed:
                raise ConfigError(name, f"{engine!r}: the loop plays {', '.join(allowed)} there")
        try:  # bad opponents, thresholds or SPRT fail up front
            self.gauntlet_config(0).validate()
        except ConfigError as exc:  # name this config's field, not the gauntlet's
            raise ConfigError(_GAUNTLET_FIELDS.get(exc.field, exc.field), exc.problem) from None
        self.train_settings_check()
        from ringrift.selfplay.temperature import get_schedule

        get_schedule(self.selfplay_temperature)  # a bad schedule fails before any work

    def train_settings_check(self) -> None:
        """The trainer's own checks on the training knobs, before the first iteration."""
        TrainConfig(board_type=self.board_type, num_players=self.num_players, data_paths=[],
                    save_path="", batch_size=self.batch_size, epochs=self.training_epochs,
                    learning_rate=self.learning_rate, warmup_epochs=self.warmup_epochs,
                    weight_decay=self.weight_decay, lr_scheduler=self.lr_scheduler,
                    lr_min=self.lr_min, early_stopping=self.early_stopping,
                    elo_early_stopping_patience=self.elo_early_stopping_patience,
                    elo_min_improvement=self.elo_min_improvement,
                    entropy_weight=self.entropy_weight, label_smoothing=self.label_smoothing,
                    pcgrad=self.pcgrad, grad_accum=self.grad_accum,
                    model_version=self.model_version).validate()

    def gauntlet_config(self, iteration: int):
        """The evaluation gauntlet of `iteration`: the loop's opponents plus "previous" (skipped,
        with a note, while there is no previous model)."""
        from ringrift.evaluate.gauntlet import PREVIOUS, GauntletConfig
        opponents = tuple(self.eval_opponents)
        if PREVIOUS not in opponents:
            opponents = (*opponents, PREVIOUS)
        return GauntletConfig(
            board_type=self.board_type, num_players=self.num_players, games=self.eval_games,
            opponents=opponents, thresholds=dict(self.thresholds),
            seed=self.seed + 7 * iteration, max_moves=self.max_moves,
            sprt=None if self.sprt is None else tuple(self.sprt))

    def schedule_span(self, iteration: int) -> tuple[int, int | None]:
        """(offset, total steps) of `iteration`'s learning-rate schedule: with lr_span "run",
        its share of one schedule over all iterations; otherwise (0, None): its own."""
        if self.lr_span != "run":
            return 0, None
        steps = self.training_epochs * max(1, self.samples_per_epoch // self.batch_size)
        return iteration * steps, self.iterations * steps

    def games_for(self, bootstrap: bool) -> int:
        """Selfplay games of an iteration: bootstrap games are cheap (no search), so a loop
        may play many more of them than of the model's search games."""
        if bootstrap and self.bootstrap_games is not None:
            return self.bootstrap_games
        return self.selfplay_games

    def window(self, total_games: int) -> int:
        """Games in the training window once `total_games` exist (grows sublinearly)."""
        if total_games <= self.min_window:
            return total_games
        grown = self.min_window * (total_games / self.min_window) ** self.window_exponent
        return int(min(self.max_window, math.ceil(grown)))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LoopConfig:
        return cls(**data)

    @property
    def path(self) -> Path:
        return Path(self.run_dir)


def _saved_config(run_dir: str | Path) -> dict[str, Any]:
    path = Path(run_dir) / "loop_config.json"
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise UserError(f"{run_dir}: no loop here to resume (missing loop_config.json)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{path}: unreadable loop configuration ({exc})") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: unreadable loop configuration (not a JSON object)")
    return data


def saved_run_dir(run_dir: str | Path) -> str | None:
    """The run folder recorded in `run_dir`'s saved configuration (where the run was when it
    was saved: it differs from `run_dir` for a copied or moved run), or None."""
    try:
        saved = _saved_config(run_dir).get("run_dir")
    except UserError:
        return None
    return saved if isinstance(saved, str) else None


def _field_type_problem(data: dict[str, Any]) -> str | None:
    """The first saved field whose JSON type does not fit the dataclass field, or None."""
    for f in fields(LoopConfig):
        if f.name not in data:
            continue
        value, kind = data[f.name], str(f.type)
        if value is None and "None" in kind:
            continue
        ok = {"int": isinstance(value, int) and not isinstance(value, bool),
              "float": isinstance(value, int | float) and not isinstance(value, bool)
              and math.isfinite(value),
              "str": isinstance(value, str), "bool": isinstance(value, bool),
              "list": isinstance(value, list), "dict": isinstance(value, dict)}
        base = kind.split("[")[0].split(" |")[0].strip()
        if base in ok and not ok[base]:
            return f"{f.name} must be {base}, got {value!r}"
    return None


def _saved_sprt_bounds(text: str) -> list[float] | str:
    """[elo0, elo1] from an older file's "elo0,elo1" (the text itself when it is not two
    numbers: the field check then reports it)."""
    try:
        bounds = [float(part) for part in text.split(",")]
    except ValueError:
        return text
    return bounds if len(bounds) == 2 else text


def load_config(run_dir: str | Path) -> LoopConfig:
    """The configuration saved in `run_dir`, with `run_dir` as its run folder: the folder the
    user names is the run acted on, whatever folder the saved file recorded."""
    path = Path(run_dir) / "loop_config.json"
    data = _saved_config(run_dir)
    if isinstance(data.get("sprt"), str):  # saved before issue 17: the flag's "elo0,elo1"
        data["sprt"] = _saved_sprt_bounds(data["sprt"])
    problem = _field_type_problem(data)
    if problem:
        raise UserError(f"{path}: unreadable loop configuration ({problem})")
    try:
        return LoopConfig.from_dict({**data, "run_dir": str(run_dir)})
    except TypeError as exc:
        raise UserError(f"{path}: unreadable loop configuration ({exc})") from None

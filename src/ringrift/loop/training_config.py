"""The seed's `TrainConfig`: the training loop's settings under the upstream module's names.

`ringrift.TrainConfig` is this class; `run_training_loop(config)` takes it (or a LoopConfig).
It holds no default of its own: each field's default is read from the LoopConfig field it maps
to (LoopConfig reads the trainer's from ringrift.train.config.TrainConfig), and
`to_loop_config` renames the fields. A value the pipeline cannot honour raises
NotImplementedError naming the missing feature instead of being ignored.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, fields
from typing import Any

from ringrift.config_defaults import field_default
from ringrift.errors import UserError
from ringrift.loop.config import LoopConfig
from ringrift.rules.spec import GameSpec
from ringrift.selfplay.runner import SelfplayConfig

# seed field -> LoopConfig field
SEED_TO_LOOP: dict[str, str] = {
    "board_type": "board_type",
    "num_players": "num_players",
    "iterations": "iterations",
    "episodes_per_iter": "selfplay_games",
    "epochs_per_iter": "training_epochs",
    "batch_size": "batch_size",
    "learning_rate": "learning_rate",
    "lr_scheduler": "lr_scheduler",
    "warmup_epochs": "warmup_epochs",
    "lr_min": "lr_min",
    "early_stopping_patience": "early_stopping",
    "elo_early_stopping_patience": "elo_early_stopping_patience",
    "elo_min_improvement": "elo_min_improvement",
    "entropy_weight": "entropy_weight",
    "weight_decay": "weight_decay",
    "policy_label_smoothing": "label_smoothing",
    "enable_gradient_surgery": "pcgrad",
    "gradient_accumulation_steps": "grad_accum",
    "model_version": "model_version",
    "seed": "seed",
}


def _loop(name: str) -> Any:
    return field_default(LoopConfig, name)


@dataclass
class TrainingLoopConfig:
    """Selfplay -> train -> evaluate iterations, in the seed's vocabulary (see SEED_TO_LOOP).

    `use_gpu_parallel_datagen`: network selfplay on CUDA when present, its games' leaf
    evaluations batched (True), or always on the CPU (False).
    """

    board_type: str = field_default(SelfplayConfig, "board_type")
    num_players: int = field_default(SelfplayConfig, "num_players")
    iterations: int = _loop("iterations")
    episodes_per_iter: int = _loop("selfplay_games")
    epochs_per_iter: int = _loop("training_epochs")
    batch_size: int = _loop("batch_size")
    learning_rate: float = _loop("learning_rate")
    lr_scheduler: str = _loop("lr_scheduler")
    warmup_epochs: float = _loop("warmup_epochs")
    lr_min: float = _loop("lr_min")
    early_stopping_patience: int = _loop("early_stopping")
    elo_early_stopping_patience: int = _loop("elo_early_stopping_patience")
    elo_min_improvement: float = _loop("elo_min_improvement")
    entropy_weight: float = _loop("entropy_weight")
    weight_decay: float = _loop("weight_decay")
    policy_label_smoothing: float = _loop("label_smoothing")
    enable_gradient_surgery: bool = _loop("pcgrad")
    gradient_accumulation_steps: int = _loop("grad_accum")
    use_gpu_parallel_datagen: bool = _loop("selfplay_device") is None
    model_version: str = _loop("model_version")
    seed: int = _loop("seed")
    run_dir: str | None = None  # None: a new folder under runs/ (default_run_dir)
    # any LoopConfig-only setting (eval_games, workers, engine, ...), passed through
    loop_fields: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        board = getattr(self.board_type, "value", self.board_type)  # a seed BoardType enum
        self.board_type = str(board).lower()

    @property
    def spec(self) -> GameSpec:
        return GameSpec.checked(self.board_type, self.num_players, error=UserError)

    def to_loop_config(self) -> LoopConfig:
        """The LoopConfig these settings mean."""
        mapped = {loop: getattr(self, seed) for seed, loop in SEED_TO_LOOP.items()}
        mapped["selfplay_device"] = None if self.use_gpu_parallel_datagen else "cpu"
        mapped["run_dir"] = self.run_dir or default_run_dir(self.spec)
        unknown = set(self.loop_fields) - {f.name for f in fields(LoopConfig)}
        if unknown:
            raise TypeError(f"loop_fields: LoopConfig has no field(s) {', '.join(sorted(unknown))}")
        return LoopConfig(**{**mapped, **self.loop_fields})


def default_run_dir(spec: GameSpec) -> str:
    """A new run folder under runs/, named by board, players and start time."""
    return f"runs/{spec.board_type}_{spec.num_players}p_{time.strftime('%Y%m%d-%H%M%S')}"


def get_training_config_for_board(board_type: Any, num_players: int = 2,
                                  **overrides: Any) -> TrainingLoopConfig:
    """The seed's per-board preset (ringrift.train.presets, chosen from measurements) as a
    TrainingLoopConfig; `overrides` set any other field."""
    from ringrift.train.presets import preset_for_board

    preset = preset_for_board(board_type)
    return TrainingLoopConfig(board_type=preset.board_type, num_players=num_players,
                              model_version=preset.model_version, batch_size=preset.batch_size,
                              learning_rate=preset.learning_rate, **overrides)

"""Training configuration: every knob of one `ringrift train` run, and where its files go."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ringrift.errors import ConfigError, UserError, check_fields
from ringrift.nn.architectures import PRESETS
from ringrift.rules.spec import GameSpec

# bare `--early-stopping` (the seed's flag without a number): this many epochs of patience
EARLY_STOPPING_PATIENCE = 5
# `distill --temperature`: the softening of the teacher's policy
DISTILL_TEMPERATURE = 2.0
# where the seed's commands put training files and models
DATA_DIR = "data/training"
MODELS_DIR = "models"
# mixed-precision dtypes a run may ask for (nn/precision.py picks what the device runs)
AMP_DTYPES = ("bf16", "fp16")

# Settings that must not change when a run is resumed (they change what the steps compute).
RESUME_FIXED = ("batch_size", "grad_accum", "seed", "split_seed", "val_split", "max_samples",
                "samples_per_epoch", "schedule_offset_steps", "model_version",
                "pcgrad", "label_smoothing", "entropy_weight", "value_weight", "rank_weight",
                "augment", "prioritized_replay", "per_alpha", "per_beta",
                "ownership_weight", "game_length_weight")


@dataclass
class TrainConfig:
    """One training run. Defaults match the `ringrift train` flags."""

    board_type: str
    num_players: int
    data_paths: list[str]
    save_path: str
    model_version: str = "v2"
    batch_size: int = 512
    epochs: int = 20
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    lr_scheduler: str = "cosine"
    warmup_epochs: float = 0.0
    lr_step_size: int | None = None  # epochs between decays of the step schedule
    lr_gamma: float = 0.1
    lr_min: float = 0.0  # cosine schedule: the learning rate it decays to
    early_stopping: int = 0  # patience in epochs; 0 = off
    # Elo early stopping (train/elo_stopping.py): every `elo_check_every` epochs a short match
    # series updates an Elo estimate; stop after this many checks without a gain of more than
    # `elo_min_improvement` (0 = off), keeping the best-Elo weights
    elo_early_stopping_patience: int = 0
    elo_min_improvement: float = 5.0
    elo_check_every: int = 1
    elo_games: int = 20  # games per opponent per check
    elo_opponent: str = "heuristic"  # the fixed opponent (anchored at Elo 0)
    val_split: float = 0.1
    grad_accum: int = 1
    amp: bool = False
    amp_dtype: str = "bf16"
    entropy_weight: float = 0.0
    label_smoothing: float = 0.0
    value_weight: float = 1.0
    rank_weight: float = 0.5
    rank_head: bool = False
    # auxiliary heads (trained when their weight is > 0): final owner of each cell, and
    # log(1 + moves left in the game); the data must hold those targets (format version 2)
    ownership_weight: float = 0.0
    game_length_weight: float = 0.0
    pcgrad: bool = False
    augment: bool = False  # a random board symmetry per training sample
    # prioritized replay: draw samples in proportion to (last loss)^per_alpha, their loss
    # scaled by importance-sampling weights whose exponent anneals over per_beta "start->end"
    prioritized_replay: bool = False
    per_alpha: float = 0.6
    per_beta: str = "0.4->1.0"
    seed: int = 0
    split_seed: int | None = None  # seed of the validation split by game (None: `seed`)
    device: str = "auto"
    init_weights: str | None = None
    # a training checkpoint (<model>_ckpt/step_*.pt) whose AdamW moments this run starts from,
    # so training continued from --init-weights does not restart the optimizer cold
    init_optimizer: str | None = None
    resume: bool = False
    max_samples: int | None = None
    # an epoch trains on this many training samples drawn at random (None: all of them), so
    # the cost of an epoch stays fixed while the data grows (a loop's window)
    samples_per_epoch: int | None = None
    # this run continues a longer learning-rate schedule (a loop whose schedule spans all its
    # iterations): its step 0 is step `schedule_offset_steps` of a schedule of
    # `schedule_total_steps` steps (None: the schedule is this run's own steps). The total may
    # change on resume, as the epochs may (a loop given more iterations stretches its decay)
    schedule_offset_steps: int = 0
    schedule_total_steps: int | None = None
    encoder_version: int | None = None
    channels: int | None = None
    blocks: int | None = None
    checkpoint_every: int = 500  # optimizer steps between regular checkpoints; 0 = off
    keep_checkpoints: int = 3
    progress: bool | None = None  # None: progress bars only on a terminal
    tensorboard: bool = True

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def spec(self) -> GameSpec:
        return GameSpec.checked(self.board_type, self.num_players, error=UserError)

    def validate(self) -> None:
        """Raise ConfigError (a UserError) naming the field of the first bad setting."""
        self.spec  # noqa: B018 (validates board type and player count)
        checks = [
            (self.batch_size >= 1, "batch_size", "must be >= 1"),
            (self.epochs >= 1, "epochs", "must be >= 1"),
            (self.learning_rate > 0, "learning_rate", "must be > 0"),
            (self.weight_decay >= 0, "weight_decay", "must be >= 0"),
            (self.lr_scheduler in ("none", "step", "cosine"),
             "lr_scheduler", "must be none, step or cosine"),
            (self.warmup_epochs >= 0, "warmup_epochs", "must be >= 0"),
            (self.lr_step_size is None or self.lr_step_size >= 1, "lr_step_size", "must be >= 1"),
            (0 < self.lr_gamma <= 1, "lr_gamma", "must be in (0, 1]"),
            (0 <= self.lr_min <= self.learning_rate,
             "lr_min", "must be between 0 and the learning rate"),
            (self.early_stopping >= 0, "early_stopping", "must be >= 0"),
            (self.elo_early_stopping_patience >= 0,
             "elo_early_stopping_patience", "must be >= 0"),
            (self.elo_min_improvement >= 0, "elo_min_improvement", "must be >= 0"),
            (self.elo_check_every >= 1, "elo_check_every", "must be >= 1"),
            (self.elo_games >= 1, "elo_games", "must be >= 1"),
            (0 <= self.val_split < 1, "val_split", "must be in [0, 1)"),
            (self.grad_accum >= 1, "grad_accum", "must be >= 1"),
            (self.amp_dtype in AMP_DTYPES, "amp_dtype", "must be bf16 or fp16"),
            (0 <= self.label_smoothing < 1, "label_smoothing", "must be in [0, 1)"),
            (self.entropy_weight >= 0, "entropy_weight", "must be >= 0"),
            (self.max_samples is None or self.max_samples >= 1, "max_samples", "must be >= 1"),
            (self.samples_per_epoch is None or self.samples_per_epoch >= 1,
             "samples_per_epoch", "must be >= 1"),
            (self.schedule_offset_steps >= 0, "schedule_offset_steps", "must be >= 0"),
            (self.schedule_total_steps is None or self.schedule_total_steps >= 1,
             "schedule_total_steps", "must be >= 1"),
            (self.checkpoint_every >= 0, "checkpoint_every", "must be >= 0"),
            (self.keep_checkpoints >= 1, "keep_checkpoints", "must be >= 1"),
            (self.channels is None or self.channels >= 1, "channels", "must be >= 1"),
            (self.blocks is None or self.blocks >= 1, "blocks", "must be >= 1"),
            (self.model_version in PRESETS,
             "model_version", f"must be one of {', '.join(PRESETS)}"),
            (0 <= self.per_alpha <= 2, "per_alpha", "must be in [0, 2]"),
            (self.ownership_weight >= 0, "ownership_weight", "must be >= 0"),
            (self.game_length_weight >= 0, "game_length_weight", "must be >= 0"),
        ]
        check_fields(checks)  # the error names the field, the CLI the flag
        from ringrift.train.prioritized import parse_beta

        parse_beta(self.per_beta)


def default_data_paths(spec: GameSpec) -> list[str]:
    """The training file of a board and player count when none is named, as the seed's export
    writes it (data/training/hex8_2p.npz); ConfigError (data_paths) when it does not exist."""
    path = Path(DATA_DIR) / f"{spec.board_type}_{spec.num_players}p.npz"
    if not path.is_file():
        raise ConfigError("data_paths", f"not given, and the default {path} does not exist (make "
                                        f"it with `ringrift export ... --output {path}`)")
    return [str(path)]


def default_save_path(spec: GameSpec, model_version: str) -> str:
    """models/<board>_<N>p_<arch>.pt: the model file when --save-path is not given."""
    return str(Path(MODELS_DIR) / f"{spec.board_type}_{spec.num_players}p_{model_version}.pt")


@dataclass(frozen=True)
class RunPaths:
    """Files of a run beside its model: <stem>_ckpt/, <stem>_tb/, <model>.metrics.json."""

    model: Path
    checkpoints: Path
    tensorboard: Path
    metrics: Path

    @classmethod
    def for_model(cls, save_path: str | Path) -> RunPaths:
        model = Path(save_path)
        return cls(model=model,
                   checkpoints=model.with_name(f"{model.stem}_ckpt"),
                   tensorboard=model.with_name(f"{model.stem}_tb"),
                   metrics=model.with_name(f"{model.name}.metrics.json"))

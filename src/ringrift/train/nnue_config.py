"""The settings of one NNUE training run (`ringrift train-nnue`; the trainer is
`ringrift.train.nnue_trainer`). Apart from the trainer so that the CLI reads its flag defaults
from these fields without importing torch."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from ringrift import rules
from ringrift.errors import ConfigError, UserError, check_fields


@dataclass
class NNUETrainConfig:
    """One NNUE training run."""

    db_paths: list[str]
    board_type: str
    num_players: int
    save_path: str
    epochs: int = 10
    batch_size: int = 512
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    warmup_epochs: float = 0.1  # linear warmup before the cosine decay
    hidden: int = 256  # accumulator width
    val_fraction: float = 0.1  # fraction of games held out for validation (0: none)
    patience: int = 3  # epochs without a better validation loss before stopping (0: off)
    seed: int = 0
    max_games: int | None = None  # the most recent N games over all databases
    # each training sample seen under a random board symmetry: on 2,400 square8 games this
    # takes the validation MSE from 1.025 (memorising games) to 0.969
    augment: bool = True
    device: str = "cpu"  # (cpu: deterministic)
    progress: bool | None = None  # None: progress bars when stderr is a terminal

    @property
    def spec(self) -> rules.GameSpec:
        return rules.GameSpec.checked(self.board_type, self.num_players, error=UserError)

    def validate(self) -> None:
        """ConfigError naming the field of the first bad setting."""
        if not self.db_paths:
            raise ConfigError("db_paths", "is empty: no game database given")
        self.spec  # noqa: B018 (validates board type and player count)
        checks = [(self.epochs >= 1, "epochs", "must be at least 1"),
                  (self.batch_size >= 1, "batch_size", "must be at least 1"),
                  (self.learning_rate > 0 and math.isfinite(self.learning_rate),
                   "learning_rate", "must be a positive number"),
                  (self.weight_decay >= 0, "weight_decay", "must be >= 0"),
                  (self.warmup_epochs >= 0, "warmup_epochs", "must be >= 0"),
                  (self.hidden >= 1, "hidden", "must be at least 1"),
                  (0 <= self.val_fraction < 1, "val_fraction", "must be in [0, 1)"),
                  (self.patience >= 0, "patience", "must be >= 0"),
                  (self.seed >= 0, "seed", "must be >= 0"),
                  (self.max_games is None or self.max_games >= 1, "max_games",
                   "must be at least 1")]
        check_fields(checks)  # the error names the field, the CLI the flag
        save = Path(self.save_path)
        if save.is_dir():
            raise ConfigError("save_path", f"{save}: is a directory")
        for path in self.db_paths:
            if not Path(path).is_file():
                raise ConfigError("db_paths", f"{path}: no such game database")

"""`python -m ringrift.train.run_config CONFIG.json`: one training run of a saved TrainConfig.

What the loop starts under torchrun (`--train-nproc N`): the loop's TrainConfig holds settings
no command-line flag sets (the schedule's offset and span across iterations, the split seed), so
the ranks read the whole config from a file instead of flags. Exit status as `ringrift train`'s:
0, 128 + signal when a signal stopped it (an emergency checkpoint saved), 2 on a UserError.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

from ringrift.atomic import atomic_write_text
from ringrift.errors import UserError


def write_config(cfg: Any, path: Path) -> None:
    """Save a TrainConfig for `run_config` (JSON, every field)."""
    atomic_write_text(path, json.dumps(cfg.to_dict(), indent=1) + "\n")


def read_config(path: Path):
    """The TrainConfig saved at `path` (unknown fields: UserError)."""
    from ringrift.train.config import TrainConfig

    try:
        data = json.loads(Path(path).read_text())
        names = {f.name for f in dataclasses.fields(TrainConfig)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise UserError(f"{path}: unknown training settings {', '.join(unknown)}")
        return TrainConfig(**data)
    except (OSError, ValueError, TypeError) as exc:
        raise UserError(f"{path}: not a training config ({exc})") from None


def main(argv: list[str]) -> int:
    from ringrift.train.distributed import close_distributed
    from ringrift.train.trainer import train

    if len(argv) != 1:
        print("usage: python -m ringrift.train.run_config CONFIG.json", file=sys.stderr)
        return 2
    try:
        result = train(read_config(Path(argv[0])))
    except UserError as exc:
        print(f"ringrift train: error: {exc}", file=sys.stderr)
        return 2
    finally:
        close_distributed()
    return 0 if result.interrupted_by is None else 128 + int(result.interrupted_by)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

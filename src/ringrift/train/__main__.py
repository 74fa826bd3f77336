"""`python -m ringrift.train FLAGS` is `ringrift train FLAGS` (the seed's `python -m
app.training.X`), and the module torchrun starts (`torchrun --nproc-per-node N -m ringrift.train
...`), one process per rank."""

from __future__ import annotations

import sys


def run(argv: list[str] | None = None) -> int:
    from ringrift.cli.main import main
    from ringrift.train.distributed import close_distributed

    try:
        return main(["train", *(sys.argv[1:] if argv is None else argv)])
    finally:
        close_distributed()


if __name__ == "__main__":
    sys.exit(run())

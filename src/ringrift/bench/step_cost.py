"""`ringrift bench presets`: the figures behind ringrift.train.presets.

For each board and architecture, one training step (forward, backward, AdamW; two players,
random inputs) at two batch sizes, in a fresh process each (peak memory is per process), one
torch thread, timed in process CPU seconds: comparable on a machine shared with other jobs.
Gives samples per CPU second and MB of peak memory per sample (the growth between the two
batches), the numbers MEASURED in ringrift.train.presets holds; the command (cli/
bench_presets.py) prints them and the presets they give.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

from ringrift.errors import check_fields
from ringrift.nn.architectures import PRESETS
from ringrift.rules.spec import BOARD_TYPES
from ringrift.train.presets import MEASURED


@dataclass(frozen=True)
class StepCostSettings:
    """What to measure: by default every board and architecture ringrift.train.presets holds
    figures for, at the batches and steps those figures were measured with."""

    boards: tuple[str, ...] = tuple(MEASURED)
    architectures: tuple[str, ...] = tuple(PRESETS)
    batches: tuple[int, int] = (16, 64)  # (small, large): memory per sample is the growth
    steps: int = 3  # timed steps per measurement

    def validate(self) -> None:
        """Raise ConfigError naming the field of the first bad setting."""
        bad_board = next((b for b in self.boards if b not in BOARD_TYPES), None)
        bad_arch = next((a for a in self.architectures if a not in PRESETS), None)
        check_fields([
            (bool(self.boards) and bad_board is None, "boards",
             f"expects boards among {', '.join(BOARD_TYPES)}, got {bad_board!r}"),
            (bool(self.architectures) and bad_arch is None, "architectures",
             f"expects architectures among {', '.join(PRESETS)}, got {bad_arch!r}"),
            (len(self.batches) == 2 and 1 <= self.batches[0] < self.batches[1], "batches",
             "expected 1 <= SMALL < LARGE"),
            (self.steps >= 1, "steps", "must be at least 1"),
        ])


def step_costs(settings: StepCostSettings) -> Iterator[dict]:
    """Per board and architecture (in that order), samples per CPU second at the larger batch
    and MB of peak memory per sample, each as soon as it is measured."""
    settings.validate()
    small, large = settings.batches
    for board in settings.boards:
        for version in settings.architectures:
            a, b = (_measure_in_child(board, version, n, settings.steps) for n in (small, large))
            yield {"board": board, "version": version,
                   "samples_per_cpu_s": b["samples_per_cpu_s"],
                   "mb_per_sample": (b["peak_rss_mb"] - a["peak_rss_mb"]) / (large - small)}


def measure_step(board: str, version: str, batch: int, steps: int) -> dict:
    """One measurement, in this process: CPU seconds per step and peak resident memory."""
    import resource
    import time

    import torch

    from ringrift.nn.models import build_model, make_config
    from ringrift.rules.spec import GameSpec

    torch.set_num_threads(1)
    cfg = make_config(version, GameSpec(board, 2))
    model = build_model(cfg)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    features = torch.randn(batch, cfg.in_channels, cfg.height, cfg.width)
    globals_ = torch.randn(batch, cfg.num_globals)

    def step() -> None:
        out = model(features, globals_)
        loss = out.policy.float().logsumexp(-1).mean() + out.value.float().pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    step()  # warm-up
    started = time.process_time()
    for _ in range(steps):
        step()
    seconds = (time.process_time() - started) / steps
    return {"board": board, "version": version, "batch": batch,
            "cpu_s_per_step": seconds, "samples_per_cpu_s": batch / seconds,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _measure_in_child(board: str, version: str, batch: int, steps: int) -> dict:
    done = subprocess.run([sys.executable, "-m", "ringrift.bench.step_cost", board, version,
                           str(batch), str(steps)], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


if __name__ == "__main__":  # one measurement per process: `python -m ringrift.bench.step_cost`
    board_arg, version_arg, batch_arg, steps_arg = sys.argv[1:5]
    print(json.dumps(measure_step(board_arg, version_arg, int(batch_arg), int(steps_arg))))

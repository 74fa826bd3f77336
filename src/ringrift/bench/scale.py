"""`ringrift bench scale`: what the scale-out engines cost and give on this machine.

Selfplay games/s with 1 and 2 workers on the local backend (processes) and on Ray (actors on a
local Ray instance, started before timing: its start is reported apart), the same games each
time (same seed); then training samples/s with 1 and 2 torchrun processes (CPU gloo, DDP) on
the games just played, exported to training arrays. Figures only, nothing asserted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ringrift.config_defaults import field_default
from ringrift.errors import check_fields
from ringrift.exec import BACKENDS
from ringrift.selfplay.runner import SelfplayConfig
from ringrift.train.config import TrainConfig


@dataclass(frozen=True)
class ScaleBenchSettings:
    """What to time: selfplay (the default game and engine, as selfplay's) on each backend with
    each worker count, then one training epoch with each torchrun process count."""

    board_type: str = field_default(SelfplayConfig, "board_type")
    num_players: int = field_default(SelfplayConfig, "num_players")
    engine: str = field_default(SelfplayConfig, "engine")
    games: int = 16  # selfplay games per run
    seed: int = 1
    workers: tuple[int, ...] = (1, 2)  # worker counts to time
    backends: tuple[str, ...] = BACKENDS
    model_version: str = field_default(TrainConfig, "model_version")  # the network trained
    train_nproc: tuple[int, ...] = (1, 2)  # torchrun process counts
    train_samples: int = 2048  # training samples per run (one epoch)
    batch_size: int = 64  # global training batch

    def selfplay_config(self) -> SelfplayConfig:
        """The selfplay every timed run plays (the same games each time: the same seed)."""
        config = SelfplayConfig(board_type=self.board_type, num_players=self.num_players,
                                engine=self.engine, seed=self.seed,
                                temperature_schedule="constant")
        config.validate()
        return config

    def validate(self) -> None:
        """Raise ConfigError naming the field of the first bad setting."""
        unknown = [b for b in self.backends if b not in BACKENDS]
        check_fields([
            (self.games >= 1, "games", "must be at least 1"),
            (bool(self.workers) and min(self.workers) >= 1, "workers",
             f"counts must be at least 1, got {_listed(self.workers)!r}"),
            (bool(self.backends) and not unknown, "backends",
             f"expects backends among {', '.join(BACKENDS)}, got {_listed(self.backends)!r}"),
            (bool(self.train_nproc) and min(self.train_nproc) >= 1, "train_nproc",
             f"counts must be at least 1, got {_listed(self.train_nproc)!r}"),
            (self.train_samples >= 1, "train_samples", "must be at least 1"),
            (self.batch_size >= 1, "batch_size", "must be at least 1"),
        ])
        self.selfplay_config()


def _listed(values: tuple) -> str:
    return ",".join(str(v) for v in values)


def selfplay_figures(config, games: int, workers: list[int], backends: list[str]
                     ) -> tuple[list[dict[str, Any]], list]:
    """One timed run per (backend, workers): games/s, moves/s; and the games played."""
    from ringrift.selfplay.workers import run_games

    rows, records = [], []
    for backend in backends:
        start_s = None
        if backend == "ray":
            from ringrift.exec.ray_backend import connect

            t0 = time.perf_counter()
            connect(None, max(workers))
            start_s = time.perf_counter() - t0
        for n in workers:
            t0 = time.perf_counter()
            played = list(run_games(config, range(games), n, backend=backend))
            seconds = time.perf_counter() - t0
            moves = sum(r.move_count for r in played)
            rows.append({"backend": backend, "workers": n, "games": len(played),
                         "seconds": seconds, "games_per_s": len(played) / seconds,
                         "moves_per_s": moves / seconds, "ray_start_s": start_s})
            records = played
    return rows, records


def training_figures(data: Path, settings: ScaleBenchSettings,
                     folder: Path) -> list[dict[str, Any]]:
    """One epoch per process count under `ringrift train --nproc-per-node N`: samples/s."""
    rows = []
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    for n in settings.train_nproc:
        save = folder / f"train_{n}" / "m.pt"
        command = [sys.executable, "-m", "ringrift", "train",
                   "--board-type", settings.board_type,
                   "--num-players", str(settings.num_players), "--data-path", str(data),
                   "--save-path", str(save), "--model-version", settings.model_version,
                   "--batch-size", str(settings.batch_size), "--epochs", "1",
                   "--samples-per-epoch", str(settings.train_samples), "--val-split", "0",
                   "--no-progress", "--no-tensorboard", "--seed", str(settings.seed),
                   "--nproc-per-node", str(n)]
        t0 = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - t0
        if done.returncode != 0:
            rows.append({"nproc": n, "error": done.stderr.strip().splitlines()[-1:]})
            continue
        metrics = json.loads(save.with_name(save.name + ".metrics.json").read_text())
        epoch = metrics["history"][0]
        rows.append({"nproc": n, "samples_per_s": epoch["samples_per_s"],
                     "train_loss": epoch.get("train_loss"), "wall_s": seconds})
    return rows


def scale_figures(settings: ScaleBenchSettings) -> dict[str, Any]:
    """Selfplay figures per (backend, workers), then training figures per process count on the
    games the last selfplay run played."""
    from ringrift.selfplay.output import GameSink

    settings.validate()
    config = settings.selfplay_config()
    selfplay, records = selfplay_figures(config, settings.games, list(settings.workers),
                                         list(settings.backends))
    with tempfile.TemporaryDirectory(prefix="ringrift-bench-scale-") as tmp:
        sink = GameSink(tmp, "npz", config.spec)
        for record in records:
            sink.add(record)
        sink.close()
        training = training_figures(sink.path, settings, Path(tmp))
    return {"cpus": os.cpu_count(), "selfplay": selfplay, "training": training,
            "engine": settings.engine, "model_version": settings.model_version}

"""`ringrift bench scale`: what the scale-out engines cost and give on this machine.

Selfplay games/s with 1 and 2 workers on the local backend (processes) and on Ray (actors on a
local Ray instance, started before timing: its start is reported apart), the same games each
time (same seed); then training samples/s with 1 and 2 torchrun processes (CPU gloo, DDP) on
the games just played, exported to training arrays. Figures only, nothing asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ringrift.config_defaults import field_default
from ringrift.selfplay.runner import SelfplayConfig


def add_bench_scale(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("scale", help="selfplay games/s local vs Ray, training samples/s with "
                       "1 and 2 torchrun processes")
    # the default game (SelfplayConfig's)
    p.add_argument("--board-type", default=field_default(SelfplayConfig, "board_type"))
    p.add_argument("--num-players", type=int, default=field_default(SelfplayConfig, "num_players"))
    p.add_argument("--engine", default="heuristic", help="selfplay engine (default heuristic)")
    p.add_argument("--games", type=int, default=16, help="selfplay games per run")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--workers", default="1,2", help="worker counts to time (default 1,2)")
    p.add_argument("--backends", default="local,ray", help="backends to time")
    p.add_argument("--model-version", default="v2", help="network trained (default v2)")
    p.add_argument("--train-nproc", default="1,2", help="torchrun process counts (default 1,2)")
    p.add_argument("--train-samples", type=int, default=2048,
                   help="training samples per run (one epoch; default %(default)s)")
    p.add_argument("--batch-size", type=int, default=64, help="global training batch")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run_bench_scale)


def _counts(text: str, flag: str) -> list[int]:
    from ringrift.errors import UserError

    try:
        values = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise UserError(f"{flag}: a comma-separated list of counts, got {text!r}") from None
    if not values or min(values) < 1:
        raise UserError(f"{flag}: counts must be at least 1, got {text!r}")
    return values


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


def training_figures(data: Path, args: argparse.Namespace, nprocs: list[int],
                     folder: Path) -> list[dict[str, Any]]:
    """One epoch per process count under `ringrift train --nproc-per-node N`: samples/s."""
    rows = []
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    for n in nprocs:
        save = folder / f"train_{n}" / "m.pt"
        command = [sys.executable, "-m", "ringrift", "train", "--board-type", args.board_type,
                   "--num-players", str(args.num_players), "--data-path", str(data),
                   "--save-path", str(save), "--model-version", args.model_version,
                   "--batch-size", str(args.batch_size), "--epochs", "1",
                   "--samples-per-epoch", str(args.train_samples), "--val-split", "0",
                   "--no-progress", "--no-tensorboard", "--seed", str(args.seed),
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


def run_bench_scale(args: argparse.Namespace) -> int:
    from ringrift.errors import UserError
    from ringrift.selfplay.output import GameSink
    from ringrift.selfplay.runner import SelfplayConfig

    workers = _counts(args.workers, "--workers")
    nprocs = _counts(args.train_nproc, "--train-nproc")
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    for b in backends:
        if b not in ("local", "ray"):
            raise UserError(f"--backends: unknown backend {b!r} (local, ray)")
    if args.games < 1:
        raise UserError("--games must be at least 1")
    config = SelfplayConfig(board_type=args.board_type, num_players=args.num_players,
                            engine=args.engine, seed=args.seed,
                            temperature_schedule="constant")
    config.validate()
    selfplay, records = selfplay_figures(config, args.games, workers, backends)
    training: list[dict[str, Any]] = []
    if nprocs:
        with tempfile.TemporaryDirectory(prefix="ringrift-bench-scale-") as tmp:
            sink = GameSink(tmp, "npz", args.board_type, args.num_players)
            for record in records:
                sink.add(record)
            sink.close()
            training = training_figures(sink.path, args, nprocs, Path(tmp))
    result = {"cpus": os.cpu_count(), "selfplay": selfplay, "training": training,
              "engine": args.engine, "model_version": args.model_version}
    if args.json:
        print(json.dumps(result, indent=1))
        return 0
    print(f"selfplay ({args.engine}, {args.board_type} {args.num_players}p, {args.games} games, "
          f"{os.cpu_count()} CPUs):")
    for row in selfplay:
        start = (f" (Ray start {row['ray_start_s']:.1f} s, not counted)"
                 if row["ray_start_s"] is not None else "")
        print(f"  {row['backend']:5s} {row['workers']} worker(s): {row['games_per_s']:.2f} "
              f"games/s, {row['moves_per_s']:.0f} moves/s, {row['seconds']:.1f} s{start}")
    if training:
        print(f"training ({args.model_version}, CPU gloo, global batch {args.batch_size}, "
              f"{args.train_samples} samples):")
        for row in training:
            if "error" in row:
                print(f"  {row['nproc']} process(es): failed: {row['error']}")
            else:
                print(f"  {row['nproc']} process(es): {row['samples_per_s']:.0f} samples/s "
                      f"(wall {row['wall_s']:.1f} s with start-up)")
    return 0

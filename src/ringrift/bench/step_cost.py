"""`ringrift bench presets`: the figures behind ringrift.train.presets.

For each board and architecture, one training step (forward, backward, AdamW; two players,
random inputs) at two batch sizes, in a fresh process each (peak memory is per process), one
torch thread, timed in process CPU seconds: comparable on a machine shared with other jobs.
Prints samples per CPU second and MB of peak memory per sample (the growth between the two
batches), the numbers MEASURED in ringrift.train.presets holds, and the presets they give.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys


def add_bench_presets(bench_subparsers: argparse._SubParsersAction) -> None:
    p = bench_subparsers.add_parser("presets", help="training step cost per board and "
                                    "architecture (the figures of the per-board presets)",
                                    description=__doc__.splitlines()[0])
    p.add_argument("--boards", default="square8,hex8,square19,hexagonal")
    p.add_argument("--architectures", default="v2,v3")
    p.add_argument("--batches", default="16,64", metavar="SMALL,LARGE",
                   help="the two batch sizes (default %(default)s)")
    p.add_argument("--steps", type=int, default=3, help="timed steps per measurement")
    p.set_defaults(func=run_presets)


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


def run_presets(args: argparse.Namespace) -> int:
    from ringrift.errors import UserError
    from ringrift.train import presets

    try:
        small, large = (int(b) for b in args.batches.split(","))
    except ValueError:
        raise UserError(f"--batches {args.batches!r}: expected SMALL,LARGE") from None
    if not 1 <= small < large:
        raise UserError("--batches: expected 1 <= SMALL < LARGE")
    print(f"{'board':10} {'arch':4} {'samples/cpu-s':>14} {'MB/sample':>10}")
    for board in args.boards.split(","):
        for version in args.architectures.split(","):
            a, b = (_measure_in_child(board, version, n, args.steps) for n in (small, large))
            per_sample = (b["peak_rss_mb"] - a["peak_rss_mb"]) / (large - small)
            print(f"{board:10} {version:4} {b['samples_per_cpu_s']:14.1f} {per_sample:10.1f}",
                  flush=True)
    print("presets from the figures in ringrift.train.presets.MEASURED:")
    for board in presets.MEASURED:
        preset = presets.preset_for_board(board)
        print(f"  {board:10} {preset.model_version} batch {preset.batch_size} "
              f"learning rate {preset.learning_rate:g}")
    return 0


def _measure_in_child(board: str, version: str, batch: int, steps: int) -> dict:
    done = subprocess.run([sys.executable, "-m", "ringrift.bench.step_cost", board, version,
                           str(batch), str(steps)], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


if __name__ == "__main__":  # one measurement per process: `python -m ringrift.bench.step_cost`
    board_arg, version_arg, batch_arg, steps_arg = sys.argv[1:5]
    print(json.dumps(measure_step(board_arg, version_arg, int(batch_arg), int(steps_arg))))

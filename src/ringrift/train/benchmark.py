"""`ringrift bench train`: training throughput (samples/s) on synthetic data.

Times the real training step (batch building with dense targets, forward, losses, backward,
AdamW) after a few warm-up steps. `add_bench_train` is called by the `bench` command; torch is
imported only when the benchmark runs.
"""

from __future__ import annotations

import argparse
from typing import Any

from ringrift.config_defaults import field_default
from ringrift.nn.architectures import PRESETS
from ringrift.rules.spec import BOARD_TYPES, PLAYER_COUNTS, GameSpec
from ringrift.selfplay.runner import SelfplayConfig
from ringrift.train.config import TrainConfig


def add_bench_train(bench_subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add `train` under `ringrift bench`."""
    p = bench_subparsers.add_parser("train", help="training throughput on synthetic data",
                                    description=__doc__.splitlines()[0])
    p.add_argument("--model-version", default=field_default(TrainConfig, "model_version"),
                   choices=tuple(PRESETS))
    # the default game (SelfplayConfig's)
    p.add_argument("--board-type", default=field_default(SelfplayConfig, "board_type"),
                   choices=BOARD_TYPES)
    p.add_argument("--num-players", type=int, choices=PLAYER_COUNTS,
                   default=field_default(SelfplayConfig, "num_players"))
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--steps", type=int, default=20, help="timed steps")
    p.add_argument("--warmup-steps", type=int, default=3, help="untimed steps first")
    p.add_argument("--amp", action="store_true", help="mixed precision (CUDA; bf16 on CPUs with native bf16)")
    p.add_argument("--amp-dtype", default="bf16", choices=("bf16", "fp16"))
    p.add_argument("--pcgrad", action="store_true")
    p.add_argument("--channels", type=int, help="override the preset's tower width")
    p.add_argument("--blocks", type=int, help="override the preset's tower depth")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_run)
    return p


def synthetic_data(meta: dict[str, Any], n: int, seed: int = 0, legal_per_sample: int = 48):
    """An in-memory TrainingData of `n` random but well-formed samples."""
    import numpy as np

    from ringrift.nn.models import valid_mask_for
    from ringrift.train.dataset import TrainingData

    rng = np.random.default_rng(seed)
    h, w, planes = meta["height"], meta["width"], meta["policy_planes"]
    p = meta["num_players"]
    mask = np.array(valid_mask_for(meta["board_type"], h, w), dtype=bool).reshape(-1)
    candidates = np.concatenate([
        (np.arange(planes)[:, None] * h * w + np.flatnonzero(mask)[None, :]).reshape(-1),
        planes * h * w + np.arange(meta["scalar_actions"])]).astype(np.int32)
    k = min(legal_per_sample, len(candidates))
    legal = np.stack([np.sort(rng.choice(candidates, k, replace=False)) for _ in range(n)])
    probs = rng.dirichlet(np.ones(k), size=n).astype(np.float32)
    ranks = np.stack([rng.permutation(p) for _ in range(n)]).astype(np.int8)
    offsets = np.arange(n + 1, dtype=np.int64) * k
    return TrainingData(
        features=rng.standard_normal((n, meta["in_channels"], h, w)).astype(np.float16),
        globals=rng.standard_normal((n, meta["num_globals"])).astype(np.float32),
        values=rng.uniform(-1, 1, (n, p)).astype(np.float32), ranks=ranks,
        policy_offsets=offsets, policy_indices=legal.reshape(-1),
        policy_probs=probs.reshape(-1), legal_offsets=offsets.copy(),
        legal_indices=legal.reshape(-1).copy(), move_numbers=np.zeros(n, dtype=np.int32),
        game_ids=np.array([f"g{i}" for i in range(n)]), meta=meta)


_DEFAULT_SPEC = GameSpec("square8", 2)


def run_train_benchmark(model_version: str = "v2", spec: GameSpec = _DEFAULT_SPEC,
                        batch_size: int = 256, steps: int = 20,
                        warmup_steps: int = 3, amp: bool = False, amp_dtype: str = "bf16",
                        pcgrad: bool = False, channels: int | None = None,
                        blocks: int | None = None, device: str = "auto", seed: int = 0
                        ) -> dict[str, Any]:
    """Time `steps` training steps; return figures (samples_per_s, ms_per_step, ...)."""
    import time

    import numpy as np
    import torch

    from ringrift.nn.inference import resolve_device
    from ringrift.nn.losses import LossWeights
    from ringrift.nn.models import build_model, count_parameters, make_config
    from ringrift.nn.optimizer import make_optimizer
    from ringrift.nn.precision import autocast_dtype, dtype_name
    from ringrift.train.dataset import BatchBuilder
    from ringrift.train.schedule import LRSchedule
    from ringrift.train.step import TrainStep

    dev = resolve_device(device)
    torch.manual_seed(seed)
    cfg = make_config(model_version, spec, channels=channels, blocks=blocks)
    meta = {"board_type": spec.board_type, "num_players": spec.num_players,
            "policy_size": cfg.policy_size,
            "in_channels": cfg.in_channels, "num_globals": cfg.num_globals,
            "height": cfg.height, "width": cfg.width, "policy_planes": cfg.policy_planes,
            "scalar_actions": cfg.scalar_actions}
    data = synthetic_data(meta, batch_size * 4, seed)
    builder = BatchBuilder(data, dev)
    model = build_model(cfg).to(dev)
    optimizer = make_optimizer(model, 1e-3, 1e-4)
    dtype, note = autocast_dtype(dev, amp_dtype) if amp else (None, None)
    stepper = TrainStep(model, optimizer, LRSchedule("none", 1e-3, steps + warmup_steps),
                        LossWeights(), device=dev, amp_dtype=dtype, pcgrad=pcgrad)
    rng = np.random.default_rng(seed)

    def one(step: int) -> None:
        idx = rng.choice(len(data), batch_size, replace=False)
        stepper.run([builder.build(idx)], step)

    for s in range(warmup_steps):
        one(s)
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    t0 = time.perf_counter()
    for s in range(steps):
        one(warmup_steps + s)
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    elapsed = time.perf_counter() - t0
    return {"benchmark": "train", "model_version": model_version,
            "board_type": spec.board_type, "num_players": spec.num_players,
            "parameters": count_parameters(model),
            "batch_size": batch_size, "steps": steps, "device": str(dev),
            "amp": dtype_name(dtype), "amp_note": note,
            "torch_threads": torch.get_num_threads(), "seconds": elapsed,
            "ms_per_step": 1000 * elapsed / max(steps, 1),
            "samples_per_s": batch_size * steps / elapsed if elapsed > 0 else 0.0}


def _run(args: argparse.Namespace) -> int:
    import json
    import sys

    from ringrift.errors import UserError

    if args.batch_size < 2 or args.steps < 1 or args.warmup_steps < 0:
        raise UserError("--batch-size must be >= 2, --steps >= 1, --warmup-steps >= 0")
    spec = GameSpec.checked(args.board_type, args.num_players, error=UserError)
    result = run_train_benchmark(args.model_version, spec, args.batch_size, args.steps,
                                 args.warmup_steps, args.amp, args.amp_dtype, args.pcgrad,
                                 args.channels, args.blocks, args.device, args.seed)
    if result["amp_note"]:
        print(result["amp_note"], file=sys.stderr)
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        print(f"bench train: {result['model_version']} {result['board_type']} "
              f"{result['num_players']}p ({result['parameters']:,} params), batch "
              f"{result['batch_size']} on {result['device']}"
              f"{' ' + result['amp'] if result['amp'] else ''}: "
              f"{result['samples_per_s']:.1f} samples/s ({result['ms_per_step']:.1f} ms/step, "
              f"{result['steps']} steps, {result['torch_threads']} threads)")
    return 0

"""`ringrift bench train`: training throughput (samples/s) on synthetic data.

Times the real training step (batch building with dense targets, forward, losses, backward,
AdamW) after a few warm-up steps. `TrainBenchSettings` holds the settings and their defaults
(the flags of cli/bench_train.py read them); torch is imported only when the benchmark runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ringrift.config_defaults import field_default
from ringrift.errors import UserError, check_fields
from ringrift.nn.architectures import PRESETS
from ringrift.rules.spec import GameSpec
from ringrift.selfplay.runner import SelfplayConfig
from ringrift.train.config import AMP_DTYPES, TrainConfig


@dataclass(frozen=True)
class TrainBenchSettings:
    """What to time: the network and game, the batch, the steps and how they run (the network
    and device as a training run's defaults, the default game as selfplay's)."""

    model_version: str = field_default(TrainConfig, "model_version")
    board_type: str = field_default(SelfplayConfig, "board_type")
    num_players: int = field_default(SelfplayConfig, "num_players")
    batch_size: int = 256
    steps: int = 20  # timed steps
    warmup_steps: int = 3  # untimed steps first
    amp: bool = False
    amp_dtype: str = field_default(TrainConfig, "amp_dtype")  # one of AMP_DTYPES
    pcgrad: bool = False
    channels: int | None = None  # None: the preset's tower width
    blocks: int | None = None  # None: the preset's tower depth
    device: str = field_default(TrainConfig, "device")
    seed: int = 0

    @property
    def spec(self) -> GameSpec:
        return GameSpec.checked(self.board_type, self.num_players, error=UserError)

    def validate(self) -> None:
        """Raise ConfigError naming the field of the first bad setting."""
        check_fields([
            (self.model_version in PRESETS, "model_version",
             f"must be one of {', '.join(PRESETS)}, got {self.model_version!r}"),
            (self.batch_size >= 2, "batch_size", "must be at least 2"),
            (self.steps >= 1, "steps", "must be at least 1"),
            (self.warmup_steps >= 0, "warmup_steps", "must be at least 0"),
            (self.amp_dtype in AMP_DTYPES, "amp_dtype",
             f"must be one of {', '.join(AMP_DTYPES)}"),
            (self.channels is None or self.channels >= 1, "channels", "must be at least 1"),
            (self.blocks is None or self.blocks >= 1, "blocks", "must be at least 1"),
        ])
        self.spec  # noqa: B018 (raises UserError for a bad board or player count)


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


def run_train_benchmark(settings: TrainBenchSettings) -> dict[str, Any]:
    """Time `settings.steps` training steps; return figures (samples_per_s, ms_per_step,
    ...)."""
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

    settings.validate()
    spec = settings.spec
    model_version, batch_size = settings.model_version, settings.batch_size
    steps, warmup_steps, seed = settings.steps, settings.warmup_steps, settings.seed
    dev = resolve_device(settings.device)
    torch.manual_seed(seed)
    cfg = make_config(model_version, spec, channels=settings.channels, blocks=settings.blocks)
    meta = {"board_type": spec.board_type, "num_players": spec.num_players,
            "policy_size": cfg.policy_size,
            "in_channels": cfg.in_channels, "num_globals": cfg.num_globals,
            "height": cfg.height, "width": cfg.width, "policy_planes": cfg.policy_planes,
            "scalar_actions": cfg.scalar_actions}
    data = synthetic_data(meta, batch_size * 4, seed)
    builder = BatchBuilder(data, dev)
    model = build_model(cfg).to(dev)
    optimizer = make_optimizer(model, 1e-3, 1e-4)
    dtype, note = autocast_dtype(dev, settings.amp_dtype) if settings.amp else (None, None)
    stepper = TrainStep(model, optimizer, LRSchedule("none", 1e-3, steps + warmup_steps),
                        LossWeights(), device=dev, amp_dtype=dtype, pcgrad=settings.pcgrad)
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

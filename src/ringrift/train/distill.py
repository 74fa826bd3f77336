"""Distillation: train a (small) student on a (large) teacher's soft policy and values.

The student is trained by the ordinary trainer; only the target source differs (TeacherTargets:
KL at temperature T over the legal moves, teacher values as value targets).
"""

from __future__ import annotations

import os
from typing import TextIO

from ringrift.errors import ConfigError, UserError
from ringrift.nn.inference import resolve_device
from ringrift.nn.model_file import sha256_file
from ringrift.nn.models import RingRiftNet, load_model
from ringrift.train.config import DISTILL_TEMPERATURE, TrainConfig
from ringrift.train.targets import TeacherTargets
from ringrift.train.trainer import TrainResult, train


def distill(cfg: TrainConfig, teacher_path: str | os.PathLike[str],
            temperature: float = DISTILL_TEMPERATURE,
            out: TextIO | None = None) -> TrainResult:
    """Train `cfg.model_version` as a student of the model at `teacher_path`."""
    if temperature <= 0:
        raise ConfigError("temperature", "must be > 0")
    teacher, meta = load_model(teacher_path)
    if not isinstance(teacher, RingRiftNet):
        raise UserError(f"{teacher_path}: the teacher must be a v2/v3 policy-value model")
    if meta.get("board_type") != cfg.board_type or meta.get("num_players") != cfg.num_players:
        raise UserError(f"{teacher_path}: teacher is for {meta.get('board_type')} "
                        f"{meta.get('num_players')}p, not {cfg.board_type} {cfg.num_players}p")
    if cfg.encoder_version is None:
        cfg.encoder_version = meta.get("encoder_version")
    teacher.to(resolve_device(cfg.device))
    source = TeacherTargets(teacher, temperature, name=str(teacher_path))
    extra = {"teacher_model": sha256_file(teacher_path), "distill_temperature": temperature}
    return train(cfg, target_source=source, extra_metadata=extra, out=out)

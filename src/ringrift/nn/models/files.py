"""Model files: `torch.save` of plain data (loadable with weights_only=True) + a SHA-256 sidecar.

Layout: {"format": "ringrift-model", "format_version": 1, "metadata": {...JSON-able...},
"model_state": state_dict, ...training state for checkpoints}. The sidecar `<file>.json` holds
{"sha256": ..., "metadata": ...}. It is committed just before the model file is renamed into
place, so a process killed at any moment never leaves a model file without its sidecar.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import torch

from ringrift.atomic import atomic_path, atomic_write_text
from ringrift.errors import UserError
from ringrift.nn.models.config import ModelConfig
from ringrift.nn.models.nnue import NNUEConfig

FORMAT = "ringrift-model"
FORMAT_VERSION = 1


def sidecar_path(path: str | os.PathLike[str]) -> Path:
    """The SHA-256 sidecar of a model file: `<file>.json`."""
    return Path(f"{os.fspath(path)}.json")


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def save_model_file(path: str | os.PathLike[str], payload: dict[str, Any]) -> str:
    """Write `payload` (with format fields added) atomically, then its sidecar; return sha256."""
    payload = {"format": FORMAT, "format_version": FORMAT_VERSION, **payload}
    metadata = payload.setdefault("metadata", {})
    json.dumps(metadata)  # fail before writing anything if metadata is not JSON-able
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
        sha = sha256_file(tmp)
        atomic_write_text(sidecar_path(path),
                          json.dumps({"sha256": sha, "metadata": metadata}, indent=1) + "\n")
    return sha


def read_sidecar(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The parsed sidecar of `path`; UserError when missing or unreadable."""
    if not Path(path).is_file():
        raise UserError(f"{path}: no such model file")
    side = sidecar_path(path)
    if not side.exists():
        raise UserError(f"{path}: missing SHA-256 sidecar {side.name}")
    try:
        data = json.loads(side.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not isinstance(data.get("sha256"), str):
            raise ValueError("no sha256 field")
    except (ValueError, OSError) as exc:
        raise UserError(f"{path}: unreadable sidecar {side.name} ({exc})") from None
    return data


def load_model_file(path: str | os.PathLike[str], map_location: str | torch.device = "cpu",
                    verify: bool = True) -> dict[str, Any]:
    """Load a model/checkpoint file with weights_only=True after checking its SHA-256 sidecar."""
    p = Path(path)
    if not p.is_file():
        raise UserError(f"{path}: no such model file")
    if verify:
        expected = read_sidecar(p)["sha256"]
        actual = sha256_file(p)
        if actual != expected:
            raise UserError(f"{path}: SHA-256 mismatch (file {actual[:12]}..., sidecar "
                            f"{expected[:12]}...): the file is corrupt or was modified")
    try:
        payload = torch.load(p, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises many types for corrupt/foreign files
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"{path}: not a loadable model file ({first})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise UserError(f"{path}: not a {FORMAT} file")
    if payload.get("format_version") != FORMAT_VERSION:
        raise UserError(f"{path}: unsupported format_version {payload.get('format_version')!r} "
                        f"(expected {FORMAT_VERSION})")
    if not isinstance(payload.get("metadata"), dict) or "model_state" not in payload:
        raise UserError(f"{path}: model file lacks metadata or model_state")
    return payload


def config_from_metadata(metadata: dict[str, Any], path: str | os.PathLike[str] = "?"
                         ) -> ModelConfig | NNUEConfig:
    """The model configuration recorded in a model file's metadata."""
    try:
        cfg = metadata["model_config"]
        if metadata.get("architecture") == "nnue":
            return NNUEConfig.from_dict(cfg)
        return ModelConfig.from_dict(cfg)
    except (KeyError, TypeError, ValueError) as exc:
        raise UserError(f"{path}: bad model_config in metadata ({exc})") from None


def load_model(path: str | os.PathLike[str], map_location: str | torch.device = "cpu"
               ) -> tuple[torch.nn.Module, dict[str, Any]]:
    """Build the network recorded in a model file and load its weights: (model, metadata)."""
    from ringrift.nn.models import build_model

    payload = load_model_file(path, map_location=map_location)
    config = config_from_metadata(payload["metadata"], path)
    model = build_model(config)
    try:
        model.load_state_dict(payload["model_state"])
    except RuntimeError as exc:
        raise UserError(f"{path}: weights do not fit the recorded model config "
                        f"({str(exc).splitlines()[0]})") from None
    return model.to(map_location), payload["metadata"]

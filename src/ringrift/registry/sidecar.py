"""The `<model file>.json` sidecar the trainer writes beside each model file.

Shape: {"sha256": "<hex>", "metadata": {"architecture" or "model_version", "board_type",
"num_players", "encoder_version", ...}}. Only the fields the registry needs are read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ringrift.errors import UserError


@dataclass(frozen=True)
class Sidecar:
    """What the registry takes from a sidecar; fields absent from it are None."""

    sha256: str | None
    board_type: str | None
    num_players: int | None
    architecture: str | None
    encoder_version: str | None
    metadata: dict[str, Any]


def sidecar_path(model_path: Path) -> Path:
    """Sidecar location for a model file: the same name with '.json' appended."""
    return model_path.with_name(model_path.name + ".json")


def read_sidecar(model_path: Path) -> Sidecar | None:
    """Parse the sidecar of `model_path`; None when there is none, UserError when malformed."""
    path = sidecar_path(model_path)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"sidecar {path} is not readable JSON: {exc}") from None
    if not isinstance(data, dict):
        raise UserError(f"sidecar {path}: expected a JSON object")
    metadata = data.get("metadata", {})
    if not isinstance(metadata, dict):
        raise UserError(f"sidecar {path}: 'metadata' must be an object")
    sha = data.get("sha256")
    if sha is not None and not isinstance(sha, str):
        raise UserError(f"sidecar {path}: 'sha256' must be a string")
    architecture = metadata.get("architecture", metadata.get("model_version"))
    encoder = metadata.get("encoder_version")
    players = metadata.get("num_players")
    if players is not None and (isinstance(players, bool) or not isinstance(players, int)):
        raise UserError(f"sidecar {path}: 'num_players' must be an integer")
    board = metadata.get("board_type")
    if board is not None and not isinstance(board, str):
        raise UserError(f"sidecar {path}: 'board_type' must be a string")
    return Sidecar(
        sha256=sha.lower() if sha else None,
        board_type=board,
        num_players=players,
        architecture=None if architecture is None else str(architecture),
        encoder_version=None if encoder is None else str(encoder),
        metadata=metadata,
    )

"""Model files, their SHA-256 sidecars and file digests: the one place for all three.

A model file is `torch.save` of plain data (loadable with weights_only=True):
{"format": "ringrift-model", "format_version": 1, "metadata": {...JSON-able...},
"model_state": state_dict, ...training state for checkpoints}. Its sidecar `<file>.json` holds
{"sha256": ..., "metadata": ...}; the sidecar is committed just before the model file is renamed
into place, so a process killed at any moment never leaves a model file without its sidecar.

torch is imported only by the functions that save or load, so the registry and evaluation can
hash files and read sidecars without it.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ringrift.atomic import atomic_path, atomic_write_text
from ringrift.errors import UserError

if TYPE_CHECKING:
    import torch

FORMAT = "ringrift-model"
FORMAT_VERSION = 1


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file's bytes, read in chunks so large files do not fill memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sidecar_path(path: str | os.PathLike[str]) -> Path:
    """The SHA-256 sidecar of a model file: `<file>.json`."""
    return Path(f"{os.fspath(path)}.json")


# --------------------------------------------------------------------------- sidecars
def _sidecar_json(side: Path) -> dict[str, Any]:
    try:
        data = json.loads(side.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UserError(f"sidecar {side} is not readable JSON ({exc})") from None
    if not isinstance(data, dict):
        raise UserError(f"sidecar {side}: expected a JSON object")
    return data


def read_sidecar(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The parsed sidecar of model file `path` (it must exist and record a sha256); UserError
    when the file or sidecar is missing or unreadable."""
    if not Path(path).is_file():
        raise UserError(f"{path}: no such model file")
    side = sidecar_path(path)
    if not side.exists():
        raise UserError(f"{path}: missing SHA-256 sidecar {side.name}")
    try:
        data = _sidecar_json(side)
    except UserError as exc:
        raise UserError(f"{path}: unreadable sidecar {side.name} ({exc})") from None
    if not isinstance(data.get("sha256"), str):
        raise UserError(f"{path}: unreadable sidecar {side.name} (no sha256 field)")
    return data


@dataclass(frozen=True)
class Sidecar:
    """The fields the registry takes from a sidecar; those absent from it are None."""

    sha256: str | None
    board_type: str | None
    num_players: int | None
    architecture: str | None
    encoder_version: str | None
    metadata: dict[str, Any]


def sidecar_info(model_path: str | os.PathLike[str]) -> Sidecar | None:
    """The sidecar of `model_path` as typed fields; None when there is none, UserError when
    malformed."""
    side = sidecar_path(model_path)
    if not side.is_file():
        return None
    data = _sidecar_json(side)
    metadata = data.get("metadata", {})
    if not isinstance(metadata, dict):
        raise UserError(f"sidecar {side}: 'metadata' must be an object")
    sha = data.get("sha256")
    if sha is not None and not isinstance(sha, str):
        raise UserError(f"sidecar {side}: 'sha256' must be a string")
    architecture = metadata.get("architecture", metadata.get("model_version"))
    encoder = metadata.get("encoder_version")
    players = metadata.get("num_players")
    if players is not None and (isinstance(players, bool) or not isinstance(players, int)):
        raise UserError(f"sidecar {side}: 'num_players' must be an integer")
    board = metadata.get("board_type")
    if board is not None and not isinstance(board, str):
        raise UserError(f"sidecar {side}: 'board_type' must be a string")
    return Sidecar(
        sha256=sha.lower() if sha else None,
        board_type=board,
        num_players=players,
        architecture=None if architecture is None else str(architecture),
        encoder_version=None if encoder is None else str(encoder),
        metadata=metadata,
    )


# --------------------------------------------------------------------------- model files
def save_model_file(path: str | os.PathLike[str], payload: dict[str, Any]) -> str:
    """Write `payload` (with format fields added) atomically, then its sidecar; return sha256."""
    import torch

    payload = {"format": FORMAT, "format_version": FORMAT_VERSION, **payload}
    metadata = payload.setdefault("metadata", {})
    json.dumps(metadata)  # fail before writing anything if metadata is not JSON-able
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
        sha = sha256_file(tmp)
        atomic_write_text(sidecar_path(path),
                          json.dumps({"sha256": sha, "metadata": metadata}, indent=1) + "\n")
    return sha


def load_model_file(path: str | os.PathLike[str], map_location: str | torch.device = "cpu",
                    verify: bool = True) -> dict[str, Any]:
    """Load a model/checkpoint file with weights_only=True after checking its SHA-256 sidecar."""
    import torch

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

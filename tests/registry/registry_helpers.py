"""Helpers shared by the registry tests (fake model files and their sidecars)."""

import hashlib
import json
from pathlib import Path


def make_model(folder: Path, name: str, content: bytes | None = None,
               metadata: dict | None = None, sidecar_sha: bool = True) -> Path:
    """A fake model file, optionally with a trainer-style sidecar."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if content is None:  # a loadable (weights-only) payload, distinct per name
        import io

        import torch

        buffer = io.BytesIO()
        torch.save({"model_state": {"w": torch.zeros(1)}, "metadata": {"name": name}}, buffer)
        content = buffer.getvalue()
    path.write_bytes(content)
    if metadata is not None:
        body = {"metadata": metadata}
        if sidecar_sha:
            body["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
        (folder / f"{name}.json").write_text(json.dumps(body))
    return path


FIELDS = {"board_type": "square8", "num_players": 2, "architecture": "resnet-s",
          "encoder_version": "3"}

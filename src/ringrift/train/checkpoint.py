"""Training checkpoints: regular / epoch / emergency / best, keep-last-N, verified on load.

Files are model files (`ringrift.nn.model_file`: torch.save of plain data + SHA-256 sidecar,
atomic). Names carry the optimizer step so that every save is a new file: a kill at any moment
leaves older checkpoints intact and never a half-written or unverifiable one.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import sys
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ringrift.errors import UserError
from ringrift.nn.model_file import (
    load_model_file,
    save_model_file,
    sha256_file,
    sidecar_path,
)

__all__ = ["CheckpointManager", "CheckpointType", "capture_rng_state", "load_checkpoint",
           "restore_rng_state", "save_checkpoint", "sha256_file"]

KINDS = ("regular", "emergency", "epoch")  # at equal steps, later in this tuple wins


class CheckpointType(StrEnum):
    """The seed's checkpoint kinds: the three step kinds of KINDS, and the best model."""

    REGULAR = "regular"
    EPOCH = "epoch"
    BEST = "best"
    EMERGENCY = "emergency"


def _check_loadable(payload: dict[str, Any]) -> None:
    """Refuse, before writing, a payload that load_checkpoint would reject (it used to be saved
    and then skipped by latest() as unusable)."""
    if not isinstance(payload, dict) or "model_state" not in payload:
        raise ValueError("a checkpoint payload needs a 'model_state' (the model's state_dict)")
    if "metadata" in payload and not isinstance(payload["metadata"], dict):
        raise ValueError("a checkpoint payload's 'metadata' must be a dict")
_NAME = re.compile(r"^step_(\d{9})_(regular|emergency|epoch)\.pt$")
_BEST = re.compile(r"^best_(\d{9})\.pt$")


def save_checkpoint(path: str | os.PathLike[str], payload: dict[str, Any]) -> str:
    """Atomically write a checkpoint/model file and its SHA-256 sidecar; return the sha256."""
    return save_model_file(path, payload)


def load_checkpoint(path: str | os.PathLike[str],
                    map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint after verifying it against its sidecar (UserError on any problem)."""
    return load_model_file(path, map_location=map_location)


def capture_rng_state() -> dict[str, Any]:
    """torch / numpy / python RNG states as tensors and lists (weights_only-loadable)."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    version, internal, gauss = random.getstate()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "cached_gaussian": float(cached)},
        "python": {"version": version, "internal": list(internal), "gauss": gauss},
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    """Inverse of capture_rng_state."""
    torch.set_rng_state(state["torch"].cpu())
    n = state["numpy"]
    np.random.set_state((n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"],
                         n["has_gauss"], n["cached_gaussian"]))
    py = state["python"]
    random.setstate((py["version"], tuple(py["internal"]), py["gauss"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])


class CheckpointManager:
    """Checkpoints of one run in one folder: `step_<step>_<kind>.pt` and `best_<step>.pt`.

    Keeps the last `keep_last` step checkpoints and the newest best one.
    """

    def __init__(self, folder: str | os.PathLike[str] | None = None, keep_last: int = 3, *,
                 checkpoint_dir: str | os.PathLike[str] | None = None,
                 max_checkpoints: int | None = None) -> None:
        # checkpoint_dir / max_checkpoints: the seed's names for folder / keep_last
        if (folder is None) == (checkpoint_dir is None):
            raise TypeError("CheckpointManager: give exactly one of folder or checkpoint_dir")
        self.folder = Path(folder if folder is not None else checkpoint_dir)
        self.keep_last = max(1, keep_last if max_checkpoints is None else max_checkpoints)

    def _entries(self) -> list[tuple[int, int, Path]]:
        if not self.folder.is_dir():
            return []
        out = []
        for path in self.folder.iterdir():
            m = _NAME.match(path.name)
            if m:
                out.append((int(m.group(1)), KINDS.index(m.group(2)), path))
        return sorted(out)

    def best_path(self) -> Path | None:
        """The newest best checkpoint, if any."""
        if not self.folder.is_dir():
            return None
        best = sorted(p for p in self.folder.iterdir() if _BEST.match(p.name))
        return best[-1] if best else None

    def best_step(self) -> int | None:
        """The training step the newest best checkpoint was saved at, if any."""
        best = self.best_path()
        return int(_BEST.match(best.name).group(1)) if best else None

    def checkpoints(self, step: int | None = None) -> list[Path]:
        """Step checkpoints, oldest first (at equal steps in KINDS order); only those saved at
        `step` when given."""
        return [p for s, _, p in self._entries() if step is None or s == step]

    def save(self, payload: dict[str, Any], kind: str, step: int) -> Path:
        """Save a training checkpoint of `kind` (regular|epoch|emergency), then prune."""
        if kind not in KINDS:
            raise ValueError(f"unknown checkpoint kind {kind!r}")
        _check_loadable(payload)
        path = self.folder / f"step_{step:09d}_{kind}.pt"
        save_checkpoint(path, payload)
        self._prune()
        return path

    def save_best(self, payload: dict[str, Any], step: int) -> Path:
        """Save the best model so far and drop the previous best."""
        _check_loadable(payload)
        path = self.folder / f"best_{step:09d}.pt"
        save_checkpoint(path, payload)
        for old in self.folder.iterdir():
            if _BEST.match(old.name) and old != path:
                self._remove(old)
        return path

    def latest(self, log: Any = None) -> tuple[Path, dict[str, Any]] | None:
        """The newest step checkpoint that loads and verifies, with its payload."""
        for _, _, path in reversed(self._entries()):
            try:
                return path, load_checkpoint(path)
            except UserError as exc:
                print(f"warning: skipping unusable checkpoint: {exc}", file=log or sys.stderr)
        return None

    # ---- the seed's interface: save_checkpoint(model=, optimizer=, ...) / load_latest_checkpoint

    def save_checkpoint(self, model: torch.nn.Module, optimizer: Any = None, epoch: int = 0,
                        global_step: int = 0, metrics: dict[str, Any] | None = None,
                        checkpoint_type: CheckpointType | str = "regular",
                        metadata: dict[str, Any] | None = None) -> Path:
        """Save a model (and optimizer) as a checkpoint of `checkpoint_type` at `global_step`."""
        kind = CheckpointType(checkpoint_type)
        payload = {
            "model_state": model.state_dict(),
            "optimizer_state": optimizer.state_dict() if optimizer is not None else None,
            "epoch": int(epoch), "step": int(global_step),
            "metadata": {**(metadata or {}), "epoch": int(epoch), "global_step": int(global_step),
                         "metrics": dict(metrics or {}), "checkpoint_type": kind.value},
        }
        if kind is CheckpointType.BEST:
            return self.save_best(payload, int(global_step))
        return self.save(payload, kind.value, int(global_step))

    def load_latest_checkpoint(self, model: torch.nn.Module | None = None, optimizer: Any = None,
                               log: Any = None) -> dict[str, Any] | None:
        """Load the newest usable checkpoint (step or best, by step) into `model` and
        `optimizer`; return its payload (with `path` added), or None when there is none."""
        candidates = list(self._entries())
        best = self.best_path()
        if best is not None:
            candidates.append((self.best_step(), -1, best))  # a step checkpoint wins a tie
        for _, _, path in sorted(candidates, reverse=True):
            try:
                payload = load_checkpoint(path)
            except UserError as exc:
                print(f"warning: skipping unusable checkpoint: {exc}", file=log or sys.stderr)
                continue
            if model is not None:
                model.load_state_dict(payload["model_state"])
            if optimizer is not None and payload.get("optimizer_state") is not None:
                optimizer.load_state_dict(payload["optimizer_state"])
            payload["path"] = path
            return payload
        return None

    def cleanup_temporaries(self) -> None:
        """Remove what a killed writer can leave behind: temporary files, and sidecars whose
        checkpoint was already deleted. Never touches a committed checkpoint."""
        if not self.folder.is_dir():
            return
        for path in self.folder.iterdir():
            name = path.name
            temporary = name.startswith(".") and name.endswith(".tmp")
            orphan = (name.endswith(".pt.json") and (_NAME.match(name[:-5]) or _BEST.match(
                name[:-5])) and not path.with_name(name[:-5]).exists())
            if temporary or orphan:
                with contextlib.suppress(OSError):
                    path.unlink()

    def _prune(self) -> None:
        entries = self._entries()
        for _, _, path in entries[: max(0, len(entries) - self.keep_last)]:
            self._remove(path)

    @staticmethod
    def _remove(path: Path) -> None:
        # Model file first: a kill in between leaves only a harmless orphan sidecar.
        with contextlib.suppress(OSError):
            path.unlink()
        with contextlib.suppress(OSError):
            sidecar_path(path).unlink()

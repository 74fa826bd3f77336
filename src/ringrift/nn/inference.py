"""Batched inference: one `Evaluator` wrapping a policy/value network on CPU or CUDA.

It works on arrays (features, globals, legal move indices); turning game states into arrays is
the encoding layer's job.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ringrift.errors import ConfigError, UserError
from ringrift.nn.models import ModelConfig, RingRiftNet, load_model
from ringrift.nn.precision import autocast_dtype
from ringrift.rules import GameState, Move


def resolve_device(device: str | torch.device | None) -> torch.device:
    """"auto"/None -> cuda when available else cpu; otherwise the named device (ConfigError
    naming `device` when it is malformed or CUDA is not available)."""
    if device is None or str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except RuntimeError as exc:
        raise ConfigError("device", f"{device}: {exc}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device", f"{device}: CUDA is not available on this machine")
    return dev


class Evaluator:
    """Evaluate positions: softmax over each row's legal moves, and one value per player.

    `amp` autocasts the network to bfloat16 on CUDA, and on CPUs with native bf16 kernels (see
    `ringrift.nn.precision`; elsewhere float32). Probabilities and values are computed in float32
    from the bf16 outputs. Inputs are split into chunks of at most `max_batch` rows.
    """

    def __init__(self, model: RingRiftNet, *, device: str | torch.device | None = None,
                 amp: bool = False, max_batch: int = 1024,
                 metadata: dict[str, Any] | None = None) -> None:
        self.device = resolve_device(device)
        self.model = model.to(self.device).eval()
        self.config: ModelConfig = model.config
        self.amp_dtype = None
        if amp:
            self.amp_dtype, note = autocast_dtype(self.device, "bf16")
            if note:  # asked for, not honoured: say so (on stderr, once per place)
                warnings.warn(note, RuntimeWarning, stacklevel=2)
        self.max_batch = max_batch
        self.metadata = metadata or {}

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike[str], *,
                        device: str | torch.device | None = None, amp: bool = False,
                        max_batch: int = 1024) -> Evaluator:
        """Load a model file (SHA-256 verified, weights only) into an Evaluator."""
        model, metadata = load_model(path)
        if not isinstance(model, RingRiftNet):
            raise UserError(f"{path}: {metadata.get('architecture')} is not a policy/value net")
        return cls(model, device=device, amp=amp, max_batch=max_batch, metadata=metadata)

    @property
    def num_players(self) -> int:
        return self.config.num_players

    @property
    def policy_size(self) -> int:
        return self.config.policy_size

    def evaluate_arrays(self, features: np.ndarray, globals_: np.ndarray,
                        legal_indices: Sequence[np.ndarray]
                        ) -> tuple[list[np.ndarray], np.ndarray]:
        """features [B,C,H,W], globals [B,G], legal index arrays per row ->
        (probabilities over each row's legal indices, in the given order; values [B, P])."""
        n = len(features)
        if len(globals_) != n or len(legal_indices) != n:
            raise ValueError(f"batch sizes differ: features {n}, globals {len(globals_)}, "
                             f"legal {len(legal_indices)}")
        probs: list[np.ndarray] = []
        values = np.zeros((n, self.num_players), dtype=np.float32)
        for start in range(0, n, self.max_batch):
            stop = min(start + self.max_batch, n)
            chunk_probs, chunk_values = self._evaluate_chunk(
                features[start:stop], globals_[start:stop], legal_indices[start:stop])
            probs.extend(chunk_probs)
            values[start:stop] = chunk_values
        return probs, values

    def _evaluate_chunk(self, features: np.ndarray, globals_: np.ndarray,
                        legal: Sequence[np.ndarray]) -> tuple[list[np.ndarray], np.ndarray]:
        dev = self.device
        x = torch.as_tensor(np.asarray(features), dtype=torch.float32).to(dev, non_blocking=True)
        g = torch.as_tensor(np.asarray(globals_), dtype=torch.float32).to(dev, non_blocking=True)
        legal = [np.asarray(idx, dtype=np.int64).reshape(-1) for idx in legal]
        counts = np.array([len(idx) for idx in legal], dtype=np.int64)
        flat = np.concatenate(legal) if len(legal) else np.zeros(0, dtype=np.int64)
        if flat.size and (flat.min() < 0 or flat.max() >= self.policy_size):
            raise ValueError(f"legal index out of range [0, {self.policy_size})")
        rows = np.repeat(np.arange(len(legal)), counts)
        autocast = (torch.autocast(dev.type, dtype=self.amp_dtype) if self.amp_dtype
                    else contextlib.nullcontext())
        with torch.inference_mode(), autocast:
            out = self.model(x, g)
            logits = out.policy.float()[torch.as_tensor(rows, device=dev),
                                        torch.as_tensor(flat, device=dev)]
            # Softmax per row over a ragged set: subtract each row's max, exponentiate, normalise.
            row_t = torch.as_tensor(rows, device=dev)
            row_max = torch.full((len(legal),), -torch.inf, device=dev)
            row_max = row_max.scatter_reduce(0, row_t, logits, reduce="amax")
            e = torch.exp(logits - row_max[row_t])
            denom = torch.zeros(len(legal), device=dev).index_add_(0, row_t, e)
            p = (e / denom[row_t]).cpu().numpy()
            values = out.value.float().cpu().numpy()
        return list(np.split(p, np.cumsum(counts)[:-1])), values

    def evaluate_states(self, states: Sequence[GameState]
                        ) -> tuple[list[tuple[list[Move], np.ndarray]], np.ndarray]:
        """Batch of game states -> ((legal moves, their probabilities) per state,
        values [B, P] in seat order: values[b, s] is seat s + 1's value)."""
        from ringrift.nn import actions, encoding

        if not states:
            return [], np.zeros((0, self.num_players), dtype=np.float32)
        features, globals_ = encoding.encode_states(states)
        moves_and_idx = [actions.legal_moves_and_indices(s) for s in states]
        probs, rotated = self.evaluate_arrays(features, globals_, [i for _, i in moves_and_idx])
        values = np.empty_like(rotated)
        for b, state in enumerate(states):
            n = state.num_players
            mover = state.current_player
            for slot in range(n):  # slot 0 = the player to move, then the following seats
                values[b, (mover - 1 + slot) % n] = rotated[b, slot]
        return [(m, p) for (m, _), p in zip(moves_and_idx, probs)], values

"""Synthesise small, well-formed training .npz files (the exporter's contract) for tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

SIZES = {"square8": 8, "square19": 19, "hex8": 9, "hexagonal": 25}


def valid_cells(board_type: str, size: int) -> np.ndarray:
    """Flat indices (y*W + x) of on-board cells."""
    r = (size - 1) // 2
    ys, xs = np.mgrid[0:size, 0:size]
    if board_type in ("hex8", "hexagonal"):
        ok = (abs(xs - r) <= r) & (abs(ys - r) <= r) & (abs((xs - r) + (ys - r)) <= r)
    else:
        ok = np.ones_like(xs, dtype=bool)
    return np.flatnonzero(ok.reshape(-1))


def make_arrays(*, board_type: str = "square8", num_players: int = 2, n_games: int = 6,
                moves_per_game: int = 8, in_channels: int = 4, num_globals: int = 3,
                policy_planes: int = 2, scalar_actions: int = 2, encoder_version: int = 1,
                seed: int = 0, learnable: bool = False, legal_per_sample: int = 10,
                feature_dtype: Any = np.float16) -> dict[str, np.ndarray]:
    """Random but valid arrays. With `learnable`, the policy target is the cell marked in
    feature plane 0 and the value is the sign of global 0 (a network can learn both)."""
    rng = np.random.default_rng(seed)
    size = SIZES[board_type]
    hw = size * size
    n = n_games * moves_per_game
    policy_size = policy_planes * hw + scalar_actions
    cells = valid_cells(board_type, size)
    candidates = np.concatenate([(np.arange(policy_planes)[:, None] * hw + cells).reshape(-1),
                                 policy_planes * hw + np.arange(scalar_actions)])
    features = rng.standard_normal((n, in_channels, size, size)).astype(np.float32)
    globals_ = rng.standard_normal((n, num_globals)).astype(np.float32)
    legal_rows, pol_idx, pol_p = [], [], []
    for i in range(n):
        legal = rng.choice(candidates, legal_per_sample, replace=False)
        if learnable:
            cell = rng.choice(cells)
            features[i, 0] = 0.0
            features[i, 0].reshape(-1)[cell] = 1.0
            legal = np.unique(np.concatenate([[cell], legal]))
            pol_idx.append(np.array([cell]))
            pol_p.append(np.array([1.0]))
        else:
            legal = np.sort(legal)
            k = 3
            pol_idx.append(legal[:k])
            pol_p.append(rng.dirichlet(np.ones(k)))
        legal_rows.append(legal)
    if learnable:
        s = np.sign(globals_[:, 0])
        values = np.stack([s] + [-s] * (num_players - 1), axis=1) * 0.9
    else:
        values = rng.uniform(-1, 1, (n, num_players))
    ranks = np.argsort(np.argsort(-values, axis=1, kind="stable"), axis=1)
    offsets = lambda rows: np.concatenate([[0], np.cumsum([len(r) for r in rows])])  # noqa: E731
    meta = {"format": "ringrift-training", "format_version": 1, "board_type": board_type,
            "num_players": num_players, "encoder_version": encoder_version,
            "policy_size": policy_size, "in_channels": in_channels, "num_globals": num_globals,
            "height": size, "width": size, "policy_planes": policy_planes,
            "scalar_actions": scalar_actions, "counts": {"games": n_games, "samples": n}}
    return {
        "features": features.astype(feature_dtype),
        "globals": globals_,
        "values": values.astype(np.float32),
        "ranks": ranks.astype(np.int8),
        "policy_offsets": offsets(pol_idx).astype(np.int64),
        "policy_indices": np.concatenate(pol_idx).astype(np.int32),
        "policy_probs": np.concatenate(pol_p).astype(np.float32),
        "legal_offsets": offsets(legal_rows).astype(np.int64),
        "legal_indices": np.concatenate(legal_rows).astype(np.int32),
        "move_numbers": np.tile(np.arange(moves_per_game), n_games).astype(np.int32),
        "game_ids": np.repeat([f"{board_type}-{seed}-g{g}" for g in range(n_games)],
                              moves_per_game),
        "metadata": np.array(json.dumps(meta)),
    }


def write_npz(path: str | Path, arrays: dict[str, np.ndarray]) -> Path:
    """Save arrays as an uncompressed .npz."""
    path = Path(path)
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)
    return path


def set_meta(arrays: dict[str, np.ndarray], **changes: Any) -> dict[str, np.ndarray]:
    """A copy of `arrays` with metadata fields changed (None deletes a field)."""
    meta = json.loads(str(arrays["metadata"][()]))
    for key, value in changes.items():
        if value is None:
            meta.pop(key, None)
        else:
            meta[key] = value
    return {**arrays, "metadata": np.array(json.dumps(meta))}


def write_training_file(path: str | Path, **kwargs: Any) -> Path:
    """make_arrays(**kwargs) written to `path`."""
    return write_npz(path, make_arrays(**kwargs))

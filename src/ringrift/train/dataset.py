"""Training data: load and validate .npz files, split by game, build dense batches.

The file format (keys, dtypes, shapes, version, reader and checks) is ringrift.data.npz_format;
any violation raises UserError naming the file and the problem.
"""

from __future__ import annotations

import os
import zlib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ringrift.data import npz_format
from ringrift.errors import ConfigError, UserError
from ringrift.nn.batch import Batch
from ringrift.rules.spec import GameSpec


@dataclass
class TrainingData:
    """Concatenated, validated training arrays plus the shared metadata and per-file sources."""

    features: np.ndarray
    globals: np.ndarray
    values: np.ndarray
    ranks: np.ndarray
    policy_offsets: np.ndarray
    policy_indices: np.ndarray
    policy_probs: np.ndarray
    legal_offsets: np.ndarray
    legal_indices: np.ndarray
    move_numbers: np.ndarray
    game_ids: np.ndarray
    meta: dict[str, Any]
    sources: list[dict[str, Any]] = field(default_factory=list)
    # optional arrays of format version 2 (None when a file lacks them)
    ownership: np.ndarray | None = None
    remaining_moves: np.ndarray | None = None
    sample_weights: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.features)

    def arrays(self) -> dict[str, np.ndarray]:
        """The format's arrays held (absent optional ones left out)."""
        names = {f.name for f in fields(self)} & set(npz_format.FIELDS)
        return {n: getattr(self, n) for n in names if getattr(self, n) is not None}


def _fail(path: str | os.PathLike[str], problem: str) -> UserError:
    return UserError(f"{path}: {problem}")


def _file_info(path: Path) -> dict[str, Any]:
    from ringrift.nn.model_file import sha256_file

    return {"path": str(path), "size": path.stat().st_size, "sha256": sha256_file(path)}


def load_training_file(path: str | os.PathLike[str], spec: GameSpec, *,
                       encoder_version: int | None = None) -> TrainingData:
    """Load and validate one .npz training file for the requested board and player count."""
    p = Path(path)
    arrays, meta = npz_format.read_npz(p)
    npz_format.check_metadata(p, meta)
    if meta["board_type"] != spec.board_type:
        raise _fail(p, f"board type {meta['board_type']!r} does not match the requested "
                       f"{spec.board_type!r}")
    if meta["num_players"] != spec.num_players:
        raise _fail(p, f"holds {meta['num_players']}-player data, but {spec.num_players} "
                       f"players were requested")
    if encoder_version is not None and meta["encoder_version"] != encoder_version:
        raise _fail(p, f"encoder_version {meta['encoder_version']} does not match the "
                       f"expected {encoder_version}")
    npz_format.validate(p, arrays, meta)
    info = {**_file_info(p), "samples": len(arrays["features"])}
    return TrainingData(**arrays, meta=meta, sources=[info])


def concatenate(parts: list[TrainingData]) -> TrainingData:
    """Join several validated files (offsets rebased); they must share shapes and encoder."""
    first = parts[0]
    for part in parts[1:]:
        for key in npz_format.SHAPE_KEYS:
            if part.meta[key] != first.meta[key]:
                raise UserError(f"{part.sources[0]['path']}: {key} {part.meta[key]} differs "
                                f"from {first.meta[key]} in {first.sources[0]['path']}")
    if len(parts) == 1:
        return first
    meta = dict(first.meta)
    meta["counts"] = {"samples": sum(len(p) for p in parts), "files": len(parts)}
    return TrainingData(**npz_format.merge(p.arrays() for p in parts), meta=meta,
                        sources=[s for p in parts for s in p.sources])


def truncate(data: TrainingData, max_samples: int) -> TrainingData:
    """The first `max_samples` samples."""
    return TrainingData(**npz_format.take_first(data.arrays(), max_samples), meta=data.meta,
                        sources=data.sources)


def load_training_data(paths: list[str | os.PathLike[str]], spec: GameSpec, *,
                       encoder_version: int | None = None,
                       max_samples: int | None = None) -> TrainingData:
    """Load, validate and concatenate training files; the first fixes the encoder version."""
    if not paths:
        raise ConfigError("data_paths", "is empty: no training file given")
    parts: list[TrainingData] = []
    for path in paths:
        part = load_training_file(path, spec, encoder_version=encoder_version)
        if encoder_version is None:
            encoder_version = part.meta["encoder_version"]
        parts.append(part)
    data = concatenate(parts)
    if max_samples is not None:
        data = truncate(data, max_samples)
    if len(data) == 0:
        raise UserError(f"{paths[0]}: no training samples")
    return data


def split_by_game(game_ids: np.ndarray, val_split: float, seed: int
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(train sample indices, validation sample indices): whole games go to one side.

    A game is held out when a hash of (seed, its id) falls below `val_split`, so its side does
    not depend on which other games are in the data: a loop whose window grows keeps every
    game on the same side, and never validates on a game an earlier iteration trained on. (At
    least one game goes to each side.)
    """
    all_idx = np.arange(len(game_ids), dtype=np.int64)
    if val_split <= 0:
        return all_idx, all_idx[:0]
    if not 0 < val_split < 1:
        raise ConfigError("val_split", f"must be in [0, 1), got {val_split}")
    games = np.unique(game_ids)
    if len(games) < 2:
        raise ConfigError("val_split", "needs at least 2 distinct games in the data "
                                       "(0: no validation split)")
    keys = np.array([zlib.crc32(f"{seed}:{g}".encode()) / 2**32 for g in games])
    held = keys < val_split
    if not held.any():
        held[np.argmin(keys)] = True
    elif held.all():
        held[np.argmax(keys)] = False
    is_val = np.isin(game_ids, games[held])
    return all_idx[~is_val], all_idx[is_val]


def epoch_batches(indices: np.ndarray, batch_size: int, *, seed: int | None = None,
                  epoch: int = 0, limit: int | None = None) -> list[np.ndarray]:
    """Split `indices` into batches; shuffled by (seed, epoch) when seed is given.

    The order is a pure function of (seed, epoch), so a resumed run replays it exactly. A last
    partial batch is dropped when shuffling (training) unless it would be the only one. `limit`
    keeps the first `limit` samples of the (shuffled) order: an epoch of a random subset, drawn
    anew each epoch.
    """
    order = (np.random.default_rng([seed, epoch]).permutation(indices) if seed is not None
             else indices)
    if limit is not None:
        order = order[:limit]
    batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    if seed is not None and len(batches) > 1 and len(batches[-1]) < batch_size:
        batches.pop()
    return batches


def _ragged_positions(offsets: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(batch row of each entry, position in the flat array) for the samples `idx`."""
    starts, counts = offsets[idx], offsets[idx + 1] - offsets[idx]
    total = int(counts.sum())
    rows = np.repeat(np.arange(len(idx)), counts)
    first = np.repeat(np.cumsum(counts) - counts, counts)
    pos = np.arange(total, dtype=np.int64) - first + np.repeat(starts, counts)
    return rows, pos


class BatchBuilder:
    """Turns sample indices into a `Batch` on a device (dense targets built per batch)."""

    def __init__(self, data: TrainingData, device: torch.device | str = "cpu", *,
                 augment: bool = False, seed: int = 0) -> None:
        self.data = data
        self.device = torch.device(device)
        self.policy_size = int(data.meta["policy_size"])
        self.augment = augment
        self.seed = seed

    def _symmetries(self, idx: np.ndarray) -> np.ndarray:
        """One symmetry per sample, a pure function of (seed, the batch) so resumes replay it."""
        from ringrift.nn.symmetry_group import num_symmetries

        count = num_symmetries(self.data.meta["board_type"])
        rng = np.random.default_rng([self.seed, *idx[:16].tolist(), len(idx)])
        return rng.integers(0, count, size=len(idx))

    def _augmented(self, idx: np.ndarray, features: np.ndarray, pos_p: np.ndarray,
                   rows_p: np.ndarray, pos_l: np.ndarray, rows_l: np.ndarray,
                   ownership: np.ndarray | None = None
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
        """Features, policy indices, legal indices and ownership targets of the batch under
        random symmetries (the ownership grid moves with the cells, like the planes)."""
        from ringrift.nn.symmetry import policy_permutation, transform_planes

        board = self.data.meta["board_type"]
        syms = self._symmetries(idx)
        features = features.copy()
        ownership = ownership.copy() if ownership is not None else None
        pol = self.data.policy_indices[pos_p].astype(np.int64)
        leg = self.data.legal_indices[pos_l].astype(np.int64)
        for sym in np.unique(syms):
            if sym == 0:
                continue  # the identity
            rows = np.flatnonzero(syms == sym)
            features[rows] = transform_planes(features[rows], board, int(sym))
            if ownership is not None:
                ownership[rows] = transform_planes(ownership[rows], board, int(sym))
            perm = policy_permutation(board, int(sym))
            mask_p = np.isin(rows_p, rows)
            pol[mask_p] = perm[pol[mask_p]]
            mask_l = np.isin(rows_l, rows)
            leg[mask_l] = perm[leg[mask_l]]
        return features, pol, leg, ownership

    def build(self, idx: np.ndarray) -> Batch:
        d, dev = self.data, self.device
        idx = np.asarray(idx, dtype=np.int64)
        b = len(idx)

        def put(a: np.ndarray, dtype: torch.dtype) -> torch.Tensor:
            t = torch.from_numpy(np.ascontiguousarray(a))
            if dev.type == "cuda":
                t = t.pin_memory()
            return t.to(dev, non_blocking=True).to(dtype)

        prow, ppos = _ragged_positions(d.policy_offsets, idx)
        lrow, lpos = _ragged_positions(d.legal_offsets, idx)
        features = d.features[idx]
        pol_idx, legal_idx = d.policy_indices[ppos], d.legal_indices[lpos]
        ownership = d.ownership[idx] if d.ownership is not None else None
        if self.augment:
            features, pol_idx, legal_idx, ownership = self._augmented(
                idx, features, ppos, prow, lpos, lrow, ownership)
        target = torch.zeros(b, self.policy_size, device=dev)
        target.index_put_((put(prow, torch.long), put(pol_idx, torch.long)),
                          put(d.policy_probs[ppos], torch.float32), accumulate=True)
        legal = torch.zeros(b, self.policy_size, dtype=torch.bool, device=dev)
        legal[put(lrow, torch.long), put(legal_idx, torch.long)] = True
        has_policy = put(np.diff(d.policy_offsets)[idx] > 0, torch.bool)
        length = None
        if d.remaining_moves is not None:
            from ringrift.data.aux_targets import length_target

            length = put(length_target(d.remaining_moves[idx]), torch.float32)
        return Batch(features=put(features, torch.float32),
                     globals=put(d.globals[idx], torch.float32),
                     values=put(d.values[idx], torch.float32),
                     ranks=put(d.ranks[idx], torch.long),
                     policy_target=target, legal_mask=legal, has_policy=has_policy,
                     sample_weights=(put(d.sample_weights[idx], torch.float32)
                                     if d.sample_weights is not None else None),
                     ownership=put(ownership, torch.long) if ownership is not None else None,
                     game_length=length)

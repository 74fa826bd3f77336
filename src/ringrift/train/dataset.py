"""Training data: load and validate .npz files, split by game, build dense batches.

File contract (written by the exporter): features [N,C,H,W] f16/f32, globals [N,G] f32,
values [N,P] f32, ranks [N,P] i8, policy_offsets [N+1] i64 / policy_indices [K] i32 /
policy_probs [K] f32 (sparse targets), legal_offsets [N+1] i64 / legal_indices [L] i32,
move_numbers [N] i32, game_ids [N] unicode, metadata: 0-d unicode JSON. Any violation raises
UserError naming the file and the problem.
"""

from __future__ import annotations

import json
import os
import zipfile
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ringrift.errors import UserError

FORMAT = "ringrift-training"
FORMAT_VERSION = 1
META_KEYS = ("format", "format_version", "board_type", "num_players", "encoder_version",
             "policy_size", "in_channels", "num_globals", "height", "width", "policy_planes",
             "scalar_actions", "counts")
# Metadata fields that every file of one training run must share.
SHAPE_KEYS = ("encoder_version", "policy_size", "in_channels", "num_globals", "height", "width",
              "policy_planes", "scalar_actions")
ARRAY_KEYS = ("features", "globals", "values", "ranks", "policy_offsets", "policy_indices",
              "policy_probs", "legal_offsets", "legal_indices", "move_numbers", "game_ids",
              "metadata")
PROB_SUM_TOLERANCE = 1e-3


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

    def __len__(self) -> int:
        return len(self.features)


def _fail(path: str | os.PathLike[str], problem: str) -> UserError:
    return UserError(f"{path}: {problem}")


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise _fail(path, "no such file")
    with open(path, "rb") as fh:
        if fh.read(4) != b"PK\x03\x04":
            raise _fail(path, "not an .npz (zip) archive")
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [k for k in ARRAY_KEYS if k not in npz.files]
            if missing:
                raise _fail(path, f"missing array {missing[0]!r}")
            return {k: npz[k] for k in ARRAY_KEYS}
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise _fail(path, "contains object (pickled) arrays, which are not allowed") from None
        raise _fail(path, f"truncated or corrupt .npz ({_first_line(exc)})") from None
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, KeyError) as exc:
        raise _fail(path, f"truncated or corrupt .npz ({_first_line(exc)})") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _parse_metadata(path: Path, arr: np.ndarray) -> dict[str, Any]:
    if arr.ndim != 0 or arr.dtype.kind != "U":
        raise _fail(path, "metadata must be a 0-d unicode array holding JSON")
    try:
        meta = json.loads(str(arr[()]))
    except ValueError as exc:
        raise _fail(path, f"metadata is not valid JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise _fail(path, "metadata JSON is not an object")
    for key in META_KEYS:
        if key not in meta:
            raise _fail(path, f"metadata lacks {key!r}")
    if meta["format"] != FORMAT:
        raise _fail(path, f"metadata format is {meta['format']!r}, expected {FORMAT!r}")
    if meta["format_version"] != FORMAT_VERSION:
        raise _fail(path, f"unsupported format_version {meta['format_version']!r} "
                          f"(expected {FORMAT_VERSION})")
    for key in ("num_players", "encoder_version", "policy_size", "in_channels", "num_globals",
                "height", "width", "policy_planes", "scalar_actions"):
        if not isinstance(meta[key], int) or isinstance(meta[key], bool) or meta[key] < 0:
            raise _fail(path, f"metadata {key} must be a non-negative integer, "
                              f"got {meta[key]!r}")
    expected = meta["policy_planes"] * meta["height"] * meta["width"] + meta["scalar_actions"]
    if meta["policy_size"] != expected:
        raise _fail(path, f"metadata policy_size {meta['policy_size']} != policy_planes*height*"
                          f"width+scalar_actions = {expected}")
    return meta


def _check_array(path: Path, name: str, arr: np.ndarray, dtypes: tuple[str, ...],
                 shape: tuple[int | None, ...]) -> None:
    if arr.dtype.kind == "U" and "U" in dtypes:
        pass
    elif arr.dtype.str.lstrip("<>|=") not in dtypes:
        wanted = " or ".join(np.dtype(d).name if d != "U" else "unicode" for d in dtypes)
        raise _fail(path, f"{name} has dtype {arr.dtype}, expected {wanted}")
    if arr.ndim != len(shape) or any(s is not None and s != a for s, a in zip(shape, arr.shape,
                                                                                strict=False)):
        want = "[" + ", ".join("?" if s is None else str(s) for s in shape) + "]"
        raise _fail(path, f"{name} has shape {list(arr.shape)}, expected {want}")


def _check_ragged(path: Path, name: str, offsets: np.ndarray, indices: np.ndarray,
                  policy_size: int) -> None:
    if offsets[0] != 0 or offsets[-1] != len(indices) or np.any(np.diff(offsets) < 0):
        raise _fail(path, f"{name}_offsets must start at 0, never decrease and end at "
                          f"len({name}_indices) = {len(indices)}")
    if len(indices) and (indices.min() < 0 or indices.max() >= policy_size):
        raise _fail(path, f"{name}_indices outside [0, policy_size={policy_size})")


def _validate(path: Path, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
    p = meta["num_players"]
    c, h, w, g = meta["in_channels"], meta["height"], meta["width"], meta["num_globals"]
    _check_array(path, "features", arrays["features"], ("f2", "f4"), (None, c, h, w))
    n = arrays["features"].shape[0]
    _check_array(path, "globals", arrays["globals"], ("f4",), (n, g))
    _check_array(path, "values", arrays["values"], ("f4",), (n, p))
    _check_array(path, "ranks", arrays["ranks"], ("i1",), (n, p))
    _check_array(path, "policy_offsets", arrays["policy_offsets"], ("i8",), (n + 1,))
    _check_array(path, "policy_indices", arrays["policy_indices"], ("i4",), (None,))
    k = len(arrays["policy_indices"])
    _check_array(path, "policy_probs", arrays["policy_probs"], ("f4",), (k,))
    _check_array(path, "legal_offsets", arrays["legal_offsets"], ("i8",), (n + 1,))
    _check_array(path, "legal_indices", arrays["legal_indices"], ("i4",), (None,))
    _check_array(path, "move_numbers", arrays["move_numbers"], ("i4",), (n,))
    _check_array(path, "game_ids", arrays["game_ids"], ("U",), (n,))

    counts = meta["counts"]
    if isinstance(counts, dict) and isinstance(counts.get("samples"), int) \
            and counts["samples"] != n:
        raise _fail(path, f"metadata counts.samples is {counts['samples']} but the file "
                          f"holds {n} samples")
    for name in ("features", "globals", "values", "policy_probs"):
        if not np.all(np.isfinite(arrays[name])):
            raise _fail(path, f"{name} contains NaN or infinite values")
    if n and (np.abs(arrays["values"]).max() > 1.0 + 1e-5):
        raise _fail(path, "values outside [-1, 1]")
    if n and (arrays["ranks"].min() < 0 or arrays["ranks"].max() >= p):
        raise _fail(path, f"ranks outside [0, {p})")
    size = meta["policy_size"]
    _check_ragged(path, "policy", arrays["policy_offsets"], arrays["policy_indices"], size)
    _check_ragged(path, "legal", arrays["legal_offsets"], arrays["legal_indices"], size)
    probs = arrays["policy_probs"]
    if len(probs) and probs.min() < 0:
        raise _fail(path, "policy_probs has negative entries")
    pcount = np.diff(arrays["policy_offsets"])
    rows_p = np.repeat(np.arange(n, dtype=np.int64), pcount)
    sums = np.bincount(rows_p, weights=probs.astype(np.float64), minlength=n)
    bad = (pcount > 0) & (np.abs(sums - 1.0) > PROB_SUM_TOLERANCE)
    if np.any(bad):
        i = int(np.argmax(bad))
        raise _fail(path, f"policy_probs of sample {i} sum to {sums[i]:.4f}, not 1")
    # Every target index must be one of the sample's legal indices.
    rows_l = np.repeat(np.arange(n, dtype=np.int64), np.diff(arrays["legal_offsets"]))
    keys_p = rows_p * size + arrays["policy_indices"]
    keys_l = rows_l * size + arrays["legal_indices"]
    outside = ~np.isin(keys_p, keys_l)
    if np.any(outside):
        i = int(rows_p[np.argmax(outside)])
        raise _fail(path, f"policy target of sample {i} puts mass on an illegal move index")


def _file_info(path: Path) -> dict[str, Any]:
    from ringrift.nn.models import sha256_file

    return {"path": str(path), "size": path.stat().st_size, "sha256": sha256_file(path)}


def load_training_file(path: str | os.PathLike[str], *, board_type: str, num_players: int,
                       encoder_version: int | None = None) -> TrainingData:
    """Load and validate one .npz training file for the requested board and player count."""
    p = Path(path)
    arrays = _read_npz(p)
    meta = _parse_metadata(p, arrays.pop("metadata"))
    if meta["board_type"] != board_type:
        raise _fail(p, f"board type {meta['board_type']!r} does not match the requested "
                       f"{board_type!r}")
    if meta["num_players"] != num_players:
        raise _fail(p, f"holds {meta['num_players']}-player data, but {num_players} players "
                       f"were requested")
    if encoder_version is not None and meta["encoder_version"] != encoder_version:
        raise _fail(p, f"encoder_version {meta['encoder_version']} does not match the "
                       f"expected {encoder_version}")
    _validate(p, arrays, meta)
    info = {**_file_info(p), "samples": len(arrays["features"])}
    return TrainingData(**arrays, meta=meta, sources=[info])


def concatenate(parts: list[TrainingData]) -> TrainingData:
    """Join several validated files (offsets rebased); they must share shapes and encoder."""
    first = parts[0]
    for part in parts[1:]:
        for key in SHAPE_KEYS:
            if part.meta[key] != first.meta[key]:
                raise UserError(f"{part.sources[0]['path']}: {key} {part.meta[key]} differs "
                                f"from {first.meta[key]} in {first.sources[0]['path']}")
    if len(parts) == 1:
        return first

    def offsets(name: str) -> np.ndarray:
        out, base = [np.zeros(1, dtype=np.int64)], 0
        for part in parts:
            off = getattr(part, name)
            out.append(off[1:] + base)
            base += int(off[-1])
        return np.concatenate(out)

    feat_dtype = (np.float16 if all(p.features.dtype == np.float16 for p in parts)
                  else np.float32)
    cat = {name: np.concatenate([getattr(p, name) for p in parts])
           for name in ("globals", "values", "ranks", "policy_indices", "policy_probs",
                        "legal_indices", "move_numbers", "game_ids")}
    meta = dict(first.meta)
    meta["counts"] = {"samples": sum(len(p) for p in parts), "files": len(parts)}
    return TrainingData(
        features=np.concatenate([p.features.astype(feat_dtype, copy=False) for p in parts]),
        policy_offsets=offsets("policy_offsets"), legal_offsets=offsets("legal_offsets"),
        meta=meta, sources=[s for p in parts for s in p.sources], **cat)


def truncate(data: TrainingData, max_samples: int) -> TrainingData:
    """The first `max_samples` samples."""
    n = min(max_samples, len(data))
    po, lo = data.policy_offsets[: n + 1], data.legal_offsets[: n + 1]
    return replace(
        data, features=data.features[:n], globals=data.globals[:n], values=data.values[:n],
        ranks=data.ranks[:n], policy_offsets=po, policy_indices=data.policy_indices[: po[-1]],
        policy_probs=data.policy_probs[: po[-1]], legal_offsets=lo,
        legal_indices=data.legal_indices[: lo[-1]], move_numbers=data.move_numbers[:n],
        game_ids=data.game_ids[:n])


def load_training_data(paths: list[str | os.PathLike[str]], *, board_type: str,
                       num_players: int, encoder_version: int | None = None,
                       max_samples: int | None = None) -> TrainingData:
    """Load, validate and concatenate training files; the first fixes the encoder version."""
    if not paths:
        raise UserError("no --data-path given")
    parts: list[TrainingData] = []
    for path in paths:
        part = load_training_file(path, board_type=board_type, num_players=num_players,
                                  encoder_version=encoder_version)
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
        raise UserError(f"--val-split must be in [0, 1), got {val_split}")
    games = np.unique(game_ids)
    if len(games) < 2:
        raise UserError("a validation split needs at least 2 distinct games "
                        "(use --val-split 0)")
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


@dataclass
class Batch:
    """Tensors of one batch on the training device. Dense policy targets over policy_size.

    `policy_temperature` divides the logits in the policy loss (distillation sets it).
    """

    features: torch.Tensor
    globals: torch.Tensor
    values: torch.Tensor
    ranks: torch.Tensor
    policy_target: torch.Tensor
    legal_mask: torch.Tensor
    has_policy: torch.Tensor
    policy_temperature: float = 1.0

    def __len__(self) -> int:
        return len(self.features)


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
                   rows_p: np.ndarray, pos_l: np.ndarray, rows_l: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Features, policy indices and legal indices of the batch under random symmetries."""
        from ringrift.nn.symmetry import policy_permutation, transform_planes

        board = self.data.meta["board_type"]
        syms = self._symmetries(idx)
        features = features.copy()
        pol = self.data.policy_indices[pos_p].astype(np.int64)
        leg = self.data.legal_indices[pos_l].astype(np.int64)
        for sym in np.unique(syms):
            if sym == 0:
                continue  # the identity
            rows = np.flatnonzero(syms == sym)
            features[rows] = transform_planes(features[rows], board, int(sym))
            perm = policy_permutation(board, int(sym))
            mask_p = np.isin(rows_p, rows)
            pol[mask_p] = perm[pol[mask_p]]
            mask_l = np.isin(rows_l, rows)
            leg[mask_l] = perm[leg[mask_l]]
        return features, pol, leg

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
        if self.augment:
            features, pol_idx, legal_idx = self._augmented(idx, features, ppos, prow, lpos, lrow)
        target = torch.zeros(b, self.policy_size, device=dev)
        target.index_put_((put(prow, torch.long), put(pol_idx, torch.long)),
                          put(d.policy_probs[ppos], torch.float32), accumulate=True)
        legal = torch.zeros(b, self.policy_size, dtype=torch.bool, device=dev)
        legal[put(lrow, torch.long), put(legal_idx, torch.long)] = True
        has_policy = put(np.diff(d.policy_offsets)[idx] > 0, torch.bool)
        return Batch(features=put(features, torch.float32),
                     globals=put(d.globals[idx], torch.float32),
                     values=put(d.values[idx], torch.float32),
                     ranks=put(d.ranks[idx], torch.long),
                     policy_target=target, legal_mask=legal, has_policy=has_policy)

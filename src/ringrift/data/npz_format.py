"""The training-array file format (.npz): its keys, version, reader, writer and validation.

One place for the format that export writes and the dataset loader, the quality checks and
selfplay's npz output read. A file is an .npz archive of plain numeric arrays (loadable with
pickling disabled) plus `metadata`, a 0-d unicode array holding a JSON object.

Sparse per-sample lists (policy targets, legal moves) are stored as offsets [N+1] plus the
concatenated entries, so sample i's entries are `indices[offsets[i]:offsets[i+1]]`.

To add an array: append an `ArrayField` to `ARRAY_FIELDS` with `since=` the new version (and
`optional=True` if files of that version may lack it), bump `FORMAT_VERSION`, and add the version
to `READABLE_VERSIONS` (older versions stay readable: a field is required only in files whose
version is >= its `since`). Merging, truncation and shape/dtype checks follow from the table.
"""

from __future__ import annotations

import json
import os
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ringrift.atomic import atomic_path
from ringrift.errors import UserError
from ringrift.rules.errors import RulesError
from ringrift.rules.spec import GameSpec

FORMAT = "ringrift-training"
# version 2: the auxiliary targets (ownership, remaining_moves) and per-sample weights
FORMAT_VERSION = 2  # what the writer writes
READABLE_VERSIONS = (1, 2)  # what the reader accepts


@dataclass(frozen=True)
class ArrayField:
    """One array of the format.

    `shape` names each dimension: "N" samples, "N+1" offsets over samples, "P" players,
    "C"/"H"/"W"/"G" the metadata's in_channels/height/width/num_globals, "*" any length, or the
    name of another array whose length this one shares. `offsets` names the offsets array that
    indexes a ragged (per-entry) array. `dtypes` are numpy dtype codes ("U" = unicode).
    """

    name: str
    dtypes: tuple[str, ...]
    shape: tuple[str, ...]
    offsets: str | None = None
    since: int = 1
    optional: bool = False

    @property
    def per_sample(self) -> bool:
        return self.shape[0] == "N"


ARRAY_FIELDS: tuple[ArrayField, ...] = (
    ArrayField("features", ("f2", "f4"), ("N", "C", "H", "W")),
    ArrayField("globals", ("f4",), ("N", "G")),
    ArrayField("values", ("f4",), ("N", "P")),  # per player, the mover first
    ArrayField("ranks", ("i1",), ("N", "P")),  # 0 = first place, same order as values
    ArrayField("policy_offsets", ("i8",), ("N+1",)),
    ArrayField("policy_indices", ("i4",), ("*",), offsets="policy_offsets"),
    ArrayField("policy_probs", ("f4",), ("policy_indices",), offsets="policy_offsets"),
    ArrayField("legal_offsets", ("i8",), ("N+1",)),
    ArrayField("legal_indices", ("i4",), ("*",), offsets="legal_offsets"),
    ArrayField("move_numbers", ("i4",), ("N",)),
    ArrayField("game_ids", ("U",), ("N",)),
    # auxiliary targets (data/aux_targets.py): final owner class of each grid cell in the
    # sample's rotated order (-1 no target, 0 nobody, k+1 slot k) and moves left in the game
    # (-1 unknown). Optional: export-cache chunks of version 1 merge in without them.
    ArrayField("ownership", ("i1",), ("N", "H", "W"), since=2, optional=True),
    ArrayField("remaining_moves", ("i4",), ("N",), since=2, optional=True),
    # a weight on each sample's loss (mined hard positions); absent: 1
    ArrayField("sample_weights", ("f4",), ("N",), since=2, optional=True),
)
FIELDS = {f.name: f for f in ARRAY_FIELDS}
ARRAY_KEYS = tuple(f.name for f in ARRAY_FIELDS)

META_KEYS = ("format", "format_version", "board_type", "num_players", "encoder_version",
             "policy_size", "in_channels", "num_globals", "height", "width", "policy_planes",
             "scalar_actions", "counts")
# Metadata fields that every file of one training run must share.
SHAPE_KEYS = ("encoder_version", "policy_size", "in_channels", "num_globals", "height", "width",
              "policy_planes", "scalar_actions")
_INT_META = ("num_players", "encoder_version", "policy_size", "in_channels", "num_globals",
             "height", "width", "policy_planes", "scalar_actions")
PROB_SUM_TOLERANCE = 1e-3


def required_keys(version: int) -> tuple[str, ...]:
    """The arrays a file of `version` must hold."""
    return tuple(f.name for f in ARRAY_FIELDS if f.since <= version and not f.optional)


def _fail(path: str | os.PathLike[str], problem: str) -> UserError:
    return UserError(f"{path}: {problem}")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# --------------------------------------------------------------------------- writer
def write_npz(path: str | os.PathLike[str], arrays: dict[str, np.ndarray],
              metadata: dict[str, Any]) -> int:
    """Write arrays + metadata atomically (temporary name, then rename). Returns bytes."""
    metadata = {"format": FORMAT, "format_version": FORMAT_VERSION, **metadata}
    known = {k: v for k, v in arrays.items() if k in FIELDS}
    with atomic_path(path, suffix=".npz") as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, metadata=np.asarray(json.dumps(metadata)), **known)
        size = tmp.stat().st_size
    return size


# --------------------------------------------------------------------------- reader
def read_npz(path: str | os.PathLike[str]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Open a training file: its arrays (the format's keys) and metadata, without pickle.

    Checks the container, the metadata's format and version and that the version's arrays are
    present; `validate` checks their contents. Problems raise UserError naming the file.
    """
    p = Path(path)
    if not p.is_file():
        raise _fail(p, "no such file")
    with open(p, "rb") as fh:
        if fh.read(4) != b"PK\x03\x04":
            raise _fail(p, "not an .npz (zip) archive")
    try:
        with np.load(p, allow_pickle=False) as npz:
            names = set(npz.files)
            if "metadata" not in names:
                raise _fail(p, "missing array 'metadata' (not a ringrift training file)")
            meta = _parse_json(p, npz["metadata"])
            version = _check_format(p, meta)
            missing = [k for k in required_keys(version) if k not in names]
            if missing:
                plural = "s" if len(missing) > 1 else ""
                raise _fail(p, f"missing array{plural} " + ", ".join(repr(k) for k in missing))
            arrays = {k: npz[k] for k in ARRAY_KEYS if k in names}
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise _fail(p, "contains object (pickled) arrays, which are not allowed") from None
        raise _fail(p, f"not a readable .npz file (truncated or corrupt: {_first_line(exc)})"
                    ) from None
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, KeyError) as exc:
        raise _fail(p, f"not a readable .npz file (truncated or corrupt: {_first_line(exc)})"
                    ) from None
    return arrays, meta


def _parse_json(path: Path, arr: np.ndarray) -> dict[str, Any]:
    if arr.ndim != 0 or arr.dtype.kind != "U":
        raise _fail(path, "metadata must be a 0-d unicode array holding JSON")
    try:
        meta = json.loads(str(arr[()]))
    except ValueError as exc:
        raise _fail(path, f"metadata is not valid JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise _fail(path, "metadata JSON is not an object")
    return meta


def _check_format(path: Path, meta: dict[str, Any]) -> int:
    if meta.get("format") != FORMAT:
        raise _fail(path, f"not a ringrift training file (metadata format is "
                          f"{meta.get('format')!r}, expected {FORMAT!r})")
    # Export-cache chunks written before chunks carried a version are version 1.
    version = meta.get("format_version", 1)
    if version not in READABLE_VERSIONS:
        readable = ", ".join(str(v) for v in READABLE_VERSIONS)
        raise _fail(path, f"unsupported format_version {version!r} (this ringrift reads "
                          f"{readable})")
    return int(version)


# --------------------------------------------------------------------------- validation
def check_metadata(path: str | os.PathLike[str], meta: dict[str, Any]) -> None:
    """The metadata a training file needs: every key present, sizes consistent."""
    for key in META_KEYS:
        if key not in meta:
            raise _fail(path, f"metadata lacks {key!r}")
    for key in _INT_META:
        if not isinstance(meta[key], int) or isinstance(meta[key], bool) or meta[key] < 0:
            raise _fail(path, f"metadata {key} must be a non-negative integer, "
                              f"got {meta[key]!r}")
    expected = meta["policy_planes"] * meta["height"] * meta["width"] + meta["scalar_actions"]
    if meta["policy_size"] != expected:
        raise _fail(path, f"metadata policy_size {meta['policy_size']} != policy_planes*height*"
                          f"width+scalar_actions = {expected}")
    try:
        GameSpec(meta["board_type"], meta["num_players"])
    except RulesError as exc:
        raise _fail(path, f"metadata: {exc}") from None
    # the board's grid must be one a model can be built for (train builds the on-board mask
    # from it; quality --npz must refuse what train refuses)
    from ringrift.nn.models.io_defaults import valid_mask_for

    try:
        valid_mask_for(str(meta["board_type"]), meta["height"], meta["width"])
    except ValueError as exc:
        raise _fail(path, f"metadata board: {_first_line(exc)}") from None


def _expected_shape(field: ArrayField, n: int, meta: dict[str, Any],
                    arrays: dict[str, np.ndarray]) -> tuple[int | None, ...]:
    dims = {"N": n, "N+1": n + 1, "P": meta["num_players"], "C": meta["in_channels"],
            "H": meta["height"], "W": meta["width"], "G": meta["num_globals"], "*": None}
    return tuple(dims[d] if d in dims else len(arrays[d]) for d in field.shape)


def _check_array(path: str | os.PathLike[str], field: ArrayField, arr: np.ndarray,
                 shape: tuple[int | None, ...]) -> None:
    if not (arr.dtype.kind == "U" and "U" in field.dtypes) \
            and arr.dtype.str.lstrip("<>|=") not in field.dtypes:
        wanted = " or ".join(np.dtype(d).name if d != "U" else "unicode" for d in field.dtypes)
        raise _fail(path, f"{field.name} has dtype {arr.dtype}, expected {wanted}")
    if arr.ndim != len(shape) or any(s is not None and s != a
                                     for s, a in zip(shape, arr.shape, strict=False)):
        want = "[" + ", ".join("?" if s is None else str(s) for s in shape) + "]"
        raise _fail(path, f"{field.name} has shape {list(arr.shape)}, expected {want}")


def _check_ragged(path: str | os.PathLike[str], name: str, offsets: np.ndarray,
                  indices: np.ndarray, policy_size: int) -> None:
    if offsets[0] != 0 or offsets[-1] != len(indices) or np.any(np.diff(offsets) < 0):
        raise _fail(path, f"{name}_offsets must start at 0, never decrease and end at "
                          f"len({name}_indices) = {len(indices)}")
    if len(indices) and (indices.min() < 0 or indices.max() >= policy_size):
        raise _fail(path, f"{name}_indices outside [0, policy_size={policy_size})")


def validate(path: str | os.PathLike[str], arrays: dict[str, np.ndarray],
             meta: dict[str, Any]) -> None:
    """Every array's dtype and shape from the table, then the contents: finite numbers, values
    in [-1, 1], ranks in range, sparse offsets well formed, policies summing to 1 over legal
    indices. Raises UserError naming the file and the first problem."""
    check_metadata(path, meta)
    n = arrays["features"].shape[0]
    for field in ARRAY_FIELDS:
        if field.name in arrays:
            _check_array(path, field, arrays[field.name],
                         _expected_shape(field, n, meta, arrays))
    counts = meta["counts"]
    if isinstance(counts, dict) and isinstance(counts.get("samples"), int) \
            and counts["samples"] != n:
        raise _fail(path, f"metadata counts.samples is {counts['samples']} but the file "
                          f"holds {n} samples")
    for name in ("features", "globals", "values", "policy_probs"):
        if not np.all(np.isfinite(arrays[name])):
            raise _fail(path, f"{name} contains NaN or infinite values")
    p = meta["num_players"]
    if n and (np.abs(arrays["values"]).max() > 1.0 + 1e-5):
        raise _fail(path, "values outside [-1, 1]")
    if n and (arrays["ranks"].min() < 0 or arrays["ranks"].max() >= p):
        raise _fail(path, f"ranks outside [0, {p})")
    own = arrays.get("ownership")
    if own is not None and n and (own.min() < -1 or own.max() > p):
        raise _fail(path, f"ownership outside [-1, {p}]")
    rem = arrays.get("remaining_moves")
    if rem is not None and n and rem.min() < -1:
        raise _fail(path, "remaining_moves below -1")
    weights = arrays.get("sample_weights")
    if weights is not None and n and (not np.all(np.isfinite(weights)) or weights.min() < 0):
        raise _fail(path, "sample_weights must be finite and >= 0")
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


# --------------------------------------------------------------------------- combining
def sample_count(arrays: dict[str, np.ndarray]) -> int:
    return int(len(arrays["move_numbers"]))


def merge(chunks: Iterable[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Concatenate several files' arrays, offsets rebased (dtypes promoted, f16+f32 -> f32).

    An optional array is kept only when every chunk has it.
    """
    chunks = list(chunks)
    if len(chunks) == 1:
        return dict(chunks[0])
    out: dict[str, np.ndarray] = {}
    for field in ARRAY_FIELDS:
        if not all(field.name in c for c in chunks):
            continue
        if field.shape[0] == "N+1":
            pieces, base = [np.zeros(1, np.int64)], 0
            for c in chunks:
                pieces.append(c[field.name][1:] + base)
                base += int(c[field.name][-1])
            out[field.name] = np.concatenate(pieces)
        else:
            out[field.name] = np.concatenate([c[field.name] for c in chunks])
    return out


def take(arrays: dict[str, np.ndarray], rows: np.ndarray) -> dict[str, np.ndarray]:
    """The samples `rows` (in that order) of the arrays, ragged arrays gathered and their
    offsets rebuilt."""
    rows = np.asarray(rows, dtype=np.int64)
    out: dict[str, np.ndarray] = {}
    for field in ARRAY_FIELDS:
        if field.name not in arrays or field.shape[0] == "N+1":
            continue
        if field.per_sample:
            out[field.name] = arrays[field.name][rows]
    for field in ARRAY_FIELDS:
        if field.offsets is None or field.name not in arrays:
            continue
        offsets = arrays[field.offsets]
        starts, counts = offsets[rows], offsets[rows + 1] - offsets[rows]
        new_offsets = np.zeros(len(rows) + 1, np.int64)
        np.cumsum(counts, out=new_offsets[1:])
        # position of every kept entry in the old flat array
        pos = (np.arange(int(new_offsets[-1]), dtype=np.int64)
               - np.repeat(new_offsets[:-1], counts) + np.repeat(starts, counts))
        out[field.offsets] = new_offsets
        out[field.name] = arrays[field.name][pos]
    return out


def take_first(arrays: dict[str, np.ndarray], count: int) -> dict[str, np.ndarray]:
    """The first `count` samples of the arrays (ragged arrays cut at their offsets)."""
    n = min(count, sample_count(arrays))
    out: dict[str, np.ndarray] = {}
    for field in ARRAY_FIELDS:
        if field.name not in arrays:
            continue
        arr = arrays[field.name]
        if field.per_sample:
            out[field.name] = arr[:n]
        elif field.shape[0] == "N+1":
            out[field.name] = arr[: n + 1]
        else:
            out[field.name] = arr[: arrays[field.offsets][n]]
    return out

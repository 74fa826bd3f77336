"""The training-array format module: one table of keys, a versioned reader, a writer, merging."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ringrift.data import npz_format
from ringrift.errors import UserError
from tests.train.synth_npz import make_arrays

# the arrays every version-1 file holds (later versions add optional ones)
V1_KEYS = tuple(f.name for f in npz_format.ARRAY_FIELDS if f.since == 1)


def _arrays(**kw):
    arrays = make_arrays(**kw)
    meta = json.loads(str(arrays.pop("metadata")[()]))
    return arrays, meta


def test_write_then_read_round_trip_with_version(tmp_path):
    arrays, meta = _arrays(n_games=2, moves_per_game=3)
    path = tmp_path / "x.npz"
    npz_format.write_npz(path, arrays, {k: v for k, v in meta.items()
                                        if k not in ("format", "format_version")})
    back, back_meta = npz_format.read_npz(path)
    assert back_meta["format"] == npz_format.FORMAT
    assert back_meta["format_version"] == npz_format.FORMAT_VERSION
    assert set(back) == set(V1_KEYS)  # optional arrays not written stay absent
    for key in V1_KEYS:
        np.testing.assert_array_equal(back[key], arrays[key])
    npz_format.validate(path, back, back_meta)  # a written file passes the full checks
    assert not list(tmp_path.glob("*.tmp"))


def test_reader_refuses_unknown_version_and_names_missing_arrays(tmp_path):
    arrays, meta = _arrays()
    npz_format.write_npz(tmp_path / "v.npz", arrays, {**meta, "format_version": 99})
    with pytest.raises(UserError, match="unsupported format_version 99"):
        npz_format.read_npz(tmp_path / "v.npz")
    partial = {k: v for k, v in arrays.items() if k not in ("ranks", "legal_indices")}
    npz_format.write_npz(tmp_path / "m.npz", partial, meta)
    with pytest.raises(UserError, match="missing arrays 'ranks', 'legal_indices'"):
        npz_format.read_npz(tmp_path / "m.npz")


def test_required_keys_follow_the_version_table(monkeypatch):
    assert npz_format.required_keys(1) == V1_KEYS
    assert npz_format.required_keys(npz_format.FORMAT_VERSION) == V1_KEYS  # the rest optional
    extra = npz_format.ArrayField("ownership", ("i1",), ("N", "H", "W"), since=2, optional=True)
    later = npz_format.ArrayField("game_length", ("i4",), ("N",), since=2)
    monkeypatch.setattr(npz_format, "ARRAY_FIELDS", (*npz_format.ARRAY_FIELDS, extra, later))
    # A version-1 file needs only the version-1 arrays; a version-2 file also the required new one.
    assert npz_format.required_keys(1) == V1_KEYS
    assert npz_format.required_keys(2) == (*V1_KEYS, "game_length")


def test_merge_rebases_offsets_and_take_first_cuts_ragged_arrays():
    a, _ = _arrays(seed=1, n_games=2, moves_per_game=3)
    b, _ = _arrays(seed=2, n_games=1, moves_per_game=4, feature_dtype=np.float32)
    merged = npz_format.merge([a, b])
    assert npz_format.sample_count(merged) == 10
    assert merged["features"].dtype == np.float32
    lo = merged["legal_offsets"]
    assert lo[-1] == len(merged["legal_indices"]) == len(a["legal_indices"]) + len(b["legal_indices"])
    # Sample 6 is b's sample 0.
    np.testing.assert_array_equal(merged["legal_indices"][lo[6]:lo[7]],
                                  b["legal_indices"][: b["legal_offsets"][1]])
    first = npz_format.take_first(merged, 4)
    assert npz_format.sample_count(first) == 4
    assert len(first["policy_offsets"]) == 5
    assert len(first["policy_probs"]) == first["policy_offsets"][-1] == merged["policy_offsets"][4]


def test_merge_keeps_an_optional_array_only_when_every_part_has_it(monkeypatch):
    extra = npz_format.ArrayField("ownership", ("i1",), ("N",), since=1, optional=True)
    monkeypatch.setattr(npz_format, "ARRAY_FIELDS", (*npz_format.ARRAY_FIELDS, extra))
    a, _ = _arrays(seed=1, n_games=1, moves_per_game=2)
    b, _ = _arrays(seed=2, n_games=1, moves_per_game=2)
    a["ownership"] = np.ones(2, np.int8)
    assert "ownership" not in npz_format.merge([a, b])
    b["ownership"] = np.zeros(2, np.int8)
    np.testing.assert_array_equal(npz_format.merge([a, b])["ownership"], [1, 1, 0, 0])

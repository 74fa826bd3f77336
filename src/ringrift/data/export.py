"""Export stored games to training arrays (.npz): one sample per decision.

A sample is a position with more than one legal move: its feature planes and globals (from the
point of view of the player to move), the legal policy indices, the policy target (the stored
search distribution when there is one, else the move played), the value target per player in the
same rotated order as the encoding (index 0 = the player to move) and the final ranks.
Sparse arrays (offsets + indices + probabilities) keep the file loadable without pickle.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ringrift import rules
from ringrift.config_defaults import DEFAULT_WORKERS
from ringrift.data import aux_targets, npz_format
from ringrift.data.gamedb import DEFAULT_GAMES_DIR, GameDB
from ringrift.data.records import GameRecord
from ringrift.data.replay import ReplayError, replay_steps
from ringrift.errors import ConfigError, UserError
from ringrift.nn import actions, encoding
from ringrift.output_paths import check_output_file
from ringrift.rules.spec import GameSpec
from ringrift.rules.victory import outcome_values


@dataclass
class ExportFilters:
    require_completed: bool = False
    min_moves: int | None = None
    max_moves: int | None = None
    max_games: int | None = None
    since: str | None = None

    def validate(self) -> None:
        """Refuse filters that can only select nothing (a typo must not export an empty file)."""
        if self.max_games is not None and self.max_games < 1:
            raise ConfigError("max_games", f"must be at least 1 (got {self.max_games})")
        if self.min_moves is not None and self.min_moves < 0:
            raise ConfigError("min_moves", f"must be at least 0 (got {self.min_moves})")
        if self.max_moves is not None and self.max_moves < 1:
            raise ConfigError("max_moves", f"must be at least 1 (got {self.max_moves})")
        if (self.min_moves is not None and self.max_moves is not None
                and self.min_moves > self.max_moves):
            raise ConfigError("min_moves", f"{self.min_moves} is above the maximum "
                                           f"{self.max_moves}: no game can pass")

    def accepts(self, record: GameRecord) -> bool:
        if self.require_completed and record.status != "completed":
            return False
        if self.min_moves is not None and record.move_count < self.min_moves:
            return False
        return not (self.max_moves is not None and record.move_count > self.max_moves)


# --------------------------------------------------------------------------- one game
def rotate(values: Sequence[Any], mover: int) -> list[Any]:
    """Seat-ordered values -> the encoding's order (the mover first, then the following seats)."""
    n = len(values)
    return [values[(mover - 1 + i) % n] for i in range(n)]


def game_samples(record: GameRecord) -> dict[str, Any]:
    """The training samples of one stored game (lists of per-sample arrays)."""
    n = record.num_players
    if record.status == "completed" and record.final_ranks:
        seat_values = outcome_values(list(record.final_ranks))
        seat_ranks = [r - 1 for r in record.final_ranks]
    else:  # an unfinished game: no winner, every player gets the same (neutral) target
        seat_values = [0.0] * n
        seat_ranks = [0] * n
    out: dict[str, list] = {k: [] for k in ("features", "globals", "values", "ranks", "policy",
                                           "legal", "move_numbers", "ownership",
                                           "remaining_moves")}
    movers: list[int] = []
    state = None
    for step in replay_steps(record):
        state = step.state  # (the same object throughout: after the loop, the final state)
        if len(step.legal) < 2:
            continue  # forced moves carry no policy target
        planes, glob = encoding.encode_state(state)
        legal_idx = actions.encode_moves(step.legal, state)
        stored = record.moves[step.index].policy
        if stored:
            moves = [rules.move_from_json(state.geo, m, state.phase) for m, _ in stored]
            idx = actions.encode_moves(moves, state)
            probs = np.asarray([p for _, p in stored], dtype=np.float64)
            keep = probs > 0
            idx, probs = idx[keep], probs[keep]
            probs = probs / probs.sum()
        else:
            idx = np.asarray([actions.encode(step.move, state)], dtype=np.int32)
            probs = np.ones(1)
        mover = state.current_player
        out["features"].append(planes.astype(np.float16))
        out["globals"].append(glob)
        out["values"].append(rotate(seat_values, mover))
        out["ranks"].append(rotate(seat_ranks, mover))
        out["policy"].append((idx.astype(np.int32), probs.astype(np.float32)))
        out["legal"].append(legal_idx.astype(np.int32))
        out["move_numbers"].append(step.index)
        movers.append(mover)
    _add_aux_targets(record, state, movers, out)
    return out


def _add_aux_targets(record: GameRecord, final: Any, movers: list[int],
                     out: dict[str, list]) -> None:
    """Ownership of the final position and the moves left, for each sample of a finished
    game; "no target" for an unfinished one."""
    finished = record.status == "completed" and final is not None and final.is_over
    total = len(record.moves)
    if finished:
        seats = aux_targets.owner_grid(final, aux_targets.final_owner_seats(final))
    for mover, index in zip(movers, out["move_numbers"], strict=True):
        if finished:
            out["ownership"].append(aux_targets.rotate_owners(seats, mover, record.num_players))
            out["remaining_moves"].append(total - index)
        else:
            size = final.geo.size
            out["ownership"].append(aux_targets.unknown_ownership(size, size))
            out["remaining_moves"].append(aux_targets.LENGTH_UNKNOWN)


def samples_to_arrays(per_game: Iterable[tuple[str, dict[str, Any]]],
                      spec: GameSpec) -> dict[str, np.ndarray]:
    """Concatenate the samples of many games into the flat export arrays."""
    num_players = spec.num_players
    io = encoding.board_io(spec)
    feats, globs, vals, ranks, pol, legal, moves, ids = [], [], [], [], [], [], [], []
    owners, remaining = [], []
    for game_id, s in per_game:
        owners.extend(s["ownership"])
        remaining.extend(s["remaining_moves"])
        feats.extend(s["features"])
        globs.extend(s["globals"])
        vals.extend(s["values"])
        ranks.extend(s["ranks"])
        pol.extend(s["policy"])
        legal.extend(s["legal"])
        moves.extend(s["move_numbers"])
        ids.extend([game_id] * len(s["move_numbers"]))
    n = len(feats)
    shape = (io.in_channels, io.height, io.width)
    return {
        "features": np.stack(feats) if n else np.zeros((0, *shape), np.float16),
        "globals": (np.stack(globs).astype(np.float32) if n
                    else np.zeros((0, io.num_globals), np.float32)),
        "values": np.asarray(vals, np.float32).reshape(n, num_players),
        "ranks": np.asarray(ranks, np.int8).reshape(n, num_players),
        "policy_offsets": _offsets([p[0] for p in pol]),
        "policy_indices": _concat([p[0] for p in pol], np.int32),
        "policy_probs": _concat([p[1] for p in pol], np.float32),
        "legal_offsets": _offsets(legal),
        "legal_indices": _concat(legal, np.int32),
        "move_numbers": np.asarray(moves, np.int32),
        "game_ids": np.asarray(ids, dtype="<U64"),
        "ownership": (np.stack(owners).astype(np.int8) if n
                      else np.zeros((0, io.height, io.width), np.int8)),
        "remaining_moves": np.asarray(remaining, np.int32).reshape(n),
    }


def _offsets(parts: list[np.ndarray]) -> np.ndarray:
    out = np.zeros(len(parts) + 1, np.int64)
    if parts:
        np.cumsum([len(p) for p in parts], out=out[1:])
    return out


def _concat(parts: list[np.ndarray], dtype) -> np.ndarray:
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)


def export_records(records: Iterable[GameRecord],
                   spec: GameSpec) -> tuple[dict[str, np.ndarray], int]:
    """Arrays for game records held in memory (selfplay --format npz). Returns (arrays, games)."""
    games = [(r.game_id, game_samples(r)) for r in records
             if (r.board_type, r.num_players) == (spec.board_type, spec.num_players)]
    return samples_to_arrays(games, spec), len(games)


# --------------------------------------------------------------------------- files
def export_metadata(spec: GameSpec, arrays: dict[str, np.ndarray],
                    sources: list[str], games: int, filters: ExportFilters) -> dict[str, Any]:
    io = encoding.board_io(spec)
    return {
        "format": npz_format.FORMAT,
        "format_version": npz_format.FORMAT_VERSION,
        "board_type": spec.board_type,
        "num_players": spec.num_players,
        "encoder_version": encoding.ENCODER_VERSION,
        "policy_size": io.policy_size,
        "in_channels": io.in_channels,
        "num_globals": io.num_globals,
        "height": io.height,
        "width": io.width,
        "policy_planes": io.policy_planes,
        "scalar_actions": io.scalar_actions,
        "source_databases": sources,
        "filters": asdict(filters),
        "counts": {"games": kept_games(arrays), "selected_games": games,
                   "samples": npz_format.sample_count(arrays)},
    }


def kept_games(arrays: dict[str, np.ndarray]) -> int:
    """Games that have samples in `arrays` (what the filters kept)."""
    return len(np.unique(arrays["game_ids"])) if npz_format.sample_count(arrays) else 0


# --------------------------------------------------------------------------- databases
def select_game_ids(db: GameDB, spec: GameSpec, filters: ExportFilters) -> list[str]:
    ids = db.game_ids(board_type=spec.board_type, num_players=spec.num_players,
                      since=filters.since,
                      status="completed" if filters.require_completed else None)
    if filters.max_games is not None:
        ids = ids[-filters.max_games:] if filters.max_games > 0 else []
    return ids


_WORKER_DB: dict[str, GameDB] = {}


def _encode_game(task: tuple[str, str, ExportFilters]) -> tuple[str, dict | None, str]:
    db_path, game_id, filters = task
    db = _WORKER_DB.get(db_path)
    if db is None:
        db = _WORKER_DB[db_path] = GameDB(db_path, readonly=True)
    from ringrift.rules.errors import RulesError

    try:  # one bad stored game is skipped with its id; it never fails the whole export
        record = db.get_game(game_id)
        if not filters.accepts(record):
            return game_id, None, ""
        return game_id, game_samples(record), ""
    except (ReplayError, RulesError, UserError, KeyError, ValueError, TypeError,
            IndexError) as exc:
        text = str(exc) if game_id in str(exc) else f"game {game_id}: {exc}"
        return game_id, None, text


def encode_games(db_path: str, game_ids: list[str], filters: ExportFilters,
                 workers: int) -> tuple[list[tuple[str, dict]], list[str]]:
    """Encode games of one database (in parallel when workers > 1), keeping the id order."""
    tasks = [(db_path, gid, filters) for gid in game_ids]
    if workers > 1 and len(tasks) > 1:
        with mp.get_context("fork").Pool(workers) as pool:
            results = pool.map(_encode_game, tasks, chunksize=8)
    else:
        results = [_encode_game(t) for t in tasks]
        for db in _WORKER_DB.values():
            db.close()
        _WORKER_DB.clear()
    games = [(gid, s) for gid, s, _ in results if s is not None]
    problems = [p for _, _, p in results if p]
    return games, problems


def fingerprint(ids: list[str]) -> str:
    return hashlib.sha256("\n".join(ids).encode()).hexdigest()[:16]


# --------------------------------------------------------------------------- export command
@dataclass
class ExportSummary:
    output: str
    games: int  # games in the output: kept by every filter, with at least one sample
    samples: int
    bytes: int
    new_games: int
    reused_games: int
    skipped: list[str]
    up_to_date: bool = False
    selected_games: int | None = None  # games selected from the databases, before the move
    # filters (--min-moves/--max-moves) and unusable games took their share


def discover_databases(folder: str | Path = DEFAULT_GAMES_DIR,
                       name: str = "use_discovery") -> list[str]:
    """Every .db file under `folder` (default data/games, where selfplay puts its games);
    errors (ConfigError) name `name`, the setting that gave the folder."""
    root = Path(folder)
    if not root.is_dir():
        raise ConfigError(name, f"{root}: not a folder")
    found = sorted(str(p) for p in root.rglob("*.db") if p.is_file())
    if not found:
        raise ConfigError(name, f"{root}: no .db files found")
    return found


def _check_config(db: GameDB, path: str, spec: GameSpec) -> None:
    if db.count_games(board_type=spec.board_type, num_players=spec.num_players):
        return
    configs = db.stats()["configs"]
    have = ", ".join(f"{k}: {v['games']}" for k, v in sorted(configs.items())) or "no games"
    raise UserError(f"{path}: no {spec} games ({have})")


def run_export(db_paths: list[str], spec: GameSpec, output: str | Path,
               filters: ExportFilters, *, use_cache: bool = False, workers: int = DEFAULT_WORKERS,
               progress=None, skip_other_configs: bool = False) -> ExportSummary:
    """Export the games of the databases to `output`; with `use_cache` reuse earlier work.
    `skip_other_configs` (discovered databases): a database without games of this board and
    player count is skipped with a note instead of being an error."""
    if not db_paths:
        raise ConfigError("db_paths", "is empty: no game database given")
    filters.validate()
    output = check_output_file(output, "output")
    cache_dir = output.with_name(output.name + ".cache")
    manifest = _load_manifest(cache_dir, spec, filters) if use_cache else None
    chunks: list[dict[str, np.ndarray]] = []
    skipped: list[str] = []
    total_games = new_games = reused = 0
    sources = []
    for path in db_paths:
        resolved = str(Path(path).resolve())
        with GameDB(path, readonly=True) as db:
            try:
                _check_config(db, path, spec)
            except UserError as exc:
                if not skip_other_configs:
                    raise
                skipped.append(str(exc))
                continue
            ids = select_game_ids(db, spec, filters)
        sources.append(resolved)
        cached = (manifest or {}).get("databases", {}).get(resolved, {"chunks": []})
        done = {gid for ch in cached["chunks"] for gid in ch["game_ids"]}
        todo = [gid for gid in ids if gid not in done]
        wanted = set(ids)
        for ch in list(cached["chunks"]):
            if set(ch["game_ids"]) <= wanted:
                arrays = _cached_chunk(cache_dir / ch["file"], spec)
                if arrays is None:  # unusable: its games are encoded again
                    cached["chunks"].remove(ch)
                    redo = set(ch["game_ids"]) | set(todo)
                    todo = [gid for gid in ids if gid in redo]
                    continue
                chunks.append(arrays)
                reused += len(ch["game_ids"])
        if todo:
            games, problems = encode_games(path, todo, filters, workers)
            skipped.extend(problems)
            if progress is not None:
                progress(len(todo))
            arrays = samples_to_arrays(games, spec)
            chunks.append(arrays)
            new_games += len(games)
            if manifest is not None:
                name = f"chunk_{fingerprint([resolved, *todo])}.npz"
                npz_format.write_npz(cache_dir / name, arrays, {"chunk": True})
                # every id looked at, encoded or filtered out, so it is not looked at again
                cached["chunks"].append({"file": name, "game_ids": list(todo)})
                manifest.setdefault("databases", {})[resolved] = cached
        total_games += len(ids)
    if not sources:
        raise UserError(f"none of the {len(db_paths)} databases has {spec} games")
    if manifest is not None and not new_games and output.exists():
        try:
            _, meta = npz_format.read_npz(output)
            counts = meta.get("counts", {})
            if counts.get("selected_games", counts.get("games")) == total_games:
                return ExportSummary(str(output), counts["games"], counts["samples"],
                                     output.stat().st_size, 0, reused, skipped, up_to_date=True,
                                     selected_games=total_games)
        except UserError:
            pass
    arrays = npz_format.merge(chunks) if chunks else samples_to_arrays([], spec)
    if not npz_format.sample_count(arrays) and skipped:
        raise UserError(f"none of the games could be used ({len(skipped)} unreadable; first: "
                        f"{skipped[0]}); nothing written")
    if not npz_format.sample_count(arrays) and output.exists():
        raise UserError(f"no samples passed the filters ({total_games} games selected); "
                        f"{output} is left as it was")
    meta = export_metadata(spec, arrays, sources, total_games, filters)
    size = npz_format.write_npz(output, arrays, meta)
    if manifest is not None:
        _save_manifest(cache_dir, manifest)
    return ExportSummary(str(output), meta["counts"]["games"], npz_format.sample_count(arrays),
                         size, new_games, reused, skipped, selected_games=total_games)


def _cached_chunk(path: Path, spec: GameSpec) -> dict[str, np.ndarray] | None:
    """A cache chunk's arrays if it passes the training format's checks, else None (with a
    warning): a damaged chunk is encoded again, never passed through."""
    try:
        arrays, _ = npz_format.read_npz(path)
        meta = export_metadata(spec, arrays, [], 0, ExportFilters())
        meta.pop("counts")
        npz_format.validate(path, arrays, {**meta, "counts": {}})
    except (UserError, KeyError) as exc:
        print(f"warning: export cache: {exc}; encoding its games again", file=sys.stderr)
        return None
    return arrays


def _load_manifest(cache_dir: Path, spec: GameSpec, filters: ExportFilters) -> dict[str, Any]:
    key = {"board_type": spec.board_type, "num_players": spec.num_players,
           "encoder_version": encoding.ENCODER_VERSION, "filters": asdict(filters)}
    path = cache_dir / "manifest.json"
    if path.exists():
        try:
            manifest = json.loads(path.read_text())
            if manifest.get("key") == key:
                return manifest
        except (OSError, json.JSONDecodeError):
            pass  # a broken cache is rebuilt, never trusted
    return {"key": key, "databases": {}}


def _save_manifest(cache_dir: Path, manifest: dict[str, Any]) -> None:
    from ringrift.atomic import atomic_write_text

    atomic_write_text(cache_dir / "manifest.json", json.dumps(manifest))


if __name__ == "__main__":  # `python -m ringrift.data.export ...` is `ringrift export ...`
    import importlib  # (by name: the data layer does not depend on the CLI, only this shim)

    sys.exit(importlib.import_module("ringrift.cli.main").main(["export", *sys.argv[1:]]))

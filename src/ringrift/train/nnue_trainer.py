"""Training the NNUE value network (engine `nnue-guided`) straight from game databases.

Positions come from replaying completed games, following export's conventions: one sample per
decision (positions where the mover had a single legal move are bookkeeping and skipped), the
NNUE features from the mover's view, and the game's outcome values rotated so that slot 0 is the
player to move (as the v2 networks' value targets and `NNUEValue`, which rotates back). Whole
games go to training or validation (seeded). The loss is the MSE over all player slots; the
model written at the save path is the epoch with the best validation loss (training loss when
there is no validation split), with its metadata, atomically and with its SHA-256 sidecar.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import torch

from ringrift import rules
from ringrift.data.export import ExportFilters, rotate, select_game_ids
from ringrift.data.gamedb import GameDB
from ringrift.data.records import GameRecord
from ringrift.data.replay import ReplayError, replay_steps
from ringrift.errors import ConfigError, UserError
from ringrift.nn import encoding
from ringrift.nn.inference import resolve_device
from ringrift.nn.model_file import save_model_file
from ringrift.nn.models import NNUE, NNUEConfig
from ringrift.nn.optimizer import make_optimizer
from ringrift.rules.victory import outcome_values
from ringrift.train.dataset import epoch_batches
from ringrift.train.nnue_config import NNUETrainConfig
from ringrift.train.schedule import LRSchedule


# --------------------------------------------------------------------------- data
@dataclass
class NNUEData:
    """Positions as EmbeddingBag input: feature ids of sample i are
    `indices[offsets[i]:offsets[i + 1]]`; `values[i]` is its target (slot 0 = the mover)."""

    indices: np.ndarray  # int64, all active feature ids
    offsets: np.ndarray  # int64, len = samples + 1
    values: np.ndarray  # float32 (samples, num_players)
    games: np.ndarray  # int64, index of the sample's game in `game_ids`
    game_ids: list[str]
    sources: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # games that did not replay

    def __len__(self) -> int:
        return len(self.values)

    def batch(self, idx: np.ndarray, device: torch.device, perms: np.ndarray | None = None,
              syms: np.ndarray | None = None
              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(indices, offsets, targets) tensors of the samples `idx`, for NNUE.forward; with
        `perms` (feature_permutations) sample k is seen under symmetry `syms[k]`."""
        starts = self.offsets[idx]
        lens = self.offsets[idx + 1] - starts
        new_offsets = np.zeros(len(idx), np.int64)
        np.cumsum(lens[:-1], out=new_offsets[1:])
        flat = np.repeat(starts - new_offsets, lens) + np.arange(int(lens.sum()), dtype=np.int64)
        ids = self.indices[flat]
        if perms is not None and syms is not None:
            ids = perms[np.repeat(syms, lens), ids]  # a bag's sum does not depend on id order
        return (torch.from_numpy(ids).to(device),
                torch.from_numpy(new_offsets).to(device),
                torch.from_numpy(self.values[idx]).to(device))


def feature_permutations(board_type: str) -> np.ndarray:
    """[symmetries, num_features] map of NNUE feature ids under each board symmetry: per-cell
    features move with their cell, the global ones stay (row 0 is the identity)."""
    from ringrift.nn.symmetry import board_symmetries

    num_features = encoding.nnue_num_features(board_type)
    ids = np.arange(num_features, dtype=np.int64)
    syms = board_symmetries(board_type)
    cells = len(syms[0].cell_map)
    out = np.tile(ids, (len(syms), 1))
    per_cell = encoding.NNUE_FEATURES_PER_CELL  # the per-cell block of the id layout
    cell, within = np.divmod(ids[:cells * per_cell], per_cell)
    for k, sym in enumerate(syms):
        out[k, :cells * per_cell] = sym.cell_map[cell] * per_cell + within
    return out


def game_positions(record: GameRecord) -> tuple[list[np.ndarray], list[list[float]]]:
    """(NNUE feature ids, value target from the mover's view) of each decision of a completed
    game; positions with a single legal move are skipped, as in export."""
    seat_values = outcome_values(list(record.final_ranks))
    feats: list[np.ndarray] = []
    values: list[list[float]] = []
    for step in replay_steps(record):
        if len(step.legal) < 2:
            continue
        feats.append(encoding.nnue_features(step.state))
        values.append(rotate(seat_values, step.state.current_player))
    return feats, values


def _no_games_error(db_paths: list[str], spec: rules.GameSpec) -> UserError:
    have = []
    for path in db_paths:
        with GameDB(path, readonly=True) as db:
            configs = db.stats()["configs"]
        listing = ", ".join(f"{k}: {v['games']} ({v['statuses'].get('completed', 0)} completed)"
                            for k, v in sorted(configs.items())) or "no games"
        have.append(f"{path}: {listing}")
    return UserError(f"no completed {spec} games ({'; '.join(have)})")


def load_positions(db_paths: list[str], spec: rules.GameSpec,
                   max_games: int | None = None, progress: bool | None = None) -> NNUEData:
    """Replay the completed games of the databases into NNUE training positions."""
    filters = ExportFilters(require_completed=True)
    selected: list[tuple[str, str]] = []
    for path in db_paths:
        with GameDB(path, readonly=True) as db:
            selected += [(path, gid) for gid in select_game_ids(db, spec, filters)]
    if max_games is not None:
        selected = selected[-max_games:]  # the most recent, as export's --max-games
    if not selected:
        raise _no_games_error(db_paths, spec)
    from tqdm import tqdm

    feats: list[np.ndarray] = []
    values: list[list[float]] = []
    games: list[int] = []
    game_ids: list[str] = []
    skipped: list[str] = []
    per_db: dict[str, int] = {}
    bar = tqdm(total=len(selected), desc="replaying games", leave=False, file=sys.stderr,
               disable=None if progress is None else not progress)
    for path in db_paths:
        ids = [gid for p, gid in selected if p == path]
        if not ids:
            continue
        with GameDB(path, readonly=True) as db:
            for gid in ids:
                record = db.get_game(gid)
                bar.update(1)
                if not record.final_ranks:
                    continue
                try:
                    f, v = game_positions(record)
                except ReplayError as exc:
                    skipped.append(str(exc))
                    continue
                if not f:
                    continue
                feats += f
                values += v
                games += [len(game_ids)] * len(f)
                game_ids.append(f"{Path(path).name}:{gid}")
                per_db[path] = per_db.get(path, 0) + 1
    bar.close()
    if not feats:
        raise UserError(f"no usable positions in the {len(selected)} {spec} games "
                        f"({len(skipped)} did not replay)")
    offsets = np.zeros(len(feats) + 1, np.int64)
    np.cumsum([len(f) for f in feats], out=offsets[1:])
    sources = [{"path": str(Path(p).resolve()), "games": per_db.get(p, 0)} for p in db_paths]
    return NNUEData(indices=np.concatenate(feats).astype(np.int64), offsets=offsets,
                    values=np.asarray(values, np.float32).reshape(len(feats), spec.num_players),
                    games=np.asarray(games, np.int64), game_ids=game_ids, sources=sources,
                    skipped=skipped)


def split_games(data: NNUEData, val_fraction: float, seed: int
                ) -> tuple[np.ndarray, np.ndarray]:
    """(train sample indices, validation sample indices); whole games go to one side."""
    all_idx = np.arange(len(data), dtype=np.int64)
    if val_fraction <= 0:
        return all_idx, all_idx[:0]
    n_games = len(data.game_ids)
    if n_games < 2:
        raise ConfigError("val_fraction", "needs at least 2 games (0: no validation split)")
    n_val = min(max(1, round(val_fraction * n_games)), n_games - 1)
    val_games = np.random.default_rng(seed).permutation(n_games)[:n_val]
    is_val = np.isin(data.games, val_games)
    return all_idx[~is_val], all_idx[is_val]


# --------------------------------------------------------------------------- training
@dataclass
class NNUETrainResult:
    save_path: Path
    metrics: dict[str, Any]


def evaluate_mse(model: NNUE, data: NNUEData, idx: np.ndarray, batch_size: int,
                 device: torch.device) -> float:
    """Mean squared error (over samples and player slots) of `model` on the samples `idx`."""
    if not len(idx):
        return math.nan
    total = 0.0
    model.eval()
    with torch.no_grad():
        for b in epoch_batches(idx, batch_size):
            ind, off, target = data.batch(b, device)
            total += float(((model(ind, off) - target) ** 2).sum())
    return total / (len(idx) * data.values.shape[1])


def zero_mse(data: NNUEData, idx: np.ndarray) -> float:
    """MSE of the trivial predictor that always says 0 (a draw)."""
    return float(np.mean(data.values[idx] ** 2)) if len(idx) else math.nan


def train_nnue(cfg: NNUETrainConfig, *, out: TextIO | None = None,
               data: NNUEData | None = None) -> NNUETrainResult:
    """Train an NNUE value network as configured and save the best epoch; return its metrics.

    User mistakes raise UserError before anything is written."""
    out = out or sys.stdout
    cfg.validate()
    device = resolve_device(cfg.device)
    t_load = time.perf_counter()
    if data is None:
        data = load_positions(cfg.db_paths, cfg.spec, cfg.max_games, cfg.progress)
    load_s = time.perf_counter() - t_load
    train_idx, val_idx = split_games(data, cfg.val_fraction, cfg.seed)
    n_train_games = len(np.unique(data.games[train_idx]))
    print(f"{len(data.game_ids)} games -> {len(data)} positions ({len(train_idx)} train / "
          f"{len(val_idx)} validation; {n_train_games} / {len(data.game_ids) - n_train_games} "
          f"games) in {load_s:.1f}s" + (f"; {len(data.skipped)} games did not replay"
                                         if data.skipped else ""), file=out)

    torch.manual_seed(cfg.seed)
    num_features = encoding.nnue_num_features(cfg.board_type)
    config = NNUEConfig(num_features=num_features, num_players=cfg.num_players,
                        hidden=cfg.hidden, board_type=cfg.board_type)
    model = NNUE(config).to(device)
    optimizer = make_optimizer(model, cfg.learning_rate, cfg.weight_decay)
    steps_per_epoch = len(epoch_batches(train_idx, cfg.batch_size, seed=cfg.seed, epoch=0))
    schedule = LRSchedule("cosine", cfg.learning_rate, steps_per_epoch * cfg.epochs,
                          warmup_steps=round(cfg.warmup_epochs * steps_per_epoch))
    monitor_idx = val_idx if len(val_idx) else train_idx
    baseline = {"zero_mse": zero_mse(data, monitor_idx),
                "untrained_mse": evaluate_mse(model, data, monitor_idx, cfg.batch_size, device)}
    split = "val" if len(val_idx) else "train"
    print(f"nnue {num_features}x{cfg.hidden}x{cfg.num_players} "
          f"({sum(p.numel() for p in model.parameters()):,} parameters) on {device}; {split} "
          f"mse: untrained {baseline['untrained_mse']:.4f}, predict-0 {baseline['zero_mse']:.4f}",
          file=out)

    perms = feature_permutations(cfg.board_type) if cfg.augment else None
    from tqdm import tqdm

    history: list[dict[str, Any]] = []
    best_loss, best_epoch, best_state, bad_epochs, step = math.inf, -1, None, 0, 0
    for epoch in range(cfg.epochs):
        model.train()
        batches = epoch_batches(train_idx, cfg.batch_size, seed=cfg.seed, epoch=epoch)
        sym_rng = np.random.default_rng([cfg.seed, epoch, 1])
        t0, seen, loss_sum = time.perf_counter(), 0, 0.0
        for b in tqdm(batches, desc=f"epoch {epoch + 1}/{cfg.epochs}", leave=False,
                      file=sys.stderr, disable=None if cfg.progress is None else not cfg.progress):
            syms = sym_rng.integers(len(perms), size=len(b)) if perms is not None else None
            ind, off, target = data.batch(b, device, perms, syms)
            lr = schedule.lr(step)
            for group in optimizer.param_groups:
                group["lr"] = lr
            loss = torch.nn.functional.mse_loss(model(ind, off), target)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            seen += len(b)
            loss_sum += float(loss.detach()) * len(b)
        elapsed = time.perf_counter() - t0
        train_mse = loss_sum / max(seen, 1)
        val_mse = evaluate_mse(model, data, val_idx, cfg.batch_size, device)
        monitor = val_mse if len(val_idx) else train_mse
        improved = monitor < best_loss
        if improved:
            best_loss, best_epoch, bad_epochs = monitor, epoch, 0
            best_state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        else:
            bad_epochs += 1
        stop = bool(cfg.patience) and bad_epochs >= cfg.patience
        record = {"epoch": epoch + 1, "step": step, "lr": schedule.lr(max(step - 1, 0)),
                  "train_mse": train_mse, "val_mse": None if math.isnan(val_mse) else val_mse,
                  "positions_per_s": seen / elapsed if elapsed > 0 else 0.0,
                  "improved": improved, "early_stopped": stop}
        history.append(record)
        print(_epoch_line(record, cfg.epochs), file=out)
        if stop:
            break

    if best_state is None:
        raise UserError(f"training diverged (the loss is not finite); nothing written to "
                        f"{cfg.save_path}: try a lower learning rate")
    best = history[best_epoch]
    metrics = {"best_epoch": best_epoch + 1, "epochs_run": len(history),
               "train_mse": best["train_mse"], "val_mse": best["val_mse"],
               "positions_per_s": float(np.mean([h["positions_per_s"] for h in history])),
               **{f"{split}_{k}": v for k, v in baseline.items()}, "history": history}
    metadata = {
        "architecture": "nnue",
        "model_config": config.to_dict(),
        "board_type": cfg.board_type,
        "num_players": cfg.num_players,
        "encoder_version": encoding.ENCODER_VERSION,
        "num_features": num_features,
        "kind": "model",
        "created_at": datetime.now(UTC).isoformat(),
        "epoch": best_epoch + 1,
        "step": best["step"],
        "data": {"databases": data.sources, "games": len(data.game_ids),
                 "positions": len(data), "train_positions": int(len(train_idx)),
                 "val_positions": int(len(val_idx)), "skipped_games": len(data.skipped)},
        "train_config": {k: v for k, v in asdict(cfg).items() if k != "progress"},
        "metrics": metrics,
    }
    save = Path(cfg.save_path)
    save_model_file(save, {"metadata": metadata, "model_state": best_state})
    print(f"saved {save} (best epoch {best_epoch + 1}, {split} mse {best_loss:.4f})", file=out)
    return NNUETrainResult(save, metrics)


def _epoch_line(record: dict[str, Any], epochs: int) -> str:
    parts = [f"epoch {record['epoch']}/{epochs}", f"train mse {record['train_mse']:.4f}"]
    if record["val_mse"] is not None:
        parts.append(f"val mse {record['val_mse']:.4f}")
    parts += [f"lr {record['lr']:.2e}", f"{record['positions_per_s']:,.0f} positions/s"]
    if record["improved"]:
        parts.append("(best)")
    if record["early_stopped"]:
        parts.append("early stop")
    return ", ".join(parts)

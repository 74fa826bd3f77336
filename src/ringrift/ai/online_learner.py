"""Online learning: a network that keeps learning from the games it plays (the seed's EBMO API).

`create_online_learner(model, learner_type="ebmo")` wraps a policy/value network. During a game,
`record_transition(state, move, player, next_state, policy=None)` stores each decision the
player made (with its search policy when there is one, else the move played). At the end,
`update_from_game(winner)` turns the game into training targets and takes a few small steps:

- value: TD(lambda) returns toward the outcome, G_t = (1 - lambda) V(s_{t+1}) + lambda G_{t+1},
  G at the end = the outcome per seat; V from the network itself (max-n vectors, rotated like
  every value target so slot 0 is the player to move);
- policy: cross-entropy toward the player's own search result at that position;
- a small replay of earlier games' positions mixed into every step, a conservative learning rate
  and gradient clipping, so one game cannot wreck the network.

A learner saves to a model file (usable by every engine) whose payload also holds its optimizer,
replay and settings; `OnlineLearner.load` resumes it.
"""

from __future__ import annotations

import os
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from ringrift.errors import UserError
from ringrift.nn.batch import Batch
from ringrift.nn.losses import LossWeights, compute_losses
from ringrift.nn.optimizer import make_optimizer
from ringrift.rules import GameState, Move

LEARNER_TYPES = ("ebmo",)


@dataclass(frozen=True)
class OnlineSettings:
    learning_rate: float = 1e-4
    td_lambda: float = 0.7
    replay_size: int = 4096  # positions kept from earlier games
    replay_batch: int = 64  # replay positions mixed into each step
    updates_per_game: int = 4
    max_grad_norm: float = 1.0
    value_weight: float = 1.0
    seed: int = 0

    def validate(self) -> None:
        if self.learning_rate <= 0:
            raise UserError("online learner: learning_rate must be > 0")
        if not 0 <= self.td_lambda <= 1:
            raise UserError("online learner: td_lambda must be in [0, 1]")
        if self.replay_size < 0 or self.replay_batch < 0 or self.updates_per_game < 1:
            raise UserError("online learner: replay sizes must be >= 0, updates >= 1")


@dataclass
class _Position:
    features: np.ndarray  # [C, H, W] float16
    globals: np.ndarray  # [G]
    legal: np.ndarray  # policy indices of the legal moves
    policy_idx: np.ndarray
    policy_p: np.ndarray
    mover: int  # seat to move
    values: np.ndarray | None = None  # the value target, rotated (set at the game's end)


class OnlineLearner:
    """TD(lambda) value targets and search-policy targets from the games it plays."""

    learner_type = "ebmo"

    def __init__(self, model: torch.nn.Module, settings: OnlineSettings | None = None,
                 metadata: dict[str, Any] | None = None) -> None:
        self.settings = settings or OnlineSettings()
        self.settings.validate()
        if not hasattr(model, "config") or not hasattr(model.config, "policy_size"):
            raise UserError("online learning needs a policy/value network (v2/v3)")
        self.model = model
        self.metadata = dict(metadata or {})
        self.optimizer = make_optimizer(model, self.settings.learning_rate, 0.0)
        self.replay: deque[_Position] = deque(maxlen=self.settings.replay_size)
        self.game: list[tuple[_Position, GameState | None]] = []
        self.games_learned = 0
        self.steps = 0
        self.rng = np.random.default_rng(self.settings.seed)

    # ------------------------------------------------------------------ recording
    def record_transition(self, state: GameState, move: Move, player: int,
                          next_state: GameState,
                          policy: list[tuple[Move, float]] | None = None) -> None:
        """Store one decision of `player` at `state` (its search policy, else the move)."""
        from ringrift.nn import actions, encoding

        if player != state.current_player:
            raise ValueError(f"record_transition: player {player} is not to move "
                             f"(player {state.current_player} is)")
        planes, glob = encoding.encode_state(state)
        legal = actions.legal_indices(state)
        if policy:
            moves = [m for m, _ in policy]
            idx = actions.encode_moves(moves, state)
            probs = np.asarray([p for _, p in policy], dtype=np.float64)
        else:
            idx = np.asarray([actions.encode(move, state)], dtype=np.int64)
            probs = np.ones(1)
        keep = probs > 0
        probs = probs[keep] / probs[keep].sum()
        position = _Position(planes.astype(np.float16), glob.astype(np.float32),
                             np.asarray(legal, np.int64), np.asarray(idx, np.int64)[keep],
                             probs.astype(np.float32), player)
        # the successor, for V(s_{t+1}) (None once the game is over: the outcome is used)
        self.game.append((position, None if next_state.is_over else next_state.copy()))

    # ------------------------------------------------------------------ learning
    def update_from_game(self, winner: int | None,
                         final_ranks: list[int] | None = None) -> dict[str, float]:
        """Learn from the recorded game: TD(lambda) targets, then a few small steps. `winner`
        is the winning seat (None: a draw); `final_ranks` (1 = first) override it."""
        if not self.game:
            return {"positions": 0.0}
        n = self.model.config.num_players
        outcome = _outcome(winner, final_ranks, n)
        positions = [p for p, _ in self.game]
        next_values = self._successor_values([s for _, s in self.game], n)
        lam = self.settings.td_lambda
        ret = outcome
        for t in range(len(positions) - 1, -1, -1):
            if next_values[t] is None:
                ret = outcome
            else:
                ret = (1 - lam) * next_values[t] + lam * ret
            positions[t].values = _rotate(ret, positions[t].mover)
        losses = []
        for _ in range(self.settings.updates_per_game):
            batch = positions + self._replay_sample()
            losses.append(self._step(batch))
        self.replay.extend(positions)
        self.game = []
        self.games_learned += 1
        return {"positions": float(len(positions)), "loss": float(np.mean(losses)),
                "replay": float(len(self.replay))}

    def _successor_values(self, states: list[GameState | None], n: int
                          ) -> list[np.ndarray | None]:
        """Network values of the successor states in seat order (index 0 = seat 1)."""
        from ringrift.nn import encoding

        live = [s for s in states if s is not None]
        values: list[np.ndarray | None] = [None] * len(states)
        if not live:
            return values
        planes, glob = encoding.encode_states(live)
        device = next(self.model.parameters()).device
        self.model.eval()
        with torch.no_grad():
            out = self.model(torch.from_numpy(planes).to(device),
                             torch.from_numpy(glob).to(device)).value.float().cpu().numpy()
        k = 0
        for i, s in enumerate(states):
            if s is not None:
                mover = s.current_player
                values[i] = np.array([out[k][(seat - mover) % n] for seat in range(1, n + 1)])
                k += 1
        return values

    def _replay_sample(self) -> list[_Position]:
        if not self.replay or not self.settings.replay_batch:
            return []
        take = min(self.settings.replay_batch, len(self.replay))
        picks = self.rng.choice(len(self.replay), size=take, replace=False)
        return [self.replay[int(i)] for i in picks]

    def _step(self, positions: list[_Position]) -> float:
        device = next(self.model.parameters()).device
        size = self.model.config.policy_size
        b = len(positions)
        target = torch.zeros(b, size)
        legal = torch.zeros(b, size, dtype=torch.bool)
        for i, p in enumerate(positions):
            target[i, torch.from_numpy(p.policy_idx)] = torch.from_numpy(p.policy_p)
            legal[i, torch.from_numpy(p.legal)] = True
        n = self.model.config.num_players
        batch = Batch(
            features=torch.from_numpy(np.stack([p.features for p in positions])).float()
            .to(device),
            globals=torch.from_numpy(np.stack([p.globals for p in positions])).to(device),
            values=torch.from_numpy(np.stack([p.values for p in positions]).astype(np.float32))
            .to(device),
            ranks=torch.zeros(b, n, dtype=torch.long, device=device),
            policy_target=target.to(device), legal_mask=legal.to(device),
            has_policy=torch.ones(b, dtype=torch.bool, device=device))
        # Eval mode while learning too: BatchNorm keeps its running statistics. Training mode
        # would move them toward each small, one-game batch (4 steps a game at momentum 0.1),
        # which wrecked the network within a few games (a 200-game match: 18-182 against the
        # frozen start, 17-23 over 40 games with the statistics frozen).
        self.model.eval()
        self.optimizer.zero_grad(set_to_none=True)
        terms = compute_losses(self.model(batch.features, batch.globals), batch,
                               LossWeights(value=self.settings.value_weight, rank=0.0))
        terms.total.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.settings.max_grad_norm)
        self.optimizer.step()
        self.steps += 1
        return float(terms.total.detach())

    # ------------------------------------------------------------------ files
    def save(self, path: str | os.PathLike[str]) -> None:
        """A model file (any engine can play it) that also holds the learner's state."""
        from ringrift.nn.model_file import save_model_file

        replay = list(self.replay)
        meta = {**self.metadata, "architecture": self.model.config.model_version,
                "model_config": self.model.config.to_dict(),
                "board_type": self.model.config.board_type,
                "num_players": self.model.config.num_players,
                "online": {"learner_type": self.learner_type, "settings": asdict(self.settings),
                           "games_learned": self.games_learned, "steps": self.steps}}
        meta.setdefault("encoder_version", _encoder_version())
        state = {"metadata": meta, "model_state": self.model.state_dict(),
                 "optimizer_state": self.optimizer.state_dict()}
        if replay:
            state["replay"] = _replay_tensors(replay)
        save_model_file(path, state)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> OnlineLearner:
        """A learner from a model file: resumed when the file was saved by a learner, else a
        fresh learner starting from that network."""
        from ringrift.nn.model_file import load_model_file
        from ringrift.nn.models import build_model, config_from_metadata

        payload = load_model_file(path)
        meta = payload["metadata"]
        model = build_model(config_from_metadata(meta, path))
        model.load_state_dict(payload["model_state"])
        online = meta.get("online") or {}
        settings = OnlineSettings(**online.get("settings", {}))
        learner = cls(model, settings, metadata={k: v for k, v in meta.items() if k != "online"})
        if "optimizer_state" in payload and online:
            learner.optimizer.load_state_dict(payload["optimizer_state"])
            learner.games_learned = int(online.get("games_learned", 0))
            learner.steps = int(online.get("steps", 0))
        if "replay" in payload:
            learner.replay.extend(_replay_positions(payload["replay"]))
        model.eval()
        return learner


def create_online_learner(model: torch.nn.Module, learner_type: str = "ebmo",
                          **settings: Any) -> OnlineLearner:
    """The seed's factory: an online learner of `learner_type` ("ebmo") around `model`."""
    if learner_type not in LEARNER_TYPES:
        raise UserError(f"unknown learner_type {learner_type!r} (expected one of "
                        f"{', '.join(LEARNER_TYPES)})")
    return OnlineLearner(model, OnlineSettings(**settings))


def _outcome(winner: int | None, final_ranks: list[int] | None, n: int) -> np.ndarray:
    from ringrift.rules.victory import outcome_values

    if final_ranks is None:
        if winner is None:
            return np.zeros(n)
        if not 1 <= winner <= n:
            raise ValueError(f"winner must be a seat 1..{n} or None, got {winner}")
        final_ranks = [1 if seat == winner else 2 for seat in range(1, n + 1)]
    return np.asarray(outcome_values(list(final_ranks)), dtype=np.float64)


def _rotate(seat_values: np.ndarray, mover: int) -> np.ndarray:
    n = len(seat_values)
    return np.array([seat_values[(mover - 1 + i) % n] for i in range(n)], dtype=np.float32)


def _encoder_version() -> int:
    from ringrift.nn.encoding import ENCODER_VERSION

    return ENCODER_VERSION


def _replay_tensors(replay: list[_Position]) -> dict[str, torch.Tensor]:
    def ragged(name: str) -> tuple[torch.Tensor, torch.Tensor]:
        parts = [getattr(p, name) for p in replay]
        offsets = np.concatenate([[0], np.cumsum([len(x) for x in parts])]).astype(np.int64)
        return torch.from_numpy(offsets), torch.from_numpy(np.concatenate(parts))

    out = {"features": torch.from_numpy(np.stack([p.features for p in replay])),
           "globals": torch.from_numpy(np.stack([p.globals for p in replay])),
           "values": torch.from_numpy(np.stack([p.values for p in replay])),
           "mover": torch.tensor([p.mover for p in replay])}
    for name in ("legal", "policy_idx", "policy_p"):
        out[f"{name}_offsets"], out[name] = ragged(name)
    return out


def _replay_positions(t: dict[str, torch.Tensor]) -> list[_Position]:
    arr = {k: v.numpy() for k, v in t.items()}

    def part(name: str, i: int) -> np.ndarray:
        off = arr[f"{name}_offsets"]
        return arr[name][off[i]:off[i + 1]]

    return [_Position(arr["features"][i], arr["globals"][i], part("legal", i),
                      part("policy_idx", i), part("policy_p", i), int(arr["mover"][i]),
                      arr["values"][i]) for i in range(len(arr["features"]))]

"""Where selfplay games start: positions sampled from the games of recorded game databases.

A reverse curriculum starts games late in recorded games (where the outcome is near and the
value target is easy to learn) and moves the start earlier as the network improves. For a
recorded game of L moves, the start is the position before move k = round(fraction * L)
(k = 0: the game's own initial state). Only whole games are sampled from: a game that itself
started from a sampled position (its metadata has `START_POSITION_KEY`) is skipped, so the
fraction always means "this far through a game from its opening". Games whose k would be
their end (k = L: a short game and a fraction near 1) are skipped too, so every start position
is one where a recorded move was played: not over, with a legal move.

Sampling is a function of (databases as they are when the sampler is built, fraction, seed):
the sampler holds the list of usable games, so a config carrying it to worker processes gives
every worker the same choices.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ringrift import rules
from ringrift.data.gamedb import open_readonly
from ringrift.data.replay import ReplayError, replay_steps
from ringrift.errors import ConfigError, UserError
from ringrift.rules import GameState
from ringrift.rules.spec import GameSpec

# The record metadata key of a game started from a sampled position: where it came from.
START_POSITION_KEY = "start_position"
# Draws tried before giving up on a seed (a game that no longer replays is skipped).
_ATTEMPTS = 32


def check_start_fraction(fraction: float) -> None:
    """ConfigError("start_fraction", ...) unless `fraction` is in [0, 1)."""
    if isinstance(fraction, bool) or not isinstance(fraction, int | float) or not (
            0 <= fraction < 1):
        raise ConfigError("start_fraction", f"must be a number in [0, 1), got {fraction!r}")


@dataclass(frozen=True)
class RecordedGame:
    """A whole recorded game a start position can be taken from."""

    database: str
    game_id: str
    length: int  # recorded moves

    def start_move(self, fraction: float) -> int:
        """The number of its moves replayed to reach the start position."""
        return round(fraction * self.length)


@dataclass(frozen=True)
class StartPosition:
    state: GameState
    database: str
    game_id: str
    move_index: int  # moves of the recorded game replayed to reach `state`

    def source(self) -> dict[str, Any]:
        """What a game started here records under START_POSITION_KEY."""
        return {"database": self.database, "game_id": self.game_id,
                "move_index": self.move_index}


def recorded_games(databases: Sequence[str], spec: GameSpec,
                   fraction: float) -> list[RecordedGame]:
    """The whole games of the databases (in order) whose position at `fraction` is a start
    position. A missing or unreadable database raises ConfigError("start_positions", ...)."""
    games = []
    for path in databases:
        try:
            with open_readonly(path) as db:
                rows = db.game_lengths(spec.board_type, spec.num_players)
        except UserError as exc:
            raise ConfigError("start_positions", str(exc)) from None
        for game_id, length, metadata in rows:
            game = RecordedGame(str(path), game_id, length)
            if START_POSITION_KEY not in metadata and game.start_move(fraction) < length:
                games.append(game)
    return games


class StartPositionSampler:
    """Start states for selfplay: `sample(seed)` picks a recorded game with a generator seeded
    from `seed` and replays it to the fraction's move."""

    def __init__(self, databases: Sequence[str], fraction: float, spec: GameSpec) -> None:
        check_start_fraction(fraction)
        if not databases:
            raise ConfigError("start_positions", "names no game database")
        self.databases = [str(p) for p in databases]
        self.fraction = float(fraction)
        self.games = recorded_games(self.databases, spec, self.fraction)
        if not self.games:
            raise ConfigError("start_positions", f"{', '.join(self.databases)}: no whole "
                              f"{spec} game long enough to start from at fraction "
                              f"{self.fraction}")

    def sample(self, seed: int) -> StartPosition:
        """The start position of seed `seed` (the same for the same seed and games)."""
        rng = random.Random(f"start-position:{seed}")
        for _ in range(_ATTEMPTS):
            game = rng.choice(self.games)
            found = self._position(game)
            if found is not None:
                return found
        raise UserError(f"start positions: {_ATTEMPTS} sampled games of "
                        f"{', '.join(self.databases)} did not replay (damaged databases?)")

    def _position(self, game: RecordedGame) -> StartPosition | None:
        """The position before move k of `game`; None when it does not replay, is over or has
        no legal move."""
        k = game.start_move(self.fraction)
        try:
            with open_readonly(game.database) as db:
                record = db.get_game(game.game_id)
            state = None
            for step in replay_steps(record):
                if step.index == k:
                    state = step.state.copy()
                    break
        except (UserError, ReplayError):
            return None
        if state is None or state.is_over or not rules.legal_moves(state):
            return None
        return StartPosition(state, game.database, game.game_id, k)


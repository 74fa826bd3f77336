"""Auxiliary training targets: final ownership of every cell and the remaining game length.

Ownership (KataGo's most useful auxiliary target): in the final position of a finished game, a
cell belongs to the colour of its collapsed territory, else to the controlling player (top ring)
of the stack on it, else to nobody. Stored per sample on the encoding's grid as int8, in the
sample's rotated player order like the values:

    OWNER_NONE (-1)   no target: an off-board grid cell, or a game that did not finish
    OWNER_NOBODY (0)  an on-board cell nobody owns at the end
    k + 1             owned by rotated slot k (0 = the player to move in this sample)

so a network predicts num_players + 1 classes per cell. The remaining length of a sample is the
number of moves still played in its game after it (-1 for an unfinished game).
"""

from __future__ import annotations

import numpy as np

from ringrift.rules.state import GameState

OWNER_NONE = -1
OWNER_NOBODY = 0
LENGTH_UNKNOWN = -1


def final_owner_seats(state: GameState) -> np.ndarray:
    """Seat (1..P) owning each cell of `state` (cell order), 0 for nobody."""
    owners = np.frombuffer(bytes(state.collapsed), dtype=np.uint8).astype(np.int8)
    for cell, rings in enumerate(state.stacks):
        if rings and owners[cell] == 0:
            owners[cell] = rings[0]
    return owners


def owner_grid(state: GameState, seats: np.ndarray) -> np.ndarray:
    """Per-cell seats laid out on the encoding's grid [H, W]; off-board cells OWNER_NONE."""
    from ringrift.nn.encoding import _tables

    t = _tables(state.geo)
    grid = np.full(t.hw, OWNER_NONE, dtype=np.int8)
    grid[t.flat] = seats
    return grid.reshape(t.size, t.size)


def rotate_owners(seat_grid: np.ndarray, mover: int, num_players: int) -> np.ndarray:
    """A seat grid (OWNER_NONE, 0 = nobody, 1..P seats) as the target of a sample whose player
    to move is `mover`: seat s becomes class (s - mover) mod P + 1."""
    out = seat_grid.copy()
    owned = seat_grid > 0
    out[owned] = (seat_grid[owned].astype(np.int16) - mover) % num_players + 1
    return out


def unknown_ownership(height: int, width: int) -> np.ndarray:
    """The target of a sample without one (an unfinished game)."""
    return np.full((height, width), OWNER_NONE, dtype=np.int8)


def length_target(remaining: np.ndarray) -> np.ndarray:
    """What the game-length head regresses: log(1 + remaining moves) (scale-free across
    boards whose games last 50 or 1000 moves); -1 (unknown) stays negative, as a mask."""
    remaining = np.asarray(remaining, dtype=np.float32)
    return np.where(remaining >= 0, np.log1p(np.maximum(remaining, 0)), -1.0).astype(np.float32)

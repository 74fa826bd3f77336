"""GameSpec: board type + player count, validated once, and the one table of boards.

Every (board_type, num_players) pair that travels through the package is checked here and
nowhere else; a board's sizes, ring supply, line lengths and thresholds are read from `BOARDS`
through a GameSpec (RULES.md §1). Adding a board is one row of `BOARDS` (plus its geometry in
boards.py when its shape is new).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

from ringrift.rules.errors import RulesError
from ringrift.rules.jsonread import show  # bounded: the value may be anything

PLAYER_COUNTS = (2, 3, 4)


@dataclass(frozen=True)
class BoardSpec:
    """One row of the board table (RULES.md §1.1)."""

    name: str
    size: int  # canonical size field: the side of a square board, 2r + 1 for a hex board
    is_hex: bool
    rings_per_player: int
    # required line length for 2, 3 and 4 players: 3 with 3-4 players on the small boards
    line_lengths: tuple[int, int, int]

    @property
    def num_cells(self) -> int:
        if self.is_hex:
            r = (self.size - 1) // 2
            return 3 * r * (r + 1) + 1
        return self.size * self.size


BOARDS: dict[str, BoardSpec] = {b.name: b for b in (
    BoardSpec("square8", 8, False, 18, (4, 3, 3)),
    BoardSpec("square19", 19, False, 72, (4, 4, 4)),
    BoardSpec("hex8", 9, True, 18, (4, 3, 3)),
    BoardSpec("hexagonal", 25, True, 96, (4, 4, 4)),
)}
BOARD_TYPES = tuple(BOARDS)
# the game a command plays when none is named (the seed's default: square8, 2 players)
DEFAULT_BOARD_TYPE = "square8"
DEFAULT_NUM_PLAYERS = 2


def check_board_type(board_type: object, error: type[Exception] = RulesError) -> str:
    """`board_type` if it is a known board, else `error` naming it and the known ones."""
    if not isinstance(board_type, str) or board_type not in BOARDS:
        raise error(f"unknown board type {show(board_type)} (expected one of "
                    f"{', '.join(BOARD_TYPES)})")
    return board_type


def check_num_players(num_players: object, error: type[Exception] = RulesError) -> int:
    """`num_players` if it is 2, 3 or 4, else `error` naming it."""
    if not isinstance(num_players, int) or isinstance(num_players, bool) \
            or num_players not in PLAYER_COUNTS:  # 2.0 == 2, but is no player count
        raise error(f"num_players must be 2, 3 or 4, got {show(num_players)}")
    return num_players  # type: ignore[return-value]


def victory_threshold(rings: int, num_players: int) -> int:
    """Credited eliminated rings needed to win: rings * (N + 1) / 3 (§1.4)."""
    return round(rings * (2 / 3 + (num_players - 1) / 3))


def territory_minimum(num_cells: int, num_players: int) -> int:
    """Collapsed cells needed (with a strict majority over opponents) to win (§1.4)."""
    return num_cells // num_players + 1


@dataclass(frozen=True)
class GameSpec:
    """A validated board type and player count; the board's parameters are reached through it.

    `GameSpec("hex8", 3)` raises RulesError naming a bad value; `GameSpec.checked(...,
    error=UserError)` raises the caller's error type instead (the user-facing edges).
    """

    board_type: str
    num_players: int

    def __post_init__(self) -> None:
        check_board_type(self.board_type)
        check_num_players(self.num_players)

    @classmethod
    def checked(cls, board_type: object, num_players: object,
                error: type[Exception] = RulesError) -> GameSpec:
        """The spec, validated with `error` as the exception type for a bad value."""
        return _spec(check_board_type(board_type, error), check_num_players(num_players, error))

    @classmethod
    def all(cls) -> Iterator[GameSpec]:
        """Every board with every player count."""
        for board in BOARD_TYPES:
            for n in PLAYER_COUNTS:
                yield _spec(board, n)

    @property
    def board(self) -> BoardSpec:
        return BOARDS[self.board_type]

    @property
    def size(self) -> int:
        return self.board.size

    @property
    def is_hex(self) -> bool:
        return self.board.is_hex

    @property
    def num_cells(self) -> int:
        return self.board.num_cells

    @property
    def rings_per_player(self) -> int:
        return self.board.rings_per_player

    @property
    def line_length(self) -> int:
        return self.board.line_lengths[self.num_players - 2]

    @property
    def victory_threshold(self) -> int:
        return victory_threshold(self.rings_per_player, self.num_players)

    @property
    def territory_minimum(self) -> int:
        return territory_minimum(self.num_cells, self.num_players)

    def __str__(self) -> str:
        return f"{self.board_type} {self.num_players}-player"


@cache
def _spec(board_type: str, num_players: int) -> GameSpec:
    return GameSpec(board_type, num_players)

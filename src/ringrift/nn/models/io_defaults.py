"""Board input/output sizes of the networks, as the encoding defines them.

The encoding module (`ringrift.nn.encoding`) owns the number of feature planes, globals, policy
planes and scalar actions; `default_board_io` reads them from there (used by `models describe`,
the benchmark and `transfer`). Training takes the sizes from the metadata of the .npz files.
"""

from __future__ import annotations

BOARD_SIZES: dict[str, int] = {"square8": 8, "square19": 19, "hex8": 9, "hexagonal": 25}
HEX_BOARDS = frozenset({"hex8", "hexagonal"})


def check_board_type(board_type: str) -> None:
    """Raise ValueError unless `board_type` is one of the four boards."""
    if board_type not in BOARD_SIZES:
        raise ValueError(f"unknown board type {board_type!r} (expected one of "
                         f"{', '.join(sorted(BOARD_SIZES))})")


def valid_mask_for(board_type: str, height: int, width: int) -> list[list[int]]:
    """H x W 0/1 mask of on-board cells: all ones on square boards, the hexagon on hex boards.

    A cell (x, y) of the (2r+1)-wide grid of a hex board is on the board iff |x-r|, |y-r| and
    |(x-r)+(y-r)| are all <= r (axial coordinates centred on the middle cell).
    """
    check_board_type(board_type)
    if board_type not in HEX_BOARDS:
        return [[1] * width for _ in range(height)]
    if height != width or height % 2 == 0:
        raise ValueError(f"hex board {board_type} needs an odd square grid, got {height}x{width}")
    r = (height - 1) // 2
    return [[int(abs(x - r) <= r and abs(y - r) <= r and abs((x - r) + (y - r)) <= r)
             for x in range(width)] for y in range(height)]


def default_board_io(board_type: str, num_players: int
                     ) -> tuple[int, int, int, int, int, int, list[list[int]]]:
    """(in_channels, num_globals, policy_planes, scalar_actions, height, width, valid_mask)."""
    from ringrift.nn.encoding import board_io

    check_board_type(board_type)
    if num_players not in (2, 3, 4):
        raise ValueError(f"num_players must be 2, 3 or 4, got {num_players}")
    return board_io(board_type, num_players).as_board_io()

"""Board input/output sizes of the networks, as the encoding defines them.

The encoding module (`ringrift.nn.encoding`) owns the number of feature planes, globals, policy
planes and scalar actions; `default_board_io` reads them from there (used by `models describe`,
the benchmark and `transfer`). Training takes the sizes from the metadata of the .npz files.
"""

from __future__ import annotations

from ringrift.rules.spec import BOARDS, GameSpec, check_board_type


def valid_mask_for(board_type: str, height: int, width: int) -> list[list[int]]:
    """H x W 0/1 mask of on-board cells: all ones on square boards, the hexagon on hex boards.

    A cell (x, y) of the (2r+1)-wide grid of a hex board is on the board iff |x-r|, |y-r| and
    |(x-r)+(y-r)| are all <= r (axial coordinates centred on the middle cell).
    """
    if not BOARDS[check_board_type(board_type)].is_hex:
        return [[1] * width for _ in range(height)]
    if height != width or height % 2 == 0:
        raise ValueError(f"hex board {board_type} needs an odd square grid, got {height}x{width}")
    r = (height - 1) // 2
    return [[int(abs(x - r) <= r and abs(y - r) <= r and abs((x - r) + (y - r)) <= r)
             for x in range(width)] for y in range(height)]


def default_board_io(spec: GameSpec) -> tuple[int, int, int, int, int, int, list[list[int]]]:
    """(in_channels, num_globals, policy_planes, scalar_actions, height, width, valid_mask)."""
    from ringrift.nn.encoding import board_io

    return board_io(spec).as_board_io()

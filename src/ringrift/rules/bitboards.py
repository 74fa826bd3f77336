"""Cell sets as Python ints, for the whole-board scans of the rules (territory, placement, lines).

Bit `pos[c]` stands for cell c, and positions follow the cell order, so the lowest set bit is
the lowest cell. Square boards use the cell numbering itself; hex boards put their rows on a
(2r + 1)-wide grid with padding, because there a step to a neighbour is not a fixed index
offset. On both, one step in a direction is then a fixed shift, masked to the cells that have a
neighbour that way (so rows never wrap into each other). Sets are built from the per-cell lists
of the state in C-speed passes (bytes, translate, int parsing) and turned back into cells the
same way, so a scan costs a few dozen big-int operations instead of a Python loop over cells.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache

from ringrift.rules import boards
from ringrift.rules.boards import Geometry

_PAD = 255  # byte value of padding positions: never a player number

# A step: (offset, mask). `shift(bits, offset) & mask` = the cells whose neighbour in that
# direction is in `bits`.
Step = tuple[int, int]


@dataclass(eq=False)
class BitLayout:
    """The bit positions of one board's cells. Obtain it through `get_layout`."""

    width: int  # number of bit positions (board cells and padding)
    pos: tuple[int, ...]  # pos[c]: bit position of cell c
    cell_at: tuple[int, ...]  # cell_at[p]: cell at bit position p, -1 for padding
    bit: tuple[int, ...]  # bit[c]: the set holding only cell c
    board: int  # the set of all board cells
    # (cell start, cell end, padding before) slices laying the cells out; None: no padding
    rows: tuple[tuple[int, int, bytes], ...] | None
    move_steps: tuple[Step, ...]  # one per movement direction, in the order of Geometry.rays
    territory_steps: tuple[Step, ...]  # one per territory neighbour direction
    line_steps: tuple[Step, ...]  # one per line axis (forward direction)
    binary_format: str  # format spec writing a set as `width` binary digits
    center: int  # cells near the middle of the board (good flood seeds)
    flood_levels: int  # ladder rungs for floods: longer strides only pay off on big boards

    def members(self, values: bytes, table: bytes) -> int:
        """The cells whose value byte `table` maps to ord('1') (`values`: one byte per cell)."""
        return int(self.laid_out(values).translate(table)[::-1], 2)

    def laid_out(self, values: bytes) -> bytes:
        """Per-cell bytes moved to their bit positions (padding gets a non-player value)."""
        if self.rows is None:
            return values
        parts = []
        for start, end, gap in self.rows:
            parts.append(gap)
            parts.append(values[start:end])
        return b"".join(parts)

    def selector(self, bits: int) -> bytes:
        """One byte per bit position, 1 where `bits` has it: `compress(layout.cell_at, sel)`."""
        return format(bits, self.binary_format).encode().translate(_DIGIT_TO_BYTE)[::-1]


def value_table(*values: int) -> bytes:
    """translate() table mapping the given byte values to ord('1') and every other to ord('0')."""
    table = bytearray(b"0" * 256)
    for v in values:
        table[v] = ord("1")
    return bytes(table)


_DIGIT_TO_BYTE = bytes(1 if i == ord("1") else 0 for i in range(256))
ZERO = value_table(0)  # cells holding 0 / False
NONZERO = value_table(*range(1, _PAD))
EQUALS = tuple(value_table(p) for p in range(5))  # EQUALS[p]: cells holding player number p


def members_of(laid_out: bytes, table: bytes) -> int:
    """`BitLayout.members` of values already laid out (to test one list against many values)."""
    return int(laid_out.translate(table)[::-1], 2)


def has_run(cells: int, steps: tuple[Step, ...], length: int) -> bool:
    """Whether `length` cells of `cells` lie in a row along one of the `steps` directions."""
    for offset, mask in steps:
        mask &= cells
        run = cells  # cells starting a run of the length so far
        for _ in range(length - 1):
            run = (run >> offset if offset > 0 else run << -offset) & mask
        if run:
            return True
    return False


def shift(bits: int, offset: int) -> int:
    """Positions p such that p + offset is in `bits` (before masking)."""
    return bits >> offset if offset > 0 else bits << -offset


@lru_cache(maxsize=4096)
def territory_components(layout: BitLayout, open_cells: int) -> tuple[int, ...]:
    """The territory-connected parts of `open_cells`, in the order of their lowest cell.

    Memoised: from one position to the next most flood passes of the territory rules see the
    same open cells again (collapsed cells change rarely, markers of one colour at a time).
    """
    return tuple(components(open_cells, layout.territory_steps, layout.center,
                            layout.flood_levels))


def components(open_cells: int, steps: tuple[Step, ...], center: int,
               levels: int = 2) -> list[int]:
    """The connected parts of `open_cells` (through `steps`), in the order of their lowest cell."""
    down, up = _ladders(steps, open_cells, levels)
    # the first rung of each ladder is the single step
    single_down = down[::levels]
    single_up = up[::levels]
    out = []
    rest = open_cells
    while rest:
        # a central seed needs fewer rounds than a corner one
        seed = rest & center or rest
        comp = _flood(seed & -seed, down, up, single_down, single_up)
        out.append(comp)
        rest &= ~comp
    if len(out) > 1:
        out.sort(key=_lowest)
    return out


def _lowest(bits: int) -> int:
    return bits & -bits


def _flood(comp: int, down: tuple[Step, ...], up: tuple[Step, ...],
           single_down: tuple[Step, ...], single_up: tuple[Step, ...]) -> int:
    """Grow `comp` by ladder rounds until no single step leaves it (with one-rung ladders, a
    round is two breadth-first steps)."""
    while True:
        for offset, mask in down:
            comp |= (comp >> offset) & mask
        for offset, mask in up:
            comp |= (comp << offset) & mask
        grown = comp
        for offset, mask in single_down:
            grown |= (comp >> offset) & mask
        for offset, mask in single_up:
            grown |= (comp << offset) & mask
        if grown == comp:
            return comp
        comp = grown


def _ladders(steps: tuple[Step, ...], open_cells: int,
             levels: int) -> tuple[tuple[Step, ...], tuple[Step, ...]]:
    """Per direction, strides of 1, 2, 4, ... cells (`levels` of them) through open cells only,
    split into right shifts (down) and left shifts (up), with positive shift amounts.

    Applied in order, a ladder carries a set 2^levels - 1 cells along its direction in `levels`
    masked shifts (a Kogge-Stone fill), so a flood needs fewer rounds than one per cell of
    distance.
    """
    down: list[Step] = []
    up: list[Step] = []
    for offset, mask in steps:
        mask &= open_cells
        out, amount = (down, offset) if offset > 0 else (up, -offset)
        out.append((amount, mask))
        for _ in range(levels - 1):
            # a stride twice as long: both halves passable
            mask &= mask >> amount if offset > 0 else mask << amount
            amount *= 2
            out.append((amount, mask))
    return tuple(down), tuple(up)


@cache
def get_layout(geo: Geometry) -> BitLayout:
    """Bit positions of a board: the cell index on square boards, a padded grid on hex boards."""
    if geo.is_hex:
        r = geo.radius
        stride = 2 * r + 1
        pos = tuple((c[0] + r) * stride + (c[1] + r) for c in geo.coords)
        move_dirs = territory_dirs = boards.HEX_DIRECTIONS
    else:
        stride = geo.size
        pos = tuple(range(geo.num_cells))
        move_dirs, territory_dirs = boards.SQUARE_MOORE, boards.SQUARE_VON_NEUMANN
    line_axes = boards.HEX_LINE_AXES if geo.is_hex else boards.SQUARE_LINE_AXES
    if any(b <= a for a, b in zip(pos, pos[1:])):
        raise AssertionError("bit positions must follow the cell order")
    width = pos[-1] + 1
    cell_at = [-1] * width
    for c, p in enumerate(pos):
        cell_at[p] = c
    bit = tuple(1 << p for p in pos)

    def step(d: tuple[int, ...]) -> Step:
        offset = d[0] * stride + d[1] if geo.is_hex else d[1] * stride + d[0]
        mask = 0
        for c, coord in enumerate(geo.coords):
            n = geo.index.get(tuple(a + b for a, b in zip(coord, d)))
            if n is not None:
                if pos[n] - pos[c] != offset:
                    raise AssertionError("a step must be a fixed bit offset")
                mask |= bit[c]
        return (offset, mask)

    return BitLayout(
        width=width,
        pos=pos,
        cell_at=tuple(cell_at),
        bit=bit,
        board=sum(bit),
        rows=_padded_rows(pos) if geo.is_hex else None,
        move_steps=tuple(step(d) for d in move_dirs),
        territory_steps=tuple(step(d) for d in territory_dirs),
        line_steps=tuple(step(d) for d in line_axes),
        binary_format=f"0{width}b",
        center=sum(bit[c] for c in _central_cells(geo)),
        flood_levels=1 if geo.num_cells <= 100 else 2,
    )


def _padded_rows(pos: tuple[int, ...]) -> tuple[tuple[int, int, bytes], ...]:
    """Maximal runs of consecutive cells on consecutive positions, with the padding before each."""
    rows = []
    start = 0
    end_pos = 0  # first position after the previous row
    for c in range(1, len(pos) + 1):
        if c == len(pos) or pos[c] != pos[c - 1] + 1:
            rows.append((start, c, bytes([_PAD]) * (pos[start] - end_pos)))
            end_pos = pos[c - 1] + 1
            start = c
    return tuple(rows)


def _central_cells(geo: Geometry) -> list[int]:
    """The cells at most one step from the middle of the board."""
    if geo.is_hex:
        middle = geo.index[(0, 0, 0)]
    else:
        half = (geo.size - 1) // 2
        middle = geo.index[(half, half)]
    return [middle, *geo.adjacent[middle]]

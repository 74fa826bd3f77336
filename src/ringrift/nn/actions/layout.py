"""The layout of the policy vector: plane families, their offsets and sizes per board.

Layout (the networks are built on it): index = plane * H * W + row * W + col for spatial actions,
(col, row) = `Geometry.grid[cell]` of the action's anchor cell, followed by `scalar_actions`
entries. Plane families, in order (D movement directions, A line axes, M = max ray length):

    place      3        place_ring at `to`, one plane per count 1..3
    move       D*M      move_stack / overtaking_capture / continue_capture_segment at `frm`, by
                        (direction, landing distance); the captured stack is the first stack on
                        the ray, and the phase tells an overtaking capture from a chain segment
    line_exact A*|PL|   process_line, anchored at the line's centre (see below)
    line_all   A*2      choose_line_option option 1, anchored at the line's centre, by length parity
    line_part  A*|PL|   choose_line_option option 2, anchored at the centre of the collapsed window
    eliminate  1        eliminate_rings_from_stack (any context) and forced_elimination, at `to`
    territory  5*S      choose_territory_option by flood pass (0: sealed by collapsed cells only;
                        1..4: border marker colour, "me" = 1) and anchor site (S per pass): a
                        cell of the region, an edge between two of its cells (one plane per
                        territory-adjacency axis, anchored at the edge's first cell), and on
                        square8 the board centre (a region holding the 4 central cells)
    recovery   D*(K+W+V) recovery_slide at `frm` by slide direction and variant: extraction stack
                        rank (K), option-2 window start along the slide (W), option-2 window offset
                        for slides perpendicular to the line (V, square boards only)

PL are the parities of the required line length L on the board. Lines and windows are anchored at
their centre cell (odd length) or at the lower of the two middle cells in axis order (even length),
so that a board symmetry maps the anchor to the anchor (`index_permutation`). Territory regions
are anchored at a site (cell, edge or centre) chosen through the region's canonical form under the
board's symmetry group and fixed by the region's own symmetries, for the same reason. Scalar
actions follow in `SCALAR_TYPES` order.

Recovery variants: the extraction stack is ranked among the stacks holding a buried ring of the
mover by symmetry-invariant keys (distances to the slide's cells and the board centre, contents);
an option-2 window is given by its start along the slide direction, or, for a slide perpendicular
to the line (square boards), by the signed offset of its centre from the line's centre.

Collisions are impossible by construction. The small boards have no bound at all; on square19
and hexagonal a recovery variant can overflow its bound (extraction rank >= K, window outside W
or V), and `encode` raises `ActionIndexError` there instead of colliding.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from ringrift.nn.symmetry_group import line_axes, move_directions
from ringrift.rules import boards
from ringrift.rules import moves as mv
from ringrift.rules.boards import Geometry
from ringrift.rules.spec import PLAYER_COUNTS, GameSpec

SCALAR_TYPES = (
    mv.SKIP_PLACEMENT, mv.NO_PLACEMENT_ACTION, mv.SWAP_SIDES, mv.SKIP_CAPTURE,
    mv.NO_MOVEMENT_ACTION, mv.SKIP_RECOVERY, mv.NO_LINE_ACTION, mv.SKIP_TERRITORY,
    mv.NO_TERRITORY_ACTION,
)

# Recovery variants per board: (extraction ranks K, window starts W, perpendicular window
# half-offset bound B (V = 2B + 1 slots; 0 = none: hex slides are never perpendicular to a line)).
# Exact on the small boards: a player has at most 18 rings, so at most 18 stacks to extract from,
# and lines have at most 8 / 9 cells with L >= 3. Bounded on the large boards, where random games
# reach extraction rank 17 of 96 possible (hexagonal) and 6 of 72 (square19); beyond a bound
# `encode` raises ActionIndexError.
_RECOVERY_BOUNDS = {
    "square8": (18, 6, 5),
    "hex8": (18, 7, 0),
    "square19": (24, 8, 3),
    "hexagonal": (32, 8, 0),
}
TERRITORY_PASSES = 5



@dataclass(frozen=True)
class ActionLayout:
    """Plane offsets and sizes of the policy vector of one board type."""

    board_type: str
    height: int
    width: int
    num_dirs: int
    max_dist: int
    num_axes: int
    line_parities: tuple[int, ...]
    recovery_ranks: int
    recovery_windows: int
    recovery_perp_bound: int
    place: int
    move: int
    line_exact: int
    line_all: int
    line_part: int
    eliminate: int
    territory: int
    territory_sites: int
    recovery: int
    policy_planes: int
    scalar_actions: int

    @property
    def hw(self) -> int:
        return self.height * self.width

    @property
    def recovery_variants(self) -> int:
        perp = 2 * self.recovery_perp_bound + 1 if self.recovery_perp_bound else 0
        return self.recovery_ranks + self.recovery_windows + perp

    @property
    def policy_size(self) -> int:
        return self.policy_planes * self.hw + self.scalar_actions

    def plane_families(self) -> dict[str, tuple[int, int]]:
        """name -> (first plane, number of planes), in layout order."""
        return {
            "place": (self.place, 3),
            "move": (self.move, self.num_dirs * self.max_dist),
            "line_exact": (self.line_exact, self.num_axes * len(self.line_parities)),
            "line_all": (self.line_all, self.num_axes * 2),
            "line_part": (self.line_part, self.num_axes * len(self.line_parities)),
            "eliminate": (self.eliminate, 1),
            "territory": (self.territory, TERRITORY_PASSES * self.territory_sites),
            "recovery": (self.recovery, self.num_dirs * self.recovery_variants),
        }


@cache
def action_layout(board_type: str) -> ActionLayout:
    """The policy layout of a board type (canonical size)."""
    geo = boards.get_geometry(board_type)
    dirs = len(move_directions(geo))
    axes = len(line_axes(geo))
    max_dist = max(len(r) for cell_rays in geo.rays for r in cell_rays)
    parities = tuple(sorted({GameSpec(board_type, n).line_length % 2 for n in PLAYER_COUNTS}))
    ranks, windows, perp = _RECOVERY_BOUNDS[board_type]
    variants = ranks + windows + (2 * perp + 1 if perp else 0)
    place = 0
    move = place + 3
    line_exact = move + dirs * max_dist
    line_all = line_exact + axes * len(parities)
    line_part = line_all + axes * 2
    eliminate = line_part + axes * len(parities)
    terr = eliminate + 1
    sites = 1 + territory_edge_axes(geo) + (1 if centre_cells(geo) else 0)
    recovery = terr + TERRITORY_PASSES * sites
    planes = recovery + dirs * variants
    return ActionLayout(
        board_type=board_type, height=geo.size, width=geo.size, num_dirs=dirs,
        max_dist=max_dist, num_axes=axes, line_parities=parities, recovery_ranks=ranks,
        recovery_windows=windows, recovery_perp_bound=perp, place=place, move=move,
        line_exact=line_exact, line_all=line_all, line_part=line_part, eliminate=eliminate,
        territory=terr, territory_sites=sites, recovery=recovery, policy_planes=planes,
        scalar_actions=len(SCALAR_TYPES),
    )


def territory_edge_axes(geo: Geometry) -> int:
    """Territory-adjacency edge orientations: the first line axes ((1,0), (0,1) / all 3 on hex)."""
    return 3 if geo.is_hex else 2


def centre_cells(geo: Geometry) -> tuple[int, ...]:
    """The 4 cells around the board centre when the centre is not a cell (even square boards):
    the territory site of a region that holds them all."""
    if geo.is_hex or geo.size % 2:
        return ()
    h = geo.size // 2
    return tuple(sorted(geo.index[(x, y)] for x in (h - 1, h) for y in (h - 1, h)))


def policy_size(board_type: str) -> int:
    """Length of the policy vector of a board type."""
    return action_layout(board_type).policy_size


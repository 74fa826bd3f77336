"""Moves: one small class for every move type of RULES.md §3.2.

Positions are cell indices of the board's `Geometry` (-1 where a move has no meaningful cell).
Two moves are equal when they have the same `key()`, which ignores purely informational fields.
"""

from __future__ import annotations

PLACE_RING = "place_ring"
SKIP_PLACEMENT = "skip_placement"
NO_PLACEMENT_ACTION = "no_placement_action"
SWAP_SIDES = "swap_sides"
MOVE_STACK = "move_stack"
OVERTAKING_CAPTURE = "overtaking_capture"
CONTINUE_CAPTURE = "continue_capture_segment"
SKIP_CAPTURE = "skip_capture"
NO_MOVEMENT_ACTION = "no_movement_action"
RECOVERY_SLIDE = "recovery_slide"
SKIP_RECOVERY = "skip_recovery"
PROCESS_LINE = "process_line"
CHOOSE_LINE_OPTION = "choose_line_option"
ELIMINATE_RINGS = "eliminate_rings_from_stack"
NO_LINE_ACTION = "no_line_action"
CHOOSE_TERRITORY_OPTION = "choose_territory_option"
SKIP_TERRITORY = "skip_territory_processing"
NO_TERRITORY_ACTION = "no_territory_action"
FORCED_ELIMINATION = "forced_elimination"

MOVE_TYPES = (
    PLACE_RING, SKIP_PLACEMENT, NO_PLACEMENT_ACTION, SWAP_SIDES, MOVE_STACK, OVERTAKING_CAPTURE,
    CONTINUE_CAPTURE, SKIP_CAPTURE, NO_MOVEMENT_ACTION, RECOVERY_SLIDE, SKIP_RECOVERY,
    PROCESS_LINE, CHOOSE_LINE_OPTION, ELIMINATE_RINGS, NO_LINE_ACTION, CHOOSE_TERRITORY_OPTION,
    SKIP_TERRITORY, NO_TERRITORY_ACTION, FORCED_ELIMINATION,
)

# Legacy names accepted when reading old records (§3.2).
MOVE_TYPE_ALIASES = {
    "move_ring": MOVE_STACK,
    "build_stack": MOVE_STACK,
    "choose_line_reward": CHOOSE_LINE_OPTION,
    "process_territory_region": CHOOSE_TERRITORY_OPTION,
}

# Moves that do not count as a board-changing action this turn (§3.4).
NON_ACTION_TYPES = frozenset({
    NO_PLACEMENT_ACTION, NO_MOVEMENT_ACTION, NO_LINE_ACTION, NO_TERRITORY_ACTION,
    SKIP_PLACEMENT, SKIP_CAPTURE, SKIP_RECOVERY, SKIP_TERRITORY,
})

# Bookkeeping moves: the ones a player never "chooses" when they are the only legal move.
BOOKKEEPING_TYPES = NON_ACTION_TYPES

CONTEXT_LINE = "line"
CONTEXT_TERRITORY = "territory"
CONTEXT_RECOVERY = "recovery"

RECOVERY_LINE = "line"
RECOVERY_FALLBACK = "fallback"
RECOVERY_STACK_STRIKE = "stack_strike"


class Move:
    """One move. Only the fields that matter for its type are set; the rest keep defaults.

    Moves are values: never change one after it is made. Move generation hands out shared
    instances (the same object for the same move in many positions).
    """

    __slots__ = (
        "collapse",
        "context",
        "count",
        "extract",
        "frm",
        "line",
        "mode",
        "option",
        "player",
        "region",
        "target",
        "to",
        "type",
    )

    def __init__(
        self,
        type: str,
        player: int,
        *,
        frm: int = -1,
        to: int = -1,
        target: int = -1,
        count: int = 0,
        line: tuple[int, ...] = (),
        collapse: tuple[int, ...] = (),
        region: tuple[int, ...] = (),
        context: str = "",
        mode: str = "",
        option: int = 0,
        extract: tuple[int, ...] = (),
    ) -> None:
        self.type = type
        self.player = player
        self.frm = frm
        self.to = to
        self.target = target
        self.count = count
        self.line = line  # formed line cells, in line order
        self.collapse = collapse  # cells to collapse (line option 2, recovery option 2)
        self.region = region  # territory region cells, sorted
        self.context = context  # elimination context
        self.mode = mode  # recovery mode
        self.option = option  # recovery / line option
        self.extract = extract  # recovery extraction stacks

    def key(self) -> tuple:
        """Identity of the move for comparisons: order-free where order carries no meaning."""
        return (
            self.type, self.player, self.frm, self.to, self.target, self.count,
            frozenset(self.line), frozenset(self.collapse), frozenset(self.region),
            self.context, self.mode, self.option, self.extract,
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Move) and self.key() == other.key()

    def __hash__(self) -> int:
        return hash(self.key())

    @property
    def is_bookkeeping(self) -> bool:
        return self.type in BOOKKEEPING_TYPES

    def __repr__(self) -> str:
        parts = [self.type, f"p{self.player}"]
        for name in ("frm", "target", "to"):
            value = getattr(self, name)
            if value >= 0:
                parts.append(f"{name}={value}")
        if self.count:
            parts.append(f"n={self.count}")
        for name in ("line", "collapse", "region", "extract"):
            value = getattr(self, name)
            if value:
                parts.append(f"{name}={list(value)}")
        for name in ("context", "mode"):
            value = getattr(self, name)
            if value:
                parts.append(f"{name}={value}")
        if self.option:
            parts.append(f"option={self.option}")
        return f"Move({', '.join(parts)})"


_new = object.__new__


def make_move(type: str, player: int, frm: int = -1, to: int = -1, target: int = -1,
              count: int = 0) -> Move:
    """`Move(type, player, frm=frm, to=to, target=target, count=count)`, for the hot paths of
    move generation: positional arguments skip the keyword handling, which dominates there."""
    m = _new(Move)
    m.type = type
    m.player = player
    m.frm = frm
    m.to = to
    m.target = target
    m.count = count
    m.line = ()
    m.collapse = ()
    m.region = ()
    m.context = ""
    m.mode = ""
    m.option = 0
    m.extract = ()
    return m

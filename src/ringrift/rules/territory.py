"""Territory regions (§4.7): disconnected regions, processability, and border markers."""

from __future__ import annotations

from itertools import compress

from ringrift.rules import bitboards
from ringrift.rules.state import GameState


def find_regions(state: GameState) -> tuple[tuple[int, ...], ...]:
    """Disconnected regions (physically and colour-disconnected), as sorted cell tuples.

    Executable form of §4.7: for each marker colour B, the components left after removing the
    collapsed cells and B's markers; plus the components left after removing collapsed cells only.
    Keep those whose stack controllers are a strict subset of the players with rings on the board.
    """
    cached = state.regions_cache
    if cached is not None and cached[0] == state.board_hash:
        return cached[1]
    regions = _find_regions(state)
    state.regions_cache = (state.board_hash, regions)
    return regions


def _find_regions(state: GameState) -> tuple[tuple[int, ...], ...]:
    active = state.active_colors()
    if not active:
        return ()
    layout = bitboards.get_layout(state.geo)
    open_base = layout.members(bytes(state.collapsed), bitboards.ZERO)
    passes = [open_base]
    markers = None
    for colour in range(1, state.num_players + 1):
        if state.marker_count[colour]:
            markers = markers or layout.laid_out(bytes(state.markers))
            passes.append(open_base & ~bitboards.members_of(markers, bitboards.EQUALS[colour]))
    controlled = _controlled_sets(state, layout, active)
    regions: list[tuple[int, ...]] = []
    seen: set[int] = set()
    for open_cells in passes:
        for comp in bitboards.territory_components(layout, open_cells):
            if all(comp & cells for cells in controlled):
                continue  # not colour-disconnected: every active colour has a stack inside
            if comp not in seen:
                seen.add(comp)
                regions.append(tuple(compress(layout.cell_at, layout.selector(comp))))
    return tuple(regions)


def _controlled_sets(state: GameState, layout: bitboards.BitLayout,
                     players: list[int]) -> list[int]:
    """The cells of the stacks each of `players` controls, as bit sets."""
    stacks = state.stacks
    bit = layout.bit
    sets = [0] * (state.num_players + 1)
    for cell in compress(range(len(stacks)), stacks):  # stack cells only
        sets[stacks[cell][0]] |= bit[cell]
    return [sets[p] for p in players]


def is_processable(state: GameState, region: tuple[int, ...], player: int) -> bool:
    """Whether `player` may process `region` now (normal or recovery context, §4.7)."""
    stacks = state.stacks
    inside = set(region)
    if state.recovery_context:
        for cell, rings in enumerate(stacks):
            if rings is not None and cell not in inside and player in rings[1:]:
                return True
        return False
    inside_controlled = sum(1 for c in region if stacks[c] is not None and stacks[c][0] == player)
    return state.control_count[player] > inside_controlled


def processable_regions(state: GameState, player: int) -> list[tuple[int, ...]]:
    return [r for r in find_regions(state) if is_processable(state, r, player)]


def border_markers(state: GameState, region: tuple[int, ...]) -> list[int]:
    """Markers collapsed with a region: the reference engine's flood rule (§4.7).

    Seeds are markers territory-adjacent to the region; on square boards and hex8 the flood then
    spreads through neighbouring marker cells of any colour (never into the region).
    """
    inside = set(region)
    markers = state.markers
    neighbors = state.geo.territory_neighbors
    found: list[int] = []
    seen: set[int] = set()
    for cell in region:
        for n in neighbors[cell]:
            if n not in inside and n not in seen and markers[n]:
                seen.add(n)
                found.append(n)
    flood = state.geo.flood_neighbors
    if flood is not None:
        i = 0
        while i < len(found):
            for n in flood[found[i]]:
                if n not in inside and n not in seen and markers[n]:
                    seen.add(n)
                    found.append(n)
            i += 1
    return found

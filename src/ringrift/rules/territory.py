"""Territory regions (§4.7): disconnected regions, processability, and border markers."""

from __future__ import annotations

from ringrift.rules.state import GameState


def _components(state: GameState, blocked: list[bool]) -> list[list[int]]:
    neighbors = state.geo.territory_neighbors
    seen = blocked[:]
    comps = []
    for start in range(len(seen)):
        if seen[start]:
            continue
        seen[start] = True
        comp = [start]
        for cell in comp:  # the list grows while we walk it: breadth-first search
            for n in neighbors[cell]:
                if not seen[n]:
                    seen[n] = True
                    comp.append(n)
        comps.append(comp)
    return comps


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
    active = set(state.active_colors())
    if not active:
        return ()
    collapsed = state.collapsed
    markers = state.markers
    stacks = state.stacks
    base_blocked = [c != 0 for c in collapsed]
    passes = [base_blocked]
    for colour in range(1, state.num_players + 1):
        if state.marker_count[colour]:
            passes.append([b or m == colour for b, m in zip(base_blocked, markers)])
    regions: list[tuple[int, ...]] = []
    seen: set[tuple[int, ...]] = set()
    for blocked in passes:
        for comp in _components(state, blocked):
            colours = {stacks[c][0] for c in comp if stacks[c] is not None}
            if not colours < active:
                continue  # not colour-disconnected: every active colour has a stack inside
            region = tuple(sorted(comp))
            if region not in seen:
                seen.add(region)
                regions.append(region)
    return tuple(regions)


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

"""Victory conditions (§4.10), final ranking (§4.11) and the outcome vector."""

from __future__ import annotations

from ringrift.rules import movegen
from ringrift.rules.state import (
    COMPLETED,
    GAME_OVER,
    LAST_PLAYER_STANDING,
    RING_ELIMINATION,
    TERRITORY_CONTROL,
    GameState,
)


def finish(state: GameState, winner: int, reason: str) -> None:
    state.status = COMPLETED
    state.phase = GAME_OVER
    state.winner = winner
    state.victory_reason = reason
    record_permanent_eliminations(state)


def record_permanent_eliminations(state: GameState) -> None:
    """Remember the turn at which each player first had no ring anywhere (for ranking)."""
    for p in range(1, state.num_players + 1):
        if state.elimination_turn[p] < 0 and not state.has_rings_anywhere(p):
            state.elimination_turn[p] = state.turn_index


def check_end_of_turn(state: GameState) -> bool:
    """Evaluate §4.10.1-4.10.3 and 4.10.5 after a turn; finish the game and return True if over."""
    n = state.num_players
    players = range(1, n + 1)
    for p in players:
        if state.eliminated[p] >= state.victory_threshold:
            finish(state, p, RING_ELIMINATION)
            return True
    total_territory = sum(state.territory[1:])
    for p in players:
        own = state.territory[p]
        if own >= state.territory_minimum and own > total_territory - own:
            finish(state, p, TERRITORY_CONTROL)
            return True
    controllers = [p for p in players if state.control_count[p] > 0]
    if len(controllers) == 1:
        sole = controllers[0]
        if all(not state.has_rings_anywhere(p) for p in players if p != sole):
            finish(state, sole, LAST_PLAYER_STANDING)
            return True
    if state.stack_total == 0:
        return _check_stalemate(state)
    return False


def _check_stalemate(state: GameState) -> bool:
    """Global stalemate (§4.10.5): no stacks and nobody can place."""
    players = range(1, state.num_players + 1)
    for p in players:
        if state.hand[p] > 0 and movegen.placement_moves(state, p, first_only=True):
            return False
    for p in players:
        if state.hand[p]:
            state.credit_elimination(p, state.hand[p])
            state.hand[p] = 0
    tied = list(players)
    reason = ""
    for criterion, why in (
        (state.territory, TERRITORY_CONTROL),
        (state.eliminated, RING_ELIMINATION),
        (state.marker_count, LAST_PLAYER_STANDING),
    ):
        best = max(criterion[p] for p in tied)
        leaders = [p for p in tied if criterion[p] == best]
        if len(leaders) < len(tied) and not reason:
            reason = why
        tied = leaders
        if len(tied) == 1:
            break
    if len(tied) > 1:
        # last player to have completed a turn action among the tied ones
        tied.sort(key=lambda p: state.last_turn[p], reverse=True)
        reason = reason or LAST_PLAYER_STANDING
    finish(state, tied[0], reason or LAST_PLAYER_STANDING)
    return True


def final_ranks(state: GameState) -> list[int]:
    """Rank of each seat (index 0 = seat 1), 1 = best, competition numbering (§4.11)."""
    n = state.num_players
    if not state.is_over:
        raise ValueError("final_ranks: the game is not over")

    def score(p: int) -> tuple:
        never = state.elimination_turn[p] < 0
        return (
            1 if p == state.winner else 0,
            state.territory[p],
            state.eliminated[p],
            state.marker_count[p],
            1 if never else 0,
            state.elimination_turn[p],
        )

    scores = {p: score(p) for p in range(1, n + 1)}
    return [1 + sum(1 for q in scores if scores[q] > scores[p]) for p in range(1, n + 1)]


def outcome_values(ranks: list[int]) -> list[float]:
    """+1 for first, -1 for last, linear between; tied players share the mean of their places."""
    n = len(ranks)
    if n < 2:
        return [0.0] * n
    values = []
    for r in ranks:
        tied = sum(1 for q in ranks if q == r)
        places = range(r, r + tied)  # the positions (1-based) the tied group occupies
        values.append(sum(1.0 - 2.0 * (k - 1) / (n - 1) for k in places) / tied)
    return values

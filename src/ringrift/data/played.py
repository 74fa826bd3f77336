"""A storable GameRecord of a game played by `ringrift.ai.game` (selfplay, matches, imports)."""

from __future__ import annotations

from ringrift import rules
from ringrift.ai.game import PlayedGame
from ringrift.data.records import GameRecord, MoveRecord


def game_record(game: PlayedGame, engines: list[str], seed: int, *, source: str,
                temperature_schedule: str | None = None,
                metadata: dict | None = None) -> GameRecord:
    """A storable record of a played game (policies and values kept when the player gave them)."""
    geo = game.initial_state.geo
    moves = []
    for i, pm in enumerate(game.moves):
        policy = value = None
        if pm.decision is not None:
            if pm.decision.policy is not None:
                policy = [(rules.move_to_json(geo, m), float(p)) for m, p in pm.decision.policy]
            if pm.decision.value is not None:
                value = [float(v) for v in pm.decision.value]
        moves.append(MoveRecord(index=i, player=pm.player, phase=pm.phase,
                                move=rules.move_to_json(geo, pm.move), policy=policy,
                                value=value, think_time_s=pm.think_time))
    final = game.final_state
    over = final.is_over
    return GameRecord(
        board_type=geo.board_type,
        num_players=final.num_players,
        engines=list(engines),
        seed=seed,
        initial_state=rules.state_to_json(game.initial_state),
        moves=moves,
        status="completed" if over else "max_moves",
        winner=final.winner if over else None,
        victory_reason=final.victory_reason if over else None,
        final_ranks=rules.final_ranks(final) if over else None,
        timings={"total_s": game.seconds},
        source=source,
        temperature_schedule=temperature_schedule,
        metadata=metadata or {},
    )

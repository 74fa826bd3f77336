"""Synthetic game records for the data tests, and a writer process for the durability tests.

Run as a script: `python synthetic.py db|jsonl PATH TAG SIZE [HANG_AFTER]` appends games of
SIZE moves forever (until killed), printing each game id once its write has returned
(committed). With HANG_AFTER (db only), game number HANG_AFTER stops midway through its
transaction, after printing "hanging inside a transaction".
"""

from __future__ import annotations

import random
import sys
import time

from ringrift.data.records import GameRecord, MoveRecord


def initial_state(board_type: str = "square8", num_players: int = 2) -> dict:
    return {
        "gameId": "synthetic",
        "board": {"type": board_type, "size": 8, "stacks": {}, "markers": {},
                  "collapsedSpaces": {}, "eliminatedRings": {str(p): 0
                                                             for p in range(1, num_players + 1)},
                  "formedLines": [], "territories": {}},
        "players": [{"playerNumber": p, "ringsInHand": 18, "eliminatedRings": 0,
                     "territorySpaces": 0, "isActive": True} for p in range(1, num_players + 1)],
        "currentPlayer": 1, "currentPhase": "ring_placement", "gameStatus": "active",
        "moveHistory": [], "turnNumber": 1, "victoryThreshold": 19,
        "territoryVictoryThreshold": 33,
    }


def _move(rng: random.Random, player: int) -> dict:
    return {"type": "place_ring", "player": player,
            "to": {"x": rng.randrange(8), "y": rng.randrange(8)},
            "placementCount": rng.randint(1, 3)}


def make_record(seed: int = 0, num_moves: int = 20, *, board_type: str = "square8",
                num_players: int = 2, source: str = "selfplay", legal: int = 8,
                with_search: bool = True, winner: int | None = 1,
                created_at: str = "2025-01-01T00:00:00Z", **extra) -> GameRecord:
    """A deterministic fake game: `num_moves` moves, each with a policy over `legal` moves."""
    rng = random.Random(seed)
    moves = []
    for i in range(num_moves):
        player = i % num_players + 1
        policy = value = None
        if with_search:
            weights = [rng.random() for _ in range(legal)]
            total = sum(weights)
            policy = [(_move(rng, player), w / total) for w in weights]
            value = [rng.uniform(-1, 1) for _ in range(num_players)]
        moves.append(MoveRecord(index=i, player=player, phase="ring_placement",
                                move=_move(rng, player), policy=policy, value=value,
                                think_time_s=rng.random() / 100))
    ranks = None
    if winner is not None:
        ranks = [1 if seat == winner else 2 for seat in range(1, num_players + 1)]
    fields = {
        "board_type": board_type, "num_players": num_players,
        "engines": ["mcts:sims=64"] + ["heuristic"] * (num_players - 1), "seed": seed,
        "initial_state": initial_state(board_type, num_players), "moves": moves,
        "status": "completed" if winner is not None else "max_moves", "winner": winner,
        "victory_reason": "elimination" if winner is not None else None,
        "final_ranks": ranks, "timings": {"total_s": 1.5, "think_s": [0.7] * num_players},
        "created_at": created_at, "source": source,
        "temperature_schedule": "alphazero:moves=30,start=1.0,end=0.0",
        "metadata": {"worker": "test", "seed": seed},
    }
    fields.update(extra)
    return GameRecord(**fields)


def write_games(path: str, tag: int, count: int, size: int = 10) -> None:
    """Open (or create) a game database and add `count` games to it."""
    from ringrift.data.gamedb import GameDB

    with GameDB(path) as db:
        for n in range(count):
            db.add_game(make_record(seed=tag * 1000 + n, num_moves=size))


def _write_forever(kind: str, path: str, tag: int, size: int, hang_after: int = -1) -> None:
    if kind == "db":
        from ringrift.data.gamedb import GameDB

        db = GameDB(path)
        write = db.add_game
    else:
        from functools import partial

        from ringrift.data.jsonl import append_game_jsonl

        write = partial(append_game_jsonl, path)
    n = 0
    while True:
        if n == hang_after and kind == "db":
            db._conn.set_trace_callback(_hang_inside_transaction)
        record = make_record(seed=tag * 1_000_000 + n, num_moves=size,
                             game_id=f"w{tag}-{n:06d}")
        write(record)
        print(record.game_id, flush=True)
        n += 1


def _hang_inside_transaction(statement: str) -> None:
    """Stop once the game row is in and its moves are being inserted (transaction open)."""
    if statement.startswith("INSERT INTO moves"):
        print("hanging inside a transaction", flush=True)
        time.sleep(3600)


if __name__ == "__main__":
    _write_forever(*sys.argv[1:3], *map(int, sys.argv[3:]))

"""Small fixtures for the serve tests: states, a tiny network file, a stored game."""

from __future__ import annotations

import random
from pathlib import Path

from ringrift import rules
from ringrift.rules.spec import GameSpec


def midgame_state(board_type: str = "square8", num_players: int = 2, moves: int = 20,
                  seed: int = 0) -> rules.GameState:
    """A decision (two or more legal moves) about `moves` random moves into a game."""
    rng = random.Random(seed)
    state = rules.new_game(board_type, num_players)
    for _ in range(moves):
        legal = rules.legal_moves(state)
        if state.is_over:
            break
        rules.apply_move(state, rng.choice(legal))
    while not state.is_over and len(rules.legal_moves(state)) == 1:  # a real decision
        rules.apply_move(state, rules.legal_moves(state)[0])
    assert not state.is_over
    return state


def finished_state(board_type: str = "square8", seed: int = 0) -> rules.GameState:
    rng = random.Random(seed)
    state = rules.new_game(board_type, 2)
    while not state.is_over:
        rules.apply_move(state, rng.choice(rules.legal_moves(state)))
    return state


def tiny_model(folder: Path, board_type: str = "square8", num_players: int = 2,
               seed: int = 0, name: str = "tiny.pt") -> Path:
    """A real (untrained, tiny) v2 policy/value network file with its sidecar."""
    import torch

    from ringrift.nn.models import build_model, make_config, save_model_file

    torch.manual_seed(seed)
    cfg = make_config("v2", GameSpec(board_type, num_players), channels=8, blocks=1)
    path = folder / name
    meta = {"architecture": "v2", "model_config": cfg.to_dict(), "board_type": board_type,
            "num_players": num_players, "encoder_version": 1}
    save_model_file(path, {"metadata": meta, "model_state": build_model(cfg).state_dict()})
    return path


def is_legal(state: rules.GameState, move_json: dict) -> bool:
    move = rules.move_from_json(state.geo, move_json, state.phase)
    return move in rules.legal_moves(state)


def stored_game_db(path: Path, board_type: str = "square8", seed: int = 0) -> str:
    """A game database with one finished game between fast gumbel players (4 simulations,
    heuristic leaves), which store their root values; returns the game id."""
    from ringrift.ai.game import play_game
    from ringrift.ai.search.gumbel_player import GumbelPlayer
    from ringrift.ai.search.leaf import HeuristicLeaf
    from ringrift.data.gamedb import GameDB
    from ringrift.data.played import game_record

    leaf = HeuristicLeaf.for_board(GameSpec(board_type, 2))
    players = [GumbelPlayer(leaf, simulations=4, seed=seed + i) for i in range(2)]
    game = play_game(rules.new_game(board_type, 2), players)
    record = game_record(game, ["gumbel", "gumbel"], seed, source="selfplay")
    with GameDB(path) as db:
        db.add_game(record)
    return record.game_id

"""Tree search: tree bookkeeping, max-n selection, Gumbel transforms, mcts strength, determinism,
tree reuse, nnue-guided search (heuristic leaves or a small random nnue model)."""

from __future__ import annotations

import math
import random

import pytest

from ringrift import rules
from ringrift.ai.engines import make_player
from ringrift.ai.game import play_game
from ringrift.ai.options import EngineOptions
from ringrift.ai.random_player import RandomPlayer
from ringrift.ai.search import gumbel
from ringrift.ai.search.gumbel_player import GumbelPlayer
from ringrift.ai.search.leaf import HeuristicLeaf
from ringrift.ai.search.mcts_player import MCTSPlayer
from ringrift.ai.search.nnue_search import NNUEGuidedPlayer, heuristic_value
from ringrift.ai.search.puct import puct_select
from ringrift.ai.search.tree import Node, advance_forced, backup, check_statistics
from ringrift.errors import UserError
from ringrift.rules.spec import GameSpec


def _position(board: str, players: int, decisions: int, seed: int = 3) -> rules.GameState:
    """A state reached by random play after `decisions` real decisions (a decision point)."""
    rng = random.Random(seed)
    state = rules.new_game(board, players)
    legal = advance_forced(state)
    for _ in range(decisions):
        rules.apply_move(state, legal[rng.randrange(len(legal))], validate=False)
        legal = advance_forced(state)
        assert legal, "game ended too early for this test position"
    return state


def _leaf(players: int = 2) -> HeuristicLeaf:
    return HeuristicLeaf.for_board(GameSpec("square8", players))


def _walk(root: Node):
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(c for c in node.children if c is not None)


# ----------------------------------------------------------------------------- tree


@pytest.mark.parametrize("engine", ["mcts", "gumbel"])
def test_tree_statistics_are_consistent(engine):
    state = _position("square8", 2, 12)
    cls = MCTSPlayer if engine == "mcts" else GumbelPlayer
    player = cls(_leaf(), simulations=60, seed=1)
    decision = player.choose(state, rules.legal_moves(state))
    root = player.last_root
    check_statistics(root)
    assert root.n == 1 + 60 and sum(root.edge_n) == 60
    assert abs(sum(p for _, p in decision.policy) - 1) < 1e-9
    assert [m.key() for m, _ in decision.policy] == [m.key() for m in rules.legal_moves(state)]
    assert len(decision.value) == 2 and all(-1 <= v <= 1 for v in decision.value)
    # a forced move never sits on an edge: every expanded node has a real choice
    assert all(len(n.moves) >= 2 for n in _walk(root) if n.moves and not n.terminal)


def test_backup_and_selection_use_the_acting_players_entry():
    state = _position("square8", 3, 4)
    while state.current_player != 2:  # a decision of seat 2
        rules.apply_move(state, rules.legal_moves(state)[0], validate=False)
        advance_forced(state)
    node = Node.root(state)
    node.expand(None, [0.0, 0.0, 0.0])
    backup([], node, node.raw_value)
    good_for_seat1 = [1.0, -1.0, -1.0]
    good_for_seat2 = [-1.0, 1.0, -1.0]
    leaf_a, leaf_b = Node.root(state), Node.root(state)
    for _ in range(3):
        backup([(node, 0)], leaf_a, good_for_seat1)
        backup([(node, 1)], leaf_b, good_for_seat2)
    assert node.edge_w[:2] == [-3.0, 3.0]  # seat 2's entries
    assert node.w == [0.0, 0.0, -6.0]  # the full vectors are kept for the root value
    assert puct_select(node) == 1
    assert gumbel.interior_select(node) == 1


def test_mcts_three_players_searches_and_plays():
    state = rules.new_game("square8", 3)
    players = [MCTSPlayer(_leaf(3), simulations=24, seed=s) for s in range(3)]
    game = play_game(state, players, max_moves=40)
    decided = [m for m in game.moves if m.decision is not None]
    assert decided and all(len(m.decision.value) == 3 for m in decided)
    for p in players:
        check_statistics(p.last_root)


# ----------------------------------------------------------------------------- gumbel


def _hand_node() -> Node:
    state = _position("square8", 2, 2)
    node = Node.root(state)
    node.moves = node.moves[:3]
    node.expand([0.5, 0.3, 0.2], [0.0, 0.0])
    node.n = 4
    node.edge_n = [2, 1, 0]
    node.edge_w = [1.0, -0.5, 0.0]  # Q = 0.5, -0.5
    node.visited = [0, 1]
    return node


def test_sigma_transform_and_improved_policy_match_a_hand_computation():
    node = _hand_node()
    # v_mix = (0 + 3 * (0.5*0.5 + 0.3*(-0.5)) / 0.8) / 4 = 0.09375
    assert gumbel.completed_q(node) == pytest.approx([0.5, -0.5, 0.09375])
    # min-max to [0, 1]: [1, 0, 0.59375]; scale (50 + max N = 2) * 1.0 = 52
    sig = gumbel.transformed_q(node)
    assert sig == pytest.approx([52.0, 0.0, 30.875])
    logits = [math.log(0.5) + 52.0, math.log(0.3), math.log(0.2) + 30.875]
    z = sum(math.exp(x) for x in logits)
    expected = [math.exp(x) / z for x in logits]
    policy = gumbel.improved_policy(node)
    assert policy == pytest.approx(expected, rel=1e-9)
    assert sum(policy) == pytest.approx(1.0)
    # interior rule: argmax(policy - N / (1 + sum N)) = argmax([~1 - 0.5, ~0 - 0.25, ~0 - 0])
    assert gumbel.interior_select(node) == 0


def test_sequential_halving_table_and_budget():
    assert gumbel.considered_visits(4, 8) == (0, 0, 0, 0, 1, 1, 2, 2)
    assert len(gumbel.considered_visits(16, 150)) == 150
    state = _position("square8", 2, 10)
    legal = rules.legal_moves(state)
    for sims in (8, 37):
        player = GumbelPlayer(_leaf(), simulations=sims, max_considered=4, seed=2)
        decision = player.choose(state, legal)
        root = player.last_root
        assert sum(root.edge_n) == sims
        assert sum(1 for k in root.edge_n if k) <= min(4, len(legal))
        chosen = [m.key() for m in root.moves].index(decision.move.key())
        assert root.edge_n[chosen] == max(root.edge_n)  # a surviving action


def test_fast_interior_selection_agrees_with_the_formula():
    state = _position("square8", 2, 8)
    player = GumbelPlayer(_leaf(), simulations=80, seed=5)
    player.choose(state, rules.legal_moves(state))
    checked = 0
    for node in _walk(player.last_root):
        if node.terminal or not node.visited or node is player.last_root:
            continue
        policy = gumbel.improved_policy(node)
        total = sum(node.edge_n)
        scores = [p - k / (1 + total) for p, k in zip(policy, node.edge_n)]
        assert scores[gumbel.interior_select(node)] == pytest.approx(max(scores), abs=1e-12)
        checked += 1
    assert checked > 3


# ----------------------------------------------------------------------------- mcts games


def test_mcts_beats_random():
    wins = 0
    for g in range(6):
        mcts = make_player("mcts", GameSpec("square8", 2), EngineOptions(simulations=64), seed=g)
        players = [mcts, RandomPlayer(50 + g)] if g % 2 == 0 else [RandomPlayer(50 + g), mcts]
        final = play_game(rules.new_game("square8", 2), players).final_state
        wins += final.winner == (1 if g % 2 == 0 else 2)
    assert wins >= 5, f"mcts won {wins}/6 against random"


@pytest.mark.parametrize("engine", ["mcts", "gumbel"])
def test_fixed_seed_gives_the_same_game(engine):
    opts = EngineOptions(simulations=16, root_noise=True)

    def moves(seed):
        players = [make_player(engine, GameSpec("square8", 2), opts, seed=seed + s) for s in range(2)]
        if engine == "mcts":
            for p in players:
                p.schedule = lambda move_number, state=None: 1.0  # sample: exercises the rng
        game = play_game(rules.new_game("square8", 2), players, max_moves=40)
        return [m.move.key() for m in game.moves]

    assert moves(7) == moves(7)
    assert moves(7) != moves(8)


def test_tree_reuse_keeps_the_played_subtree():
    state = _position("square8", 2, 6)
    player = MCTSPlayer(_leaf(), simulations=64, seed=1)
    decision = player.choose(state, rules.legal_moves(state))
    first = player.last_root
    index = [m.key() for m in first.moves].index(decision.move.key())
    child = first.children[index]
    if child.moves is None:
        child.complete()
    kept = child.n
    assert kept > 1
    # our move (with its forced moves), then the opponent's most searched reply if it is theirs
    rules.apply_move(state, decision.move, validate=False)
    legal = advance_forced(state)
    expected = child
    if state.current_player != first.player and child.visited:
        reply = max(child.visited, key=child.edge_n.__getitem__)
        expected = child.children[reply]
        if expected.moves is None:
            expected.complete()
        rules.apply_move(state, child.moves[reply], validate=False)
        legal = advance_forced(state)
    kept = expected.n
    player.choose(state, legal)
    assert player.last_root is expected
    assert player.reused_visits == kept and player.last_root.n == kept + 64
    check_statistics(player.last_root)


# ----------------------------------------------------------------------------- nnue-guided


def test_alpha_beta_finds_the_minimax_value():
    state = _position("square8", 2, 14)
    legal = rules.legal_moves(state)
    weights = HeuristicLeaf.for_board(GameSpec("square8", 2)).weights
    value = heuristic_value(weights)
    pruned = NNUEGuidedPlayer(value, depth=2)
    decision = pruned.choose(state, legal)
    # the same depth without pruning (max-n on two players is minimax)
    me = state.current_player
    best = max(pruned._maxn(*_child(state, m), 1)[me - 1] for m in legal)
    assert decision.value[me - 1] == pytest.approx(best)
    assert abs(sum(p for _, p in decision.policy) - 1) < 1e-9


def _child(state, move):
    child = state.copy()
    rules.apply_move(child, move, validate=False)
    return child, advance_forced(child)


def test_nnue_guided_with_a_small_nnue_model(tmp_path):
    torch = pytest.importorskip("torch")
    from ringrift.nn.encoding import nnue_num_features
    from ringrift.nn.model_file import sidecar_path
    from ringrift.nn.models import NNUE, NNUEConfig, save_model_file

    torch.manual_seed(0)
    cfg = NNUEConfig(num_features=nnue_num_features("square8"), num_players=2, hidden=16,
                     board_type="square8")
    model = NNUE(cfg)
    path = tmp_path / "nnue.pt"
    save_model_file(path, {"metadata": {"architecture": "nnue", "model_config": cfg.to_dict(),
                                        "board_type": "square8", "num_players": 2},
                           "model_state": model.state_dict()})
    assert sidecar_path(path).exists()
    player = make_player("nnue-guided", GameSpec("square8", 2), EngineOptions(model_path=str(path)), seed=0)
    state = _position("square8", 2, 9)
    # the numpy evaluation is the torch model's, in seat order
    from ringrift.nn.encoding import nnue_features

    ids = torch.as_tensor(nnue_features(state))
    with torch.no_grad():
        rotated = model(ids, torch.tensor([0]))[0].tolist()
    mover = state.current_player
    seat_values = player.value_fn(state)
    assert seat_values[mover - 1] == pytest.approx(rotated[0], abs=1e-5)
    decision = player.choose(state, rules.legal_moves(state))
    assert decision.move in rules.legal_moves(state) and player.leaves > 0
    with pytest.raises(UserError, match="nnue"):
        make_player("nnue-guided", GameSpec("square8", 3), EngineOptions(model_path=str(path)), seed=0)


def test_nnue_guided_three_players_uses_max_n():
    player = make_player("nnue-guided", GameSpec("square8", 3), EngineOptions(search_depth=2), seed=0)
    game = play_game(rules.new_game("square8", 3), [player] * 3, max_moves=12)
    assert any(m.decision is not None and len(m.decision.value) == 3 for m in game.moves)

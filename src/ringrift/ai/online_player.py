"""The `online` engine: a Gumbel search player whose network learns from every game it plays.

It searches with the learner's live network (no cached evaluator: the weights change between
games), records each of its decisions with the search's improved policy, and at the end of the
game (`end_game`, called by the game loop) updates the network (`ai.online_learner`). One learner per
model file per process carries over from game to game, so a match played with --workers 1
shows the network improving (or not) as it plays; several workers each learn on their own.
"""

from __future__ import annotations

from ringrift import rules
from ringrift.ai.player import Decision
from ringrift.rules import GameState, Move

_LEARNERS: dict[str, object] = {}

DEFAULT_SIMULATIONS = 16


def learner_for(path: str):
    """The process's learner for a model file (a saved learner resumes)."""
    if path not in _LEARNERS:
        from ringrift.ai.online_learner import OnlineLearner

        _LEARNERS[path] = OnlineLearner.load(path)
    return _LEARNERS[path]


class OnlinePlayer:
    name = "online"

    def __init__(self, learner, seed: int = 0, simulations: int = DEFAULT_SIMULATIONS) -> None:
        from ringrift.ai.search.gumbel_player import GumbelPlayer
        from ringrift.ai.search.leaf import NetworkLeaf
        from ringrift.nn.inference import Evaluator

        self.learner = learner
        evaluator = Evaluator(learner.model, metadata=learner.metadata)
        # a leaf of its own (not the shared per-evaluator one): nothing outlives an update
        self.search = GumbelPlayer(NetworkLeaf(evaluator), simulations=simulations, seed=seed)

    def new_game(self, seed: int) -> None:
        self.search.new_game(seed)
        self.learner.game = []

    def choose(self, state: GameState, legal: list[Move]) -> Decision:
        decision = self.search.choose(state, legal)
        after = state.copy()
        rules.apply_move(after, decision.move, validate=False)
        self.learner.record_transition(state, decision.move, state.current_player, after,
                                       policy=decision.policy)
        return decision

    def end_game(self, final: GameState) -> None:
        """Learn from the game just finished (an unfinished one counts as a draw)."""
        ranks = rules.final_ranks(final) if final.is_over else None
        self.learner.update_from_game(final.winner if final.is_over else None, ranks)


def make_online_player(spec: rules.GameSpec, seed: int, options) -> OnlinePlayer:
    from ringrift.ai.model_cache import check_model_fits
    from ringrift.errors import ConfigError

    if not options.model_path:
        raise ConfigError("model_path", "is not set: engine online needs a model file "
                                        "(online:MODEL.pt)")
    learner = learner_for(options.model_path)
    check_model_fits(options.model_path, learner.metadata, spec)
    sims = options.simulations or DEFAULT_SIMULATIONS
    return OnlinePlayer(learner, seed=seed, simulations=sims)

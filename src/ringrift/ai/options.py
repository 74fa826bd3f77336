"""EngineOptions: how a player is built (model file, search budget, heuristic profile, ...)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class EngineOptions:
    heuristic_profile: str | None = None
    heuristic_profile_path: str | None = None
    heuristic_epsilon: float = 0.0
    model_path: str | None = None
    temperature: float = 0.0
    device: str | None = None
    # search engines
    simulations: int | None = None  # per move; None = the engine's default (STANDARD)
    root_noise: bool = False  # mcts: Dirichlet noise on the root priors (selfplay)
    dirichlet_alpha: float = 0.3
    gumbel_considered: int = 16  # gumbel: m, the root actions sampled by Gumbel-top-k
    search_depth: int = 2  # nnue-guided: decisions searched
    threads: int | None = None  # torch CPU threads per selfplay worker process (None: 1)
    amp: bool = False  # network in bf16 autocast (CUDA, or a CPU with native bf16): batched
    # leaves run ~1.6x faster on such a CPU; single positions barely gain

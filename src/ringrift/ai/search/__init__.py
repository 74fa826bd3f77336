"""Tree search over one tree, with interchangeable selection rules (mctx-style).

- `tree`: nodes (decision points; forced moves collapsed into edges), per-seat values with
  per-edge statistics of the acting player (max-n), the simulation loop as a generator of leaf
  requests, `run_sync`, subtree lookup for tree reuse.
- `puct`, `gumbel`: selection rules and Q-transforms (PUCT + Dirichlet noise; Gumbel-top-k,
  sequential halving, completed Q with v_mix, sigma, improved policy, deterministic interior).
- `leaf`: leaf evaluators (lean heuristic with lazy move generation; network via Evaluator).
- `mcts_player`, `gumbel_player`, `nnue_search`: the `mcts`, `gumbel`, `nnue-guided` engines;
  `engines`: their factories (named in the engine table, `ringrift.ai.engines`).
- `batching`: the game loop as a generator and `run_batched` (one pending leaf per game, many
  games per network batch); `bench`: `ringrift bench search`.
"""

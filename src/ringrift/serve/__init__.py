"""Serving models: the JSON-lines analysis engine, the HTTP service and the browser board.

- `protocol`: analysis requests (the fields `ringrift engine` and `POST /v1/analyze` accept),
  validated into `AnalysisRequest`, with one error type for bad input.
- `analysis`: one request as a generator of leaf evaluations, returning the response JSON
  (chosen move, top moves with visits/prior/Q, value per player, principal variation).
- `scheduler`: `SearchPool`, a thread running many requests at once with their leaf
  evaluations batched into shared network calls.
- `models`: the model being served (a file or the registry's production model, reloaded on
  promotion).
- `engine`: `ringrift engine`, requests on stdin, responses on stdout.
- `config`: `ServeConfig`, the settings of `ringrift serve` (the CLI defaults).
- `app`, `metrics`, `limits`, `board`: `ringrift serve` (FastAPI), its Prometheus metrics,
  request size/time limits and the board page's view of a state.
- `replay`: a stored game as board frames plus an evaluation graph (`ringrift view`).
- `loadtest`: the load test of `ringrift bench serve` (`LoadTestSettings`, `load_test`).
"""

"""Analysis requests: the JSON fields `ringrift engine` and `POST /v1/analyze` accept.

One request (KataGo-analysis-engine style):
    {"id": "a1", "state": {...RULES.md §6 state...}, "engine": "gumbel", "maxVisits": 64,
     "timeLimitMs": 2000, "includePolicy": true, "reportDuringSearchEvery": 0.5, "seed": 1}
Only `state` is required (and `id` on the engine). Unknown fields are rejected: a typo such as
`maxvisits` would otherwise silently run the default budget.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from ringrift import rules
from ringrift.ai.search.gumbel import BUDGETS, STANDARD, ULTIMATE
from ringrift.rules import GameState

# Engines analysed here (top moves, visits, PV). Other engines of the engine table
# (`ringrift.ai.engines`) that play without a model file of their own are served through
# their player: the move and what its decision carries.
ENGINES = ("gumbel", "mcts", "policy-only", "heuristic", "random")
DEFAULT_ENGINE = "gumbel"
FIELDS = ("id", "state", "engine", "maxVisits", "timeLimitMs", "includePolicy",
          "reportDuringSearchEvery", "seed")


class RequestError(ValueError):
    """A bad request: the message names the field. `request_id` is echoed when it was read."""

    def __init__(self, message: str, request_id: Any = None, field: str | None = None) -> None:
        super().__init__(message)
        self.request_id = request_id
        self.field = field

    def response(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": str(self)}
        if self.request_id is not None:
            out["id"] = self.request_id
        if self.field:
            out["field"] = self.field
        return out


@dataclass
class Limits:
    """Caps the server puts on every request (a client cannot ask for more)."""

    max_visits: int = ULTIMATE
    max_time_ms: float = 30000.0
    default_time_ms: float = 10000.0


@dataclass
class AnalysisRequest:
    id: Any
    state: GameState
    engine: str = DEFAULT_ENGINE
    visits: int = STANDARD
    time_limit_s: float = 10.0
    include_policy: bool = False
    report_every_s: float | None = None
    seed: int = 0
    # time.monotonic() when the request was read: the time limit counts the wait for a free
    # search slot too, so a client's timeLimitMs bounds its wait under load
    received: float | None = None


def parse_line(line: str | bytes) -> dict[str, Any]:
    """One request line -> its JSON object (RequestError for bad JSON or a non-object)."""
    try:
        data = json.loads(line)
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly nested input
        raise RequestError(f"bad JSON: {str(exc)[:200]}") from None
    if not isinstance(data, dict):
        raise RequestError(f"a request must be a JSON object, got {type(data).__name__}")
    return data


def parse_request(data: dict[str, Any], limits: Limits | None = None, *,
                  require_id: bool = True, allow_reports: bool = True) -> AnalysisRequest:
    """Validate a request object into an AnalysisRequest (RequestError naming the field)."""
    received = time.monotonic()
    limits = limits or Limits()
    rid = data.get("id")
    if require_id and "id" not in data:
        raise RequestError("missing field 'id'", field="id")
    if rid is not None and (isinstance(rid, bool) or not isinstance(rid, str | int)):
        raise RequestError("'id' must be a string or an integer", field="id")
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise RequestError(f"unknown field(s) {', '.join(map(repr, unknown))} (expected "
                           f"{', '.join(FIELDS)})", rid, unknown[0])
    if not allow_reports and data.get("reportDuringSearchEvery") is not None:
        raise RequestError("reportDuringSearchEvery streams partial results: use "
                           "`ringrift engine`", rid, "reportDuringSearchEvery")
    engine = data.get("engine", DEFAULT_ENGINE)
    check_engine(engine, rid)
    visits = _visits(data.get("maxVisits"), limits, rid)
    time_ms = _number(data, "timeLimitMs", rid, limits.default_time_ms)
    if time_ms <= 0:
        raise RequestError("timeLimitMs must be positive", rid, "timeLimitMs")
    if time_ms > limits.max_time_ms:
        raise RequestError(f"timeLimitMs {time_ms:g} is above this server's limit "
                           f"{limits.max_time_ms:g}", rid, "timeLimitMs")
    report = data.get("reportDuringSearchEvery")
    if report is not None:
        report = _number(data, "reportDuringSearchEvery", rid, 0.0)
        if report <= 0:
            raise RequestError("reportDuringSearchEvery must be a positive number of seconds",
                               rid, "reportDuringSearchEvery")
    include = data.get("includePolicy", False)
    if not isinstance(include, bool):
        raise RequestError("includePolicy must be true or false", rid, "includePolicy")
    seed = data.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise RequestError("seed must be a non-negative integer", rid, "seed")
    state = parse_state(data.get("state"), rid)
    return AnalysisRequest(id=rid, state=state, engine=engine, visits=visits,
                           time_limit_s=time_ms / 1000.0, include_policy=include,
                           report_every_s=report, seed=seed, received=received)


def served_engines() -> tuple[str, ...]:
    """Every engine name a request may give: ENGINES, then the engine table's others that
    need no model file of their own."""
    from ringrift.ai import engines as table

    return ENGINES + tuple(name for name, e in table.ENGINES.items()
                           if name not in ENGINES and e.model != table.REQUIRED)


def check_engine(engine: Any, request_id: Any = None) -> None:
    if isinstance(engine, str) and engine in ENGINES:
        return
    served = served_engines()
    if isinstance(engine, str) and engine in served:
        return
    raise RequestError(f"unknown engine {engine!r} (expected one of {', '.join(served)})",
                       request_id, "engine")


def parse_state(data: Any, request_id: Any = None, *, playable: bool = True) -> GameState:
    """A RULES.md §6 state object -> GameState; with `playable`, a finished game is refused."""
    if data is None:
        raise RequestError("missing field 'state'", request_id, "state")
    if not isinstance(data, dict):
        raise RequestError("'state' must be a JSON object (RULES.md §6)", request_id, "state")
    try:
        state = rules.state_from_json(data)
    except rules.RulesError as exc:
        raise RequestError(f"state: {exc}", request_id, "state") from None
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        # malformed pieces the rules layer reads without checking their type
        raise RequestError(f"state: malformed ({type(exc).__name__}: {str(exc)[:200]})",
                           request_id, "state") from None
    if playable and state.is_over:
        raise RequestError("state: the game is over (no move to choose)", request_id, "state")
    if playable and not rules.legal_moves(state):
        raise RequestError("state: no legal move in this position", request_id, "state")
    return state


def _visits(value: Any, limits: Limits, rid: Any) -> int:
    if value is None:
        visits = STANDARD
    elif isinstance(value, str) and value.strip().lower() in BUDGETS:
        visits = BUDGETS[value.strip().lower()]
    elif isinstance(value, int) and not isinstance(value, bool):
        visits = value
    else:
        raise RequestError(f"maxVisits must be a positive integer or one of "
                           f"{', '.join(BUDGETS)}, got {value!r}", rid, "maxVisits")
    if visits < 1:
        raise RequestError("maxVisits must be at least 1", rid, "maxVisits")
    if visits > limits.max_visits:
        raise RequestError(f"maxVisits {visits} is above this server's limit "
                           f"{limits.max_visits}", rid, "maxVisits")
    return visits


def _number(data: dict[str, Any], key: str, rid: Any, default: float) -> float:
    value = data.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise RequestError(f"{key} must be a number", rid, key)
    return float(value)

"""`ringrift serve`: the HTTP service (FastAPI) and the board page.

Endpoints: `POST /v1/move`, `POST /v1/analyze` (the engine's request and response, see
`serve.protocol` and `serve.analysis`), `GET /v1/health`, `GET /metrics` (Prometheus text),
the board page (`GET /`) and its game actions (`POST /v1/game/new|legal|apply`), and replays of
a game database given at start (`GET /v1/games`, `GET /v1/games/{id}/replay`). The OpenAPI
schema is at `/openapi.json` (and `/docs`).

Request bodies are parsed and validated here (not by FastAPI's models) so that the engine and
the service share one validation and every bad input gets a 4xx with a message naming the
field; analyses run in one `SearchPool`, so concurrent requests share network batches.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from ringrift import rules
from ringrift.ai.search.gumbel import BUDGETS
from ringrift.errors import UserError
from ringrift.serve import board
from ringrift.serve.analysis import AnalysisError, analysis_steps
from ringrift.serve.config import ServeConfig
from ringrift.serve.limits import BodyLimits
from ringrift.serve.metrics import ServeMetrics
from ringrift.serve.models import ModelSource
from ringrift.serve.protocol import FIELDS, RequestError, parse_request, parse_state, served_engines
from ringrift.serve.scheduler import SearchPool

# Handlers return JSONResponse directly: analyses and board views are large plain-JSON dicts,
# and FastAPI's jsonable_encoder pass over them would cost more than the encoding itself.
MOVE_FIELDS = ("id", "move", "value", "pv", "engine", "evaluator", "currentPlayer", "elapsedMs")

STATE_SCHEMA = {"type": "object", "description": "a RULES.md §6 game state"}
ANALYZE_SCHEMA = {
    "type": "object", "required": ["state"], "additionalProperties": False,
    "properties": {
        "id": {"type": ["string", "integer"]},
        "state": STATE_SCHEMA,
        "engine": {"type": "string", "default": "gumbel",
                   "description": "gumbel, mcts, policy-only, heuristic, random, or another "
                                  "engine of the engine table (GET /v1/health lists them)"},
        "maxVisits": {"type": ["integer", "string"],
                      "description": "simulations, or " + "|".join(BUDGETS)},
        "timeLimitMs": {"type": "number"},
        "includePolicy": {"type": "boolean"},
        "seed": {"type": "integer"},
    },
}
assert set(ANALYZE_SCHEMA["properties"]) | {"reportDuringSearchEvery"} == set(FIELDS)


def _body_doc(schema: dict[str, Any]) -> dict[str, Any]:
    return {"requestBody": {"required": True,
                            "content": {"application/json": {"schema": schema}}}}


class BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def create_app(source: ModelSource, config: ServeConfig | None = None) -> Any:
    """The ASGI application (FastAPI wrapped in the body limits)."""
    config = config or ServeConfig()
    metrics = ServeMetrics()
    pool = SearchPool(max_active=config.max_active, on_batch=metrics.observe_batch)
    stop_polling = threading.Event()
    started = time.time()

    def poll_registry() -> None:
        while not stop_polling.wait(config.reload_interval):
            before = source.reloads
            source.poll()
            if source.reloads > before:
                metrics.model_reloads.inc()

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI):
        if source.spec == "production" and config.reload_interval > 0:
            threading.Thread(target=poll_registry, name="registry-poll", daemon=True).start()
        yield
        stop_polling.set()
        pool.close(timeout=5)

    app = FastAPI(title="ringrift", version="1", lifespan=lifespan,
                  description="RingRift moves and analysis from a trained network or search, "
                              "and a board to play and replay games in the browser.")
    app.state.pool = pool
    app.state.metrics = metrics
    app.state.source = source

    @app.exception_handler(RequestError)
    async def request_error(_request: Request, exc: RequestError) -> JSONResponse:
        return JSONResponse(exc.response(), status_code=400)

    @app.exception_handler(BadRequest)
    async def bad_request(_request: Request, exc: BadRequest) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=exc.status)

    async def read_json(request: Request) -> dict[str, Any]:
        body = await request.body()
        try:
            data = json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise RequestError(f"bad JSON: {str(exc)[:200]}") from None
        if not isinstance(data, dict):
            raise RequestError(f"the body must be a JSON object, got {type(data).__name__}")
        return data

    async def analyze_in_pool(data: dict[str, Any]) -> dict[str, Any]:
        req = await run_in_threadpool(parse_request, data, config.limits, require_id=False,
                                      allow_reports=False)
        if pool.busy >= config.max_queued:
            raise BadRequest(503, f"server busy: {pool.busy} analyses queued, try again")
        loop = asyncio.get_running_loop()
        future: asyncio.Future = loop.create_future()

        def settle(value: Any, error: bool) -> None:
            if future.done():
                return
            if error:
                future.set_exception(value)
            else:
                future.set_result(value)

        metrics.in_flight.inc()
        try:
            pool.submit(analysis_steps(req, source.current.leaves),
                        lambda v: loop.call_soon_threadsafe(settle, v, False),
                        lambda e: loop.call_soon_threadsafe(settle, e, True))
            try:
                return await future
            except AnalysisError as exc:
                raise BadRequest(400, str(exc)) from None
        finally:
            metrics.in_flight.dec()

    @app.post("/v1/analyze", openapi_extra=_body_doc(ANALYZE_SCHEMA),
              summary="Search a position: chosen move, top moves, value per player, PV")
    async def analyze(request: Request) -> JSONResponse:
        return JSONResponse(await analyze_in_pool(await read_json(request)))

    @app.post("/v1/move", openapi_extra=_body_doc(ANALYZE_SCHEMA),
              summary="The move the engine plays in a position (and its value)")
    async def move(request: Request) -> JSONResponse:
        out = await analyze_in_pool(await read_json(request))
        return JSONResponse({k: out[k] for k in MOVE_FIELDS if k in out})

    @app.get("/v1/health", summary="Liveness, the served model and the load")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "model": source.current.describe(),
                "modelReloads": source.reloads, "lastReloadError": source.last_error or None,
                "analysesInFlight": pool.busy, "uptimeSeconds": round(time.time() - started, 1),
                "engines": list(served_engines()), "gamesDb": bool(config.games_db)}

    @app.get("/metrics", response_class=PlainTextResponse, summary="Prometheus metrics")
    async def prometheus() -> Response:
        return Response(metrics.render(), media_type="text/plain; version=0.0.4")

    # ------------------------------------------------------------- the board page

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def page() -> HTMLResponse:
        from ringrift.serve.replay import static_text

        html = static_text("board.html").replace(
            "<!--assets-->", '<link rel="stylesheet" href="/static/board.css">'
                             '<script src="/static/board.js"></script>')
        return HTMLResponse(html)

    @app.get("/static/{name}", include_in_schema=False)
    async def static(name: str) -> Response:
        from ringrift.serve.replay import static_text

        kinds = {"board.js": "text/javascript", "board.css": "text/css"}
        if name not in kinds:
            raise BadRequest(404, f"no static file {name!r}")
        return Response(static_text(name), media_type=kinds[name])

    @app.post("/v1/game/new", summary="A new game's board view",
              openapi_extra=_body_doc({"type": "object", "properties": {
                  "boardType": {"type": "string", "enum": list(rules.BOARD_TYPES)},
                  "numPlayers": {"type": "integer", "enum": [2, 3, 4]}}}))
    async def new_game(request: Request) -> JSONResponse:
        data = await read_json(request)
        _only(data, ("boardType", "numPlayers"))
        board_type = data.get("boardType", "square8")
        players = data.get("numPlayers", 2)
        if board_type not in rules.BOARD_TYPES:
            raise RequestError(f"boardType must be one of {', '.join(rules.BOARD_TYPES)}",
                               field="boardType")
        if isinstance(players, bool) or players not in rules.PLAYER_COUNTS:
            raise RequestError("numPlayers must be 2, 3 or 4", field="numPlayers")

        def make() -> dict[str, Any]:
            state = rules.new_game(board_type, players)
            return board.view(state, board.advance_forced(state))

        return JSONResponse(await run_in_threadpool(make))

    @app.post("/v1/game/legal", summary="The board view (pieces, legal moves) of a state",
              openapi_extra=_body_doc({"type": "object", "required": ["state"],
                                       "properties": {"state": STATE_SCHEMA}}))
    async def legal(request: Request) -> JSONResponse:
        data = await read_json(request)
        _only(data, ("state",))
        return JSONResponse(await run_in_threadpool(
            lambda: board.view(parse_state(data.get("state"), playable=False))))

    @app.post("/v1/game/apply", summary="Apply a legal move (then any forced moves)",
              openapi_extra=_body_doc({"type": "object", "required": ["state", "move"],
                                       "properties": {"state": STATE_SCHEMA,
                                                      "move": {"type": "object"},
                                                      "autoForced": {"type": "boolean"}}}))
    async def apply(request: Request) -> JSONResponse:
        data = await read_json(request)
        _only(data, ("state", "move", "autoForced"))
        auto = data.get("autoForced", True)
        if not isinstance(auto, bool):
            raise RequestError("autoForced must be true or false", field="autoForced")
        return JSONResponse(await run_in_threadpool(_apply, data.get("state"), data.get("move"),
                                                    auto))

    # ------------------------------------------------------------- replays

    @app.get("/v1/games", summary="Games of the server's game database (--games-db)")
    async def games(limit: int = 100) -> dict[str, Any]:
        db_path = _games_db(config)

        def listing() -> dict[str, Any]:
            from ringrift.data.gamedb import GameDB

            with GameDB(db_path, readonly=True) as db:
                out = [{"gameId": o.game_id, "engines": o.engines, "finalRanks": o.final_ranks}
                       for o in _first(db.iter_outcomes(), max(1, min(limit, 1000)))]
            return {"games": out}

        return await run_in_threadpool(listing)

    @app.get("/v1/games/{game_id}/replay", summary="A stored game's frames and value graph")
    async def replay(game_id: str) -> JSONResponse:
        from ringrift.serve.replay import load_game, replay_data

        db_path = _games_db(config)

        def build() -> dict[str, Any]:
            try:
                return replay_data(load_game(db_path, game_id))
            except UserError as exc:
                raise BadRequest(404 if "no game" in str(exc) else 400, str(exc)) from None

        return JSONResponse(await run_in_threadpool(build))

    counted = RequestMetrics(app, metrics)
    return BodyLimits(counted, max_bytes=config.max_body_bytes, timeout_s=config.body_timeout_s,
                      on_reject=lambda status: metrics.requests.labels("body", str(status)).inc())


class RequestMetrics:
    """Counts requests by endpoint (the route's path template) and status, and times them: a
    plain ASGI middleware (Starlette's BaseHTTPMiddleware costs more per request)."""

    def __init__(self, app: Any, metrics: ServeMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # when the app fails before starting a response

        async def send_status(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            endpoint = getattr(scope.get("route"), "path", "other")  # set by the router
            self.metrics.requests.labels(endpoint, str(status)).inc()
            self.metrics.latency.labels(endpoint).observe(time.perf_counter() - start)


def _first(items, n: int) -> list:
    out = []
    for item in items:
        if len(out) >= n:
            break
        out.append(item)
    return out


def _games_db(config: ServeConfig) -> str:
    if not config.games_db:
        raise BadRequest(404, "this server has no game database (start it with --games-db PATH)")
    return config.games_db


def _only(data: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise RequestError(f"unknown field(s) {', '.join(map(repr, unknown))} (expected "
                           f"{', '.join(allowed)})", field=unknown[0])


def _apply(state_json: Any, move_json: Any, auto_forced: bool) -> dict[str, Any]:
    state = parse_state(state_json)
    if not isinstance(move_json, dict):
        raise RequestError("'move' must be a move object (RULES.md §6.5)", field="move")
    try:
        move = rules.move_from_json(state.geo, move_json, state.phase)
    except rules.RulesError as exc:
        raise RequestError(f"move: {exc}", field="move") from None
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise RequestError(f"move: malformed ({type(exc).__name__}: {str(exc)[:200]})",
                           field="move") from None
    legal = rules.legal_moves(state)
    match = [m for m in legal if m == move]
    if not match:
        raise RequestError(f"move: {move_json.get('type')!r} is not legal here (phase "
                           f"{state.phase}, player {state.current_player} to move)",
                           field="move")
    applied = [rules.move_to_json(state.geo, match[0])]
    rules.apply_move(state, match[0])
    if auto_forced:
        applied += board.advance_forced(state)
    return board.view(state, applied)

"""`ringrift engine`: analysis requests as JSON lines on stdin, responses on stdout.

The reader (this thread) parses each line and submits it to a `SearchPool`, so requests run
concurrently and share network batches; responses are written whole, one per line, under a
lock, in the order they finish (match them by `id`). Bad input gets an error response
`{"id": ..., "error": "...", "field": ...}` and the engine goes on. End of input: the engine
finishes the requests in flight and exits.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import IO, Any

from ringrift.serve.analysis import AnalysisError, analysis_steps
from ringrift.serve.models import ModelSource
from ringrift.serve.protocol import Limits, RequestError, parse_line, parse_request
from ringrift.serve.scheduler import SearchPool

MAX_LINE_BYTES = 4 << 20  # a square19 state with a long history is well under 1 MB


class JsonLinesWriter:
    """Whole lines to a stream from several threads."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.lock = threading.Lock()

    def write(self, obj: dict[str, Any]) -> None:
        text = json.dumps(obj, separators=(",", ":"))
        with self.lock:
            self.stream.write(text + "\n")
            self.stream.flush()


def error_response(exc: BaseException, request_id: Any) -> dict[str, Any]:
    if isinstance(exc, RequestError):
        return exc.response()
    out: dict[str, Any] = {"error": str(exc) if isinstance(exc, AnalysisError)
                           else f"internal error: {type(exc).__name__}: {exc}"}
    if request_id is not None:
        out["id"] = request_id
    return out


def run_engine(source: ModelSource, stdin: IO[str], stdout: IO[str], *,
               limits: Limits | None = None, max_active: int = 64,
               reload_interval: float = 30.0) -> int:
    """Serve requests from `stdin` until it ends; return 0."""
    limits = limits or Limits()
    out = JsonLinesWriter(stdout)
    pool = SearchPool(max_active=max_active)
    last_poll = time.monotonic()
    for line in _lines(stdin):
        if line is not TOO_LONG and not line.strip():
            continue
        if reload_interval and time.monotonic() - last_poll >= reload_interval:
            source.poll()  # a promoted model serves the requests read from now on
            last_poll = time.monotonic()
        try:
            if line is TOO_LONG:
                raise RequestError(f"request line over the limit of {MAX_LINE_BYTES} characters")
            req = parse_request(parse_line(line), limits)
        except RequestError as exc:
            out.write(exc.response())
            continue
        rid = req.id
        pool.submit(analysis_steps(req, source.current.leaves, emit=out.write),
                    on_done=out.write,
                    on_error=lambda exc, rid=rid: out.write(error_response(exc, rid)))
    pool.close()
    return 0


TOO_LONG = "\0too long"


def _lines(stream: IO[str]):
    """Lines of `stream` as they arrive (not the block-buffered iterator of a pipe); a line
    over MAX_LINE_BYTES is skipped to its end and yielded as TOO_LONG (never held whole)."""
    readline = stream.readline
    while True:
        line = readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        if len(line) > MAX_LINE_BYTES and not line.endswith("\n"):
            while (rest := readline(1 << 16)) and not rest.endswith("\n"):
                pass
            yield TOO_LONG
            continue
        yield line


def main_streams(source: ModelSource, **kwargs: Any) -> int:
    return run_engine(source, sys.stdin, sys.stdout, **kwargs)

"""Request body limits for `ringrift serve`, as a plain ASGI middleware.

The body is read here, before any handler runs, with a size cap (413) and a deadline for the
whole body (408), so an oversized upload is never held whole and a client that sends its body
slowly (or never) costs one idle connection until the deadline, not a worker.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

BODY_METHODS = {"POST", "PUT", "PATCH"}


class BodyLimits:
    def __init__(self, app: Any, max_bytes: int = 1 << 20, timeout_s: float = 10.0,
                 on_reject: Callable[[int], None] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s
        self.on_reject = on_reject  # called with the status of every refused request (metrics)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                await self._reply(send, 400, "malformed Content-Length header")
                return
            if size > self.max_bytes:
                await self._reply(send, 413, f"request body of {size} bytes is over the limit of "
                                        f"{self.max_bytes} bytes")
                return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout_s
        chunks: list[bytes] = []
        received = 0
        while True:
            try:
                message = await asyncio.wait_for(receive(), max(deadline - loop.time(), 1e-3))
            except TimeoutError:
                await self._reply(send, 408, f"request body not received within {self.timeout_s:g} s")
                return
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            received += len(body)
            if received > self.max_bytes:
                await self._reply(send, 413, f"request body over the limit of {self.max_bytes} bytes")
                return
            chunks.append(body)
            if not message.get("more_body", False):
                break
        whole = b"".join(chunks)
        delivered = False

        async def replay() -> dict:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": whole, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


    async def _reply(self, send: Any, status: int, message: str) -> None:
        if self.on_reject is not None:
            self.on_reject(status)
        await _reply(send, status, message)


async def _reply(send: Any, status: int, message: str) -> None:
    body = json.dumps({"detail": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})

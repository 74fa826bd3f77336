"""Settings of `ringrift serve` (the CLI's defaults come from here)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ringrift.serve.protocol import Limits


@dataclass
class ServeConfig:
    limits: Limits = field(default_factory=Limits)
    max_body_bytes: int = 1 << 20  # 413 above; a square19 state with history is far smaller
    body_timeout_s: float = 10.0  # 408 when a body takes longer (slow or stalled clients)
    max_active: int = 64  # analyses searched at once (their leaves share network batches)
    max_queued: int = 1024  # 503 above
    reload_interval: float = 30.0  # seconds between registry checks (production models)
    games_db: str | None = None  # replays offered by the board page
    max_connections: int = 1000  # uvicorn's limit_concurrency (503 above)

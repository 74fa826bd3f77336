"""Prometheus metrics of `ringrift serve` (one registry per app, so apps do not share)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class ServeMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("ringrift_requests", "HTTP requests by endpoint and status",
                                ["endpoint", "status"], registry=r)
        self.latency = Histogram("ringrift_request_seconds", "HTTP request latency",
                                 ["endpoint"], buckets=LATENCY_BUCKETS, registry=r)
        self.batch_size = Histogram("ringrift_batch_size",
                                    "positions per leaf evaluation call (shared by requests)",
                                    ["evaluator"], buckets=BATCH_BUCKETS, registry=r)
        self.batch_seconds = Histogram("ringrift_batch_seconds", "seconds per evaluation call",
                                       ["evaluator"], buckets=LATENCY_BUCKETS, registry=r)
        self.in_flight = Gauge("ringrift_analyses_in_flight",
                               "analyses running or queued in the search pool", registry=r)
        self.model_reloads = Counter("ringrift_model_reloads",
                                     "production models loaded after a promotion", registry=r)

    def observe_batch(self, evaluator: str, size: int, seconds: float) -> None:
        self.batch_size.labels(evaluator).observe(size)
        self.batch_seconds.labels(evaluator).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)

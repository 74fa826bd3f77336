"""`ringrift bench serve`: a bounded load test of `ringrift serve` from a second process.

Starts the server as a subprocess on loopback (with the given model, or a randomly initialised
v2 network made on the fly: the cost of a network call depends on its size, not its training),
then, from this process, keeps `clients` concurrent clients posting `/v1/move` requests for
`duration` seconds per engine, on positions sampled from seeded random games. Gives
requests/s, latency percentiles, the mean network batch size (from the server's /metrics)
and errors; the command (cli/bench_serve.py) prints them.
"""

from __future__ import annotations

import contextlib
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ringrift.ai.search.gumbel import THROUGHPUT
from ringrift.config_defaults import field_default
from ringrift.rules.spec import GameSpec
from ringrift.selfplay.runner import SelfplayConfig


@dataclass(frozen=True)
class LoadTestSettings:
    """The load: which model and game (the default game, selfplay's), which engines, how many
    clients for how long, on how many positions; and how the server runs the network."""

    model: str | None = None  # a model file (None: a randomly initialised v2 network)
    board_type: str = field_default(SelfplayConfig, "board_type")
    num_players: int = field_default(SelfplayConfig, "num_players")
    # ENGINE or ENGINE:VISITS, comma-separated: the network alone, and search at the
    # throughput budget
    engines: str = f"policy-only,gumbel:{THROUGHPUT}"
    clients: int = 32  # concurrent clients
    duration: float = 30.0  # seconds per engine
    positions: int = 64  # positions to ask about
    seed: int = 1
    amp: bool = False  # the server runs the network in bf16
    threads: int | None = None  # the server's torch CPU threads (None: its default)

    @property
    def spec(self) -> GameSpec:
        from ringrift.errors import UserError

        return GameSpec.checked(self.board_type, self.num_players, error=UserError)

    def validate(self) -> None:
        """Raise ConfigError naming the field of the first bad setting."""
        from ringrift.errors import check_fields

        self.spec  # noqa: B018 (raises UserError for a bad board or player count)
        check_fields([
            (self.clients >= 1, "clients", "must be at least 1"),
            (self.duration > 0, "duration", "must be greater than 0"),
            (self.positions >= 1, "positions", "must be at least 1"),
            (self.threads is None or self.threads >= 1, "threads", "must be at least 1"),
        ])
        parse_engines(self.engines)


def parse_engines(text: str) -> list[tuple[str, int | None]]:
    from ringrift.errors import ConfigError
    from ringrift.serve.protocol import ENGINES

    out: list[tuple[str, int | None]] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, visits = part.partition(":")
        if name not in ENGINES:
            raise ConfigError("engines", f"names an unknown engine {name!r} "
                                         f"(expected {', '.join(ENGINES)})")
        if visits and (not visits.isdigit() or int(visits) < 1):
            raise ConfigError("engines", f"{part!r}: visits must be a positive integer")
        out.append((name, int(visits) if visits else None))
    if not out:
        raise ConfigError("engines", "names no engine")
    return out


def sample_positions(spec: GameSpec, count: int, seed: int) -> list[dict]:
    """States (JSON) with a real decision, taken along seeded random games."""
    from ringrift import rules

    rng = random.Random(seed)
    out: list[dict] = []
    while len(out) < count:
        state = rules.new_game(spec.board_type, spec.num_players)
        while not state.is_over and len(out) < count:
            legal = rules.legal_moves(state)
            if len(legal) > 1 and rng.random() < 0.15:
                out.append(rules.state_to_json(state))
            rules.apply_move(state, rng.choice(legal))
    return out


def random_model(folder: Path, spec: GameSpec, seed: int) -> Path:
    """A randomly initialised v2 network file (preset size) with its sidecar."""
    import torch

    from ringrift.nn.models import build_model, make_config, save_model_file

    torch.manual_seed(seed)
    cfg = make_config("v2", spec)
    path = folder / f"random_v2_{spec.board_type}_{spec.num_players}p.pt"
    meta = {"architecture": "v2", "model_config": cfg.to_dict(), "board_type": spec.board_type,
            "num_players": spec.num_players, "encoder_version": 1,
            "note": "random init (bench)"}
    save_model_file(path, {"metadata": meta, "model_state": build_model(cfg).state_dict()})
    return path


def _metric_sum_count(text: str, evaluator: str = "network") -> tuple[float, float]:
    def one(name: str) -> float:
        m = re.search(rf'^{name}\{{evaluator="{evaluator}"\}} (\S+)', text, re.MULTILINE)
        return float(m.group(1)) if m else 0.0
    return one("ringrift_batch_size_sum"), one("ringrift_batch_size_count")


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    i = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[i]


async def _load(url: str, body_for, clients: int, duration: float) -> dict[str, Any]:
    import asyncio

    import httpx

    latencies: list[float] = []
    errors: dict[str, int] = {}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=120.0) as client:
        end = time.monotonic() + duration

        async def worker(k: int) -> None:
            i = k
            while time.monotonic() < end:
                t0 = time.perf_counter()
                try:
                    r = await client.post("/v1/move", json=body_for(i))
                    ok = r.status_code == 200
                    kind = f"HTTP {r.status_code}"
                except httpx.HTTPError as exc:
                    ok, kind = False, type(exc).__name__
                if ok:
                    latencies.append(time.perf_counter() - t0)
                else:
                    errors[kind] = errors.get(kind, 0) + 1
                i += clients

        start = time.monotonic()
        await asyncio.gather(*(worker(k) for k in range(clients)))
        elapsed = time.monotonic() - start
    latencies.sort()
    return {"requests": len(latencies), "seconds": elapsed,
            "requests_per_s": len(latencies) / elapsed if elapsed else 0.0,
            "p50_ms": _percentile(latencies, 0.5) * 1000, "p99_ms": _percentile(latencies, 0.99)
            * 1000, "errors": sum(errors.values()), "error_kinds": errors}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_server(*args: str, startup_s: float = 120.0, quiet: bool = False
                   ) -> Iterator[str]:
    """`ringrift serve ARGS` on a free loopback port until the block ends; yields its URL."""
    import httpx

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "ringrift", "serve", "--port", str(port),
                             *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_s
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"ringrift serve exited {proc.returncode}: "
                                   f"{proc.stdout.read() if proc.stdout else ''}")
            try:
                if httpx.get(f"{url}/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("ringrift serve did not start")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def bench_serve(model: str, engines: list[tuple[str, int | None]], *,
                clients: int, duration: float, positions: list[dict],
                amp: bool, threads: int | None) -> list[dict[str, Any]]:
    """Run the server with `model` and load it once per engine; one result dict per engine."""
    import asyncio

    import httpx

    args = ["--model", model, "--max-active", str(max(64, clients)), "--max-visits", "100000"]
    if amp:
        args.append("--amp")
    if threads:
        args += ["--threads", str(threads)]
    results = []
    with running_server(*args) as url:
        for name, visits in engines:
            def body_for(i: int, name=name, visits=visits) -> dict[str, Any]:
                body: dict[str, Any] = {"state": positions[i % len(positions)], "engine": name,
                                        "timeLimitMs": 30000}
                if visits:
                    body["maxVisits"] = visits
                return body

            warm = httpx.post(f"{url}/v1/move", json=body_for(0), timeout=120)
            if warm.status_code != 200:
                from ringrift.errors import UserError

                raise UserError(f"bench serve: {name}: {warm.text[:300]}")
            before = _metric_sum_count(httpx.get(f"{url}/metrics", timeout=30).text)
            figures = asyncio.run(_load(url, body_for, clients, duration))
            after = _metric_sum_count(httpx.get(f"{url}/metrics", timeout=30).text)
            calls = after[1] - before[1]
            figures.update(engine=name if not visits else f"{name} {visits}",
                           network_calls=int(calls),
                           mean_batch=(after[0] - before[0]) / calls if calls else 0.0)
            results.append(figures)
    return results


def load_test(settings: LoadTestSettings) -> dict[str, Any]:
    """The load test `settings` describe: {"model", "clients", "duration", "results": one dict
    per engine (requests, requests_per_s, p50_ms, p99_ms, mean_batch, errors, ...)}."""
    settings.validate()
    spec = settings.spec
    positions = sample_positions(spec, settings.positions, settings.seed)
    with tempfile.TemporaryDirectory() as tmp:
        model = settings.model or str(random_model(Path(tmp), spec, settings.seed))
        results = bench_serve(model, parse_engines(settings.engines), clients=settings.clients,
                              duration=settings.duration, positions=positions,
                              amp=settings.amp, threads=settings.threads)
    return {"model": settings.model or "random v2", "clients": settings.clients,
            "duration": settings.duration, "results": results}

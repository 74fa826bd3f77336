"""The selfplay daemon: keep adding games, played by the registry's current production model.

Before each game (each batch of games with `batch_size > 1`) the daemon asks the model registry
for the production model of its board and player count (one indexed query; compares id and
SHA-256). When it changed, the new file's SHA-256 is verified and the model is loaded. Until
there is a production model the daemon plays its bootstrap engine (by default the engine itself
without a network: the search engines then evaluate leaves with the heuristic). Each stored game
names the model that played it in `metadata["model"]` (None: no model).

A game is stored only once it is finished. The first SIGTERM/SIGINT *abandons* the games in
flight (they are not stored; nothing half-played is ever written), closes the database and
returns; a second signal exits at once (status 128 + signal number). With several workers each
process follows the registry itself and sends its finished games to the parent, which stores
them.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue as queue_mod
import signal
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ringrift.ai.factory import NETWORK_ENGINES, SEARCH_ENGINES
from ringrift.data.records import GameRecord
from ringrift.errors import UserError
from ringrift.registry import ModelEntry, ModelRegistry
from ringrift.selfplay.batched import play_batched
from ringrift.selfplay.output import GameSink
from ringrift.selfplay.runner import SelfplayConfig

# engines that play with a network when given one (the others never use the registry)
MODEL_ENGINES = (*SEARCH_ENGINES, *NETWORK_ENGINES)
DAEMON_FORMATS = ("db", "jsonl")  # npz is written only when a run ends

Log = Callable[[str], None]


@dataclass
class DaemonConfig:
    """What the daemon plays, where it stores games, and which registry it follows."""

    selfplay: SelfplayConfig
    output_dir: Path
    registry: Path
    registry_required: bool = True  # False: a missing registry means "no model yet"
    fmt: str = "db"
    bootstrap_engine: str | None = None  # played without a production model; None: the engine
    workers: int = 1
    batch_size: int = 1
    max_games: int | None = None  # stop after this many stored games (None: until a signal)
    status_interval_s: float = 60.0

    def validate(self) -> None:
        self.selfplay.validate()
        if self.fmt not in DAEMON_FORMATS:
            raise UserError(f"--format {self.fmt} is not supported with --daemon (the daemon "
                            f"appends game by game: use {' or '.join(DAEMON_FORMATS)})")
        if self.bootstrap_engine is not None:
            replace(self.selfplay, engine=self.bootstrap_engine).validate()
            if self.bootstrap_engine in NETWORK_ENGINES:
                raise UserError(f"--bootstrap-engine {self.bootstrap_engine} needs a model")
        if self.workers < 1:
            raise UserError("--workers must be at least 1")
        if self.batch_size < 1:
            raise UserError("--batch-size must be at least 1")
        if self.max_games is not None and self.max_games < 1:
            raise UserError("--max-games must be at least 1")
        if self.status_interval_s <= 0:
            raise UserError("--status-interval must be positive")
        if self.registry.is_dir():
            raise UserError(f"--registry {self.registry} is a folder, not a database file")
        if self.registry_required and not self.registry.is_file():
            raise UserError(f"--registry {self.registry}: no such file")

    @property
    def fallback_engine(self) -> str:
        return self.bootstrap_engine or self.selfplay.engine


@dataclass
class DaemonSummary:
    games: int
    seconds: float
    path: Path
    last_model: str


class GameAbandoned(BaseException):
    """Raised out of a game in flight by a stop signal (BaseException: no `except Exception`
    on the way may swallow it)."""


class StopGuard:
    """Turns stop signals into a stop request. The first abandons the game in flight, if one is
    marked `abandonable()`, else just asks the loop to end; a second exits at once."""

    def __init__(self, signals: Sequence[int] = (signal.SIGINT, signal.SIGTERM)) -> None:
        self.signals = tuple(signals)
        self.stopping = False
        self._active = False
        self._previous: dict[int, Any] = {}

    def install(self) -> StopGuard:
        # (signal handlers can only be set from the main thread; elsewhere: stop by max_games)
        if threading.current_thread() is threading.main_thread():
            for sig in self.signals:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous = {}

    def _handle(self, signum: int, frame: object) -> None:
        if self.stopping:
            raise SystemExit(128 + signum)
        self.stopping = True
        if self._active:
            self._active = False
            raise GameAbandoned()

    @contextmanager
    def abandonable(self) -> Iterator[None]:
        """Mark the enclosed code (playing, never storing) as safe to interrupt."""
        self._active = True
        try:
            if self.stopping:
                raise GameAbandoned()
            yield
        finally:
            self._active = False


class ModelFollower:
    """The configuration the next game is played with: the engine with the registry's
    production model when there is one (and the engine uses models), else the fallback."""

    def __init__(self, config: DaemonConfig) -> None:
        self.base = config.selfplay
        self.registry_path = config.registry
        self.uses_model = self.base.engine in MODEL_ENGINES
        self.fallback_engine = config.fallback_engine
        self.entry: ModelEntry | None = None
        self.game_config = replace(self.base, engine=config.fallback_engine,
                                   options=replace(self.base.options, model_path=None))
        self._registry: ModelRegistry | None = None
        self._refused: tuple[int, str] | None = None
        self._last_warning: str | None = None

    def close(self) -> None:
        if self._registry is not None:
            self._registry.close()
            self._registry = None

    def describe(self) -> str:
        return model_label(self.model_metadata(), self.game_config.engine)

    def model_metadata(self) -> dict[str, Any] | None:
        """What `metadata["model"]` of a game played now records."""
        if self.entry is None:
            return None
        return {"registry_id": self.entry.id, "name": self.entry.name,
                "version": self.entry.version, "sha256": self.entry.sha256,
                "path": str(self.entry.path)}

    def check(self, strict: bool = False) -> list[str]:
        """Follow a change of production model; return lines to log. `strict`: raise UserError
        on an unreadable registry or an unusable model (at start) instead of keeping on."""
        if not self.uses_model:
            return []
        try:
            latest = self._production()
        except (UserError, sqlite3.Error) as exc:
            if strict:
                raise UserError(f"registry {self.registry_path}: {exc}") from None
            return self._warn(f"cannot read registry {self.registry_path} ({exc}); still "
                              f"playing {self.describe()}")
        self._last_warning = None
        key = None if latest is None else (latest.id, latest.sha256)
        if key == (None if self.entry is None else (self.entry.id, self.entry.sha256)):
            return []
        if latest is None:
            self._forget(self.game_config.options.model_path)
            self.entry = None
            self.game_config = replace(self.base, engine=self.fallback_engine,
                                       options=replace(self.base.options, model_path=None))
            return [f"no production model any more: playing {self.describe()}"]
        if key == self._refused:
            return []
        try:
            self._load(latest)
        except UserError as exc:
            if strict:
                raise
            self._refused = key
            return [f"cannot use production model {latest.name} v{latest.version} (id "
                    f"{latest.id}): {exc}; still playing {self.describe()}"]
        return [f"picked up model {latest.name} v{latest.version} (id {latest.id}, sha256 "
                f"{latest.sha256[:12]})"]

    def _warn(self, line: str) -> list[str]:
        if line == self._last_warning:
            return []
        self._last_warning = line
        return [line]

    def _production(self) -> ModelEntry | None:
        if self._registry is None:
            if not self.registry_path.is_file():
                return None  # (only when not required) no registry yet: no model yet
            self._registry = ModelRegistry(self.registry_path, create=False)
        return self._registry.get_production(self.base.board_type, self.base.num_players)

    def _load(self, entry: ModelEntry) -> None:
        from ringrift.ai.factory import make_player

        assert self._registry is not None
        path = str(self._registry.load_path(entry))  # verifies the SHA-256
        options = replace(self.base.options, model_path=path)
        config = replace(self.base, options=options)
        old = self.game_config.options.model_path
        if old == path:
            self._forget(old)  # same file, new content: never play the cached old weights
        _set_torch_threads(options.threads or 1)
        # builds (and caches) the network once; fails on a model of another board or kind
        make_player(config.engine, config.board_type, config.num_players, 0, options)
        if old and old != path:
            self._forget(old)
        self.entry, self.game_config = entry, config

    @staticmethod
    def _forget(path: str | None) -> None:
        """Drop a replaced model from the per-process model caches (a daemon sees many)."""
        if path:
            from ringrift.ai.factory import forget_model

            forget_model(path)


def model_label(model: dict[str, Any] | None, engine: str) -> str:
    """How logs name what plays: a game's `metadata["model"]` (None: the engine alone)."""
    if model is not None:
        return f"{model['name']} v{model['version']} (id {model['registry_id']})"
    leaves = " with heuristic leaves" if engine in SEARCH_ENGINES else ""
    return f"no model ({engine}{leaves})"


def _set_torch_threads(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)


def play_loop(follower: ModelFollower, batch_size: int, claim: Callable[[int], range],
              emit: Callable[[GameRecord], None], log: Log, guard: StopGuard,
              keep_going: Callable[[], bool] = lambda: True) -> None:
    """Check the registry, claim game indices, play them, emit finished games; until stopped or
    no index is left. Only playing is abandonable, never `emit` (storing)."""
    while keep_going() and not guard.stopping:
        for line in follower.check():
            log(line)
        indices = claim(batch_size)
        if not indices:
            return
        config, model = follower.game_config, follower.model_metadata()
        games = play_batched(config, list(indices), batch_size)
        try:
            while True:
                with guard.abandonable():
                    record = next(games, None)
                if record is None:
                    break
                record.metadata["model"] = model
                emit(record)
        except GameAbandoned:
            return


class _Progress:
    def __init__(self, interval_s: float, log: Log, model: str) -> None:
        self.interval_s = interval_s
        self.log = log
        self.games = 0
        self.started = self.last_report = time.monotonic()
        self.model = model  # of the last stored game (at start: what the first will play)

    def stored(self, record: GameRecord) -> None:
        self.games += 1
        self.model = model_label(record.metadata.get("model"), record.engines[0])
        self.maybe_report()

    def maybe_report(self) -> None:
        now = time.monotonic()
        if now - self.last_report >= self.interval_s:
            self.last_report = now
            self.log(self.line())

    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.games / elapsed if elapsed > 0 else 0.0

    def line(self) -> str:
        return f"{self.games} games, {self.rate():.2f} games/s, current model {self.model}"


def run_daemon(config: DaemonConfig, log: Log = print,
               on_game: Callable[[GameRecord, int], None] | None = None) -> DaemonSummary:
    """Play and store games until a stop signal or `max_games`; `on_game(record, stored)` runs
    after each stored game (tests use it to act between games)."""
    config.validate()
    # At start a broken registry or production model is the user's to fix (UserError); later
    # the daemon logs it and keeps playing what it has.
    check_config = config
    if config.workers > 1:  # the parent only checks; workers load for themselves
        check_config = replace(config, selfplay=replace(
            config.selfplay, options=replace(config.selfplay.options, device="cpu")))
    follower = ModelFollower(check_config)
    try:
        startup_lines = follower.check(strict=True)
        sink = GameSink(config.output_dir, config.fmt, config.selfplay.board_type,
                        config.selfplay.num_players)
    except BaseException:
        follower.close()
        raise
    start = sink.existing
    sc = config.selfplay
    log(f"selfplay daemon: {sc.board_type} {sc.num_players}p, engine {sc.engine}, seed "
        f"{sc.seed}, {config.workers} worker(s) -> {sink.path} ({start} games there); registry "
        f"{config.registry}" + ("" if follower.uses_model else
                                f" (not used: engine {sc.engine} plays without a model)"))
    for line in startup_lines:
        log(line)
    progress = _Progress(config.status_interval_s, log, follower.describe())
    end = None if config.max_games is None else start + config.max_games
    guard = StopGuard().install()
    try:
        if config.workers == 1:
            next_index = [start]

            def claim(n: int) -> range:
                first = next_index[0]
                last = first + n if end is None else min(first + n, end)
                next_index[0] = max(first, last)
                return range(first, last)

            def emit(record: GameRecord) -> None:
                sink.add(record)
                progress.stored(record)
                if on_game is not None:
                    on_game(record, progress.games)

            play_loop(follower, config.batch_size, claim, emit, log, guard)
        else:
            follower.close()
            follower._forget(follower.game_config.options.model_path)
            picked = [line for line in startup_lines if line.startswith("picked up")]
            _serve_with_workers(config, start, end, sink, progress, guard, log, on_game,
                                picked[-1] if picked else None)
    finally:
        guard.restore()
        follower.close()
        sink.close()
    summary = DaemonSummary(progress.games, time.monotonic() - progress.started, sink.path,
                            progress.model)
    log(f"stopped: {summary.games} games stored in {summary.seconds:.1f} s "
        f"({progress.rate():.2f} games/s), last model {progress.model} -> {sink.path}")
    return summary


# ------------------------------------------------------------------------------ workers

def _claim_shared(counter, end: int | None, n: int) -> range:
    with counter.get_lock():
        first = counter.value
        last = first + n if end is None else min(first + n, end)
        counter.value = max(first, last)
    return range(first, last)


def _worker_main(config: DaemonConfig, worker_id: int, counter, end: int | None, stop_event,
                 out, parent_pid: int) -> None:
    # Ctrl-C reaches the whole process group: the parent decides, and stops us with SIGTERM.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    guard = StopGuard((signal.SIGTERM,)).install()
    follower = None
    try:
        follower = ModelFollower(config)
        play_loop(follower, config.batch_size,
                  lambda n: _claim_shared(counter, end, n),
                  lambda record: out.put(("game", record)),
                  lambda line: out.put(("log", line)), guard,
                  lambda: not stop_event.is_set() and os.getppid() == parent_pid)
        out.put(("done", worker_id))
    except SystemExit:
        raise
    except UserError as exc:
        out.put(("user_error", str(exc)))
    except BaseException as exc:  # report, so the parent does not wait forever
        out.put(("error", f"worker {worker_id}: {type(exc).__name__}: {exc}"))
    finally:
        if follower is not None:
            follower.close()


def _serve_with_workers(config: DaemonConfig, start: int, end: int | None, sink: GameSink,
                        progress: _Progress, guard: StopGuard, log: Log,
                        on_game: Callable[[GameRecord, int], None] | None,
                        model_line: str | None) -> None:
    # torch is not fork-safe: spawn when a network may be loaded (the parent has loaded one)
    uses_model = config.selfplay.engine in MODEL_ENGINES
    ctx = mp.get_context("spawn" if uses_model else "fork")
    counter = ctx.Value("q", start)
    stop_event = ctx.Event()
    out = ctx.Queue(maxsize=4 * config.workers * config.batch_size)
    procs = [ctx.Process(target=_worker_main, daemon=True,
                         args=(config, w, counter, end, stop_event, out, os.getpid()))
             for w in range(config.workers)]
    for p in procs:
        p.start()
    running = set(range(config.workers))
    warnings: set[str] = set()
    deadline: float | None = None
    try:
        while running:
            if guard.stopping and deadline is None:
                stop_event.set()
                for p in procs:
                    if p.is_alive():
                        p.terminate()  # SIGTERM: the worker abandons its game and reports done
                deadline = time.monotonic() + 30.0
            try:
                kind, payload = out.get(timeout=0.2)
            except queue_mod.Empty:
                for w in list(running):
                    if not procs[w].is_alive():
                        running.discard(w)
                        if not guard.stopping:
                            raise RuntimeError(f"selfplay worker {w} exited with status "
                                               f"{procs[w].exitcode} without reporting") from None
                if deadline is not None and time.monotonic() > deadline:
                    break
                progress.maybe_report()
                continue
            if kind == "game":
                sink.add(payload)
                progress.stored(payload)
                if on_game is not None:
                    on_game(payload, progress.games)
            elif kind == "log":
                if payload.startswith(("picked up", "no production")):
                    if payload != model_line:  # every worker picks up the same model
                        model_line = payload
                        log(payload)
                elif payload not in warnings:
                    warnings.add(payload)
                    log(payload)
            elif kind == "done":
                running.discard(payload)
                if end is None and not guard.stopping:
                    # a worker stops unasked only on a signal of its own (e.g. a SIGTERM sent to
                    # the whole process group, which may reach it first): stop them all
                    guard.stopping = True
            elif kind == "user_error":
                raise UserError(payload)
            else:
                raise RuntimeError(f"selfplay worker failed: {payload}")
    finally:
        stop_event.set()
        for p in procs:
            if p.is_alive():
                p.terminate()
        for p in procs:
            p.join(timeout=5)
            if p.is_alive():
                p.kill()
                p.join()

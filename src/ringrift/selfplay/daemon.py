"""The selfplay daemon: keep adding games, played by the registry's current production model.

Before each game (each batch of games with `batch_size > 1`) the daemon asks the model registry
for the production model of its board and player count (one indexed query; compares id and
SHA-256). When it changed, the new file's SHA-256 is verified and the model is loaded. Until
there is a production model the daemon plays its bootstrap engine (by default the engine itself
without a network: the search engines then evaluate leaves with the heuristic). Each stored game
names the model that played it in `metadata["model"]` (None: no model).

A game is stored only once it is finished. The first SIGTERM/SIGINT *abandons* the games in
flight (they are not stored; nothing half-played is ever written), closes the database and
returns; a second signal exits at once (status 128 + signal number). With several workers (or
on Ray) they run on the executor (`ringrift.exec`): this process follows the registry, hands each
unit of games the model to play, and stores the finished games. A worker that dies while the
daemon is not stopping (an exception in a game, or killed: OOM, a segfault, its node lost) is
logged and replaced; its unit is played again. More than MAX_CRASHES (5) crashes
within CRASH_WINDOW_S (60 s), or more than 5 in a row with no game stored in between, is a crash
loop: the daemon closes the database and stops with WorkerCrashLoop (a UserError: exit status 2).
"""

from __future__ import annotations

import re
import signal
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ringrift.ai.engines import MODEL_ENGINES, NETWORK_ENGINES, SEARCH_ENGINES
from ringrift.config_defaults import DEFAULT_GAMES_PER_WORKER, DEFAULT_WORKERS
from ringrift.data.records import GameRecord
from ringrift.errors import ConfigError, UserError
from ringrift.registry import ModelEntry, ModelRegistry
from ringrift.selfplay.batched import play_batched
from ringrift.selfplay.output import GameSink
from ringrift.selfplay.runner import SelfplayConfig

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
    workers: int = DEFAULT_WORKERS
    batch_size: int = DEFAULT_GAMES_PER_WORKER
    max_games: int | None = None  # stop after this many stored games (None: until a signal)
    status_interval_s: float = 60.0
    # "ray": the workers are Ray actors fed by this process's executor (ringrift.exec), which
    # follows the registry and hands each unit of games the model to play
    backend: str = "local"
    ray_address: str | None = None

    def validate(self) -> None:
        from ringrift.exec import check_backend

        self.selfplay.validate(require_models=False)  # the registry supplies the model
        check_backend(self.backend, self.ray_address)
        if self.bootstrap_engine is None and any(e in NETWORK_ENGINES
                                                 for e in self.selfplay.engines()):
            raise ConfigError("bootstrap_engine", f"is needed: engine {self.selfplay.engine} "
                              f"plays the registry's production model, and the games before "
                              f"there is one need another engine")
        if self.fmt not in DAEMON_FORMATS:
            raise ConfigError("fmt", f"{self.fmt} is not supported by the daemon (it appends "
                              f"game by game: use {' or '.join(DAEMON_FORMATS)})")
        if self.bootstrap_engine is not None:
            replace(self.selfplay, engine=self.bootstrap_engine).validate()
            if self.bootstrap_engine in NETWORK_ENGINES:
                raise ConfigError("bootstrap_engine", f"{self.bootstrap_engine} needs a model")
        if self.workers < 1:
            raise ConfigError("workers", "must be at least 1")
        if self.batch_size < 1:
            raise ConfigError("batch_size", "must be at least 1")
        if self.max_games is not None and self.max_games < 1:
            raise ConfigError("max_games", "must be at least 1")
        if self.status_interval_s <= 0:
            raise ConfigError("status_interval_s", "must be positive")
        if self.registry.is_dir():
            raise ConfigError("registry", f"{self.registry} is a folder, not a database file")
        if self.registry_required and not self.registry.is_file():
            raise ConfigError("registry", f"{self.registry}: no such file")

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
        # engines that play with a network when given one (the others never use the registry)
        self.uses_model = any(e in MODEL_ENGINES for e in self.base.engines())
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
        from ringrift.ai.engines import make_player

        assert self._registry is not None
        path = str(self._registry.load_path(entry))  # verifies the SHA-256
        options = replace(self.base.options, model_path=path)
        config = replace(self.base, options=options)
        old = self.game_config.options.model_path
        if old == path:
            self._forget(old)  # same file, new content: never play the cached old weights
        _set_torch_threads(options.threads or 1)
        # builds (and caches) the network once; fails on a model of another board or kind
        for engine in config.engines():
            if engine in MODEL_ENGINES:
                make_player(engine, config.spec, options)
        if old and old != path:
            self._forget(old)
        self.entry, self.game_config = entry, config

    @staticmethod
    def _forget(path: str | None) -> None:
        """Drop a replaced model from the per-process model caches (a daemon sees many)."""
        if path:
            from ringrift.ai.model_cache import forget_model

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
    if config.workers > 1 or config.backend != "local":  # the workers load for themselves
        check_config = replace(config, selfplay=replace(
            config.selfplay, options=replace(config.selfplay.options, device="cpu")))
    follower = ModelFollower(check_config)
    try:
        startup_lines = follower.check(strict=True)
        sink = GameSink(config.output_dir, config.fmt, config.selfplay.spec)
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
        if config.backend != "local" or config.workers > 1:
            _serve_with_executor(config, follower, start, end, sink, progress, guard, on_game)
        else:  # one worker: play in this process
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
    finally:
        guard.restore()
        follower.close()
        sink.close()
    summary = DaemonSummary(progress.games, time.monotonic() - progress.started, sink.path,
                            progress.model)
    log(f"stopped: {summary.games} games stored in {summary.seconds:.1f} s "
        f"({progress.rate():.2f} games/s), last model {progress.model} -> {sink.path}")
    return summary


# ------------------------------------------------------------------------------ executor

_PLAYED_MODEL: list[str | None] = [None]  # the model file this worker process plays now


def play_daemon_unit(unit: tuple[SelfplayConfig, tuple[int, ...], int, dict | None]
                     ) -> list[GameRecord]:
    """In a worker: play one unit (config with the model to play, indices, batch size, the
    model's registry record), each game naming the model in `metadata["model"]`."""
    config, indices, batch_size, model = unit
    path = config.options.model_path
    if _PLAYED_MODEL[0] not in (None, path):  # a promotion: drop the old network
        from ringrift.ai.model_cache import forget_model

        forget_model(_PLAYED_MODEL[0])
    _PLAYED_MODEL[0] = path
    records = list(play_batched(config, list(indices), batch_size))
    for record in records:
        record.metadata["model"] = model
    return records


def _run_unit(unit) -> list[GameRecord]:
    """What the executor sends to the workers (looks `play_daemon_unit` up when called, so a
    test may replace it in forked workers)."""
    return play_daemon_unit(unit)


def _serve_with_executor(config: DaemonConfig, follower: ModelFollower, start: int,
                         end: int | None, sink: GameSink, progress: _Progress, guard: StopGuard,
                         on_game: Callable[[GameRecord, int], None] | None) -> None:
    """The daemon's workers on the executor (local processes or Ray actors): this process
    follows the registry before handing out each unit of `batch_size` games, so the workers
    play a promoted model from the next unit on, without a restart; it stores every finished
    game. A stop signal abandons the units in flight. A worker that dies, or whose game raises,
    is a crash: logged, and its unit is played again (by its replacement), within the
    crash-loop rule (see MAX_CRASHES)."""
    from ringrift.exec import Executor

    device = config.selfplay.options.device  # (the follower checks models on the CPU)
    crashes = _CrashLimit()
    next_index = start

    def units():
        nonlocal next_index
        while not guard.stopping and (end is None or next_index < end):
            for line in follower.check():
                progress.log(line)
            first = next_index
            next_index = first + config.batch_size if end is None else \
                min(first + config.batch_size, end)
            game_config = replace(follower.game_config, options=replace(
                follower.game_config.options, device=device))
            yield first, (game_config, tuple(range(first, next_index)), config.batch_size,
                          follower.model_metadata())

    def crashed(worker: str, reason: str, then: str) -> None:
        if guard.stopping:  # (a worker stopped with us: not a crash)
            raise GameAbandoned()
        give_up = crashes.crashed()
        if give_up is not None:
            raise WorkerCrashLoop(f"selfplay workers keep crashing ({give_up}; last: {worker}: "
                                  f"{reason}): giving up; the {progress.games} game(s) stored "
                                  f"by this run are kept")
        progress.log(f"selfplay {worker} crashed: {reason}; {then} (restart {crashes.total})")

    executor = Executor(
        config.workers, backend=config.backend, ray_address=config.ray_address,
        network=follower.uses_model, threads=config.selfplay.options.threads or 1,
        max_job_losses=None,  # (the crash-loop rule decides)
        # torch is not fork-safe: spawn when a network may be loaded, else fork (fast starts)
        start_method=None if config.backend != "local" else
        ("spawn" if follower.uses_model else "fork"),
        on_lost=lambda loss: crashed(loss.worker, loss.reason,
                                     f"started {loss.replacement} in its place"),
        on_failure=lambda worker, exc, text: crashed(worker, _describe_failure(exc, text),
                                                     "its games are played again"))
    stream = executor.unordered(_run_unit, units())
    try:
        while True:
            with guard.abandonable():
                item = next(stream, None)
            if item is None:
                return
            for record in item[1]:
                sink.add(record)
                crashes.game_stored()
                progress.stored(record)
                if on_game is not None:
                    on_game(record, progress.games)
    except GameAbandoned:
        return
    finally:
        stream.close()
        executor.close()


def _describe_failure(exc: BaseException, text: str) -> str:
    """One line: the exception and where it was raised (from the worker's traceback text)."""
    line = " ".join(f"{type(exc).__name__}: {exc}".split())
    if len(line) > 300:
        line = line[:297] + "..."
    frames = re.findall(r'File "([^"]+)", line (\d+)', text)
    if frames:
        line += f" (at {Path(frames[-1][0]).name}:{frames[-1][1]})"
    return line


# ------------------------------------------------------------------------------ workers

# The crash-loop rule: a worker that dies while the daemon is not stopping is replaced, unless
# that makes more than MAX_CRASHES crashes within CRASH_WINDOW_S seconds, or more than MAX_CRASHES
# in a row with no game stored in between; then the daemon gives up (WorkerCrashLoop).
MAX_CRASHES = 5
CRASH_WINDOW_S = 60.0


class WorkerCrashLoop(UserError):
    """Selfplay workers die too often to go on (the CLI prints one line and exits 2)."""


class _CrashLimit:
    """Counts worker crashes; says when the crash-loop rule (see MAX_CRASHES) is broken."""

    def __init__(self, limit: int = MAX_CRASHES, window_s: float = CRASH_WINDOW_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window_s = window_s
        self.clock = clock
        self.total = 0
        self.in_a_row = 0  # since the last stored game
        self._recent: deque[float] = deque()

    def game_stored(self) -> None:
        self.in_a_row = 0

    def crashed(self) -> str | None:
        """Count a crash; return why the daemon must give up, or None (restart the worker)."""
        now = self.clock()
        self.total += 1
        self.in_a_row += 1
        self._recent.append(now)
        while now - self._recent[0] > self.window_s:
            self._recent.popleft()
        if len(self._recent) > self.limit:
            return f"{len(self._recent)} worker crashes within {self.window_s:g} s"
        if self.in_a_row > self.limit:
            return f"{self.in_a_row} worker crashes in a row without a game stored"
        return None

"""Game records: everything needed to replay a finished game and to train from it.

One `GameRecord` serialises to one JSON object (one JSONL line, one `games` row plus its
`moves` rows):

    {"format": "ringrift-game", "format_version": 1,
     "game": {game_id, board_type, num_players, engines, seed, created_at, source,
              temperature_schedule, metadata},
     "initial_state": {...canonical state JSON (RULES.md §6.3)...},
     "moves": [{index, player, phase, move, policy?, value?, think_time_s}, ...],
     "result": {status, winner, victory_reason, final_ranks, move_count, timings}}

States and moves are kept as the canonical JSON dicts of RULES.md §6; this module never
interprets them, so it does not depend on the rules engine.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ringrift.errors import UserError

FORMAT = "ringrift-game"
FORMAT_VERSION = 1
STATUSES = ("completed", "max_moves", "aborted")

# SQLite stores integers as signed 64-bit; a seed outside this range could not be stored.
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1

PolicyEntry = tuple[dict[str, Any], float]


def utc_now_iso() -> str:
    """The current time as a canonical ISO-8601 UTC string (see `normalize_timestamp`)."""
    return _format_utc(datetime.now(UTC))


def normalize_timestamp(value: str | datetime) -> str:
    """Return `value` as `YYYY-MM-DDTHH:MM:SS.ffffffZ` (UTC; naive times are taken as UTC).

    The fixed width makes string order equal time order, which the database's `since`
    filter relies on. Raises ValueError (TypeError) if `value` is not an ISO-8601 timestamp.
    """
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        moment = datetime.fromisoformat(value)
    else:
        raise TypeError(f"expected an ISO-8601 string, got {type(value).__name__}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return _format_utc(moment)


def _format_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class MoveRecord:
    """One applied move, with the search's view of the position when it was chosen.

    `index` is the 0-based position in the game; `policy` is the search policy over the legal
    moves as (move JSON, probability) pairs, kept sorted by probability descending; `value` is
    the value estimate, one float per player in seat order.
    """

    index: int
    player: int
    phase: str
    move: dict[str, Any]
    policy: list[PolicyEntry] | None = None
    value: list[float] | None = None
    think_time_s: float = 0.0

    def __post_init__(self) -> None:
        if self.policy is not None:
            pairs = [(entry[0], float(entry[1])) for entry in self.policy]
            # Stable sort: equal probabilities keep the producer's order.
            self.policy = sorted(pairs, key=lambda pair: -pair[1])
        if self.value is not None:
            self.value = [float(v) for v in self.value]
        self.think_time_s = float(self.think_time_s)

    def to_json(self) -> dict[str, Any]:
        """This move as a JSON object (optional fields left out when absent)."""
        out: dict[str, Any] = {"index": self.index, "player": self.player, "phase": self.phase,
                               "move": self.move}
        if self.policy is not None:
            out["policy"] = [[move, prob] for move, prob in self.policy]
        if self.value is not None:
            out["value"] = list(self.value)
        out["think_time_s"] = self.think_time_s
        return out

    @classmethod
    def from_json(cls, obj: Any, where: str = "move") -> MoveRecord:
        """Parse a move JSON object; UserError naming the field (prefixed by `where`) if bad."""
        _require_dict(obj, where)
        policy = obj.get("policy")
        if policy is not None:
            if not isinstance(policy, list):
                raise UserError(f"{where}.policy: expected a list of [move, probability] pairs")
            for k, entry in enumerate(policy):
                if (not isinstance(entry, list | tuple) or len(entry) != 2
                        or not isinstance(entry[0], dict) or not _is_number(entry[1])):
                    raise UserError(f"{where}.policy[{k}]: expected [move object, probability]")
        value = obj.get("value")
        if value is not None and (not isinstance(value, list)
                                  or not all(_is_number(v) for v in value)):
            raise UserError(f"{where}.value: expected a list of numbers")
        think = obj.get("think_time_s", 0.0)
        if not _is_number(think):
            raise UserError(f"{where}.think_time_s: expected a number, got {_kind(think)}")
        return cls(index=_get_int(obj, "index", where), player=_get_int(obj, "player", where),
                   phase=_get_str(obj, "phase", where), move=_get_dict(obj, "move", where),
                   policy=policy, value=value, think_time_s=think)


@dataclass
class GameRecord:
    """A finished (or stopped) game: setup, every move, and the result."""

    board_type: str
    num_players: int
    engines: list[str]
    seed: int
    initial_state: dict[str, Any]
    moves: list[MoveRecord] = field(default_factory=list)
    status: str = "completed"
    winner: int | None = None
    victory_reason: str | None = None
    final_ranks: list[int] | None = None
    timings: dict[str, Any] = field(default_factory=dict)
    created_at: str = field(default_factory=utc_now_iso)
    source: str = "selfplay"
    temperature_schedule: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    game_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def __post_init__(self) -> None:
        try:
            self.created_at = normalize_timestamp(self.created_at)
        except (TypeError, ValueError) as exc:
            raise UserError(f"game.created_at: not an ISO-8601 timestamp ({exc})") from None

    @property
    def move_count(self) -> int:
        """Number of moves played (derived from `moves`, so it can never disagree)."""
        return len(self.moves)

    def validate(self) -> None:
        """Check types and consistency; raise UserError naming the first bad field."""
        _check_str(self.game_id, "game.game_id")
        _check_str(self.board_type, "game.board_type")
        _check_int(self.num_players, "game.num_players", low=1)
        if (not isinstance(self.engines, list)
                or not all(isinstance(e, str) for e in self.engines)):
            raise UserError("game.engines: expected a list of strings, one per seat")
        if len(self.engines) != self.num_players:
            raise UserError(f"game.engines: {len(self.engines)} entries for "
                            f"{self.num_players} players")
        _check_int(self.seed, "game.seed", low=_INT64_MIN, high=_INT64_MAX)
        _check_str(self.source, "game.source")
        if self.temperature_schedule is not None:
            _check_str(self.temperature_schedule, "game.temperature_schedule")
        _check_dict(self.metadata, "game.metadata")
        _check_dict(self.initial_state, "initial_state")
        if self.status not in STATUSES:
            raise UserError(f"result.status: {self.status!r} is not one of {', '.join(STATUSES)}")
        if self.winner is not None:
            _check_int(self.winner, "result.winner", low=1, high=self.num_players)
        if self.victory_reason is not None:
            _check_str(self.victory_reason, "result.victory_reason")
        if self.final_ranks is not None:
            if (not isinstance(self.final_ranks, list)
                    or len(self.final_ranks) != self.num_players):
                raise UserError(f"result.final_ranks: expected {self.num_players} ranks")
            for seat, rank in enumerate(self.final_ranks):
                _check_int(rank, f"result.final_ranks[{seat}]", low=1, high=self.num_players)
        _check_dict(self.timings, "result.timings")
        for i, move in enumerate(self.moves):
            self._validate_move(i, move)

    def _validate_move(self, i: int, move: MoveRecord) -> None:
        where = f"moves[{i}]"
        if not isinstance(move, MoveRecord):
            raise UserError(f"{where}: expected a MoveRecord")
        _check_int(move.index, f"{where}.index")
        if move.index != i:
            raise UserError(f"{where}.index: is {move.index}, expected {i}")
        _check_int(move.player, f"{where}.player", low=1, high=self.num_players)
        _check_str(move.phase, f"{where}.phase")
        _check_dict(move.move, f"{where}.move")
        if move.policy is not None:
            for k, (policy_move, prob) in enumerate(move.policy):
                _check_dict(policy_move, f"{where}.policy[{k}]")
                if not (math.isfinite(prob) and 0.0 <= prob <= 1.0):
                    raise UserError(f"{where}.policy[{k}]: probability {prob} not in [0, 1]")
        if move.value is not None:
            if len(move.value) != self.num_players:
                raise UserError(f"{where}.value: {len(move.value)} entries for "
                                f"{self.num_players} players")
            if not all(math.isfinite(v) for v in move.value):
                raise UserError(f"{where}.value: values must be finite")
        if not (math.isfinite(move.think_time_s) and move.think_time_s >= 0.0):
            raise UserError(f"{where}.think_time_s: must be a finite number >= 0")

    def game_json(self) -> dict[str, Any]:
        """The `game` section of the JSON form."""
        return {"game_id": self.game_id, "board_type": self.board_type,
                "num_players": self.num_players, "engines": list(self.engines),
                "seed": self.seed, "created_at": self.created_at, "source": self.source,
                "temperature_schedule": self.temperature_schedule, "metadata": self.metadata}

    def result_json(self) -> dict[str, Any]:
        """The `result` section of the JSON form."""
        return {"status": self.status, "winner": self.winner,
                "victory_reason": self.victory_reason, "final_ranks": self.final_ranks,
                "move_count": self.move_count, "timings": self.timings}

    def to_json(self) -> dict[str, Any]:
        """This game as one JSON object (the JSONL line format)."""
        return {"format": FORMAT, "format_version": FORMAT_VERSION, "game": self.game_json(),
                "initial_state": self.initial_state,
                "moves": [m.to_json() for m in self.moves], "result": self.result_json()}

    @classmethod
    def from_json(cls, obj: Any) -> GameRecord:
        """Parse and validate a game JSON object; UserError naming the bad field."""
        _require_dict(obj, "game record")
        fmt = obj.get("format")
        if fmt != FORMAT:
            raise UserError(f"format: expected {FORMAT!r}, got {fmt!r}")
        version = obj.get("format_version")
        if not _is_int(version):
            raise UserError(f"format_version: expected an integer, got {_kind(version)}")
        if version != FORMAT_VERSION:
            raise UserError(f"format_version: {version} is not supported "
                            f"(this ringrift reads version {FORMAT_VERSION})")
        game = _get_dict(obj, "game", "")
        result = _get_dict(obj, "result", "")
        raw_moves = obj.get("moves")
        if not isinstance(raw_moves, list):
            raise UserError(f"moves: expected a list, got {_kind(raw_moves)}")
        moves = [MoveRecord.from_json(m, f"moves[{i}]") for i, m in enumerate(raw_moves)]
        move_count = _get_int(result, "move_count", "result")
        if move_count != len(moves):
            raise UserError(f"result.move_count: is {move_count} but the record holds "
                            f"{len(moves)} moves")
        record = cls(
            game_id=_get_str(game, "game_id", "game"),
            board_type=_get_str(game, "board_type", "game"),
            num_players=_get_int(game, "num_players", "game"),
            engines=_get_field(game, "engines", "game", list),
            seed=_get_int(game, "seed", "game"),
            created_at=_get_str(game, "created_at", "game"),
            source=_get_str(game, "source", "game"),
            temperature_schedule=_get_optional(game, "temperature_schedule", "game", str),
            metadata=_get_field(game, "metadata", "game", dict, default={}),
            initial_state=_get_dict(obj, "initial_state", ""),
            moves=moves,
            status=_get_str(result, "status", "result"),
            winner=_get_optional(result, "winner", "result", int),
            victory_reason=_get_optional(result, "victory_reason", "result", str),
            final_ranks=_get_optional(result, "final_ranks", "result", list),
            timings=_get_field(result, "timings", "result", dict, default={}),
        )
        record.validate()
        return record


# --- field helpers: each raises UserError("<section>.<field>: ...") -------------------------

def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _kind(value: Any) -> str:
    return "nothing" if value is None else type(value).__name__


def _require_dict(obj: Any, where: str) -> None:
    if not isinstance(obj, dict):
        raise UserError(f"{where}: expected a JSON object, got {_kind(obj)}")


_TYPE_NAMES = {str: "a string", int: "an integer", dict: "an object", list: "a list"}


def _matches(value: Any, kind: type) -> bool:
    return _is_int(value) if kind is int else isinstance(value, kind)


def _get_field(obj: Mapping[str, Any], key: str, where: str, kind: type,
               default: Any = ...) -> Any:
    name = f"{where}.{key}" if where else key
    if key not in obj:
        if default is not ...:
            return default
        raise UserError(f"{name}: missing")
    value = obj[key]
    if not _matches(value, kind):
        raise UserError(f"{name}: expected {_TYPE_NAMES[kind]}, got {_kind(value)}")
    return value


def _get_optional(obj: Mapping[str, Any], key: str, where: str, kind: type) -> Any:
    value = obj.get(key)
    if value is not None and not _matches(value, kind):
        raise UserError(f"{where}.{key}: expected {_TYPE_NAMES[kind]} or null, "
                        f"got {_kind(value)}")
    return value


def _get_str(obj: Mapping[str, Any], key: str, where: str) -> str:
    return _get_field(obj, key, where, str)


def _get_int(obj: Mapping[str, Any], key: str, where: str) -> int:
    return _get_field(obj, key, where, int)


def _get_dict(obj: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
    return _get_field(obj, key, where, dict)


def _check_str(value: Any, name: str) -> None:
    if not isinstance(value, str) or not value:
        raise UserError(f"{name}: expected a non-empty string, got {value!r}")


def _check_dict(value: Any, name: str) -> None:
    if not isinstance(value, dict):
        raise UserError(f"{name}: expected an object, got {_kind(value)}")


def _check_int(value: Any, name: str, low: int | None = None, high: int | None = None) -> None:
    if not _is_int(value):
        raise UserError(f"{name}: expected an integer, got {_kind(value)}")
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"{'' if low is None else low}..{'' if high is None else high}"
        raise UserError(f"{name}: {value} is out of range {bounds}")

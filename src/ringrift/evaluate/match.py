"""Playing matches: a candidate against an opponent, seats rotated, games optionally stored.

With N players the candidate takes one seat and the opponent engine all the others; game g puts
the candidate in seat (g mod N) + 1, so it sits in every seat equally. A win is a first place
(ties for first count as draws). Game g's seating and seed depend on g alone, so games can be
played in worker processes (`workers`, see `evaluate.pool`) with the same results.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass, field

from ringrift import rules
from ringrift.ai.game import PlayedGame, play_game
from ringrift.ai.player import Player
from ringrift.data.records import GameRecord
from ringrift.evaluate.pool import GamePool
from ringrift.evaluate.wilson import wilson_interval
from ringrift.selfplay.runner import game_record

PlayerFactory = Callable[[int], Player]  # seed -> a fresh player


@dataclass
class Participant:
    name: str
    make: PlayerFactory


@dataclass
class MatchResult:
    candidate: str
    opponent: str
    wins: int = 0
    draws: int = 0
    losses: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def games(self) -> int:
        return self.wins + self.draws + self.losses

    @property
    def win_rate(self) -> float:
        return (self.wins + 0.5 * self.draws) / self.games if self.games else 0.0

    def interval(self, confidence: float = 0.95) -> tuple[float, float]:
        return wilson_interval(self.wins, self.draws, self.losses, confidence)

    def add(self, outcome: str) -> None:
        """Count one game: 'win', 'draw' or 'loss' (see `seat_outcome`)."""
        if outcome == "win":
            self.wins += 1
        elif outcome == "draw":
            self.draws += 1
        elif outcome == "loss":
            self.losses += 1
        else:
            raise ValueError(f"outcome must be 'win', 'draw' or 'loss', got {outcome!r}")

    def line(self) -> str:
        low, high = self.interval()
        return (f"{self.candidate} vs {self.opponent}: {self.wins}-{self.draws}-{self.losses} "
                f"win rate {self.win_rate:.1%} (95% CI {low:.1%}-{high:.1%})")


def match_seed(seed: int, game: int) -> int:
    return (seed * 7919 + game * 104729) & 0x7FFFFFFF


def play_match(candidate, opponent, board_type: str, num_players: int, games: int,
               seed: int = 0, *, db=None, on_game: Callable[[MatchResult], None] | None = None,
               max_moves: int = 5000, workers: int = 1) -> MatchResult:
    """Play `games` games of `candidate` against `opponent` (Participants or EngineSpecs; with
    `workers` > 1, EngineSpecs, built in the worker processes). Games are counted, stored in
    `db` and reported to `on_game` in game order, so the result does not depend on `workers`."""
    if not (isinstance(candidate, Participant) or isinstance(opponent, Participant)):
        # (also for one worker: it sets torch's threads for the network players)
        pool = GamePool.for_players([candidate, opponent], workers)
    elif workers == 1:
        pool = GamePool(1)
    else:
        raise ValueError("play_match with workers > 1 needs EngineSpec players")
    label = f"{candidate.name} vs {opponent.name}"

    def jobs():
        for g in range(games):
            seat = g % num_players
            seated = tuple(candidate if s == seat else opponent for s in range(num_players))
            yield g, GameTask(seated, board_type, match_seed(seed, g), max_moves,
                              {"candidate_seat": seat + 1, "match": label})

    result = MatchResult(candidate.name, opponent.name)
    with pool, closing(pool.ordered(play_game_task, jobs())) as results:
        for g, record in results:
            result.add(seat_outcome(record.final_ranks, g % num_players))
            if record.status == "completed":
                reason = record.victory_reason
                result.reasons[reason] = result.reasons.get(reason, 0) + 1
            if db is not None:
                db.add_game(record)
            if on_game is not None:
                on_game(result)
    return result


@dataclass(frozen=True)
class GameTask:
    """One evaluation game: the player in each seat (a Participant, or an EngineSpec built
    where the game is played), board, seed, move cap and the record's metadata. Picklable
    (for worker processes) when the players are EngineSpecs."""

    players: tuple
    board_type: str
    game_seed: int
    max_moves: int = 5000
    metadata: dict = field(default_factory=dict)


def play_game_task(task: GameTask) -> GameRecord:
    """Play one game and return its record (source 'evaluation'; the caller stores it)."""
    n = len(task.players)
    seated = [p if isinstance(p, Participant) else p.participant(task.board_type, n)
              for p in task.players]
    game = play_seated_game(seated, task.board_type, task.game_seed, max_moves=task.max_moves)
    return game_record(game, [p.name for p in seated], task.game_seed, source="evaluation",
                       metadata=dict(task.metadata))


def play_seated_game(seated: Sequence[Participant], board_type: str, game_seed: int, *,
                     max_moves: int = 5000) -> PlayedGame:
    """One game with seated[s] in seat s + 1; that seat's player is made with game_seed + s."""
    players = [p.make(game_seed + s) for s, p in enumerate(seated)]
    return play_game(rules.new_game(board_type, len(seated)), players, max_moves=max_moves)


def seat_outcome(ranks: Sequence[int] | None, seat: int) -> str:
    """'win' (sole first place), 'draw' (shared first place, or no ranks: an unfinished game)
    or 'loss', for the 0-based `seat`."""
    if ranks is None:
        return "draw"
    if ranks[seat] != 1:
        return "loss"
    return "win" if list(ranks).count(1) == 1 else "draw"

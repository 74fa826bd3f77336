"""Early-stop verdict for a gauntlet with a pass threshold on the score rate.

The score rate counts draws as half a win: (wins + draws/2) / planned_games. The verdict is final
as soon as the remaining games can no longer change which side of the threshold the rate ends on.
"""

from __future__ import annotations

from typing import Literal

# "reported": an opponent without a threshold, played for its win rate only (every game, no gate);
# "no games": a gauntlet none of whose opponents could be played (it is not a pass)
Verdict = Literal["pass", "fail", "undecided", "reported", "no games"]


def gauntlet_verdict(wins: int, draws: int, losses: int, total_games: int,
                     threshold: float) -> Verdict:
    """'pass' once losing every remaining game still keeps rate >= threshold, 'fail' once winning
    every remaining game still leaves it below, else 'undecided'."""
    if min(wins, draws, losses) < 0:
        raise ValueError(f"negative game count: wins={wins} draws={draws} losses={losses}")
    if total_games <= 0:
        raise ValueError(f"total_games must be positive, got {total_games}")
    played = wins + draws + losses
    if played > total_games:
        raise ValueError(f"{played} games played but only {total_games} planned")
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be in [0, 1], got {threshold}")
    # Compare in half-points (integers) so a rate exactly at the threshold is not lost to rounding.
    points2 = 2 * wins + draws
    remaining2 = 2 * (total_games - played)
    needed2 = 2 * total_games * threshold
    if points2 >= needed2 - 1e-9:
        return "pass"
    if points2 + remaining2 < needed2 - 1e-9:
        return "fail"
    return "undecided"

"""One range check for every numeric flag of every command, applied after parsing.

Why one table: the same flag names recur across commands (`--games`, `--batch-size`,
`--temperature`, ...), and a check written per command is a check some command forgets. Every
float must be finite; every number must be >= 0 unless the table says otherwise; flags named in
the table get their own bounds. A command's own, narrower checks still apply after this.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass

from ringrift.errors import UserError
from ringrift.rules.spec import PLAYER_COUNTS


@dataclass(frozen=True)
class Bound:
    low: float | None = 0
    high: float | None = None
    low_open: bool = False  # low itself is excluded
    high_open: bool = False

    def problem(self, value: float) -> str | None:
        low_bad = self.low is not None and (value < self.low
                                            or (self.low_open and value == self.low))
        high_bad = self.high is not None and (value > self.high
                                              or (self.high_open and value == self.high))
        if not (low_bad or high_bad):
            return None
        if self.low is not None and self.high is not None:
            left, right = "(" if self.low_open else "[", ")" if self.high_open else "]"
            return f"must be in {left}{_num(self.low)}, {_num(self.high)}{right}"
        if self.low_open:
            return f"must be greater than {_num(self.low)}"
        return f"must be at least {_num(self.low)}"


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


POSITIVE = Bound(low=1)  # counts: games, epochs, workers, simulations, ...
GREATER_THAN_0 = Bound(low=0, low_open=True)
PROBABILITY = Bound(low=0, high=1)
FRACTION_BELOW_1 = Bound(low=0, high=1, high_open=True)
OPEN_PROBABILITY = Bound(low=0, high=1, low_open=True, high_open=True)

# dest -> bound; "command.dest" overrides for one command. Unlisted numbers: >= 0 and finite.
BOUNDS: dict[str, Bound] = {
    **{name: POSITIVE for name in (
        "games", "num_games", "iterations", "selfplay_games", "training_epochs", "epochs",
        "batch_size", "workers", "threads", "mcts_simulations", "opponent_mcts_simulations",
        "eval_mcts_simulations", "simulations", "searches", "selfplay_batch_size",
        "eval_batch_size", "eval_games", "games_per_pair", "max_games", "bootstrap_games",
        "samples_per_epoch", "min_window", "max_moves", "grad_accum", "hidden",
        "keep_checkpoints", "gumbel_considered", "search_depth", "limit",
        "max_samples", "sprt_max_games", "channels", "blocks", "lr_step_size")},
    "num_players": Bound(low=min(PLAYER_COUNTS), high=max(PLAYER_COUNTS)),
    "learning_rate": GREATER_THAN_0,
    "dirichlet_alpha": GREATER_THAN_0,
    "lr_gamma": GREATER_THAN_0,
    "status_interval": GREATER_THAN_0,
    "distill.temperature": GREATER_THAN_0,  # (divides the logits)
    "heuristic_epsilon": PROBABILITY,
    "val_split": FRACTION_BELOW_1,
    "val_fraction": FRACTION_BELOW_1,
    "label_smoothing": FRACTION_BELOW_1,
    "start_fraction": FRACTION_BELOW_1,
    "sprt_alpha": OPEN_PROBABILITY,
    "sprt_beta": OPEN_PROBABILITY,
}
ANY_SIGN: frozenset[str] = frozenset()  # dests that may be negative (none so far)
# No integer flag needs more than 31 bits (seeds are reduced to them); larger values only
# overflow a C integer deep inside SQLite, numpy or torch. Process counts are bounded too: a
# typo must not fork a million workers.
INT_MAX = 2**31 - 1
PROCESS_MAX = 1024
PROCESS_DESTS = ("workers", "threads")


def chosen_actions(parser: argparse.ArgumentParser,
                    args: argparse.Namespace) -> list[argparse.Action]:
    """The option actions of the (nested) subcommand that parsed `args`."""
    found: list[argparse.Action] = []
    current: argparse.ArgumentParser | None = parser
    while current is not None:
        nxt = None
        for action in current._actions:
            if isinstance(action, argparse._SubParsersAction):
                nxt = action.choices.get(getattr(args, action.dest, None) or "")
            elif action.option_strings:
                found.append(action)
        current = nxt
    return found


def check_flag_ranges(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Raise UserError naming the first numeric flag whose value is out of range."""
    command = getattr(args, "command", None)
    for action in chosen_actions(parser, args):
        value = getattr(args, action.dest, None)
        values = value if isinstance(value, list) else [value]
        for v in values:
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                continue
            flag = action.option_strings[0]
            if isinstance(v, float) and not math.isfinite(v):
                raise UserError(f"{flag} {v}: must be a finite number")
            bound = BOUNDS.get(f"{command}.{action.dest}", BOUNDS.get(action.dest))
            if bound is None:
                if action.dest in ANY_SIGN:
                    continue
                bound = Bound()
            problem = bound.problem(v)
            if problem is None and isinstance(v, int):
                limit = PROCESS_MAX if action.dest in PROCESS_DESTS else INT_MAX
                problem = f"must be at most {limit}" if v > limit else None
            if problem:
                raise UserError(f"{flag} {problem} (got {_num(v)})")

"""Flag values written as text, parsed into the values the library's config fields hold:
`--thresholds random=0.85,previous=none`, `--opponents random,previous`, `--sprt 0,35`, lists of
names or counts (`--backends local,ray`, `--workers 1,2`).

Only the syntax is checked here, and its errors name the flag. Whether the values make sense (a
threshold in [0, 1], elo0 < elo1, an opponent listed twice) is the config dataclass's own
validation: its ConfigError names the field, which cli/main.py reports as the flag.
"""

from __future__ import annotations

from ringrift.errors import UserError


def parse_thresholds(text: str | None) -> dict[str, float | None]:
    """'random=0.85,heuristic=0.6' -> {name: threshold}; RATE "none" makes the opponent
    report-only (None: every game is played for its win rate, nothing is gated)."""
    if text is None:
        return {}
    out: dict[str, float | None] = {}
    for item in text.split(","):
        name, sep, value = item.partition("=")
        name = name.strip()
        try:
            if not name or not sep:
                raise ValueError
            threshold = None if value.strip().lower() == "none" else float(value)
        except ValueError:
            raise UserError(f"--thresholds expects NAME=RATE|none[,...], got {text!r}") \
                from None
        if name in out:  # a dict keeps one: say so rather than keep the last silently
            raise UserError(f"--thresholds: {name} given twice")
        out[name] = threshold
    return out


def parse_names(text: str, flag: str) -> tuple[str, ...]:
    """'random,heuristic,previous' -> a tuple of names (no empty one)."""
    names = tuple(n.strip() for n in text.split(","))
    if any(not n for n in names):
        raise UserError(f"{flag} expects comma-separated names, got {text!r}")
    return names


def parse_counts(text: str, flag: str) -> tuple[int, ...]:
    """'1,2' -> (1, 2) (whether each count makes sense is the config's check)."""
    try:
        return tuple(int(x) for x in text.split(","))
    except ValueError:
        raise UserError(f"{flag} expects comma-separated counts, got {text!r}") from None


def parsed_or_default(value: str | tuple, parse, flag: str) -> tuple:
    """A list flag whose default is the config's tuple: the text given parsed by `parse(text,
    flag)`, or the default as it is (argparse leaves a default that is not text alone)."""
    return parse(value, flag) if isinstance(value, str) else value


def comma_joined(values: tuple) -> str:
    """A tuple default as its flag would be written: (1, 2) -> '1,2'."""
    return ",".join(str(v) for v in values)


def parse_sprt_bounds(text: str | None) -> tuple[float, float] | None:
    """'elo0,elo1' -> (elo0, elo1); None when the flag is not given."""
    if not text:
        return None
    parts = text.split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        elo0, elo1 = (float(p) for p in parts)
    except ValueError:
        raise UserError(f"--sprt expects 'elo0,elo1' (two numbers), got {text!r}") from None
    return elo0, elo1

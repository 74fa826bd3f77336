"""The mixed engine: picks an engine per game (or per seat) from weights."""

from __future__ import annotations

import random

from ringrift.errors import ConfigError


def parse_mix(spec: str) -> list[tuple[str, float]]:
    """'heuristic:0.8,random:0.2' -> [('heuristic', 0.8), ('random', 0.2)]."""
    out = []
    for part in spec.split(","):
        name, _, weight = part.strip().partition(":")
        try:
            w = float(weight) if weight else 1.0
        except ValueError:
            raise ConfigError("mix", f"has a bad weight in {part!r} (expected engine:weight)"
                              ) from None
        if w < 0:
            raise ConfigError("mix", f"has a negative weight in {part!r}")
        out.append((name.strip(), w))
    if not out or sum(w for _, w in out) <= 0:
        raise ConfigError("mix", f"{spec!r}: needs at least one engine with a positive weight")
    return out


def pick_engine(mix: list[tuple[str, float]], rng: random.Random) -> str:
    return rng.choices([n for n, _ in mix], weights=[w for _, w in mix])[0]

"""The named network architectures: the one table of their names and tower sizes.

Torch-free, so the CLI can offer the names as choices without importing torch. "small" and
"large" are the seed's names (`distill --student-arch small|large`) for v2 and v3.
"""

from __future__ import annotations

from typing import Any

# "v2" is the fast preset, "v3" the strong one (with squeeze-excitation).
PRESETS: dict[str, dict[str, Any]] = {
    "v2": {"channels": 96, "blocks": 6, "se": False},
    "v3": {"channels": 192, "blocks": 12, "se": True},
}
ALIASES: dict[str, str] = {"small": "v2", "large": "v3"}
ARCHITECTURE_NAMES: tuple[str, ...] = (*PRESETS, *ALIASES)


def resolve_architecture(name: str) -> str:
    """The preset name of `name` ("large" -> "v3"); ValueError naming the choices if unknown."""
    resolved = ALIASES.get(name, name)
    if resolved not in PRESETS:
        raise ValueError(f"unknown architecture {name!r} (expected one of "
                         f"{', '.join(ARCHITECTURE_NAMES)})")
    return resolved

"""Typed reads of untrusted JSON for the rules layer: every failure is a RulesError naming the field.

Why a module of its own: states and moves arrive from clients, files and other engines. A wrong
type must never surface as AttributeError/TypeError/KeyError deep in the engine, and no value
may make us work or allocate in proportion to a number it carries (a huge `board.size`). Readers
follow the expected shape only, with every list and map length checked before it is read, so
nesting beyond that shape is never walked (and error messages use `show`, which is bounded).
"""

from __future__ import annotations

import math
import re
from typing import Any

from ringrift.rules.errors import RulesError

_MISSING = object()
_KEY_RE = re.compile(r"-?\d{1,6}(?:,-?\d{1,6}){1,2}")


def show(value: Any, limit: int = 60) -> str:
    """A short, bounded rendering of any value for an error message (no deep recursion)."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int):
        return repr(value) if value.bit_length() <= 64 else f"<integer of {value.bit_length()} bits>"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return repr(value) if len(value) <= limit else repr(value[:limit]) + f"... ({len(value)} chars)"
    if isinstance(value, dict):
        return f"<object with {len(value)} keys>" if value else "{}"
    if isinstance(value, list):
        return f"<list of {len(value)} items>" if value else "[]"
    return f"<{type(value).__name__}>"


def is_int(value: Any) -> bool:
    """A JSON integer (bool is not one, though Python says so)."""
    return isinstance(value, int) and not isinstance(value, bool)


def obj(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RulesError(f"{what} must be a JSON object, got {show(value)}")
    return value


def opt_obj(d: dict[str, Any], key: str, what: str) -> dict[str, Any]:
    """`d[key]` as an object; absent or null reads as {}."""
    value = d.get(key)
    return {} if value is None else obj(value, f"{what}.{key}")


def as_int(value: Any, what: str, lo: int, hi: int) -> int:
    if not is_int(value):
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            value = int(value)  # 3.0 from a JavaScript client is 3
        else:
            raise RulesError(f"{what} must be an integer, got {show(value)}")
    if not lo <= value <= hi:
        raise RulesError(f"{what} must be in {lo}..{hi}, got {show(value)}")
    return value


def get_int(d: dict[str, Any], key: str, what: str, lo: int, hi: int,
            default: Any = _MISSING) -> Any:
    """`d[key]` as an int in lo..hi; absent or null gives `default` (required without one)."""
    value = d.get(key)
    if value is None:
        if default is _MISSING:
            raise RulesError(f"{what}.{key} is missing")
        return default
    return as_int(value, f"{what}.{key}", lo, hi)


def get_bool(d: dict[str, Any], key: str, what: str, default: bool = False) -> bool:
    value = d.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise RulesError(f"{what}.{key} must be true or false, got {show(value)}")
    return value


def get_str(d: dict[str, Any], key: str, what: str, default: Any = _MISSING,
            choices: tuple[str, ...] | None = None) -> Any:
    value = d.get(key)
    if value is None:
        if default is _MISSING:
            raise RulesError(f"{what}.{key} is missing")
        return default
    if not isinstance(value, str):
        raise RulesError(f"{what}.{key} must be a string, got {show(value)}")
    if choices is not None and value not in choices:
        raise RulesError(f"{what}.{key} must be one of {', '.join(choices)}, got {show(value)}")
    return value


def as_list(value: Any, what: str, max_len: int) -> list[Any]:
    """A JSON array of at most `max_len` items (the length is checked before anything is read)."""
    if not isinstance(value, list):
        raise RulesError(f"{what} must be a list, got {show(value)}")
    if len(value) > max_len:
        raise RulesError(f"{what} has {len(value)} items, more than {max_len}")
    return value


def get_list(d: dict[str, Any], key: str, what: str, max_len: int) -> list[Any]:
    """`d[key]` as a list; absent or null reads as []."""
    value = d.get(key)
    return [] if value is None else as_list(value, f"{what}.{key}", max_len)


def as_map(value: Any, what: str, max_len: int) -> dict[str, Any]:
    """A JSON object used as a map (e.g. position key -> stack) of at most `max_len` entries."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RulesError(f"{what} must be a JSON object, got {show(value)}")
    if len(value) > max_len:
        raise RulesError(f"{what} has {len(value)} entries, more than {max_len}")
    return value


def position_key_parts(key: Any, what: str) -> list[int]:
    """The integers of a position key "x,y" or "x,y,z" (bounded length, digits only)."""
    if not isinstance(key, str) or not _KEY_RE.fullmatch(key):
        raise RulesError(f"{what}: bad position key {show(key)}")
    return [int(v) for v in key.split(",")]

"""Reading a config dataclass's field defaults (or a function's parameter defaults, where the
setting is a parameter and not a field), so a CLI flag or a second config class can take its
default from the one place that owns it instead of writing the number again."""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

# worker processes of any job that can fan out (selfplay, export, matches, the loop...): one
# unless asked
DEFAULT_WORKERS = 1
# games each worker plays at once, their leaf evaluations batched into one network call
DEFAULT_GAMES_PER_WORKER = 1


def field_default(cls: type, name: str) -> Any:
    """The default of dataclass `cls`'s field `name` (a fresh value for a default_factory)."""
    for f in dataclasses.fields(cls):
        if f.name == name:
            if f.default is not dataclasses.MISSING:
                return f.default
            if f.default_factory is not dataclasses.MISSING:
                return f.default_factory()
            raise KeyError(f"{cls.__name__}.{name} has no default")
    raise KeyError(f"{cls.__name__} has no field {name!r}")


def parameter_default(func: Any, name: str) -> Any:
    """The default of parameter `name` of function `func`."""
    params = inspect.signature(func).parameters
    if name not in params:
        raise KeyError(f"{func.__qualname__} has no parameter {name!r}")
    default = params[name].default
    if default is inspect.Parameter.empty:
        raise KeyError(f"{func.__qualname__}({name}) has no default")
    return default


def from_flags(cls: type, flags: Any) -> Any:
    """An instance of dataclass `cls` whose every field is the parsed flag of the same name
    (`flags.<field>`): for settings whose flags mirror their fields one to one."""
    return cls(**{f.name: getattr(flags, f.name) for f in dataclasses.fields(cls)})

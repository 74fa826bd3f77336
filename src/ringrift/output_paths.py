"""Checks that an output path can be written, made before a command starts its work.

Why: a training run of an hour that fails at the final save because `--save-path` sits under a
file, or a selfplay whose `--output-dir` is read-only, loses the work. Every command checks its
outputs with these first, and reports one line naming the flag. The checks raise ConfigError
naming `name`: the library passes the config field (`save_path`; the CLI shows its flag), the
CLI's own checks the flag itself.
"""

from __future__ import annotations

import os
from pathlib import Path

from ringrift.errors import ConfigError


def _nearest_existing(path: Path) -> Path:
    current = path
    while not current.exists() and current != current.parent:
        current = current.parent
    return current


def _check_creatable(path: Path, name: str) -> None:
    """The folders above `path` exist or can be made: the nearest existing one is a writable
    folder (not a file)."""
    anchor = _nearest_existing(path.parent if path.parent != path else path)
    if not anchor.is_dir():
        raise ConfigError(name, f"{path}: {anchor} is a file, not a folder")
    if not os.access(anchor, os.W_OK | os.X_OK):
        raise ConfigError(name, f"{path}: folder {anchor} is not writable")


def check_output_file(path: str | os.PathLike[str], name: str) -> Path:
    """`path` can be written as a file (replaced if it exists). Returns it as a Path."""
    target = Path(path)
    if str(path) == "" or target.is_dir():
        raise ConfigError(name, f"{path}: is a folder, not a file name")
    if target.exists() and not os.access(target.parent, os.W_OK | os.X_OK):
        raise ConfigError(name, f"{path}: folder {target.parent} is not writable")
    _check_creatable(target, name)
    return target


def check_output_dir(path: str | os.PathLike[str], name: str) -> Path:
    """`path` is a writable folder or can be made one. Returns it as a Path."""
    target = Path(path)
    if str(path) == "":
        raise ConfigError(name, "is an empty path")
    if target.exists():
        if not target.is_dir():
            raise ConfigError(name, f"{path}: is a file, not a folder")
        if not os.access(target, os.W_OK | os.X_OK):
            raise ConfigError(name, f"{path}: folder is not writable")
        return target
    _check_creatable(target, name)
    return target

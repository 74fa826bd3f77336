"""The action index's error."""

from __future__ import annotations


class ActionIndexError(ValueError):
    """A move that has no index in this layout (or an index that names no move here)."""


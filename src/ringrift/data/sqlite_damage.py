"""SQLite connections whose "damaged file" errors name the file, as one-line UserErrors.

Why: a page corrupted in the middle of a table shows only when a query reaches it, far from
where the database was opened, and SQLite's message ("database disk image is malformed") does
not say which of several databases it was. Only the plain `sqlite3.DatabaseError` (damage, not a
database) is translated; its subclasses (locked, read-only, constraint) keep their types, since
callers retry or catch them.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from ringrift.errors import UserError


def _named(exc: sqlite3.DatabaseError, path: str | None) -> BaseException:
    if type(exc) is sqlite3.DatabaseError and path is not None:
        detail = str(exc).splitlines()[0] if str(exc) else "unreadable"
        return UserError(f"{path}: damaged database ({detail})")
    return exc


class NamedCursor(sqlite3.Cursor):
    """A cursor whose damage errors, while executing or fetching, name the database file."""

    def _path(self) -> str | None:
        return getattr(self.connection, "path", None)

    def execute(self, sql: str, parameters: Any = ()) -> NamedCursor:
        try:
            return super().execute(sql, parameters)
        except sqlite3.DatabaseError as exc:
            raise _named(exc, self._path()) from None

    def __next__(self) -> Any:
        try:
            return super().__next__()
        except sqlite3.DatabaseError as exc:
            raise _named(exc, self._path()) from None

    def fetchone(self) -> Any:
        try:
            return super().fetchone()
        except sqlite3.DatabaseError as exc:
            raise _named(exc, self._path()) from None

    def fetchall(self) -> list[Any]:
        try:
            return super().fetchall()
        except sqlite3.DatabaseError as exc:
            raise _named(exc, self._path()) from None


class NamedConnection(sqlite3.Connection):
    """`sqlite3.connect(..., factory=NamedConnection)`; errors are translated once `.path` is
    set (the opener's own checks see SQLite's errors)."""

    path: str | None = None

    def cursor(self, factory: Any = NamedCursor) -> Any:  # type: ignore[override]
        return super().cursor(factory)

    def execute(self, sql: str, parameters: Any = ()) -> NamedCursor:  # type: ignore[override]
        return self.cursor().execute(sql, parameters)

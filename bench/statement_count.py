"""Counts the SQL statements a stretch of work sends, per database: a figure beside a rate that
does not depend on the machine's load (issue 28).

SQLite: every statement each connection runs, as its trace callback reports it (BEGIN, COMMIT
and ROLLBACK included, so a read wrapped in a transaction counts three). PostgreSQL: every
`execute`/`executemany` on a psycopg cursor (`Connection.execute` goes through one); the
ledger's connections are in autocommit, so each is one round trip to the server.

`install()` must run before the ledgers open their connections; counting is off until a
`counting()` block turns it on, so set-up and the baseline are not counted.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

_counts: Counter[str] = Counter()
_on = False
_installed = False


def _count(database: str) -> None:
    if _on:
        _counts[database] += 1


def install() -> None:
    """Wraps `sqlite3.connect` (each new connection traced) and psycopg's cursor statements."""
    global _installed
    if _installed:
        return
    _installed = True
    connect = sqlite3.connect

    def traced_connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn = connect(*args, **kwargs)
        conn.set_trace_callback(lambda _sql: _count("sqlite"))
        return conn

    sqlite3.connect = traced_connect  # type: ignore[assignment]
    for name in ("execute", "executemany"):
        setattr(psycopg.Cursor, name, _counted(getattr(psycopg.Cursor, name)))


def _counted(original: Callable[..., Any]) -> Callable[..., Any]:
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        _count("postgres")
        return original(self, *args, **kwargs)

    return method


@contextmanager
def counting(into: Counter[str]) -> Iterator[None]:
    """Adds the statements sent inside the block to `into`, per database."""
    global _on
    before = Counter(_counts)
    _on = True
    try:
        yield
    finally:
        _on = False
        into.update(_counts - before)

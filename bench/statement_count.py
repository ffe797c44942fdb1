"""Counts the SQL statements a stretch of work sends, per database: a figure beside a rate that
does not depend on the machine's load (issue 28). The event-store bench and the tests that hold
a request to a fixed number of queries count with it.

SQLite: every statement each connection runs, as its trace callback reports it (BEGIN, COMMIT
and ROLLBACK included, so a read wrapped in a transaction counts three). PostgreSQL: every
`execute`/`executemany` on a psycopg cursor (`Connection.execute` goes through one); the
ledger's connections are in autocommit, so each is one round trip to the server.

`Statements.install` must run before the ledgers open their connections; counting is off until
a `counting()` block turns it on, so set-up and the baseline are not counted.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg


class Statements:
    """Every statement sent while `counting`, with the database it went to."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.on = False

    def seen(self, database: str, statement: object) -> None:
        if self.on:
            self.sent.append((database, str(statement)))

    def install(self, patch: Callable[[Any, str, Any], None] = setattr) -> None:
        """Wraps `sqlite3.connect` (each new connection traced) and psycopg's cursor statements;
        `patch` is `setattr`, or a test's `monkeypatch.setattr` to be undone after it."""
        connect = sqlite3.connect

        def traced(*args: Any, **kwargs: Any) -> sqlite3.Connection:
            conn = connect(*args, **kwargs)
            conn.set_trace_callback(lambda sql: self.seen("sqlite", sql))
            return conn

        patch(sqlite3, "connect", traced)
        for name in ("execute", "executemany"):
            original = getattr(psycopg.Cursor, name)

            def counted(
                cursor: Any, query: Any, *args: Any, _sent: Any = original, **kw: Any
            ) -> Any:
                self.seen("postgres", query)
                return _sent(cursor, query, *args, **kw)

            patch(psycopg.Cursor, name, counted)

    @contextmanager
    def counting(self) -> Iterator[list[tuple[str, str]]]:
        """The statements sent inside the block, as (database, statement)."""
        self.sent, self.on = [], True
        try:
            yield self.sent
        finally:
            self.on = False


_process = Statements()
_installed = False


def install() -> None:
    """Counts this process's statements from now on (the bench's ledgers open after)."""
    global _installed
    if not _installed:
        _process.install()
        _installed = True


@contextmanager
def counting(into: Counter[str]) -> Iterator[None]:
    """Adds the statements sent inside the block to `into`, per database."""
    with _process.counting() as sent:
        yield
    into.update(database for database, _ in sent)

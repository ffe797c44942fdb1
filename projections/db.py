"""One small connection type over the two backends the read models live on.

Read models share the database of the events (the SQLite file, or the PostgreSQL schema), so
a view and its tracking row can be written in one transaction. SQL here is written once with
`?` placeholders; the PostgreSQL connection rewrites them to `%s`.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, Protocol

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from lfr_ledger.config.settings import Settings

Row = tuple[Any, ...]

# A writer waits this long for the SQLite write lock the ledger may hold.
SQLITE_BUSY_SECONDS = 30.0


class Database(Protocol):
    backend: str

    def execute(self, statement: str, params: Sequence[Any] = ()) -> list[Row]: ...

    def executemany(self, statement: str, rows: Iterable[Sequence[Any]]) -> None: ...

    def script(self, text: str) -> None:
        """Runs a migration file's statements inside the current transaction."""
        ...

    def transaction(self) -> Any:
        """A write transaction that excludes every other writer of the read models."""
        ...

    def snapshot(self) -> Any:
        """A read transaction: every query inside sees the same committed state."""
        ...

    def close(self) -> None: ...


class SQLiteDatabase:
    backend = "sqlite"

    def __init__(self, path: str) -> None:
        self.conn = sqlite3.connect(
            path, timeout=SQLITE_BUSY_SECONDS, isolation_level=None, check_same_thread=False
        )
        # The ledger's recorder uses WAL too; setting it here keeps a read-model-first start
        # (status before any event) from leaving the file in rollback mode.
        with contextlib.suppress(sqlite3.OperationalError):
            self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_SECONDS * 1000)}")

    def execute(self, statement: str, params: Sequence[Any] = ()) -> list[Row]:
        return self.conn.execute(statement, tuple(params)).fetchall()

    def executemany(self, statement: str, rows: Iterable[Sequence[Any]]) -> None:
        self.conn.executemany(statement, rows)

    def script(self, text: str) -> None:
        for statement in split_statements(text):
            self.conn.execute(statement)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        # IMMEDIATE takes the write lock at once, so two runners never both read a position
        # and then both apply the events after it.
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        self.conn.execute("BEGIN")
        try:
            yield
        finally:
            self.conn.execute("ROLLBACK")

    def close(self) -> None:
        self.conn.close()


def split_statements(text: str) -> list[str]:
    """Splits a SQL file at statement ends (the stdlib knows where a statement is complete)."""
    statements: list[str] = []
    pending = ""
    for line in text.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            if _strip_comments(pending):
                statements.append(pending.strip())
            pending = ""
    if _strip_comments(pending):
        raise ValueError(f"incomplete SQL statement at the end of a migration: {pending!r}")
    return statements


def _strip_comments(text: str) -> str:
    return "\n".join(
        line for line in text.splitlines() if not line.strip().startswith("--")
    ).strip()


# Quoted text: a string literal ('it''s') or a quoted identifier ("a?b"), kept as it is.
_QUOTED = re.compile(r"('(?:[^']|'')*'|\"(?:[^\"]|\"\")*\")")


@lru_cache(maxsize=512)
def _to_pyformat(statement: str) -> str:
    """`?` placeholders to psycopg's `%s`, outside quoted text only (a `?` inside a literal is
    data); every other `%` is doubled so psycopg reads it as a percent sign."""
    parts = _QUOTED.split(statement)
    return "".join(
        part.replace("%", "%%") if index % 2 else part.replace("%", "%%").replace("?", "%s")
        for index, part in enumerate(parts)
    )


class PostgresDatabase:
    backend = "postgres"

    def __init__(self, params: dict[str, str], schema: str) -> None:
        # Every parameter of the URL: with several hosts, target_session_attrs picks the primary.
        conninfo = make_conninfo(**{k: v for k, v in params.items() if v})
        self.conn = psycopg.connect(conninfo, autocommit=True)
        self.conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))

    def execute(self, statement: str, params: Sequence[Any] = ()) -> list[Row]:
        with self.conn.cursor() as cur:
            cur.execute(_to_pyformat(statement), tuple(params), prepare=True)
            return cur.fetchall() if cur.description is not None else []

    def executemany(self, statement: str, rows: Iterable[Sequence[Any]]) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(_to_pyformat(statement), [tuple(r) for r in rows])

    def script(self, text: str) -> None:
        # No parameters: psycopg sends the file as one simple query, many statements allowed.
        self.conn.execute(text.encode())

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self.conn.transaction():
            yield

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        with self.conn.transaction(force_rollback=True):
            self.conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield

    def close(self) -> None:
        self.conn.close()


def postgres_schema(settings: Settings) -> str:
    return settings.postgres_schema or "public"


def connect(settings: Settings) -> Database:
    if settings.uses_postgres:
        return PostgresDatabase(settings.postgres_params(), postgres_schema(settings))
    settings.ensure_data_dir()
    return SQLiteDatabase(str(settings.events_path))

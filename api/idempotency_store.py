"""The idempotency store, where the middleware (`idempotency.py`) claims a request's
Idempotency-Key and keeps its reply (no cryptographic keys: those are the vault's, in
`eventlog/`): a SQLite file beside the embedded store, or a table in the ledger's PostgreSQL
schema. Claims only serialise concurrent copies of
one request; exactly-once itself comes from the request record the ledger writes with the
request's changes (`domain/requests.py`)."""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from typing import Protocol

from lfr_ledger.api.problems import (
    ProblemException,
)
from lfr_ledger.config.database_url import pool_timeout
from lfr_ledger.config.settings import Settings

TTL_SECONDS = 24 * 3600
STALE_PENDING_SECONDS = 10
PENDING = 0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS idempotency_keys (
    key TEXT NOT NULL,
    actor TEXT NOT NULL,
    route TEXT NOT NULL,
    body_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    media_type TEXT,
    response {blob},
    created_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (actor, key)
)
"""


@dataclass(frozen=True)
class Stored:
    route: str
    body_hash: str
    status: int
    media_type: str | None
    response: bytes | None
    created_at: float


@dataclass(frozen=True)
class Claimed:
    """The key was free: this request runs and must complete() or release() it."""


@dataclass(frozen=True)
class Replay:
    status: int
    media_type: str | None
    body: bytes


Outcome = Claimed | Replay


class IdempotencyStore(Protocol):
    """Claims keys per actor, keeps the replies of completed ones and releases the others."""

    def claim(self, actor: str, key: str, route: str, body_hash: str) -> Outcome: ...

    def complete(
        self, actor: str, key: str, status: int, media_type: str | None, body: bytes
    ) -> None: ...

    def release(self, actor: str, key: str) -> None: ...

    def kept(self, actor: str, key: str) -> Replay | None:
        """The reply kept for a completed key."""
        ...

    def close(self) -> None: ...


def _decide(existing: Stored | None, route: str, body_hash: str, now: float) -> Outcome | None:
    """None: the key is free (or expired/stale) and may be (re)claimed."""
    if existing is None:
        return None
    if existing.status == PENDING:
        if now - existing.created_at > STALE_PENDING_SECONDS:
            return None
        raise ProblemException(
            409,
            "idempotency-key-in-use",
            "Request still in progress",
            "a request with this Idempotency-Key is still being processed; retry shortly",
            headers={"Retry-After": "1"},
        )
    if now - existing.created_at > TTL_SECONDS:
        return None
    if existing.route != route or existing.body_hash != body_hash:
        raise key_reused()
    return Replay(existing.status, existing.media_type, existing.response or b"")


def key_reused() -> ProblemException:
    return ProblemException(
        422,
        "idempotency-key-reused",
        "Idempotency key reused",
        "this Idempotency-Key was already used for a different request (another route, "
        "query or body); use a new key for a new request",
    )


class SQLiteIdempotencyStore:
    def __init__(self, settings: Settings) -> None:
        settings.ensure_data_dir()
        self.path = settings.data_dir / "idempotency.sqlite"
        self._local = threading.local()
        with self._conn() as conn:
            conn.execute(_SCHEMA.format(blob="BLOB"))
        self._purge()

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    def _purge(self) -> None:
        self._conn().execute(
            "DELETE FROM idempotency_keys WHERE created_at < ?", (time.time() - TTL_SECONDS,)
        )

    def claim(self, actor: str, key: str, route: str, body_hash: str) -> Outcome:
        conn = self._conn()
        now = time.time()
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute(
                "SELECT route, body_hash, status, media_type, response, created_at "
                "FROM idempotency_keys WHERE actor = ? AND key = ?",
                (actor, key),
            ).fetchone()
            decided = _decide(Stored(*row) if row else None, route, body_hash, now)
            if decided is not None:
                conn.execute("COMMIT")
                return decided
            conn.execute(
                "INSERT OR REPLACE INTO idempotency_keys "
                "(key, actor, route, body_hash, status, media_type, response, created_at) "
                "VALUES (?, ?, ?, ?, 0, NULL, NULL, ?)",
                (key, actor, route, body_hash, now),
            )
            conn.execute("COMMIT")
            return Claimed()
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def complete(
        self, actor: str, key: str, status: int, media_type: str | None, body: bytes
    ) -> None:
        self._conn().execute(
            "UPDATE idempotency_keys SET status = ?, media_type = ?, response = ? "
            "WHERE actor = ? AND key = ?",
            (status, media_type, body, actor, key),
        )

    def release(self, actor: str, key: str) -> None:
        self._conn().execute(
            "DELETE FROM idempotency_keys WHERE actor = ? AND key = ? AND status = 0",
            (actor, key),
        )

    def kept(self, actor: str, key: str) -> Replay | None:
        row = (
            self._conn()
            .execute(
                "SELECT status, media_type, response FROM idempotency_keys "
                "WHERE actor = ? AND key = ? AND status <> 0",
                (actor, key),
            )
            .fetchone()
        )
        return Replay(row[0], row[1], row[2] or b"") if row else None

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


class PostgresIdempotencyStore:
    def __init__(self, settings: Settings) -> None:
        from psycopg import sql
        from psycopg.conninfo import make_conninfo
        from psycopg_pool import ConnectionPool

        pg = settings.postgres_params()
        conninfo = make_conninfo(**{k: v for k, v in pg.items() if v})
        self._pool = ConnectionPool(
            conninfo, min_size=1, max_size=8, open=True, timeout=pool_timeout(pg)
        )
        self._table = sql.Identifier(settings.postgres_schema or "public", "idempotency_keys")
        with self._pool.connection() as conn:
            conn.execute(
                sql.SQL(_SCHEMA.format(blob="BYTEA").replace("idempotency_keys", "{table}")).format(
                    table=self._table
                )
            )
            conn.execute(
                sql.SQL("DELETE FROM {t} WHERE created_at < %s").format(t=self._table),
                (time.time() - TTL_SECONDS,),
            )

    def claim(self, actor: str, key: str, route: str, body_hash: str) -> Outcome:
        from psycopg import sql

        now = time.time()
        t = self._table
        with self._pool.connection() as conn, conn.transaction():
            inserted = conn.execute(
                sql.SQL(
                    "INSERT INTO {t} (key, actor, route, body_hash, status, created_at) "
                    "VALUES (%s, %s, %s, %s, 0, %s) ON CONFLICT (actor, key) DO NOTHING"
                ).format(t=t),
                (key, actor, route, body_hash, now),
            ).rowcount
            if inserted:
                return Claimed()
            row = conn.execute(
                sql.SQL(
                    "SELECT route, body_hash, status, media_type, response, created_at "
                    "FROM {t} WHERE actor = %s AND key = %s FOR UPDATE"
                ).format(t=t),
                (actor, key),
            ).fetchone()
            decided = _decide(Stored(*row) if row else None, route, body_hash, now)
            if decided is not None:
                return decided
            conn.execute(
                sql.SQL(
                    "UPDATE {t} SET route = %s, body_hash = %s, status = 0, media_type = NULL, "
                    "response = NULL, created_at = %s WHERE actor = %s AND key = %s"
                ).format(t=t),
                (route, body_hash, now, actor, key),
            )
            return Claimed()

    def complete(
        self, actor: str, key: str, status: int, media_type: str | None, body: bytes
    ) -> None:
        from psycopg import sql

        with self._pool.connection() as conn:
            conn.execute(
                sql.SQL(
                    "UPDATE {t} SET status = %s, media_type = %s, response = %s "
                    "WHERE actor = %s AND key = %s"
                ).format(t=self._table),
                (status, media_type, body, actor, key),
            )

    def release(self, actor: str, key: str) -> None:
        from psycopg import sql

        with self._pool.connection() as conn:
            conn.execute(
                sql.SQL("DELETE FROM {t} WHERE actor = %s AND key = %s AND status = 0").format(
                    t=self._table
                ),
                (actor, key),
            )

    def kept(self, actor: str, key: str) -> Replay | None:
        from psycopg import sql

        with self._pool.connection() as conn:
            row = conn.execute(
                sql.SQL(
                    "SELECT status, media_type, response FROM {t} "
                    "WHERE actor = %s AND key = %s AND status <> 0"
                ).format(t=self._table),
                (actor, key),
            ).fetchone()
        return Replay(row[0], row[1], bytes(row[2] or b"")) if row else None

    def close(self) -> None:
        self._pool.close()


def build_idempotency_store(settings: Settings) -> IdempotencyStore:
    if settings.uses_postgres:
        return PostgresIdempotencyStore(settings)
    return SQLiteIdempotencyStore(settings)

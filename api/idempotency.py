"""Idempotency-Key on every POST: a retried request gets the first response and writes nothing.

Where keys live (durable, shared by every API process on the same store):
- embedded default (SQLite): a separate file `data_dir/idempotency.sqlite`, so API bookkeeping
  never takes the events database's single write lock nor touches the hash-chained log;
- PostgreSQL: the table `idempotency_keys` in the ledger's schema.

Rules: keys are scoped per actor (the token's `sub`) and cover method, path and body; the same
key with another body or route is refused (422); a key still being processed answers 409 with
Retry-After. Every response below 500 is kept and replayed (header `Idempotency-Replayed: true`);
a 5xx or a dropped connection releases the key, because then nothing was written. Keys expire
after 24 hours; a pending key older than a minute (a crashed process) may be taken over.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol

import anyio.to_thread
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from lfr_ledger.api.body_guard import read_body
from lfr_ledger.api.problems import (
    PROBLEM_MEDIA_TYPE,
    ProblemException,
    encode_problem,
    problem_for,
)
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.actors import Actor

HEADER = "idempotency-key"
KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"
_KEY_RE = re.compile(KEY_PATTERN)
TTL_SECONDS = 24 * 3600
STALE_PENDING_SECONDS = 60
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


class KeyStore(Protocol):
    def claim(self, actor: str, key: str, route: str, body_hash: str) -> Outcome: ...

    def complete(
        self, actor: str, key: str, status: int, media_type: str | None, body: bytes
    ) -> None: ...

    def release(self, actor: str, key: str) -> None: ...

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
        raise ProblemException(
            422,
            "idempotency-key-reused",
            "Idempotency key reused",
            "this Idempotency-Key was already used for a different request (another route or "
            "body); use a new key for a new request",
        )
    return Replay(existing.status, existing.media_type, existing.response or b"")


class SQLiteKeyStore:
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

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


class PostgresKeyStore:
    def __init__(self, settings: Settings) -> None:
        from psycopg import sql
        from psycopg.conninfo import make_conninfo
        from psycopg_pool import ConnectionPool

        pg = settings.postgres_params()
        conninfo = make_conninfo(**{k: v for k, v in pg.items() if v})
        self._pool = ConnectionPool(conninfo, min_size=1, max_size=8, open=True)
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

    def close(self) -> None:
        self._pool.close()


def build_key_store(settings: Settings) -> KeyStore:
    if settings.uses_postgres:
        return PostgresKeyStore(settings)
    return SQLiteKeyStore(settings)


def body_hash(method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.encode(), b"\0", path.encode(), b"\0", body):
        digest.update(part)
    return digest.hexdigest()


class IdempotencyMiddleware:
    """ASGI middleware on POST routes; must run after authentication (it needs the actor)."""

    def __init__(self, app: ASGIApp, *, store: KeyStore, max_body_size: int) -> None:
        self.app = app
        self.store = store
        self.max_body_size = max_body_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        key = _header(scope, HEADER)
        actor = scope.get("user")
        if key is None or not isinstance(actor, Actor):
            await self.app(scope, receive, send)
            return
        if not _KEY_RE.match(key):
            raise ProblemException(
                400,
                "validation",
                "Invalid request",
                "header Idempotency-Key must be 1 to 255 visible ASCII characters",
            )
        body = await read_body(scope, receive, self.max_body_size)
        route = f"POST {scope['path']}"
        outcome = await anyio.to_thread.run_sync(
            self.store.claim, actor.id, key, route, body_hash("POST", scope["path"], body)
        )
        if isinstance(outcome, Replay):
            await _send_replay(send, outcome)
            return
        await self._run(scope, body, send, actor.id, key)

    async def _run(self, scope: Scope, body: bytes, send: Send, actor: str, key: str) -> None:
        delivered = False

        async def replay_receive() -> Any:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            # The body was consumed; a handler waiting for more sees the client go.
            await anyio.sleep_forever()

        status = 500
        media_type: str | None = None
        parts: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status, media_type
            if message["type"] == "http.response.start":
                status = int(message["status"])
                for name, value in message.get("headers", []):
                    if name.lower() == b"content-type":
                        media_type = value.decode("latin-1")
            elif message["type"] == "http.response.body":
                parts.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, replay_receive, capture)
        except Exception as exc:
            # Render the error here, so that the refusal itself is what a retry replays.
            problem, headers = problem_for(exc, scope)
            content = encode_problem(problem)
            status, media_type, parts = problem.status, PROBLEM_MEDIA_TYPE, [content]
            await send(
                {
                    "type": "http.response.start",
                    "status": problem.status,
                    "headers": [
                        (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                        (b"content-length", str(len(content)).encode()),
                        (b"x-request-id", (problem.request_id or "").encode()),
                        *((k.lower().encode(), v.encode()) for k, v in headers.items()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": content, "more_body": False})
        except BaseException:
            await anyio.to_thread.run_sync(self.store.release, actor, key)
            raise
        if status >= 500 or status == 429:
            await anyio.to_thread.run_sync(self.store.release, actor, key)
        else:
            await anyio.to_thread.run_sync(
                self.store.complete, actor, key, status, media_type, b"".join(parts)
            )


def _header(scope: Scope, name: str) -> str | None:
    wanted = name.encode()
    for key, value in scope.get("headers", []):
        if key.lower() == wanted:
            return str(value.decode("latin-1"))
    return None


async def _send_replay(send: Send, replay: Replay) -> None:
    headers = [
        (b"content-length", str(len(replay.body)).encode()),
        (b"idempotency-replayed", b"true"),
    ]
    if replay.media_type:
        headers.append((b"content-type", replay.media_type.encode()))
    await send({"type": "http.response.start", "status": replay.status, "headers": headers})
    await send({"type": "http.response.body", "body": replay.body, "more_body": False})

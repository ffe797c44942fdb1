"""Browser sessions for the console, and the one-time sign-in links `lfr console-link` prints.

A session is opened only from a verified token (a bearer token, the embedded one or an
identity provider's, or the ID token of an OIDC sign-in), so the console trusts nobody the API
would not. The browser holds a random
session id in an HttpOnly, SameSite=Strict cookie; the store keeps only its SHA-256, beside the
actor, a CSRF token, and two expiries: idle (no request for `IDLE_SECONDS`) and absolute (the
token's own expiry: a session never outlives what the identity provider vouched for).

Kept in `console.sqlite` beside the embedded store, or in the ledger's PostgreSQL schema, so
`lfr console-link` (another process) and `lfr serve` share the links, and several nodes share
the sessions.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

from lfr_ledger.config.database_url import pool_timeout
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.actors import Actor, Role

IDLE_SECONDS = 30 * 60
LINK_SECONDS = 15 * 60
# A session's last-seen time is written at most this often: reads stay reads.
TOUCH_EVERY_SECONDS = 30

_TABLES = (
    """CREATE TABLE IF NOT EXISTS console_sessions (
        id_hash TEXT PRIMARY KEY,
        actor TEXT NOT NULL,
        csrf TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL,
        last_seen_at DOUBLE PRECISION NOT NULL,
        expires_at DOUBLE PRECISION NOT NULL,
        ended_at DOUBLE PRECISION
    )""",
    """CREATE TABLE IF NOT EXISTS console_links (
        code_hash TEXT PRIMARY KEY,
        token TEXT NOT NULL,
        expires_at DOUBLE PRECISION NOT NULL,
        used_at DOUBLE PRECISION
    )""",
    # An OIDC sign-in under way (api/oidc/flow.py): its state's hash, the hash of the value its
    # browser holds in a cookie, and the PKCE verifier and nonce, until the provider sends the
    # browser back (once).
    """CREATE TABLE IF NOT EXISTS console_sign_in_flows (
        state_hash TEXT PRIMARY KEY,
        browser_hash TEXT NOT NULL,
        flow TEXT NOT NULL,
        expires_at DOUBLE PRECISION NOT NULL,
        used_at DOUBLE PRECISION
    )""",
    # The ID token a session was opened from, for the provider's logout (id_token_hint); kept
    # apart so sessions opened otherwise are unchanged, and deleted when the session ends.
    """CREATE TABLE IF NOT EXISTS console_session_logout (
        id_hash TEXT PRIMARY KEY,
        id_token TEXT NOT NULL,
        expires_at DOUBLE PRECISION NOT NULL
    )""",
)
FLOW_SECONDS = 10 * 60


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Session:
    actor: Actor
    csrf: str
    created_at: float
    expires_at: float

    def csrf_matches(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self.csrf.encode())


@dataclass(frozen=True)
class LinkState:
    """A sign-in link's state, and the moment that goes with it (used at, expired at, or
    expires at; None when unknown)."""

    state: str
    at: float | None


class SessionStore:
    """Sessions and sign-in links over one DB-API connection per thread."""

    def __init__(self, settings: Settings, *, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._local = threading.local()
        self._postgres = settings.uses_postgres
        self._settings = settings
        self._pool: Any = None
        if self._postgres:
            from psycopg import connect as psycopg_connect
            from psycopg import sql
            from psycopg.conninfo import make_conninfo
            from psycopg_pool import ConnectionPool

            pg = settings.postgres_params()
            conninfo = make_conninfo(**{k: v for k, v in pg.items() if v})
            schema = settings.postgres_schema or "public"
            with psycopg_connect(conninfo, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema))
                )
            self._pool = ConnectionPool(
                conninfo,
                min_size=1,
                max_size=4,
                open=True,
                timeout=pool_timeout(pg),
                kwargs={"options": f"-c search_path={schema}", "autocommit": True},
            )
        else:
            settings.ensure_data_dir()
        with self._cursor() as run:
            for table in _TABLES:
                run(table, ())

    @contextmanager
    def _cursor(self) -> Iterator[Callable[[str, tuple[Any, ...]], list[tuple[Any, ...]]]]:
        """A function running one statement (written with `?`) and returning its rows."""
        if self._pool is not None:
            with self._pool.connection() as conn:

                def run_pg(sql: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
                    cur = conn.execute(sql.replace("?", "%s"), args)
                    return list(cur.fetchall()) if cur.description else []

                yield run_pg
            return
        conn = getattr(self._local, "conn", None)
        if conn is None:
            path = self._settings.data_dir / "console.sqlite"
            conn = sqlite3.connect(path, timeout=10, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            self._local.conn = conn

        def run_sqlite(sql: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
            return list(conn.execute(sql, args).fetchall())

        yield run_sqlite

    # --- sign-in links ---------------------------------------------------------------------

    def add_link(self, token: str, *, lifetime_seconds: int = LINK_SECONDS) -> str:
        """A one-time code for `token`; the code, not the token, goes in the link."""
        code = secrets.token_urlsafe(24)
        with self._cursor() as run:
            run(
                "INSERT INTO console_links (code_hash, token, expires_at) VALUES (?, ?, ?)",
                (_digest(code), token, self.clock() + lifetime_seconds),
            )
        return code

    def take_link(self, code: str) -> str | None:
        """The token behind an unused, unexpired code, marking it used (once, even when two
        browsers race: the update that marks it used is the one that wins)."""
        now = self.clock()
        with self._cursor() as run:
            rows = run(
                "UPDATE console_links SET used_at = ? "
                "WHERE code_hash = ? AND used_at IS NULL AND expires_at > ? RETURNING token",
                (now, _digest(code), now),
            )
            run("DELETE FROM console_links WHERE expires_at < ?", (now - 86400,))
        return str(rows[0][0]) if rows else None

    def link_state(self, code: str) -> LinkState:
        """What a code is, read without using it (a chat preview fetching the link must not
        use it up): "valid", "used", "expired", or "unknown" (never made here, mistyped, or
        forgotten a day after it expired)."""
        with self._cursor() as run:
            rows = run(
                "SELECT used_at, expires_at FROM console_links WHERE code_hash = ?",
                (_digest(code),),
            )
        if not rows:
            return LinkState("unknown", None)
        used_at, expires_at = rows[0]
        if used_at is not None:
            return LinkState("used", float(used_at))
        if float(expires_at) <= self.clock():
            return LinkState("expired", float(expires_at))
        return LinkState("valid", float(expires_at))

    # --- sessions ----------------------------------------------------------------------------

    def open(
        self, actor: Actor, *, expires_at: float, logout_hint: str | None = None
    ) -> tuple[str, Session]:
        """A new session for a verified actor: its cookie value, and the session. A session
        opened through OIDC keeps its ID token (`logout_hint`) for the provider's logout."""
        sid = secrets.token_urlsafe(32)
        now = self.clock()
        session = Session(
            actor=actor, csrf=secrets.token_urlsafe(32), created_at=now, expires_at=expires_at
        )
        with self._cursor() as run:
            run(
                "INSERT INTO console_sessions "
                "(id_hash, actor, csrf, created_at, last_seen_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (_digest(sid), json.dumps(asdict(actor)), session.csrf, now, now, expires_at),
            )
            run("DELETE FROM console_sessions WHERE expires_at < ?", (now - 86400,))
            if logout_hint is not None:
                run(
                    "INSERT INTO console_session_logout (id_hash, id_token, expires_at) "
                    "VALUES (?, ?, ?)",
                    (_digest(sid), logout_hint, expires_at),
                )
                run("DELETE FROM console_session_logout WHERE expires_at < ?", (now - 86400,))
        return sid, session

    def resume(self, sid: str) -> Session | None:
        """The live session behind a cookie, or None when unknown, ended, idle or expired."""
        now = self.clock()
        with self._cursor() as run:
            rows = run(
                "SELECT actor, csrf, created_at, last_seen_at, expires_at, ended_at "
                "FROM console_sessions WHERE id_hash = ?",
                (_digest(sid),),
            )
            if not rows:
                return None
            actor, csrf, created, seen, expires, ended = rows[0]
            if ended is not None or now >= expires or now - seen >= IDLE_SECONDS:
                return None
            if now - seen >= TOUCH_EVERY_SECONDS:
                run(
                    "UPDATE console_sessions SET last_seen_at = ? WHERE id_hash = ?",
                    (now, _digest(sid)),
                )
        fields = json.loads(actor)
        fields["role"] = Role(fields["role"])
        return Session(actor=Actor(**fields), csrf=csrf, created_at=created, expires_at=expires)

    def end(self, sid: str) -> str | None:
        """Ends a session; returns the ID token it was opened from, if any (for the logout)."""
        with self._cursor() as run:
            run(
                "UPDATE console_sessions SET ended_at = ? WHERE id_hash = ? AND ended_at IS NULL",
                (self.clock(), _digest(sid)),
            )
            rows = run(
                "DELETE FROM console_session_logout WHERE id_hash = ? RETURNING id_token",
                (_digest(sid),),
            )
        return str(rows[0][0]) if rows else None

    # --- OIDC sign-ins under way -------------------------------------------------------------

    def add_flow(
        self, state: str, browser: str, flow: dict[str, str], *, lifetime: int = FLOW_SECONDS
    ) -> None:
        now = self.clock()
        with self._cursor() as run:
            run(
                "INSERT INTO console_sign_in_flows (state_hash, browser_hash, flow, expires_at) "
                "VALUES (?, ?, ?, ?)",
                (_digest(state), _digest(browser), json.dumps(flow), now + lifetime),
            )
            run("DELETE FROM console_sign_in_flows WHERE expires_at < ?", (now - 86400,))

    def take_flow(self, state: str, browser: str) -> tuple[str, dict[str, str] | None]:
        """The sign-in a provider's answer belongs to, used once, and only by the browser that
        started it: ("valid", flow), or ("used" | "expired" | "other-browser" | "unknown",
        None)."""
        now = self.clock()
        with self._cursor() as run:
            rows = run(
                "UPDATE console_sign_in_flows SET used_at = ? WHERE state_hash = ? "
                "AND browser_hash = ? AND used_at IS NULL AND expires_at > ? RETURNING flow",
                (now, _digest(state), _digest(browser), now),
            )
            if rows:
                flow: dict[str, str] = json.loads(rows[0][0])
                return "valid", flow
            rows = run(
                "SELECT used_at, expires_at, browser_hash FROM console_sign_in_flows "
                "WHERE state_hash = ?",
                (_digest(state),),
            )
        if not rows:
            return "unknown", None
        used_at, expires_at, _ = rows[0]
        if used_at is not None:
            return "used", None
        if float(expires_at) <= now:
            return "expired", None
        return "other-browser", None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

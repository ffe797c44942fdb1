"""Checks a node makes before it opens anything: its database answers (one plain line, within a
few seconds, saying what to do when it does not), its read-model schema is one this release
knows, and its port is free.

Without them a missing database showed as a connection pool timing out after 5 s (`lfr audit
verify`) or 30 s (`lfr serve`) and a 35-line traceback, and a busy port as "Application startup
complete" followed by uvicorn's error. One direct connection with `connect_timeout` answers
before any pool exists. Nothing here prints a password: the lines name host, port, database,
role and schema only.
"""

from __future__ import annotations

import errno
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lfr_ledger.config.database_url import servers
from lfr_ledger.config.settings import Settings
from lfr_ledger.projections.schema import too_new

# Seconds a connection attempt may take before the database is called unreachable.
CONNECT_TIMEOUT = 3


class PreflightError(Exception):
    """What stops this node, in one line that says what to do."""

    # `lfr` prints it as it is, without the "(LFR_DEBUG=1 …)" hint: there is no "where" to show.
    one_line = True


@dataclass(frozen=True)
class Reached:
    """What one connection learnt: the server's clock and this machine's at the same moment,
    and the read-model schema's version
    (None: not created yet)."""

    server_now: Any
    local_now: Any
    schema_exists: bool
    schema_version: int | None


def _where(params: dict[str, str]) -> str:
    return servers(params)


def explain_connection_error(error: Exception, params: dict[str, str]) -> str:
    """psycopg's connection error as one line with what to do; never the password."""
    text = str(error)
    where, name, user = _where(params), params["dbname"], params["user"]
    if "does not exist" in text and "database" in text:
        return (
            f'database "{name}" does not exist on {where}: create it first '
            f"(createdb -h {params['host']} -p {params['port']} -U {user} {name}, "
            f'or CREATE DATABASE "{name}"), then try again'
        )
    if "does not exist" in text and "role" in text:
        return (
            f'role "{user}" does not exist on {where}: create it (createuser -h {params["host"]} '
            f"-p {params['port']} -P {user}) or name another in LFR_DATABASE_URL"
        )
    if "password authentication failed" in text or "no password supplied" in text:
        return (
            f'PostgreSQL at {where} refused role "{user}"\'s password: check the password in '
            "LFR_DATABASE_URL (percent-encode @, : and / in it)"
        )
    if "Connection refused" in text:
        return (
            f"nothing answers at {where}: is PostgreSQL running there, and is the host and port "
            "in LFR_DATABASE_URL right?"
        )
    if "timeout" in text.lower():
        return (
            f"PostgreSQL at {where} did not answer within {CONNECT_TIMEOUT} s: check the host in "
            "LFR_DATABASE_URL and that a firewall lets this node reach it"
        )
    if "resolve host" in text or "translate host name" in text:
        return f"the host {params['host']!r} in LFR_DATABASE_URL has no address: check its name"
    if "no pg_hba.conf entry" in text:
        return (
            f"PostgreSQL at {where} has no pg_hba.conf line letting this node in as "
            f'"{user}" to "{name}": add one and reload PostgreSQL'
        )
    # Anything else: psycopg's own first line, which names no secret (the URL is not in it).
    first = text.strip().splitlines()[0] if text.strip() else type(error).__name__
    return f"cannot connect to PostgreSQL at {where}: {first}"


def reach_database(settings: Settings) -> Reached:
    """One connection to the configured PostgreSQL: it answers, the schema can be used, and
    what it holds. Raises `PreflightError` with the line to print."""
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    params = settings.postgres_params()
    schema = settings.postgres_schema or "public"
    try:
        # Every parameter of the URL (several hosts, target_session_attrs); the URL's own
        # connect_timeout, if it has one, over the check's.
        given = {k: v for k, v in params.items() if v}
        conn = psycopg.connect(
            make_conninfo(**{"connect_timeout": str(CONNECT_TIMEOUT), **given}), autocommit=True
        )
    except psycopg.OperationalError as error:
        raise PreflightError(explain_connection_error(error, params)) from None
    with conn:
        now, exists, may_create = conn.execute(
            "SELECT clock_timestamp(), EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = %s), "
            "has_database_privilege(current_database(), 'CREATE')",
            (schema,),
        ).fetchone() or (None, False, False)
        local_now = datetime.now(UTC)
        if not exists and not may_create:
            raise PreflightError(
                f'schema "{schema}" does not exist in database "{params["dbname"]}" and role '
                f'"{params["user"]}" may not create it: create it (CREATE SCHEMA "{schema}" '
                f'AUTHORIZATION "{params["user"]}") or correct LFR_POSTGRES_SCHEMA'
            )
        version = None
        if exists:
            may_use, may_write = conn.execute(
                "SELECT has_schema_privilege(%s, 'USAGE'), has_schema_privilege(%s, 'CREATE')",
                (schema, schema),
            ).fetchone() or (False, False)
            grant = f'ON SCHEMA "{schema}" TO "{params["user"]}"'
            if not may_use:
                raise PreflightError(
                    f'role "{params["user"]}" may not use schema "{schema}": GRANT USAGE, '
                    f"CREATE {grant}, or correct LFR_POSTGRES_SCHEMA"
                )
            table, ledger = conn.execute(
                "SELECT to_regclass(%s), to_regclass(%s)",
                (f'"{schema}".schema_migrations', f'"{schema}".lfr_events'),
            ).fetchone() or (None, None)
            if ledger is None and not may_write:
                # PostgreSQL 15 and later: only the database's owner may create in `public`.
                raise PreflightError(
                    f'role "{params["user"]}" may not create the ledger\'s tables in schema '
                    f'"{schema}": GRANT CREATE {grant}, or make the role the database\'s owner '
                    "(createdb --owner)"
                )
            if table is not None:
                row = conn.execute(
                    sql.SQL("SELECT MAX(version) FROM {}").format(
                        sql.Identifier(schema, "schema_migrations")
                    )
                ).fetchone()
                version = int(row[0]) if row and row[0] is not None else None
    return Reached(
        server_now=now, local_now=local_now, schema_exists=bool(exists), schema_version=version
    )


def sqlite_schema_version(settings: Settings) -> int | None:
    """The read-model schema's version in the SQLite store (None: not created yet), read
    without creating the file."""
    import sqlite3
    from contextlib import closing

    path = settings.events_path
    if not path.exists():
        return None
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        try:
            row = conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
        except sqlite3.OperationalError:
            return None  # no table yet: the first start creates it
    return int(row[0]) if row and row[0] is not None else None


def check_store(settings: Settings) -> None:
    """The database this node is configured for can be opened by this release; raises
    `PreflightError` otherwise. On SQLite there is no server to reach: only the schema's
    version is read."""
    if settings.uses_postgres:
        held = reach_database(settings).schema_version
        backend = "postgres"
    else:
        held = sqlite_schema_version(settings)
        backend = "sqlite"
    refusal = too_new(held, backend)
    if refusal:
        raise PreflightError(refusal)


def check_port(host: str, port: int) -> None:
    """The address `lfr serve` is about to listen on is free: bound and released at once, with
    the options uvicorn binds with, so a busy port is one line before anything starts."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise PreflightError(
                    f"port {port} on {host} is in use by another program: stop it, or start "
                    "with --port N"
                ) from None
            if error.errno == errno.EACCES:
                raise PreflightError(
                    f"may not listen on port {port} on {host} (ports below 1024 need a "
                    "privilege): use --port 8000 behind the proxy"
                ) from None
            if error.errno == errno.EADDRNOTAVAIL:
                raise PreflightError(
                    f"{host} is not an address of this machine: give --host one of its "
                    "addresses (or 0.0.0.0 for all)"
                ) from None
            raise PreflightError(f"cannot listen on {host}:{port}: {error.strerror}") from None


# The `lfr` commands that open the configured store, checked before they run. A list of those
# that do (not of those that do not), so an offline command added later (`audit verify-bundle`,
# `models fetch`) is never stopped by a database it does not use. `serve` and `doctor` check
# for themselves; `match --api` is a remote node and reaches no database.
_OPENS_STORE: dict[str, tuple[str, frozenset[str]] | None] = {
    "audit": ("audit_command", frozenset({"verify", "checkpoint", "export", "reverify"})),
    "models": ("models_action", frozenset({"record-evaluation"})),
    **dict.fromkeys(
        (
            "console-link",
            "policy",
            "deployments",
            "operations",
            "retention",
            "subject-access",
            "equality",
            "access-review",
            "disclose",
            "oversight",
            "training",
            "governance",
            "complaints",
            "match",
            "watchlist",
            "stats",
            "projections",
        )
    ),
}


def opens_store(args: Any) -> bool:
    """Whether the `lfr` command parsed into `args` opens the configured store."""
    if args.command not in _OPENS_STORE:
        return False
    if args.command == "match" and getattr(args, "api", None):
        return False
    which = _OPENS_STORE[args.command]
    return which is None or getattr(args, which[0], None) in which[1]


def before_command(args: Any) -> None:
    """The store's pre-flight, for the commands that open it; `PreflightError` otherwise."""
    if opens_store(args):
        check_store(Settings.from_env())

"""LFR_DATABASE_URL with several hosts (issue 27): parsed as libpq parses a connection URI, passed
to every connection the ledger opens, and refused in one clear line when malformed.

The connection tests use the real PostgreSQL at 127.0.0.1:5432 behind a host that refuses
connections (a free port): libpq must pass over the first to reach the second."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from eventsourcing.persistence import InfrastructureFactory, OperationalError

from lfr_ledger.api.bootstrap import build_ledger
from lfr_ledger.api.console.sessions import SessionStore
from lfr_ledger.api.idempotency_store import Claimed, PostgresIdempotencyStore
from lfr_ledger.api.preflight import reach_database
from lfr_ledger.api.problems import database_unavailable, status_of
from lfr_ledger.config.database_url import DatabaseUrlError, parse_database_url
from lfr_ledger.config.settings import Settings
from lfr_ledger.eventlog.chain.pg_factory import LedgerPostgresFactory
from lfr_ledger.eventlog.chain.wiring import verify_ledger
from lfr_ledger.projections.db import connect
from tests.conftest import PG_URL, postgres_available
from tests.e2e.conftest import free_port


def test_several_hosts_each_with_its_port_become_libpq_lists() -> None:
    params = parse_database_url(
        "postgresql://ledger:s%40fe%3Apw%2F1@db-a.force.police.uk:5433,db-b.force.police.uk,"
        "[2001:db8::7]:6432/lfr%20ledger?target_session_attrs=read-write&connect_timeout=3"
    )
    assert params == {
        "host": "db-a.force.police.uk,db-b.force.police.uk,2001:db8::7",
        "port": "5433,5432,6432",
        "dbname": "lfr ledger",
        "user": "ledger",
        "password": "s@fe:pw/1",
        "target_session_attrs": "read-write",
        "connect_timeout": "3",
    }


def test_one_host_reads_as_before() -> None:
    assert parse_database_url("postgres://127.0.0.1/test") == {
        "host": "127.0.0.1",
        "port": "5432",
        "dbname": "test",
        "user": "postgres",
        "password": "",
    }


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("mysql://h/db", "must start with postgresql://"),
        ("127.0.0.1:5432/db", "must start with postgresql://"),
        ("postgresql://u:pw@h1:5432,h2:99999/db", "port '99999' of host 'h2' is not 1-65535"),
        ("postgresql://u:pw@h1:54x2/db", "port '54x2' of host 'h1'"),
        ("postgresql://u:pw@h1,:5433/db", "a port without a host"),
        ("postgresql://u:pw@[::1:5432/db", "opens '[' without closing it"),
        ("postgresql://h1,h2/db?target_session_atrs=read-write", "unknown parameter"),
        ("postgresql://h1,h2/db?target_session_attrs=writable", "is not one of"),
        ("postgresql://h1/db?connect_timeout=-1", "whole seconds above zero"),
        ("postgresql://h1/db/more", "holds '/'"),
    ],
)
def test_a_malformed_url_is_refused_in_one_line_without_the_password(url: str, says: str) -> None:
    with pytest.raises(DatabaseUrlError) as refused:
        parse_database_url(url)
    assert says in str(refused.value)
    assert "\n" not in str(refused.value) and "pw" not in str(refused.value).replace("port", "")
    # Refused when the settings are read, before anything starts.
    with pytest.raises(ValueError, match="LFR_DATABASE_URL"):
        Settings.from_env({"LFR_DATABASE_URL": url})


def test_the_extras_reach_the_event_store_pool() -> None:
    settings = Settings(
        database_url="postgresql://u@h1:5433,h2:5434/db?target_session_attrs=read-write"
        "&connect_timeout=2",
    )
    env = settings.eventsourcing_env()
    assert env["POSTGRES_HOST"] == "h1,h2" and env["POSTGRES_PORT"] == "5433,5434"
    assert env["POSTGRES_CONNECT_TIMEOUT"] == "2"
    factory = InfrastructureFactory.construct(env)  # the pool opens on first use, not here
    try:
        assert isinstance(factory, LedgerPostgresFactory)
        kwargs = factory.datastore.pool.kwargs
        assert isinstance(kwargs, dict)
        assert kwargs["target_session_attrs"] == "read-write"
        assert kwargs["connect_timeout"] == "2"
        assert kwargs["host"] == "h1,h2"
    finally:
        factory.close()


def test_a_lost_connection_is_a_503_to_retry() -> None:
    assert status_of(OperationalError("server closed the connection unexpectedly")) == 503
    assert status_of(psycopg.OperationalError("consuming input failed")) == 503
    wrapped = RuntimeError("while recording")
    wrapped.__cause__ = psycopg.OperationalError("connection refused")
    assert database_unavailable(wrapped)
    assert status_of(RuntimeError("a bug")) == 500


@pytest.fixture
def behind_a_dead_host() -> Iterator[Settings]:
    """The test database listed second, after a host where nothing listens."""
    if not postgres_available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL unreachable in CI")
        pytest.skip("PostgreSQL unreachable")
    real = parse_database_url(PG_URL)
    url = (
        f"postgresql://{real['user']}@127.0.0.1:{free_port()},{real['host']}:{real['port']}/"
        f"{real['dbname']}?target_session_attrs=read-write&connect_timeout=3"
    )
    schema = f"t_{uuid.uuid4().hex[:10]}"
    yield Settings(database_url=url, postgres_schema=schema)
    from lfr_ledger.projections.store import close_stores

    close_stores()
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_every_connection_path_passes_over_a_dead_host(behind_a_dead_host: Settings) -> None:
    settings = behind_a_dead_host
    ledger = build_ledger(settings)  # the event store, the key vault, the schema lock
    try:
        assert ledger.recorder.max_notification_id() in (None, 0)
    finally:
        ledger.close()
    db = connect(settings)  # the views' connection
    try:
        assert db.execute("SELECT 1")[0][0] == 1
    finally:
        db.close()
    assert verify_ledger(settings).ok  # the chain's readers
    keys = PostgresIdempotencyStore(settings)
    try:
        assert isinstance(keys.claim("P-1", "k-1", "POST /operations", "h"), Claimed)
    finally:
        keys.close()
    SessionStore(settings).close()  # the console's sessions
    assert reach_database(settings).schema_exists  # the pre-flight check

"""Shared fixtures: every event-store test runs on SQLite and on the real PostgreSQL server."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import psycopg
import pytest

from bench.statement_count import Statements
from lfr_ledger.api.bootstrap import build_ledger
from lfr_ledger.api.demo.sample_deployment import (
    AO,
    AUTHORITY,
    COMPILER,
    OPERATOR,
    SIGNAGE,
    WINDOW_START,
    proposed,
    subject,
)
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.application import CaseLedger

# The sface pack, its engine and the sample faces' embeddings, defined here once for every test,
# so a worker loads them once: a fixture imported into a test module by name is that module's
# own, set up again there.
from tests.fixtures_faces import sample_embeddings, sface_engine, sface_model_dir  # noqa: F401

PG_URL = os.environ.get("LFR_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


def postgres_available() -> bool:
    try:
        with psycopg.connect(
            PG_URL.replace("postgresql://", "postgresql://", 1), connect_timeout=3
        ):
            return True
    except psycopg.OperationalError:
        return False


def _skip_or_fail_without_postgres() -> None:
    if postgres_available():
        return
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is required in CI but {PG_URL} is unreachable")
    pytest.skip(f"PostgreSQL at {PG_URL} is unreachable")


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgres":
        _skip_or_fail_without_postgres()
    return str(request.param)


@pytest.fixture
def settings(backend: str, tmp_path: Path) -> Iterator[Settings]:
    """Fresh, isolated storage: a temporary data dir, and on PostgreSQL a schema of its own."""
    if backend == "sqlite":
        yield Settings(data_dir=tmp_path / "var", model_dir=tmp_path / "models")
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield Settings(
            data_dir=tmp_path / "var",
            database_url=PG_URL,
            postgres_schema=schema,
            model_dir=tmp_path / "models",
        )
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


class Clock:
    """A clock the test moves by hand, so windows, retention and time limits are exact."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2025, 6, 2, 8, 0, tzinfo=UTC))


@contextmanager
def opened_ledger(settings: Settings, clock: Clock) -> Iterator[CaseLedger]:
    """A ledger over `settings`, closed with its vault after the block."""
    app = build_ledger(settings, clock=clock)
    try:
        yield app
    finally:
        app.close()
        close = getattr(app.vault, "close", None)
        if close:
            close()


@pytest.fixture
def ledger(settings: Settings, clock: Clock) -> Iterator[CaseLedger]:
    with opened_ledger(settings, clock) as app:
        yield app


def live_deployment(
    ledger: CaseLedger,
    clock: Clock,
    *,
    entry: int = 1,
    authority_ref: str = "AUTH-1",
    **changes: object,
) -> tuple[UUID, UUID]:
    """A deployment ready for alerts: authorised, its one watchlist entry (`subject(entry)`)
    enrolled and reviewed, then started at its window's start (the clock is moved there, and
    stays there). `changes` are the plan's (`starts_at`, `cameras`...)."""
    deployment = proposed(ledger, **changes)
    ledger.authorise_deployment(AO, deployment, authority_ref=authority_ref, **AUTHORITY)
    entry_id = ledger.enrol(COMPILER, deployment, subject(entry))
    ledger.review_watchlist(AO, deployment, confirmed_count=1, not_excessive=True)
    starts_at = changes.get("starts_at", WINDOW_START)
    assert isinstance(starts_at, datetime)
    clock.now = starts_at
    ledger.confirm_signage(OPERATOR, deployment, **SIGNAGE)
    ledger.start_deployment(OPERATOR, deployment)
    return deployment, entry_id


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> Statements:
    """Every SQL statement this process sends while `statements.counting()`: SQLite's trace
    callback on each connection opened after this fixture (build the ledger after it), psycopg's
    cursor on every PostgreSQL pool."""
    seen = Statements()
    seen.install(monkeypatch.setattr)
    return seen

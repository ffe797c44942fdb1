"""Issue 23, found by probing, item 1: on PostgreSQL one large request froze every write.

An alert with a 5 MB face crop (or a legal 4.4 MB enrolment photo) never got an answer: the
library's recorder sent its INSERT in psycopg's pipeline mode, whose sync stops flushing once
the last command is queued (psycopg issue 685), so the server sat in `ClientRead` for the rest
of the parameter while holding the events table's EXCLUSIVE lock, and every other write queued
behind it. Every test here is bounded by a timeout, never by luck: a write that hangs fails the
test in seconds, and its session is ended so the schema can be dropped.

Also here: the bound on every write's lock time (a writer that cannot get the lock in time is
answered 503, writes nothing, and its retry with the same Idempotency-Key succeeds), and
`/health/ready` saying when writes are stuck.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import TypeVar
from uuid import UUID

import cv2
import numpy as np
import psycopg
import pytest
from eventsourcing.persistence import PersistenceError
from litestar.testing import TestClient

from lfr_ledger.api.app import create_app
from lfr_ledger.api.auth import issue_token
from lfr_ledger.api.bootstrap import build_ledger
from lfr_ledger.api.demo.sample_deployment import COMPILER, PLANNER, authorised, subject
from lfr_ledger.api.schemas.base import MAX_IMAGE_BYTES
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.eventlog.chain.recorders import WriteTimedOut
from tests.conftest import PG_URL, Clock
from tests.test_invariants import event_count, live, send_alert

T = TypeVar("T")

# A 10 MB write takes about a second on either backend; a hang is what takes longer.
WRITE_WITHIN_S = 30.0


def _end_sessions_of(settings: Settings) -> None:
    """Ends this test's sessions still inside a statement (a hung write), so the thread that
    waits on it gets an error and the fixture can drop the schema."""
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE pid <> pg_backend_pid() AND state <> 'idle' AND position(%s in query) > 0",
            (f'"{settings.postgres_schema}"',),
        )


def within(settings: Settings, seconds: float, work: Callable[[], T]) -> T:
    """`work()`'s result, or the test fails after `seconds` (and the hung write is ended)."""
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["value"] = work()
        except BaseException as error:  # handed to the test's thread below
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        # The library retries a write whose connection broke, so a hung write may hang again
        # on a new connection: end its sessions until it gives up.
        for _ in range(30):
            if not thread.is_alive() or not settings.uses_postgres:
                break
            _end_sessions_of(settings)
            thread.join(1)
        pytest.fail(f"the write did not finish within {seconds:.0f} s: it hangs")
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]


@pytest.fixture(scope="module")
def largest_jpeg() -> bytes:
    """A real JPEG just under the schema's 10 MB limit: noise, which compresses least."""
    rng = np.random.default_rng(23)
    side = int((MAX_IMAGE_BYTES / 2.0) ** 0.5)
    while True:
        pixels = rng.integers(0, 256, (side, side, 3), dtype=np.uint8)
        ok, encoded = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, 100])
        assert ok
        if len(encoded) <= MAX_IMAGE_BYTES:
            assert len(encoded) > 0.9 * MAX_IMAGE_BYTES
            return encoded.tobytes()
        side -= 16


def test_a_face_crop_as_large_as_the_schema_allows_is_recorded(
    ledger: CaseLedger, settings: Settings, clock: Clock, largest_jpeg: bytes
) -> None:
    deployment, entries = live(ledger, clock)
    crop = largest_jpeg
    started = time.perf_counter()
    alert_id = within(
        settings,
        WRITE_WITHIN_S,
        lambda: send_alert(ledger, deployment, entries[0], clock, face_crop=crop),
    )
    elapsed = time.perf_counter() - started
    assert ledger.reveal_face_crop(alert_id) == crop
    # And the log is not left locked: the next write goes through at once.
    within(settings, 10, lambda: send_alert(ledger, deployment, entries[1], clock))
    print(f"{settings.uses_postgres=} {len(crop)} byte crop recorded in {elapsed:.2f} s")


def test_an_enrolment_image_as_large_as_the_schema_allows_is_recorded(
    ledger: CaseLedger, settings: Settings, largest_jpeg: bytes
) -> None:
    deployment = authorised(ledger)
    image = largest_jpeg
    before = event_count(ledger)
    entry_id = within(
        settings, WRITE_WITHIN_S, lambda: ledger.enrol(COMPILER, deployment, subject(), image=image)
    )
    assert event_count(ledger) > before
    assert ledger.reveal_entry(entry_id).image == image


def test_over_http_an_alert_with_the_largest_face_crop_is_answered(
    ledger: CaseLedger, settings: Settings, clock: Clock, largest_jpeg: bytes
) -> None:
    deployment, entries = live(ledger, clock)
    body = {
        "camera_id": "cam-1",
        "entry_id": str(entries[0]),
        "similarity": 0.9,
        "captured_at": clock.now.isoformat(),
        "face_crop": base64.b64encode(largest_jpeg).decode(),
    }
    matcher = issue_token(settings, role="matcher", sub="matcher-1", deployment_id=str(deployment))
    headers = {"Authorization": f"Bearer {matcher}", "Idempotency-Key": "crop-23-1"}
    # The app runs on the test's ledger, and so on its clock.
    with TestClient(create_app(settings, ledger=ledger)) as client:
        raised = within(
            settings,
            WRITE_WITHIN_S,
            lambda: client.post(f"/deployments/{deployment}/alerts", json=body, headers=headers),
        )
        assert raised.status_code == 201, raised.text[:500]
        assert ledger.reveal_face_crop(UUID(raised.json()["id"])) == largest_jpeg


# --- every write's lock time is bounded --------------------------------------------------------

# The bounds these tests run under: one second each, so a test waits seconds, not minutes.
BOUND_S = 1


def close(ledger: CaseLedger) -> None:
    ledger.close()
    close_vault = getattr(ledger.vault, "close", None)
    if close_vault:
        close_vault()


@pytest.fixture
def bounded(settings: Settings) -> Settings:
    return replace(settings, pg_lock_timeout=BOUND_S, pg_idle_in_transaction_timeout=BOUND_S)


@contextmanager
def log_locked_elsewhere(settings: Settings, events_table: str) -> Iterator[int]:
    """Another session holds the events table against writers (as the hung write did) until
    the block ends; yields that session's id."""
    with psycopg.connect(PG_URL) as conn:
        conn.execute(f'LOCK TABLE "{settings.postgres_schema}"."{events_table}" IN EXCLUSIVE MODE')
        try:
            yield conn.info.backend_pid
        finally:
            conn.rollback()


def wait_until_ended(pid: int, seconds: float) -> None:
    """Until the server has ended session `pid` (seen from another session), at most `seconds`."""
    deadline = time.monotonic() + seconds
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        query = "SELECT 1 FROM pg_stat_activity WHERE pid = %s"
        while conn.execute(query, (pid,)).fetchone() is not None:
            assert time.monotonic() < deadline, f"session {pid} still open after {seconds} s"
            time.sleep(0.05)


def stored_events(settings: Settings, events_table: str) -> int:
    # Plain reads are not blocked by the writers' lock.
    with psycopg.connect(PG_URL) as conn:
        row = conn.execute(
            f'SELECT count(*) FROM "{settings.postgres_schema}"."{events_table}"'
        ).fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_write_that_cannot_get_the_log_in_time_is_refused_and_writes_nothing(
    bounded: Settings, clock: Clock
) -> None:
    ledger = build_ledger(bounded, clock=clock)
    # A node started with another bound (re)creates the shared insert function: each node's
    # writes keep their own bound.
    close(build_ledger(replace(bounded, pg_lock_timeout=60), clock=clock))
    try:
        table = ledger.recorder.events_table_name
        before = stored_events(bounded, table)
        with log_locked_elsewhere(bounded, table):
            started = time.perf_counter()
            with pytest.raises(WriteTimedOut, match="nothing was recorded"):
                within(
                    bounded,
                    10 * BOUND_S,
                    lambda: ledger.open_operation(PLANNER, name="Op", force="demo", purpose="p"),
                )
            waited = time.perf_counter() - started
            # One wait of the bound, not the library's ten retries of it.
            assert BOUND_S <= waited < 3 * BOUND_S, waited
        assert stored_events(bounded, table) == before
        # Once the lock is free, the same command goes through.
        ledger.open_operation(PLANNER, name="Op", force="demo", purpose="p")
        assert stored_events(bounded, table) == before + 1
    finally:
        close(ledger)


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_ledger_transaction_idle_on_its_client_while_holding_the_log_is_ended(
    bounded: Settings, clock: Clock
) -> None:
    """A holder that waits on its client (the hung write's state, minus the half-sent request)
    is ended by the server after the bound, and writes go on."""
    ledger = build_ledger(bounded, clock=clock)
    try:
        recorder = ledger.recorder
        table = recorder.events_table_name
        lock = f'LOCK TABLE "{bounded.postgres_schema}"."{table}" IN EXCLUSIVE MODE'
        with (
            pytest.raises(PersistenceError, match="idle-in-transaction timeout"),
            recorder.datastore.transaction(commit=True) as curs,
        ):
            curs.execute(lock)
            # Idle on its client (the test only waits) until the server ends the session.
            wait_until_ended(curs.connection.info.backend_pid, 10 * BOUND_S)
        within(
            bounded,
            10 * BOUND_S,
            lambda: ledger.open_operation(PLANNER, name="Op", force="demo", purpose="p"),
        )
    finally:
        close(ledger)


def _headers(settings: Settings, role: str, key: str | None = None) -> dict[str, str]:
    token = issue_token(settings, role=role, sub=f"{role}-1")
    return {"Authorization": f"Bearer {token}", **({"Idempotency-Key": key} if key else {})}


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_over_http_a_timed_out_write_is_a_503_problem_and_its_retry_runs_once(
    bounded: Settings,
) -> None:
    body = {"name": "Op", "force": "demo", "purpose": "town centre"}
    headers = _headers(bounded, "planner", key="op-23-1")
    with TestClient(create_app(bounded)) as client:
        table = client.app.state.services.ledger.recorder.events_table_name
        before = stored_events(bounded, table)
        with log_locked_elsewhere(bounded, table):
            refused = within(
                bounded,
                10 * BOUND_S,
                lambda: client.post("/operations", json=body, headers=headers),
            )
        assert refused.status_code == 503, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.headers["retry-after"] == "1"
        problem = refused.json()
        assert problem["type"] == "urn:lfr-ledger:problem:write-timed-out"
        assert "nothing was recorded" in problem["detail"]
        assert "Idempotency-Key" in problem["detail"]
        assert stored_events(bounded, table) == before
        created = client.post("/operations", json=body, headers=headers)
        assert created.status_code == 201, created.text
        again = client.post("/operations", json=body, headers=headers)
        assert again.headers.get("idempotency-replayed") == "true"
        assert again.json()["id"] == created.json()["id"]


# --- /health/ready says when writes are stuck ---------------------------------------------------


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_readiness_names_a_session_holding_the_log_longer_than_a_write_waits(
    bounded: Settings,
) -> None:
    with TestClient(create_app(bounded)) as client:
        table = client.app.state.services.ledger.recorder.events_table_name
        assert client.get("/health/ready").status_code == 200
        with log_locked_elsewhere(bounded, table) as holder:
            time.sleep(BOUND_S + 0.5)
            stuck = client.get("/health/ready")
            assert stuck.status_code == 503, stuck.text
            reason = stuck.json()["reason"]
            assert stuck.json()["ready"] is False
            assert "writes are stuck" in reason and f"session {holder} " in reason, reason
            assert f"pg_terminate_backend({holder})" in reason
        assert client.get("/health/ready").status_code == 200


def test_the_bounds_reach_the_event_store_and_nonsense_is_refused() -> None:
    env = {
        "LFR_DATABASE_URL": PG_URL,
        "LFR_PG_LOCK_TIMEOUT": "3",
        "LFR_PG_IDLE_IN_TRANSACTION_TIMEOUT": "7",
    }
    store = Settings.from_env(env).eventsourcing_env()
    assert store["POSTGRES_LOCK_TIMEOUT"] == "3"
    assert store["POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT"] == "7"
    defaults = Settings.from_env({"LFR_DATABASE_URL": PG_URL}).eventsourcing_env()
    assert defaults["POSTGRES_LOCK_TIMEOUT"] == "5"
    for bad in ("0", "-1", "2.5", "soon"):
        with pytest.raises(ValueError, match="LFR_PG_LOCK_TIMEOUT"):
            Settings.from_env({"LFR_PG_LOCK_TIMEOUT": bad})

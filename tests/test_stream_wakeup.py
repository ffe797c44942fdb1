"""The live alert stream is pushed, not polled (issue 28): a commit wakes it at once, on the
embedded SQLite (the recorder rings after its commit) and on PostgreSQL (NOTIFY, heard by one
LISTEN connection per process), across nodes, and after its LISTEN connection is killed.

The fallback looks (200 ms on SQLite, 1 s on PostgreSQL) are set to 30 s in these tests, so an
event seen within the bound below can only have been seen because something woke the stream.
The stream is the real generator the route returns (`alert_events`) on the real event store;
the HTTP layer around it is tested in tests/e2e/test_e2e_live.py (live and Last-Event-ID resume)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from uuid import UUID

import psycopg
import pytest

from lfr_ledger.api import camera_stream
from lfr_ledger.api.bootstrap import build_ledger
from lfr_ledger.api.camera_stream import CameraFeed, camera_events
from lfr_ledger.api.demo.sample_deployment import (
    OPERATOR,
    matcher_for,
)
from lfr_ledger.api.stream import AlertFeed, alert_events, current_position
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.alert import AlertClaim
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.eventlog import wakeup
from lfr_ledger.eventlog.wakeup import LogBell, postgres_bell
from lfr_ledger.projections.catch_up import catch_up
from tests.conftest import PG_URL, Clock, live_deployment

pytestmark = pytest.mark.timeout(60)

# From the commit's return to the event leaving the stream; a poll every 30 s cannot make it.
WOKEN_WITHIN = 0.5
postgres_only = pytest.mark.parametrize("backend", ["postgres"], indirect=True)


@pytest.fixture(autouse=True)
def long_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wakeup, "FALLBACK_SECONDS", 30.0)
    monkeypatch.setattr(wakeup, "UNHEARD_WRITERS_SECONDS", 30.0)


def raise_alert(ledger: CaseLedger, deployment: UUID, entry: UUID) -> UUID:
    claim = AlertClaim(
        deployment, camera_id="cam-1", entry_id=entry, similarity=0.8, captured_at=ledger.clock()
    )
    return ledger.raise_alert(matcher_for(deployment), claim)


class Listener:
    """The stream's events as they leave it, with the monotonic time each did, on a loop of
    its own (as the server's) in a thread."""

    def __init__(self, feed: AlertFeed) -> None:
        self.events: list[tuple[float, int, str]] = []
        self.arrived = threading.Condition()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(self._run(feed),))
        self.task: asyncio.Task[None] | None = None
        self.thread.start()

    async def _run(self, feed: AlertFeed) -> None:
        self.task = asyncio.current_task()
        try:
            async for message in alert_events(feed):
                if message.id is not None:
                    with self.arrived:
                        self.events.append((time.monotonic(), int(message.id), str(message.data)))
                        self.arrived.notify_all()
        except asyncio.CancelledError:
            pass

    def wait_for(self, count: int, timeout: float) -> list[tuple[float, int, str]]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.events) >= count, timeout)
            return list(self.events)

    def close(self) -> None:
        task = self.task
        if task is not None:
            self.loop.call_soon_threadsafe(task.cancel)
        self.thread.join(10)
        self.loop.close()


def stream_on(ledger: CaseLedger, deployment: UUID) -> Iterator[Listener]:
    listener = Listener(AlertFeed(ledger, deployment, current_position(ledger)))
    try:
        time.sleep(0.3)  # past its first read: asleep until woken
        yield listener
    finally:
        listener.close()


def test_a_commit_wakes_the_stream(ledger: CaseLedger, clock: Clock) -> None:
    deployment, entry = live_deployment(ledger, clock)
    for listener in stream_on(ledger, deployment):
        for n in range(1, 4):
            alert = raise_alert(ledger, deployment, entry)
            committed = time.monotonic()
            events = listener.wait_for(n, timeout=5)
            assert len(events) == n, "the stream was not woken by the commit"
            at, _, data = events[-1]
            assert str(alert) in data
            assert at - committed < WOKEN_WITHIN
            time.sleep(0.1)  # asleep again before the next


@postgres_only
def test_a_write_through_another_node_wakes_the_stream(
    ledger: CaseLedger, settings: Settings, clock: Clock
) -> None:
    """Node A's stream, node B's write: two ledgers, each with its own pool, on one schema."""
    deployment, entry = live_deployment(ledger, clock)
    other = build_ledger(settings, clock=clock)
    try:
        for listener in stream_on(ledger, deployment):
            alert = raise_alert(other, deployment, entry)
            committed = time.monotonic()
            events = listener.wait_for(1, timeout=5)
            assert events, "node A's stream did not hear node B's commit"
            assert str(alert) in events[0][2]
            assert events[0][0] - committed < WOKEN_WITHIN
    finally:
        other.close()


@postgres_only
def test_a_killed_listen_connection_reopens_and_nothing_is_lost(
    ledger: CaseLedger, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The write lands while no one LISTENs (its NOTIFY is lost); reopening rings the bell, so
    the stream reads it without waiting for the fallback; later writes wake it as before."""
    monkeypatch.setattr(wakeup, "RECONNECT_SECONDS", 1.0)
    deployment, entry = live_deployment(ledger, clock)
    kwargs = ledger.recorder.datastore.pool.kwargs  # type: ignore[attr-defined]
    _, listen = postgres_bell(kwargs, ledger.recorder.channel_name)  # type: ignore[attr-defined]
    for listener in stream_on(ledger, deployment):
        assert listen.listening.wait(5)
        opened, pid = listen.connections, listen.backend_pid
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
        deadline = time.monotonic() + 5
        while listen.listening.is_set() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not listen.listening.is_set()
        lost = raise_alert(ledger, deployment, entry)  # while it is down
        events = listener.wait_for(1, timeout=3 * wakeup.RECONNECT_SECONDS)
        assert len(events) == 1, "the write made while LISTEN was down was not read"
        assert listen.connections == opened + 1 and listen.backend_pid != pid
        heard = raise_alert(ledger, deployment, entry)
        committed = time.monotonic()
        events = listener.wait_for(2, timeout=5)
        assert events[1][0] - committed < WOKEN_WITHIN
        # Exactly these two, in the log's order, under their notification ids.
        assert [str(lost) in events[0][2], str(heard) in events[1][2]] == [True, True]
        assert events[0][1] < events[1][1]


def test_the_bell_misses_no_ring_between_reading_and_waiting() -> None:
    """A ring after `rung` was read, before the wait began, ends the wait at once; a ring from
    another thread wakes a waiter; with no ring, the wait lasts its timeout."""
    bell = LogBell(every_writer_rings=True)

    async def scenario() -> tuple[float, float, bool]:
        seen = bell.rung
        bell.ring()
        started = time.monotonic()
        assert await bell.wait(seen, timeout=5)
        at_once = time.monotonic() - started
        seen = bell.rung
        started = time.monotonic()
        threading.Timer(0.05, bell.ring).start()
        assert await bell.wait(seen, timeout=30)
        woken_after = time.monotonic() - started
        quiet = await bell.wait(bell.rung, timeout=0.05)
        return at_once, woken_after, quiet

    at_once, woken_after, quiet = asyncio.run(scenario())
    assert at_once < 0.05 and woken_after < 1.0 and not quiet


def test_a_commit_wakes_the_camera_stream(
    ledger: CaseLedger, settings: Settings, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cameras' state follows the log too: ending the deployment (an event) shows at once,
    not at the next once-a-second look (set to 30 s here)."""
    monkeypatch.setattr(camera_stream, "LOOK_EVERY_SECONDS", 30.0)
    deployment, _ = live_deployment(ledger, clock)
    feed = CameraFeed(ledger, settings, deployment, lambda: catch_up(settings))

    async def scenario() -> float:
        events = camera_events(feed)
        states: list[str] = []
        async for message in events:
            if message.data is None:
                continue
            states.append(str(message.data))
            if len(states) == 1:
                await asyncio.sleep(0.4)  # past the first look's minimum gap: asleep
                await asyncio.to_thread(ledger.end_deployment, OPERATOR, deployment)
                ended = time.monotonic()
            else:
                await events.aclose()
                return time.monotonic() - ended
        raise AssertionError("the stream ended")

    took = asyncio.run(asyncio.wait_for(scenario(), timeout=10))
    assert took < camera_stream.MIN_GAP_SECONDS + WOKEN_WITHIN

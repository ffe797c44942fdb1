"""Live alerts as server-sent events, read from the notification log.

Each SSE event's id is the notification id of the event it reports, so a client that reconnects
with Last-Event-ID resumes exactly after the last event it saw: the log is the buffer, and
nothing is lost across a disconnect or a server restart.

The stream is pushed, not polled: it sleeps on the log's bell (eventlog/wakeup.py), which rings
after each commit in this process on SQLite and on every node's NOTIFY on PostgreSQL, then reads
`select_notifications` after the last id it sent (at once again while a batch comes back full).
A ring only says "read again", so the ids still come from the log. When nothing rings, it reads
anyway: every 200 ms on SQLite, where another process writing the same file (`lfr match` without
`--api`) rings nothing here, so its alerts arrive no later than before; every second on
PostgreSQL, where every writer NOTIFYs and the look covers only a notification lost while a
LISTEN connection was down.

Payloads carry no personal data: ids, camera, similarity, category, state and times.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator
from uuid import UUID

import anyio
import anyio.to_thread
import msgspec
from litestar.response import ServerSentEventMessage

from lfr_ledger.api.problems import ProblemException
from lfr_ledger.api.schemas.alerts import AlertOut
from lfr_ledger.domain.alert import AlertTopic
from lfr_ledger.domain.alert.aggregate import Alert
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.eventlog import wakeup
from lfr_ledger.eventlog.wakeup import LogBell, bell_of

ALERT_TOPICS: tuple[str, ...] = (
    AlertTopic.RAISED,
    AlertTopic.ADJUDICATED,
    AlertTopic.ADJUDICATION_CORRECTED,
    AlertTopic.ENGAGEMENT_RECORDED,
    AlertTopic.OUTCOME_RECORDED,
    AlertTopic.OUTCOME_CORRECTED,
    AlertTopic.CLOSED,
    AlertTopic.LEGAL_HOLD_PLACED,
    AlertTopic.LEGAL_HOLD_RELEASED,
    AlertTopic.IMAGES_ERASED,
)
# Notification ids are 64-bit signed integers in both stores.
MAX_EVENT_ID = 2**62
BATCH = 200
KEEPALIVE_SECONDS = 15.0
RETRY_MILLISECONDS = 1000


def alert_out(alert: Alert) -> AlertOut:
    """The alert as the stream and its timeline show it: no personal data."""
    return AlertOut(
        id=alert.id,
        deployment_id=alert.deployment_id,
        entry_id=alert.entry_id,
        camera_id=alert.camera_id,
        category=alert.category,
        similarity=alert.similarity,
        threshold=alert.threshold,
        status=alert.status,
        captured_at=alert.captured_at,
        raised_at=alert.raised_at,
        decision=alert.decision.value if alert.decision is not None else None,
        adjudicated_at=alert.adjudicated_at,
        adjudicated_by=alert.adjudicated_by,
        engaged=alert.engaged,
        confirmed=alert.confirmed.value if alert.confirmed is not None else None,
        outcomes=[o.type.value for o in alert.outcomes],
        closed_at=alert.closed_at,
    )


def event_name(topic: str) -> str:
    """AlertTopic.ENGAGEMENT_RECORDED -> "alert.engagement_recorded"."""
    name = topic.rsplit(".", 1)[-1]
    return "alert." + re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class AlertFeed:
    """Reads the log for one deployment's alert events; remembers which alert is whose."""

    def __init__(self, ledger: CaseLedger, deployment_id: UUID, after: int) -> None:
        self.ledger = ledger
        self.deployment_id = deployment_id
        self.after = after
        self._deployment_of: dict[UUID, UUID] = {}
        self.bell: LogBell | None = bell_of(ledger.recorder)

    def poll(self) -> tuple[list[tuple[int, str, AlertOut]], bool]:
        """New events for this deployment, and whether the batch was full (more waiting)."""
        notifications = self.ledger.recorder.select_notifications(
            self.after, BATCH, topics=ALERT_TOPICS, inclusive_of_start=False
        )
        items: list[tuple[int, str, AlertOut]] = []
        for n in notifications:
            alert_id = UUID(str(n.originator_id))
            owner = self._deployment_of.get(alert_id)
            if owner is None:
                owner = self.ledger.alert(alert_id).deployment_id
                self._deployment_of[alert_id] = owner
            if owner == self.deployment_id:
                # The alert as it was right after this event, so a replay shows each step.
                alert: Alert = self.ledger.repository.get(alert_id, version=n.originator_version)
                items.append((n.id, event_name(n.topic), alert_out(alert)))
            self.after = n.id
        return items, len(notifications) == BATCH


def current_position(ledger: CaseLedger) -> int:
    return int(ledger.recorder.max_notification_id() or 0)


def _encode(alert: AlertOut) -> str:
    return msgspec.json.encode(alert).decode()


async def alert_events(feed: AlertFeed) -> AsyncGenerator[ServerSentEventMessage, None]:
    # A first comment tells the client the subscription is live (and sets its retry delay).
    yield ServerSentEventMessage(data=None, comment="subscribed", retry=RETRY_MILLISECONDS)
    quiet_since = anyio.current_time()
    while True:
        # Read before the log is: a commit during the read rings after it, so it is not missed.
        rung = feed.bell.rung if feed.bell is not None else 0
        items, more = await anyio.to_thread.run_sync(feed.poll)
        for nid, name, alert in items:
            yield ServerSentEventMessage(data=_encode(alert), event=name, id=nid)
        if items:
            quiet_since = anyio.current_time()
        elif anyio.current_time() - quiet_since > KEEPALIVE_SECONDS:
            # Proxies drop silent connections; a comment keeps it open and is ignored.
            quiet_since = anyio.current_time()
            yield ServerSentEventMessage(data=None, comment="keep-alive")
        if not more:
            await wait_for_commits(feed.bell, rung)


async def wait_for_commits(bell: LogBell | None, rung: int) -> None:
    """Until the log may have moved since `rung` was read, or it is time to read it anyway."""
    if bell is None:
        await anyio.sleep(wakeup.UNHEARD_WRITERS_SECONDS)
    else:
        await bell.wait(rung, bell.fallback_seconds)


def parse_last_event_id(header: str | None, query: int | None) -> int | None:
    if header is not None and header.strip():
        text = header.strip()
        # isdigit() alone takes "²"; only ASCII digits name a notification id.
        if not (text.isascii() and text.isdigit()) or int(text) > MAX_EVENT_ID:
            raise ProblemException(
                400,
                "validation",
                "Invalid request",
                "header Last-Event-ID must be the id of an event this stream sent (an integer)",
            )
        return int(text)
    return query

"""The one paged reader of the notification log: every scan of stored events goes through it,
the domain's own rare scans included (so it lives here, below every room that reads the log)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from eventsourcing.persistence import ApplicationRecorder, Notification

PAGE = 1000


def notifications(
    recorder: ApplicationRecorder,
    topics: Sequence[str] = (),
    *,
    after: int = 0,
    page: int = PAGE,
) -> Iterator[Notification]:
    """Every notification after id `after` (all topics when `topics` is empty), in log order,
    read `page` at a time so a long log never sits in memory whole."""
    while True:
        batch = recorder.select_notifications(
            after, page, topics=list(topics), inclusive_of_start=False
        )
        yield from batch
        if len(batch) < page:
            return
        after = batch[-1].id


def latest_recorded_at(recorder: ApplicationRecorder, mapper: Any) -> datetime | None:
    """When the latest event was recorded, by the recording node's clock (its timestamp); None
    for an empty log. Decodes that one event; its sealed fields stay sealed."""
    head = recorder.max_notification_id()
    if not head:
        return None
    found = recorder.select_notifications(head, 1)
    stamp = getattr(mapper.to_domain_event(found[0]), "timestamp", None) if found else None
    return stamp if isinstance(stamp, datetime) else None

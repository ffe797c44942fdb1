"""What every view is built from: the `View` base class, the `@on(topic)` mark that registers
a handler for an event topic, the decoded `Event` a handler reads, and the UTC time formats the
views store. The views themselves are in `views.py` and the modules beside it; the list of them
is in `registry.py`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

from lfr_ledger.projections.rows import Rows, Table


class Event(DomainEventProtocol[UUID], Protocol):
    """A decoded domain event: the envelope every event has (`originator_id`,
    `originator_version`), then its topic's own fields, read by name. Each handler reads
    the fields of the one topic it is registered for, as that event declares them in
    `domain/`; the fields differ by topic, so they are not listed here."""

    def __getattr__(self, name: str) -> Any: ...


Handler = Callable[[Event, Rows], None]


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def utc_day(moment: datetime) -> str:
    return moment.astimezone(UTC).date().isoformat()


def milliseconds(start: datetime, end: datetime) -> int:
    delta = end - start
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


class View:
    """A named read model: the tables it owns and a handler per event topic."""

    name: ClassVar[str]
    tables: ClassVar[tuple[Table, ...]]

    def __init__(self) -> None:
        self.handlers: dict[str, Handler] = {}
        for attr in dir(type(self)):
            topic = getattr(getattr(type(self), attr), "_handles", None)
            if topic is not None:
                self.handlers[topic] = getattr(self, attr)

    def handles(self, topic: str) -> bool:
        return topic in self.handlers

    def apply(self, topic: str, event: Event, rows: Rows) -> None:
        self.handlers[topic](event, rows)


def on(topic: str) -> Callable[[Callable[[Any, Event, Rows], None]], Any]:
    def mark(fn: Callable[[Any, Event, Rows], None]) -> Any:
        fn._handles = topic  # type: ignore[attr-defined]
        return fn

    return mark

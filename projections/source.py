"""Reading the ledger's notification log, and decoding notifications into domain events,
without the key vault: projections never need personal data, so they never open it."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, cast

from eventsourcing.persistence import (
    ApplicationRecorder,
    DatetimeAsISO,
    DecimalAsStr,
    InfrastructureFactory,
    JSONTranscoder,
    Mapper,
    Notification,
    UUIDAsHex,
)
from eventsourcing.utils import Environment

# Importing the aggregates registers their event topics for decoding.
import lfr_ledger.domain.alert.aggregate
import lfr_ledger.domain.deployment.aggregate
import lfr_ledger.domain.operation
import lfr_ledger.domain.records
import lfr_ledger.domain.watchlist  # noqa: F401
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.transcodings import register_transcodings
from lfr_ledger.projections.view_base import Event


def build_mapper(factory: InfrastructureFactory[Any]) -> Mapper[Any]:
    """The ledger's mapper: the library's transcodings plus the domain's value objects."""
    transcoder = JSONTranscoder()
    transcoder.register(UUIDAsHex())
    transcoder.register(DecimalAsStr())
    transcoder.register(DatetimeAsISO())
    register_transcodings(transcoder)
    return factory.mapper(transcoder=transcoder)


class EventSource:
    def __init__(self, settings: Settings) -> None:
        env = {**os.environ, **settings.eventsourcing_env()}
        # A reader needs no more than a couple of connections.
        env["POSTGRES_POOL_SIZE"] = "2"
        env["POSTGRES_MAX_OVERFLOW"] = "2"
        self.factory = InfrastructureFactory.construct(Environment(CaseLedger.name, env))
        self.recorder: ApplicationRecorder = self.factory.application_recorder()
        self.mapper = build_mapper(self.factory)

    def read(self, after: int, limit: int) -> Sequence[Notification]:
        return self.recorder.select_notifications(after, limit, inclusive_of_start=False)

    def decode(self, notification: Notification) -> Event:
        # The library's protocol names only the envelope; our events' own fields are read
        # by name, which `Event` allows.
        return cast(Event, self.mapper.to_domain_event(notification))

    def head(self) -> int:
        return int(self.recorder.max_notification_id() or 0)

    def close(self) -> None:
        self.factory.close()

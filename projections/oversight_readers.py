"""The readers of oversight's indexes (`oversight_indexes.py`), which the composition root
hands to subject access and retention (oversight may not import projections; each service
declares what it needs as a protocol).

Each reader catches its view up to the log's head before reading: only the events the view has
not seen are applied, so a projection runner that is behind never hides a record.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

from lfr_ledger.config.settings import Settings
from lfr_ledger.projections.catch_up import catch_up
from lfr_ledger.projections.oversight_indexes import (
    RETENTION_DEADLINES,
    SUBJECT_INDEX,
    moment,
    subject_key,
)
from lfr_ledger.projections.store import store_for


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


class KeptAlertImages(NamedTuple):
    alert_id: UUID
    deployment_id: UUID
    captured_at: datetime
    held: bool


class KeptAccessRecord(NamedTuple):
    kind: str
    record_id: UUID
    occurred_at: datetime
    sealed: bool


class ErasedSince(NamedTuple):
    """Destructions written since a moment: whose keys a crashed run may have left."""

    watchlists: list[UUID]
    alert_images: list[UUID]
    access_records: list[UUID]


def _marks(values: Collection[Any]) -> str:
    return ", ".join("?" for _ in values)


class _Reader:
    def __init__(self, settings: Settings, view: str) -> None:
        self.settings = settings
        self.view = view

    def catch_up(self) -> int:
        """Applies the events the view has not seen yet (only those: cheap), so a read never
        misses a record because the projection runner is behind."""
        return catch_up(self.settings, names=[self.view])

    def _select(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with store_for(self.settings).connection() as db, db.snapshot():
            return db.execute(statement, params)


class SubjectIndex(_Reader):
    """Which entries and alerts concern a subject, by the vault's digests of their reference."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, SUBJECT_INDEX)

    def records(self, subject_digests: Collection[str]) -> dict[UUID, list[UUID]]:
        """Each entry enrolled under one of the digests, with its alerts in log order."""
        if not subject_digests:
            return {}
        self.catch_up()
        keys = sorted(subject_key(d) for d in subject_digests)
        rows = self._select(
            "SELECT e.entry_id, a.alert_id FROM view_subject_entries e "
            "LEFT JOIN view_subject_alerts a ON a.entry_id = e.entry_id "
            f"WHERE e.subject_key IN ({_marks(keys)}) ORDER BY e.entry_id, a.seq",
            keys,
        )
        found: dict[UUID, list[UUID]] = {}
        for entry_id, alert_id in rows:
            alerts = found.setdefault(UUID(str(entry_id)), [])
            if alert_id is not None:
                alerts.append(UUID(str(alert_id)))
        return found


class RetentionDeadlines(_Reader):
    """What retention still has to destroy, selected by anchor: `…_by` bounds are inclusive
    (the record is due when anchor + period <= now), `None` means every kept record."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, RETENTION_DEADLINES)

    def kept_watchlists(self, finished_by: datetime | None) -> list[tuple[UUID, datetime]]:
        statement = (
            "SELECT deployment_id, finished_at FROM view_retention_watchlists "
            "WHERE finished_at IS NOT NULL AND destroyed_at IS NULL"
        )
        params: list[Any] = []
        if finished_by is not None:
            statement += " AND finished_at <= ?"
            params.append(moment(finished_by))
        rows = self._select(statement + " ORDER BY finished_at, deployment_id", params)
        return [(UUID(str(d)), _time(f)) for d, f in rows]

    def kept_alert_images(self, captured_by: datetime | None) -> list[KeptAlertImages]:
        statement = (
            "SELECT alert_id, deployment_id, captured_at, held FROM view_retention_alert_images "
            "WHERE erased_at IS NULL"
        )
        params: list[Any] = []
        if captured_by is not None:
            statement += " AND captured_at <= ?"
            params.append(moment(captured_by))
        rows = self._select(statement + " ORDER BY captured_at, alert_id", params)
        return [
            KeptAlertImages(UUID(str(a)), UUID(str(d)), _time(c), bool(h)) for a, d, c, h in rows
        ]

    def kept_access_records(self, occurred_by: datetime) -> list[KeptAccessRecord]:
        rows = self._select(
            "SELECT kind, record_id, occurred_at, sealed FROM view_retention_access_records "
            "WHERE destroyed_at IS NULL AND occurred_at <= ? ORDER BY occurred_at, record_id",
            (moment(occurred_by),),
        )
        return [KeptAccessRecord(str(k), UUID(str(r)), _time(o), bool(s)) for k, r, o, s in rows]

    def unfinished(self, window_closed_by: datetime) -> list[UUID]:
        """Authorised deployments neither ended nor refused whose window has closed."""
        rows = self._select(
            "SELECT deployment_id FROM view_retention_watchlists "
            "WHERE authorised = 1 AND finished_at IS NULL AND window_ends_at <= ? "
            "ORDER BY deployment_id",
            (moment(window_closed_by),),
        )
        return [UUID(str(d)) for (d,) in rows]

    def erased_since(self, since: datetime) -> ErasedSince:
        bound = (moment(since),)
        watchlists = self._select(
            "SELECT deployment_id FROM view_retention_watchlists "
            "WHERE destroyed_at >= ? ORDER BY deployment_id",
            bound,
        )
        images = self._select(
            "SELECT alert_id FROM view_retention_alert_images "
            "WHERE erased_at >= ? ORDER BY alert_id",
            bound,
        )
        access = self._select(
            "SELECT record_id FROM view_retention_access_records "
            "WHERE destroyed_at >= ? ORDER BY record_id",
            bound,
        )
        return ErasedSince(
            [UUID(str(d)) for (d,) in watchlists],
            [UUID(str(a)) for (a,) in images],
            [UUID(str(r)) for (r,) in access],
        )

"""Following the ledger: the watchlist notifications turned into changes, applied to the store
exactly once from the index's own tracking position.

Kept apart from the store because it is the only part that knows the ledger (its recorder,
mapper and vault); the store and the search know only vectors."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

import numpy as np

from lfr_ledger.domain.deployment import DeploymentTopic
from lfr_ledger.domain.watchlist import WatchlistEntryTopic
from lfr_ledger.matching.index.store import VectorStore
from lfr_ledger.matching.index.vectors import WatchlistIndexError, template_vector

if TYPE_CHECKING:
    from eventsourcing.persistence import Notification

    from lfr_ledger.domain.application import CaseLedger


log = logging.getLogger(__name__)


# Proposals carry each deployment's model, so a query is checked even before any enrolment.
WATCHLIST_TOPICS = (
    DeploymentTopic.PROPOSED,
    WatchlistEntryTopic.ENROLLED,
    WatchlistEntryTopic.WITHDRAWN,
    WatchlistEntryTopic.DESTROYED,
    DeploymentTopic.WATCHLIST_DESTROYED,
)

DEFAULT_BATCH = 500


@dataclass(frozen=True)
class _Enrolled:
    entry_id: UUID
    deployment_id: UUID
    model_id: str | None
    template: bytes | None  # None: no template, or its key was shredded


@dataclass(frozen=True)
class _Removed:
    entry_id: UUID


@dataclass(frozen=True)
class _DeploymentProposed:
    deployment_id: UUID
    model_id: str


@dataclass(frozen=True)
class _WatchlistDestroyed:
    deployment_id: UUID


_Change = _Enrolled | _Removed | _DeploymentProposed | _WatchlistDestroyed


class WatchlistIndex(VectorStore):
    """The vector store kept in step with the ledger: a projection of enrolments, withdrawals
    and destructions, applied exactly once from its own tracking position. One per process."""

    def sync(self, ledger: CaseLedger, *, batch_size: int = DEFAULT_BATCH) -> int:
        """Applies the watchlist notifications recorded since the index's position; returns
        how many were applied. Cheap when nothing changed (two indexed look-ups)."""
        applied = 0
        removed = False
        try:
            while True:
                start = self.position
                head = ledger.recorder.max_notification_id() or 0
                if head <= start:
                    return applied
                notifications = self._select(ledger, start, head, batch_size)
                end = notifications[-1].id if len(notifications) == batch_size else head
                # Unsealing happens before the write lock is taken, so searches by other
                # processes (and threads) are not held up by the vault.
                changes = self._changes(ledger, notifications)
                with self._write() as conn:
                    if self._read_position(conn) != start:
                        continue  # another process applied this batch meanwhile
                    removed |= self._apply(conn, changes)
                    conn.execute("UPDATE index_tracking SET position = ? WHERE id = 1", (end,))
                applied += len(notifications)
        finally:
            if removed:
                self._scrub()

    def rebuild(self, ledger: CaseLedger, *, batch_size: int = DEFAULT_BATCH) -> int:
        """Rebuilds the index from the start of the log, in one transaction: searches see the
        old index until the new one is complete. Returns the notifications applied."""
        applied = 0
        with self._write() as conn:
            # Every virtual table here is a vec0 table of ours; dropping one drops its shadows.
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master "
                "WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%'"
            ).fetchall():
                conn.execute(f"DROP TABLE {name}")
            for table in ("deployments", "models", "entries", "refused_entries", "changes"):
                conn.execute(f"DELETE FROM {table}")
            position = 0
            while True:
                head = ledger.recorder.max_notification_id() or 0
                if head <= position:
                    break
                notifications = self._select(ledger, position, head, batch_size)
                self._apply(conn, self._changes(ledger, notifications))
                applied += len(notifications)
                position = notifications[-1].id if len(notifications) == batch_size else head
            conn.execute("UPDATE index_tracking SET position = ? WHERE id = 1", (position,))
        self._scrub()
        with self._lock:
            self._snapshots.clear()
        return applied

    @staticmethod
    def _select(
        ledger: CaseLedger, start: int, head: int, batch_size: int
    ) -> Sequence[Notification]:
        # `stop=head` lets the position move past the (many) other events, so the next sync
        # does not rescan every alert and face count recorded since the last watchlist change.
        # This is why the follower pages the log itself rather than through
        # `eventlog.reader.notifications`: that reader has no upper bound, and each batch's end
        # must be known before the batch is applied, in the transaction that records it.
        return ledger.recorder.select_notifications(
            start, batch_size, stop=head, topics=WATCHLIST_TOPICS, inclusive_of_start=False
        )

    @staticmethod
    def _changes(ledger: CaseLedger, notifications: Iterable[Notification]) -> list[_Change]:
        changes: list[_Change] = []
        for notification in notifications:
            event: Any = ledger.mapper.to_domain_event(notification)
            topic = notification.topic
            if topic == DeploymentTopic.PROPOSED:
                changes.append(_DeploymentProposed(event.originator_id, event.plan.model_id))
            elif topic == WatchlistEntryTopic.ENROLLED:
                template = None
                if event.sealed_template is not None:
                    template = ledger.entry_template(event.originator_id)
                changes.append(
                    _Enrolled(event.originator_id, event.deployment_id, event.model_id, template)
                )
            elif topic in (WatchlistEntryTopic.WITHDRAWN, WatchlistEntryTopic.DESTROYED):
                changes.append(_Removed(event.originator_id))
            elif topic == DeploymentTopic.WATCHLIST_DESTROYED:
                changes.append(_WatchlistDestroyed(event.originator_id))
        return changes

    def _apply(self, conn: Any, changes: Iterable[_Change]) -> bool:
        """Applies changes inside the caller's transaction; True if any vector was removed."""
        removed = False
        for change in changes:
            if isinstance(change, _DeploymentProposed):
                conn.execute(
                    "INSERT INTO deployments (deployment_id, model_id, epoch) "
                    "VALUES (?, ?, ?) ON CONFLICT (deployment_id) DO NOTHING",
                    (str(change.deployment_id), change.model_id, uuid.uuid4().hex),
                )
            elif isinstance(change, _Enrolled):
                if change.template is not None:
                    self._insert_entry(conn, change, change.template)
            elif isinstance(change, _Removed):
                removed |= self._remove_entry(conn, change.entry_id)
            else:
                for (entry_id,) in conn.execute(
                    "SELECT entry_id FROM entries WHERE deployment_id = ?",
                    (str(change.deployment_id),),
                ).fetchall():
                    removed |= self._remove_entry(conn, UUID(entry_id))
                conn.execute(
                    "DELETE FROM refused_entries WHERE deployment_id = ?",
                    (str(change.deployment_id),),
                )
        return removed

    def _insert_entry(self, conn: Any, change: _Enrolled, template: bytes) -> None:
        try:
            vectors, dimension = self._checked(
                conn,
                change.deployment_id,
                change.model_id,
                template_vector(template)[np.newaxis, :],
                f"the template of entry {change.entry_id}",
            )
        except WatchlistIndexError as refusal:
            # One bad template must not stop the projection (withdrawals behind it must still
            # apply); the entry is recorded as refused so the CLI and the runner can say so.
            log.warning("watchlist entry %s not indexed: %s", change.entry_id, refusal)
            conn.execute(
                "INSERT INTO refused_entries (entry_id, deployment_id, reason) VALUES (?, ?, ?) "
                "ON CONFLICT (entry_id) DO UPDATE SET reason = excluded.reason",
                (str(change.entry_id), str(change.deployment_id), str(refusal)),
            )
            return
        self._remove_entry(conn, change.entry_id)  # idempotent if ever re-applied
        self._insert_vector(conn, change.deployment_id, change.entry_id, vectors[0], dimension)

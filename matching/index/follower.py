"""Following the ledger: the watchlist notifications turned into changes, applied to the store
exactly once from the index's own tracking position.

Kept apart from the store because it is the only part that knows the ledger (its recorder,
mapper and vault); the store and the search know only vectors."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol
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


# The watchlist changes the index applies, whichever feed they come from.


@dataclass(frozen=True)
class Enrolled:
    entry_id: UUID
    deployment_id: UUID
    model_id: str | None
    # None: no template, or its key was shredded. Biometric: never in a repr or a log.
    template: bytes | None = field(repr=False)


@dataclass(frozen=True)
class Removed:
    entry_id: UUID


@dataclass(frozen=True)
class DeploymentProposed:
    deployment_id: UUID
    model_id: str


@dataclass(frozen=True)
class WatchlistDestroyed:
    deployment_id: UUID


Change = Enrolled | Removed | DeploymentProposed | WatchlistDestroyed


@dataclass(frozen=True)
class WatchlistPage:
    """The watchlist changes recorded after a position, up to `end`: the index applies them and
    moves its position to `end` in one transaction. `end` may pass many other events (alerts,
    face counts) that changed nothing here, so the next page does not read them again."""

    changes: Sequence[Change]
    end: int
    notifications: int  # how many notifications the page covers (watchlist ones only)


class WatchlistFeed(Protocol):
    """Where the index learns of watchlist changes: the ledger itself (`LedgerFeed`), or the
    HTTP API for a matcher node without the database (`matching.remote.ApiWatchlistFeed`)."""

    def page(self, after: int, limit: int) -> WatchlistPage: ...


class LedgerFeed:
    """The watchlist changes in the ledger's notification log. With `deployment_id`, only that
    deployment's: what a matcher node bound to it may receive (the API serves this to remote
    matchers, so one deployment's templates never reach another's node)."""

    def __init__(self, ledger: CaseLedger, deployment_id: UUID | None = None) -> None:
        self.ledger = ledger
        self.deployment_id = deployment_id

    def page(self, after: int, limit: int) -> WatchlistPage:
        head = self.ledger.recorder.max_notification_id() or 0
        if head <= after:
            return WatchlistPage((), after, 0)
        # `stop=head` lets the position move past the (many) other events, so the next sync
        # does not rescan every alert and face count recorded since the last watchlist change.
        # This is why the follower reads its page itself rather than through
        # `domain.notification_log.notifications`: that reader has no upper bound, and each
        # page's end must be known before it is applied, in the transaction that records it.
        notifications = self.ledger.recorder.select_notifications(
            after, limit, stop=head, topics=WATCHLIST_TOPICS, inclusive_of_start=False
        )
        end = notifications[-1].id if len(notifications) == limit else head
        changes = [c for n in notifications if (c := self._change(n)) is not None]
        return WatchlistPage(changes, end, len(notifications))

    def _change(self, notification: Notification) -> Change | None:
        event: Any = self.ledger.mapper.to_domain_event(notification)
        topic = notification.topic
        mine = self.deployment_id
        if topic == DeploymentTopic.PROPOSED:
            if mine is not None and event.originator_id != mine:
                return None
            return DeploymentProposed(event.originator_id, event.plan.model_id)
        if topic == WatchlistEntryTopic.ENROLLED:
            if mine is not None and event.deployment_id != mine:
                return None
            template = None
            if event.sealed_template is not None:
                template = self.ledger.entry_template(event.originator_id)
            return Enrolled(event.originator_id, event.deployment_id, event.model_id, template)
        if topic in (WatchlistEntryTopic.WITHDRAWN, WatchlistEntryTopic.DESTROYED):
            # The removal names only the entry: whose it is, the entry itself says.
            entry_id = event.originator_id
            if mine is not None and self.ledger.watchlist_entry(entry_id).deployment_id != mine:
                return None
            return Removed(entry_id)
        if mine is not None and event.originator_id != mine:
            return None
        return WatchlistDestroyed(event.originator_id)


class WatchlistIndex(VectorStore):
    """The vector store kept in step with the ledger: a projection of enrolments, withdrawals
    and destructions, applied exactly once from its own tracking position. One per process."""

    def sync(self, ledger: CaseLedger, *, batch_size: int = DEFAULT_BATCH) -> int:
        """Applies the watchlist notifications recorded since the index's position; returns
        how many were applied. Cheap when nothing changed (two indexed look-ups)."""
        return self.follow(LedgerFeed(ledger), batch_size=batch_size)

    def follow(self, feed: WatchlistFeed, *, batch_size: int = DEFAULT_BATCH) -> int:
        """`sync` from any feed: pages from the index's position until the feed has nothing
        newer; returns the notifications applied."""
        applied = 0
        removed = False
        try:
            while True:
                start = self.position
                # Unsealing (or the HTTP request) happens before the write lock is taken, so
                # searches by other processes (and threads) are not held up by it.
                page = feed.page(start, batch_size)
                if page.end <= start:
                    return applied
                with self._write() as conn:
                    if self._read_position(conn) != start:
                        continue  # another process applied this page meanwhile
                    removed |= self._apply(conn, page.changes)
                    conn.execute("UPDATE index_tracking SET position = ? WHERE id = 1", (page.end,))
                applied += page.notifications
        finally:
            if removed:
                self._scrub()

    def rebuild(self, ledger: CaseLedger, *, batch_size: int = DEFAULT_BATCH) -> int:
        """Rebuilds the index from the start of the log, in one transaction: searches see the
        old index until the new one is complete. Returns the notifications applied."""
        feed = LedgerFeed(ledger)
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
            while (page := feed.page(position, batch_size)).end > position:
                self._apply(conn, page.changes)
                applied += page.notifications
                position = page.end
            conn.execute("UPDATE index_tracking SET position = ? WHERE id = 1", (position,))
        self._scrub()
        with self._lock:
            self._snapshots.clear()
        return applied

    def _apply(self, conn: Any, changes: Iterable[Change]) -> bool:
        """Applies changes inside the caller's transaction; True if any vector was removed."""
        removed = False
        for change in changes:
            if isinstance(change, DeploymentProposed):
                conn.execute(
                    "INSERT INTO deployments (deployment_id, model_id, epoch) "
                    "VALUES (?, ?, ?) ON CONFLICT (deployment_id) DO NOTHING",
                    (str(change.deployment_id), change.model_id, uuid.uuid4().hex),
                )
            elif isinstance(change, Enrolled):
                if change.template is not None:
                    self._insert_entry(conn, change, change.template)
            elif isinstance(change, Removed):
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

    def _insert_entry(self, conn: Any, change: Enrolled, template: bytes) -> None:
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

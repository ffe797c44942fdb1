"""The ledger's plumbing: how a command loads what it touches, saves atomically, and creates the
key a sealed field needs. Command families build on it, one module each."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, ClassVar, TypeVar, cast
from uuid import UUID, uuid5

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Notification
from eventsourcing.utils import strtobool

from lfr_ledger.domain.actors import Actor, Role
from lfr_ledger.domain.alert.aggregate import Alert, legacy_notes_key_id
from lfr_ledger.domain.clock import utcnow
from lfr_ledger.domain.deployment.aggregate import Deployment
from lfr_ledger.domain.errors import AlreadyDone, ConcurrentWrite, NotFound
from lfr_ledger.domain.notification_log import PAGE, notifications
from lfr_ledger.domain.operation import Operation
from lfr_ledger.domain.policy import Policy
from lfr_ledger.domain.read_check import StaleRead, current_reads
from lfr_ledger.domain.repository import (
    CopyOnWriteRepository,
    ReadsManyOriginators,
    copy_aggregate,
)
from lfr_ledger.domain.requests import CURRENT_REQUEST, Request, RequestScope
from lfr_ledger.domain.sealing import SEALED_TEXT, Keyring, PersonalDataVault, is_sealed_text
from lfr_ledger.domain.transcodings import register_transcodings
from lfr_ledger.domain.values import ERASED
from lfr_ledger.domain.watchlist import WatchlistEntry

A = TypeVar("A", bound=Aggregate)

SYSTEM = Actor(id="system:retention", role=Role.ADMIN)
# Who ends a deployment whose window closed or whose urgent authority lapsed.
DEADLINES = Actor(id="system:deadlines", role=Role.ADMIN)


class LedgerBase(Application[UUID]):
    """What every command family shares: construction, loading, saving, sealing keys."""

    name = "lfr"
    env: ClassVar[dict[str, str]] = {
        # Recently used aggregates stay in memory; fast-forward keeps them exact when
        # other processes write to the same store.
        "AGGREGATE_CACHE_MAXSIZE": "20000",
        "AGGREGATE_CACHE_FASTFORWARD": "y",
    }

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        vault: PersonalDataVault,
        policy: Policy | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        super().__init__(env)
        self.vault = vault
        self.policy = policy or Policy.load()
        self.clock = clock

    def construct_repository(self) -> CopyOnWriteRepository:
        # The library's own repository changes cached aggregates in place while other threads
        # copy and read them: see `domain/repository.py`.
        maxsize = self.env.get(self.AGGREGATE_CACHE_MAXSIZE)
        return CopyOnWriteRepository(
            event_store=self.events,
            snapshot_store=self.snapshots,
            cache_maxsize=int(maxsize) if maxsize else None,
            fastforward=strtobool(self.env.get(self.AGGREGATE_CACHE_FASTFORWARD, "y")),
            fastforward_skipping=strtobool(
                self.env.get(self.AGGREGATE_CACHE_FASTFORWARD_SKIPPING, "n")
            ),
            deepcopy_from_cache=strtobool(self.env.get(self.DEEPCOPY_FROM_AGGREGATE_CACHE, "y")),
        )

    @property
    def repository(self) -> CopyOnWriteRepository:
        repository = super().repository
        assert isinstance(repository, CopyOnWriteRepository)
        return repository

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_transcodings(transcoder)

    # --- plumbing ---------------------------------------------------------------------------

    @property
    def checks_reads(self) -> bool:
        """Whether the recorder checks, in a write's transaction, that the versions a command
        read are still the latest (`domain/read_check.py`); without it, reads catch up."""
        return bool(getattr(self.recorder, "checks_read_versions", False))

    def still_latest(self, versions: Mapping[UUID, int]) -> bool:
        """Whether no aggregate of `versions` has an event after the version given (0: none
        at all): asked when a command was refused on what this node remembered. One read for
        them all where the recorder reads many originators at once."""
        if isinstance(self.recorder, ReadsManyOriginators):
            return not self.recorder.select_events_of(versions)
        return not any(
            self.recorder.select_events(aggregate_id, gt=version, limit=1)
            for aggregate_id, version in versions.items()
        )

    def _load(self, cls: type[A], aggregate_id: UUID, what: str, *, to_change: bool = True) -> A:
        """The aggregate, up to date. `to_change=False` skips copying it out of the cache,
        for checks that only read: the caller gets the cached aggregate, which no thread
        changes any more (see `domain/repository.py`), and must not call its commands.

        In a command whose reads are checked at its write (`@checked_reads`), the first run
        takes what this node remembers, unasked, and notes the version it read."""
        reads = current_reads()
        aggregate: Aggregate | None = None
        if reads is not None and reads.trust_memory:
            remembered = self.repository.remembered(aggregate_id)
            if isinstance(remembered, Aggregate):
                reads.unverified = True
                copied = to_change and self.repository.copies()
                aggregate = copy_aggregate(remembered) if copied else remembered
        if aggregate is None:
            try:
                aggregate = self.repository.get(aggregate_id, deepcopy_from_cache=to_change)
            except AggregateNotFoundError:
                if reads is not None:
                    reads.read(aggregate_id, 0)
                raise NotFound(f"no {what} with id {aggregate_id}") from None
        if reads is not None:
            reads.read(aggregate.id, aggregate.version)
        if not isinstance(aggregate, cls):
            raise NotFound(f"no {what} with id {aggregate_id}")
        return aggregate

    def _scan(
        self, topics: Sequence[str], *, after: int = 0, page: int = PAGE
    ) -> Iterator[Notification]:
        """Every stored event of `topics` after the position `after`, in log order, a page at
        a time. The domain's one scan of the log, for the rare question no aggregate answers
        (a deployment's alerts)."""
        return notifications(self.recorder, topics, after=after, page=page)

    def _exists(self, aggregate_id: UUID) -> bool:
        reads = current_reads()
        if reads is None:
            return aggregate_id in self.repository
        # A record once written is never unwritten: one remembered exists. Whether one this
        # node has not seen exists is asked of the store, and checked at the write as a read.
        try:
            self._load(Aggregate, aggregate_id, "record", to_change=False)
        except NotFound:
            return False
        return True

    def _commit(self, *aggregates: Aggregate) -> None:
        scope = CURRENT_REQUEST.get()
        request: Request | None = None
        if scope is not None and not scope.recorded:
            request = Request.receive(
                scope,
                changed=[(a.id, a.version) for a in aggregates],
                occurred_at=self.clock(),
            )
        saved = [*aggregates, *([request] if request is not None else [])]
        reads = current_reads()
        checks: dict[str, Any] = {}
        if reads is not None:
            expected = reads.expected({a.id for a in saved})
            if expected:
                checks["expected_versions"] = expected
        try:
            self.save(*saved, **checks)
        except StaleRead:
            raise
        except IntegrityError:
            if request is not None and self._exists(request.id):
                raise AlreadyDone(request.id) from None
            ids = ", ".join(str(a.id) for a in aggregates)
            raise ConcurrentWrite(
                f"record {ids} was changed by someone else at the same moment; "
                "reload it and decide again"
            ) from None
        # The library caches only what it loaded; what was just saved is exactly the
        # recorded state, and the next command on it (an adjudication after a raise) is near.
        # Published, it is read by other threads: the command is done with it.
        for aggregate in aggregates:
            self.repository.publish(aggregate)
        if scope is not None:
            scope.recorded = True

    @contextmanager
    def request(self, scope: RequestScope) -> Iterator[RequestScope]:
        """Runs the block as one client request: its first save records it, exactly once."""
        token = CURRENT_REQUEST.set(scope)
        try:
            yield scope
        finally:
            CURRENT_REQUEST.reset(token)

    def recorded_request(self, actor_id: str, key: str) -> Request | None:
        """The request `key` of `actor_id`, if it already changed something."""
        request_id = Request.id_for(actor_id, key)
        if not self._exists(request_id):
            return None
        return self._load(Request, request_id, "request", to_change=False)

    @contextmanager
    def _text_key(self, key_id: UUID) -> Iterator[None]:
        """The record's key for sealed text, made here if it has none yet. Never shredded when
        the block fails: two commands on one record (two operators adjudicating one alert) may
        race to make it, and the winner's text is sealed under it; a key that seals nothing
        reveals nothing."""
        self.vault.ensure_key(key_id)
        yield

    def _seal_text(self, key_id: UUID, field: str, text: str) -> str:
        """`text` sealed under the record's key (which must exist), as a string field holds it."""
        if not text:
            return text
        sealed = self.vault.seal(key_id, field, text.encode())
        return SEALED_TEXT + base64.b64encode(sealed).decode("ascii")

    def reveal_text(
        self, key_id: UUID, field: str, value: str, *, keys: Keyring | None = None
    ) -> str:
        """The clear text of a sealed text field (`[erased]` once its key is shredded); text
        recorded before sealing, or empty, as it is. `keys`: read for many records at once
        (`PersonalDataVault.keyring`), instead of the vault read for this field."""
        if not is_sealed_text(value):
            return value
        sealed = base64.b64decode(value[len(SEALED_TEXT) :])
        plain = (keys or self.vault).unseal(key_id, field, sealed)
        return ERASED if plain is None else plain.decode()

    def notes_key_id(self, alert_id: UUID) -> UUID:
        """The key of an alert's free text (`Alert.notes_key_id`): the one its Raised event
        names, or for an alert raised before issue 28 (or none at all) the id derived from
        the alert's."""
        try:
            return self.alert(alert_id, to_change=False).notes_key_id
        except NotFound:
            return legacy_notes_key_id(alert_id)

    @contextmanager
    def _notes_key(self, alert: Alert) -> Iterator[UUID]:
        """The key `alert`'s free text is sealed under in the block. A key the alert's Raised
        event names was made durable before that event: nothing to write. An alert raised
        before issue 28 makes its derived key with its first text, and so does any alert
        written to after its notes were erased (text recorded since, as an adjudication that
        came late, is sealed anew)."""
        key_id = alert.notes_key_id
        if alert.notes_key is not None and alert.images_erased_at is None:
            yield key_id
            return
        with self._text_key(key_id):
            yield key_id

    @staticmethod
    def deployment_notes_key_id(deployment_id: UUID) -> UUID:
        """The key of a deployment's free text that may name a person (its watchlist review's
        note, its pause reasons): made with the first such text, shredded with its watchlist."""
        return uuid5(deployment_id, "notes")

    def _seal_deployment_note(self, deployment_id: UUID, field: str, text: str) -> str:
        """`text`, trimmed, sealed under the deployment's notes key (made here if it has none);
        no text makes no key. Called once the command's own checks passed: a refused command
        leaves no key behind."""
        text = text.strip()
        if not text:
            return text
        key_id = self.deployment_notes_key_id(deployment_id)
        with self._text_key(key_id):
            return self._seal_text(key_id, field, text)

    @contextmanager
    def _new_key(self, key_id: UUID) -> Iterator[None]:
        """A key for what the block seals, shredded if the block fails: a refused or lost
        command leaves no key behind."""
        self.vault.create_key(key_id)
        with self._made_key(key_id):
            yield

    @contextmanager
    def _made_key(self, key_id: UUID) -> Iterator[None]:
        """The block seals under `key_id`, a key this command just made: shredded if the block
        fails, discarded (no tombstone) when the command runs again and makes it anew."""
        try:
            yield
        except BaseException as error:
            reads = current_reads()
            if reads is not None and reads.retries(error):
                # The command runs again and makes this key anew; nothing recorded names it,
                # and a tombstone would destroy the new key's sealed data in a restore.
                self.vault.discard(key_id)
            else:
                self.vault.shred(key_id)
            raise

    @contextmanager
    def _fresh_key(self) -> Iterator[UUID]:
        """A new record's id, which is the id of a key made for it ahead of time (in a batch, so
        the command adds no vault write of its own); shredded if the block fails, as `_new_key`."""
        with self.vault.fresh_key() as key_id:
            try:
                yield key_id
            except BaseException:
                self.vault.shred(key_id)
                raise

    # `to_change=False`: a read-only look that skips the copy out of the cache (readers of many
    # aggregates, such as subject access); the caller must not call the aggregate's commands.

    def deployment(self, deployment_id: UUID, *, to_change: bool = True) -> Deployment:
        return self._load(Deployment, deployment_id, "deployment", to_change=to_change)

    def operation(self, operation_id: UUID) -> Operation:
        return self._load(Operation, operation_id, "operation")

    def alert(self, alert_id: UUID, *, to_change: bool = True) -> Alert:
        return self._load(Alert, alert_id, "alert", to_change=to_change)

    def watchlist_entry(self, entry_id: UUID, *, to_change: bool = True) -> WatchlistEntry:
        return self._load(WatchlistEntry, entry_id, "watchlist entry", to_change=to_change)

    def _look_at_many(self, cls: type[A], ids: Iterable[UUID], what: str) -> dict[UUID, A]:
        """Read-only looks, as `_load(..., to_change=False)` gives each, at many aggregates
        from one read of the store (`CopyOnWriteRepository.get_many`): for readers of many
        records in one request (subject access), never for a command."""
        wanted = list(dict.fromkeys(ids))
        found = self.repository.get_many(wanted)
        for aggregate_id in wanted:
            if not isinstance(found.get(aggregate_id), cls):
                raise NotFound(f"no {what} with id {aggregate_id}")
        return {i: cast("A", found[i]) for i in wanted}

    def deployments(self, deployment_ids: Iterable[UUID]) -> dict[UUID, Deployment]:
        return self._look_at_many(Deployment, deployment_ids, "deployment")

    def alerts(self, alert_ids: Iterable[UUID]) -> dict[UUID, Alert]:
        return self._look_at_many(Alert, alert_ids, "alert")

    def watchlist_entries(self, entry_ids: Iterable[UUID]) -> dict[UUID, WatchlistEntry]:
        return self._look_at_many(WatchlistEntry, entry_ids, "watchlist entry")

    def watchlist(self, deployment_id: UUID) -> list[WatchlistEntry]:
        return [self.watchlist_entry(i) for i in self.deployment(deployment_id).entry_ids]

    def describe(self) -> dict[str, Any]:
        return {"policy": self.policy.version, "recorder": type(self.recorder).__name__}

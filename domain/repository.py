"""The aggregate cache, copy-on-write: an aggregate, once cached, is never changed again.

The library's `Repository.get` (eventsourcing 9.5) brings a cached aggregate up to date in
place, under a lock per aggregate, and deep-copies it for the caller after releasing that lock;
a read-only caller gets the cached object itself. So a thread copying it, or reading it, while
another thread applies new events to it sees a torn aggregate: an entry appended but the version
not yet moved (a command on that copy then fails as a concurrent write), a dict that grows under
the copy ("dictionary changed size during iteration", a 500), or a read-only look that moves
under its reader (issue 23, item 6; `tests/test_aggregate_cache.py`).

Here whatever sits in the cache is published: bringing it up to date applies the new events to a
copy, which then replaces it, and whoever still holds the old one keeps a whole aggregate of an
older version. Copies for commands are then taken outside any lock, read-only looks hand out the
published object itself, and the cost stays what it was: one deep copy per command load, plus
one only when another node or process wrote since.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping, Sequence
from copy import copy, deepcopy
from datetime import date, datetime, time, timedelta
from enum import Enum
from typing import Any, Protocol, TypeVar, cast, runtime_checkable
from uuid import UUID

from eventsourcing.application import (
    AggregateNotFoundError,
    ProjectorFunction,
    Repository,
    project_aggregate,
)
from eventsourcing.domain import (
    MutableOrImmutableAggregate,
    TDomainEvent,
    TMutableOrImmutableAggregate,
)
from eventsourcing.persistence import StoredEvent

# Values an aggregate's attribute may hold that nothing can change: a copy may share them.
_IMMUTABLE = (str, bytes, int, float, bool, type(None), UUID, date, datetime, time, timedelta, Enum)
T = TypeVar("T")


def copy_aggregate(aggregate: T) -> T:
    """A copy of `aggregate` that shares nothing changeable with it: as `deepcopy`, but the
    attributes that hold an immutable value are shared rather than copied (most of them: ids,
    times, strings, numbers), which makes the copy each command takes several times cheaper
    (issue 28). Everything else is deep-copied, with one memo, as `deepcopy` would."""
    clone = copy(aggregate)
    state: dict[str, Any] = clone.__dict__
    memo: dict[int, Any] = {id(aggregate): clone}
    for name, value in state.items():
        if not isinstance(value, _IMMUTABLE):
            state[name] = deepcopy(value, memo)
    return clone


class CopyOnWriteRepository(Repository[UUID]):
    """A repository whose cached aggregates no thread ever mutates."""

    def get(
        self,
        aggregate_id: UUID,
        *,
        version: int | None = None,
        projector_func: ProjectorFunction[
            TMutableOrImmutableAggregate, TDomainEvent
        ] = project_aggregate,
        fastforward_skipping: bool = False,
        deepcopy_from_cache: bool = True,
    ) -> TMutableOrImmutableAggregate:
        """The aggregate, up to date; a copy of its own for the caller unless
        `deepcopy_from_cache=False`, when the caller gets the published aggregate and must
        not change it. With `version`, a replay of that version from the store."""
        if self.cache is None or version is not None:
            return super().get(aggregate_id, version=version, projector_func=projector_func)
        skip = fastforward_skipping or self.fastforward_skipping
        published = self._up_to_date(aggregate_id, projector_func, skip_if_busy=skip)
        if deepcopy_from_cache and self.deepcopy_from_cache:
            return copy_aggregate(published)
        return published

    def publish(self, aggregate: MutableOrImmutableAggregate[UUID]) -> None:
        """Caches an aggregate just saved (what it holds is what the store recorded), unless
        the cache has a later version already. The caller gives it up: other threads read it
        from now on, so it must not be changed again; load it anew to change it."""
        if self.cache is None:
            return
        lock = self._use_fastforward_lock(aggregate.id)
        try:
            with lock:
                cached = self._cached(aggregate.id)
                if cached is None or cached.version < aggregate.version:
                    self.cache.put(aggregate.id, aggregate)
        finally:
            self._disuse_fastforward_lock(aggregate.id)

    def remembered(self, aggregate_id: UUID) -> MutableOrImmutableAggregate[UUID] | None:
        """The published aggregate as this node last knew it, without asking the store whether
        another node wrote since (None when it is not cached): for a command whose reads the
        store checks at its write (`domain/read_check.py`). The caller must not change it."""
        if self.cache is None:
            return None
        return self._cached(aggregate_id)

    def copies(self) -> bool:
        """Whether a command's load takes its own copy of a cached aggregate."""
        return self.deepcopy_from_cache

    def __contains__(self, item: UUID) -> bool:
        # Asking whether an aggregate exists needs no copy of it.
        try:
            self.get(item, deepcopy_from_cache=False)
        except AggregateNotFoundError:
            return False
        return True

    def _cached(self, aggregate_id: UUID) -> MutableOrImmutableAggregate[UUID] | None:
        assert self.cache is not None
        with contextlib.suppress(KeyError):
            return self.cache.get(aggregate_id)
        return None

    def _up_to_date(
        self,
        aggregate_id: UUID,
        projector_func: ProjectorFunction[TMutableOrImmutableAggregate, TDomainEvent],
        *,
        skip_if_busy: bool,
    ) -> TMutableOrImmutableAggregate:
        lock = self._use_fastforward_lock(aggregate_id)
        try:
            if not lock.acquire(blocking=not skip_if_busy):
                # Another thread is bringing it up to date: what is published is whole, if a
                # moment behind, which is what skipping asks for.
                cached = self._cached(aggregate_id)
                if cached is not None:
                    return cast("TMutableOrImmutableAggregate", cached)
                lock.acquire()
            try:
                return self._bring_forward(aggregate_id, projector_func)
            finally:
                lock.release()
        finally:
            self._disuse_fastforward_lock(aggregate_id)

    def _bring_forward(
        self,
        aggregate_id: UUID,
        projector_func: ProjectorFunction[TMutableOrImmutableAggregate, TDomainEvent],
    ) -> TMutableOrImmutableAggregate:
        """Under the aggregate's lock: the published aggregate, or a newer one published in
        its place (from its new events applied to a copy, or from a replay when none is
        cached)."""
        assert self.cache is not None
        cached = cast("TMutableOrImmutableAggregate | None", self._cached(aggregate_id))
        if cached is None:
            aggregate = self._reconstruct_aggregate(aggregate_id, None, projector_func)
        else:
            if not self.fastforward:
                return cached
            new_events = list(self.event_store.get(originator_id=aggregate_id, gt=cached.version))
            if not new_events:
                return cached
            forward = projector_func(copy_aggregate(cached), cast("list[TDomainEvent]", new_events))
            if forward is None:
                raise AggregateNotFoundError(aggregate_id)
            aggregate = forward
        self.cache.put(aggregate_id, aggregate)
        return aggregate

    def get_many(
        self, aggregate_ids: Iterable[UUID]
    ) -> dict[UUID, MutableOrImmutableAggregate[UUID]]:
        """Read-only looks at many aggregates, each as `get(..., deepcopy_from_cache=False)`
        gives it, from one read of the store for them all (a recorder's `select_events_of`):
        the cached ones brought up to date, the others replayed, and published. An id with no
        events is left out. The callers must not change what they get."""
        wanted = list(dict.fromkeys(aggregate_ids))
        recorder = self.event_store.recorder
        found: dict[UUID, MutableOrImmutableAggregate[UUID]] = {}
        if not isinstance(recorder, ReadsManyOriginators) or self.snapshot_store is not None:
            for aggregate_id in wanted:
                with contextlib.suppress(AggregateNotFoundError):
                    found[aggregate_id] = self.get(aggregate_id, deepcopy_from_cache=False)
            return found
        cached: dict[UUID, MutableOrImmutableAggregate[UUID]] = {}
        if self.cache is not None:
            cached = {i: a for i in wanted if (a := self._cached(i)) is not None}
        after = {i: cached[i].version if i in cached else 0 for i in wanted}
        if not self.fastforward:
            after = {i: v for i, v in after.items() if i not in cached}
        new_events: dict[UUID, list[Any]] = {}
        for stored in recorder.select_events_of(after) if after else ():
            event = self.event_store.mapper.to_domain_event(stored)
            new_events.setdefault(UUID(str(stored.originator_id)), []).append(event)
        for aggregate_id in wanted:
            known, events = cached.get(aggregate_id), new_events.get(aggregate_id)
            if events:
                base = None if known is None else copy_aggregate(known)
                known = project_aggregate(base, events)
                if known is not None:
                    self.publish(known)
            if known is not None:
                found[aggregate_id] = known
        return found


@runtime_checkable
class ReadsManyOriginators(Protocol):
    """A recorder that reads the events of many originators in one query."""

    def select_events_of(self, after: Mapping[UUID, int]) -> Sequence[StoredEvent]:
        """Each originator's stored events after the version given (0: all of them), each
        originator's in version order."""
        ...

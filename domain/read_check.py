"""Reads checked where the command writes, instead of caught up before it decides (issue 28).

A command on a node with the aggregate cache used to ask the store, for every aggregate it read,
whether another node had written to it since (one query each: about six for an alert raised and
adjudicated, a third of the pair's time on PostgreSQL). A command marked `@checked_reads` now
decides on what this node remembers, noting the version of each aggregate it read; the
recorder then checks, inside the transaction that writes the command's events and under the
lock that orders all writers, that none of those aggregates has a later event. If one has, the
transaction is rolled back (`StaleRead`) and the command runs again with every read caught up.

So a command is never accepted against a stale read, on one node or many: an alert is not
raised after another node ended its deployment, nor an alert adjudicated twice. An aggregate
the command writes needs no check of its own: its new event takes the version after the one
read, which the store's unique (id, version) refuses if another node took it first. A refusal
decided on remembered state is not trusted either: the store is asked whether what the command
read is still the latest, and if not the command runs again on caught-up reads, so it is
refused, or accepted, for what the store holds. The second run also checks its reads
at the write, which closes the window the caught-up read always had between reading and
writing; a change inside that window is a concurrent write, as a race on one aggregate is.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Concatenate, ParamSpec, Protocol, TypeVar
from uuid import UUID

from lfr_ledger.domain.errors import AlreadyDone, ConcurrentWrite, DomainError


class StaleRead(Exception):
    """An aggregate the command read has changed in the store since: nothing was written."""


@dataclass
class ReadSet:
    """What one run of a command read: each aggregate's version (0: it did not exist)."""

    # The first run decides on what the node remembers; the second asks the store each time.
    trust_memory: bool
    versions: dict[UUID, int] = field(default_factory=dict)
    # Some read was served from memory without asking the store.
    unverified: bool = False
    # Asks the store whether these versions are still each aggregate's latest.
    still_latest: Callable[[Mapping[UUID, int]], bool] = lambda _: True
    _answered: tuple[BaseException, bool] | None = None

    def read(self, aggregate_id: UUID, version: int) -> None:
        # The oldest version a decision saw is the one that must still be current.
        known = self.versions.get(aggregate_id)
        if known is None or version < known:
            self.versions[aggregate_id] = version

    def expected(self, written: set[UUID]) -> dict[UUID, int]:
        """The versions the store must still hold as latest, for the aggregates read and not
        written (a written one is guarded by its next version's uniqueness)."""
        return {i: v for i, v in self.versions.items() if i not in written}

    def retries(self, error: BaseException) -> bool:
        """Whether the command runs again on caught-up reads after `error`: a stale read, or a
        refusal (a concurrent write included) decided on remembered state that the store no
        longer holds (asked once per refusal, one read per aggregate, as catching up did). A
        refusal decided on what is still the latest stands; a request already recorded is
        final."""
        if not self.trust_memory:
            return False
        if isinstance(error, StaleRead):
            return True
        if not self.unverified or not isinstance(error, DomainError):
            return False
        if isinstance(error, AlreadyDone):
            return False
        if self._answered is None or self._answered[0] is not error:
            self._answered = (error, not self.still_latest(self.versions))
        return self._answered[1]


_READS: ContextVar[ReadSet | None] = ContextVar("lfr_reads", default=None)


def current_reads() -> ReadSet | None:
    """The read set of the command running in this context, if it checks its reads."""
    return _READS.get()


class ChecksReads(Protocol):
    @property
    def checks_reads(self) -> bool:
        """Whether the store can check the versions read inside the write's transaction."""
        ...

    def still_latest(self, versions: Mapping[UUID, int]) -> bool:
        """Whether no aggregate of `versions` has an event after the version given."""
        ...


L = TypeVar("L", bound=ChecksReads)
P = ParamSpec("P")
R = TypeVar("R")


def checked_reads(command: Callable[Concatenate[L, P], R]) -> Callable[Concatenate[L, P], R]:
    """Runs `command` on remembered reads checked at its write, and again on caught-up reads
    (still checked) when they were stale or it was refused on them."""

    @functools.wraps(command)
    def run(ledger: L, *args: P.args, **kwargs: P.kwargs) -> R:
        if _READS.get() is not None or not ledger.checks_reads:
            return command(ledger, *args, **kwargs)
        first = ReadSet(trust_memory=True, still_latest=ledger.still_latest)
        token = _READS.set(first)
        try:
            return command(ledger, *args, **kwargs)
        except Exception as error:
            if not first.retries(error):
                raise
        finally:
            _READS.reset(token)
        token = _READS.set(ReadSet(trust_memory=False))
        try:
            return command(ledger, *args, **kwargs)
        except StaleRead:
            raise ConcurrentWrite(
                "a record this command read was changed by someone else at the same moment; "
                "reload it and decide again"
            ) from None
        finally:
            _READS.reset(token)

    return run

"""One node at a time: a named job (catching the views up, a scheduled job) that several
`lfr serve` nodes on one PostgreSQL would otherwise all run at once.

PostgreSQL's own advisory locks decide, so there is no consensus of ours to get wrong: the node
whose `pg_try_advisory_lock` succeeds runs the job; the others skip this turn and try again at
the next. A node that dies holding the lock loses it with its connection, so another takes over
at its next turn. The jobs stay idempotent regardless (the aggregate decides, views keep their
tracking position), so the lock saves work and contention; it is not what makes them correct.

With the embedded SQLite store there is one node by construction, and the job always runs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from lfr_ledger.config.settings import Settings
from lfr_ledger.projections.db import postgres_schema
from lfr_ledger.projections.store import store_for


def lock_key(settings: Settings, name: str) -> int:
    """The advisory lock's 64-bit key: the job's name within this ledger's schema, so two
    ledgers sharing a database do not wait on each other."""
    digest = hashlib.sha256(f"lfr-ledger:{postgres_schema(settings)}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def alone(settings: Settings, name: str) -> Iterator[bool]:
    """True inside when this process holds job `name` for the ledger, False when another node
    does (skip this turn). The lock is released on leaving, or with the connection if the
    process dies."""
    if not settings.uses_postgres:
        yield True
        return
    with store_for(settings).connection() as db:
        key = lock_key(settings, name)
        held = bool(db.execute("SELECT pg_try_advisory_lock(?)", (key,))[0][0])
        try:
            yield held
        finally:
            if held:
                db.execute("SELECT pg_advisory_unlock(?)", (key,))


def run_alone(
    settings: Settings, name: str, job: Callable[..., object], *args: object, **kwargs: object
) -> bool:
    """Runs `job(*args, **kwargs)` if this node holds `name`; True if it ran."""
    with alone(settings, name) as held:
        if held:
            job(*args, **kwargs)
        return held

"""The connections a process keeps to each ledger database's read models, shared by its
threads, and the event source each reads the log through. A store prepares its database on
first use: the read-model schema migrated, a tracking row for every view."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

from lfr_ledger.config.settings import Settings
from lfr_ledger.projections.db import Database, connect
from lfr_ledger.projections.registry import VIEW_NAMES
from lfr_ledger.projections.schema import migrate
from lfr_ledger.projections.source import EventSource

# Open stores are kept for a handful of databases at most (tests create many).
_MAX_STORES = 4


class Store:
    """The connections a process keeps to one ledger database, shared by its threads."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._idle: list[Database] = []
        self._lock = threading.Lock()
        self._source: EventSource | None = None
        self._ready = False
        self.closed = False

    @contextmanager
    def connection(self) -> Iterator[Database]:
        with self._lock:
            db = self._idle.pop() if self._idle else None
        if db is None:
            db = connect(self.settings)
        try:
            if not self._ready:
                self._prepare(db)
            yield db
        except BaseException:
            # A connection that failed mid-statement may be unusable; a new one is cheap.
            db.close()
            raise
        with self._lock:
            if self.closed:
                db.close()
            else:
                self._idle.append(db)

    def _prepare(self, db: Database) -> None:
        migrate(db)
        with db.transaction():
            for name in VIEW_NAMES:
                db.execute(
                    "INSERT INTO projection_tracking (name, position) VALUES (?, 0) "
                    "ON CONFLICT (name) DO NOTHING",
                    (name,),
                )
        self._ready = True

    @property
    def source(self) -> EventSource:
        with self._lock:
            if self._source is None:
                self._source = EventSource(self.settings)
            return self._source

    def close(self) -> None:
        with self._lock:
            self.closed = True
            idle, self._idle = self._idle, []
            source, self._source = self._source, None
        for db in idle:
            db.close()
        if source is not None:
            source.close()


_stores: OrderedDict[Settings, Store] = OrderedDict()
_stores_lock = threading.Lock()


def store_for(settings: Settings) -> Store:
    with _stores_lock:
        store = _stores.get(settings)
        if store is None:
            store = _stores[settings] = Store(settings)
        _stores.move_to_end(settings)
        evicted = []
        while len(_stores) > _MAX_STORES:
            evicted.append(_stores.popitem(last=False)[1])
    for old in evicted:
        old.close()
    return store


def close_stores() -> None:
    """Closes every connection this process opened for projections (tests, shutdown)."""
    with _stores_lock:
        stores = list(_stores.values())
        _stores.clear()
    for store in stores:
        store.close()

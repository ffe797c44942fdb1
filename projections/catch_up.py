"""Catching the views up with the notification log: once (`catch_up`), from zero
(`rebuild`), or polling until stopped (`ProjectionRunner`), with each view's position and the
events it skipped (`status`). The connections it uses are the store's (`store.py`).

Each batch is applied in one read-model transaction that also moves the views' tracking rows,
and the transaction starts by locking those rows (SQLite: `BEGIN IMMEDIATE`; PostgreSQL:
`SELECT … FOR UPDATE`). So an event is applied once however many runners poll at the same
time, a runner killed mid-batch leaves nothing behind, and the next one resumes where the last
commit stopped.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from eventsourcing.persistence import Notification

from lfr_ledger.config.settings import Settings
from lfr_ledger.projections.alone import alone
from lfr_ledger.projections.db import Database
from lfr_ledger.projections.registry import VIEW_NAMES, all_views
from lfr_ledger.projections.rows import Rows
from lfr_ledger.projections.source import EventSource
from lfr_ledger.projections.store import store_for
from lfr_ledger.projections.view_base import View

log = logging.getLogger(__name__)

DEFAULT_BATCH = 1000

Fault = Callable[[int], None]
Progress = Callable[[int], None]


def _views(names: Sequence[str] | None = None) -> list[View]:
    views = all_views()
    if names is None:
        return views
    unknown = sorted(set(names) - set(VIEW_NAMES))
    if unknown:
        raise KeyError(f"no projection named {', '.join(unknown)}; known: {', '.join(VIEW_NAMES)}")
    return [v for v in views if v.name in names]


def _positions(db: Database, names: Sequence[str], *, lock: bool) -> dict[str, int]:
    marks = ", ".join("?" for _ in names)
    statement = f"SELECT name, position FROM projection_tracking WHERE name IN ({marks})"
    if lock and db.backend == "postgres":
        statement += " ORDER BY name FOR UPDATE"
    return {str(name): int(pos) for name, pos in db.execute(statement, tuple(names))}


class _ViewFailed(Exception):
    """A view could not take an event (its handler or the write of its rows failed)."""


def _apply_batch(
    db: Database,
    source: EventSource,
    views: Sequence[View],
    after: int,
    batch: Sequence[Notification],
    fault: Fault | None,
) -> int:
    """Applies `batch` (every notification after `after`, in order) to each view that has got
    exactly to or past `after`; returns how many notifications some view had not yet seen.

    The batch is one transaction. If some view cannot take some event, the batch is undone
    and replayed one event and one view at a time, so that only that view skips only that
    event (recorded in `projection_failures`) and everything else carries on."""
    try:
        return _apply_together(db, source, views, after, batch, fault)
    except _ViewFailed:
        return _apply_singly(db, source, views, after, batch, fault)


def _apply_together(
    db: Database,
    source: EventSource,
    views: Sequence[View],
    after: int,
    batch: Sequence[Notification],
    fault: Fault | None,
) -> int:
    with db.transaction():
        positions = _positions(db, [v.name for v in views], lock=True)
        # A view behind `after` (rebuilt meanwhile) would skip events; it waits for a batch
        # read from its own position.
        active = [v for v in views if after <= positions[v.name] < batch[-1].id]
        if not active:
            return 0
        rows = Rows(db, [t for v in active for t in v.tables])
        applied = 0
        for notification in batch:
            behind = [v for v in active if positions[v.name] < notification.id]
            if not behind:
                continue
            applied += 1
            targets = [v for v in behind if v.handles(notification.topic)]
            if targets:
                try:
                    event = source.decode(notification)
                    for view in targets:
                        view.apply(notification.topic, event, rows)
                except Exception as error:
                    raise _ViewFailed from error
            if fault is not None:
                fault(notification.id)
        try:
            rows.flush()
        except Exception as error:
            raise _ViewFailed from error
        last = batch[-1].id
        db.executemany(
            "UPDATE projection_tracking SET position = ? WHERE name = ?",
            [(last, v.name) for v in active],
        )
    return applied


def _apply_singly(
    db: Database,
    source: EventSource,
    views: Sequence[View],
    after: int,
    batch: Sequence[Notification],
    fault: Fault | None,
) -> int:
    applied = 0
    for notification in batch:
        moved = False
        for view in views:
            try:
                with db.transaction():
                    position = _positions(db, [view.name], lock=True)[view.name]
                    if not after <= position < notification.id:
                        continue
                    if view.handles(notification.topic):
                        rows = Rows(db, view.tables)
                        view.apply(notification.topic, source.decode(notification), rows)
                        rows.flush()
                    _move(db, view, notification.id)
                    moved = True
            except Exception as error:
                with db.transaction():
                    position = _positions(db, [view.name], lock=True)[view.name]
                    if not after <= position < notification.id:
                        continue
                    _record_failure(db, view, notification, error)
                    _move(db, view, notification.id)
                    moved = True
        applied += moved
        if fault is not None:
            fault(notification.id)
    return applied


def _move(db: Database, view: View, position: int) -> None:
    db.execute("UPDATE projection_tracking SET position = ? WHERE name = ?", (position, view.name))


def _record_failure(db: Database, view: View, notification: Notification, error: Exception) -> None:
    # The type and the place it was raised: enough to find the bug, and never a value from
    # the event (which may be personal).
    frame = traceback.extract_tb(error.__traceback__)[-1] if error.__traceback__ else None
    where = f" at {Path(frame.filename).name}:{frame.lineno}" if frame else ""
    text = f"{type(error).__name__}{where}"
    log.error("projection %s skipped notification %d: %s", view.name, notification.id, text)
    db.execute(
        "INSERT INTO projection_failures (name, notification_id, topic, error) "
        "VALUES (?, ?, ?, ?) ON CONFLICT (name, notification_id) "
        "DO UPDATE SET topic = excluded.topic, error = excluded.error",
        (view.name, notification.id, notification.topic, text),
    )


def failures(db: Database, names: Sequence[str] = VIEW_NAMES) -> list[dict[str, Any]]:
    """The events each view skipped, in log order."""
    marks = ", ".join("?" for _ in names)
    rows = db.execute(
        "SELECT name, notification_id, topic, error FROM projection_failures "
        f"WHERE name IN ({marks}) ORDER BY notification_id, name",
        tuple(names),
    )
    return [
        {"name": str(n), "notification_id": int(i), "topic": str(t), "error": str(e)}
        for n, i, t, e in rows
    ]


def failure_count(settings: Settings) -> int:
    with store_for(settings).connection() as db:
        return int(db.execute("SELECT COUNT(*) FROM projection_failures")[0][0])


def catch_up(
    settings: Settings,
    *,
    names: Sequence[str] | None = None,
    batch_size: int = DEFAULT_BATCH,
    fault: Fault | None = None,
    progress: Progress | None = None,
) -> int:
    """Applies every pending notification to every view (or the named ones) and returns how
    many notifications were applied. Safe to call from many threads and processes at once.

    `fault` is called after each notification is applied, before the batch commits (tests
    inject crashes there); `progress` after each commit, with the position reached.
    """
    store = store_for(settings)
    views = _views(names)
    total = 0
    with store.connection() as db:
        while True:
            positions = _positions(db, [v.name for v in views], lock=False)
            after = min(positions.values())
            batch = store.source.read(after, batch_size)
            if not batch:
                return total
            total += _apply_batch(db, store.source, views, after, batch, fault)
            if progress is not None:
                progress(batch[-1].id)


def rebuild(settings: Settings, name: str | None = None, *, batch_size: int = DEFAULT_BATCH) -> int:
    """Empties a view (or every view) and replays the whole log into it; returns how many
    notifications were replayed."""
    views = _views(None if name is None else [name])
    store = store_for(settings)
    with store.connection() as db, db.transaction():
        _positions(db, [v.name for v in views], lock=True)
        for view in views:
            for table in view.tables:
                db.execute(f"DELETE FROM {table.name}")
        db.executemany(
            "UPDATE projection_tracking SET position = 0 WHERE name = ?",
            [(v.name,) for v in views],
        )
        # Replayed from zero: an event that still cannot be taken is recorded again.
        db.executemany("DELETE FROM projection_failures WHERE name = ?", [(v.name,) for v in views])
    return catch_up(settings, names=[v.name for v in views], batch_size=batch_size)


def status(settings: Settings) -> list[dict[str, Any]]:
    """Each view's position in the log, the log's head and how far behind the view is."""
    store = store_for(settings)
    head = store.source.head()
    with store.connection() as db:
        positions = _positions(db, VIEW_NAMES, lock=False)
        skipped = failures(db)
        result = []
        for view in all_views():
            position = positions.get(view.name, 0)
            result.append(
                {
                    "name": view.name,
                    "position": position,
                    "head": head,
                    "lag": max(head - position, 0),
                    "tables": [t.name for t in view.tables],
                    "failures": [f for f in skipped if f["name"] == view.name],
                }
            )
    return result


def view_contents(settings: Settings, name: str | None = None) -> dict[str, list[list[Any]]]:
    """Every row of a view's tables in key order: what a rebuild must reproduce exactly."""
    store = store_for(settings)
    contents: dict[str, list[list[Any]]] = {}
    with store.connection() as db, db.snapshot():
        for view in _views(None if name is None else [name]):
            for table in view.tables:
                rows = db.execute(
                    f"SELECT {', '.join(table.columns)} FROM {table.name} "
                    f"ORDER BY {', '.join(table.key)}"
                )
                contents[table.name] = [list(r) for r in rows]
    return contents


# The lock several nodes' runners take turns on (`alone`): one catches the views up at a time.
PROJECTIONS_JOB = "projections"


class ProjectionRunner:
    """Polls the log and catches every view up, until stopped; with several nodes on one
    PostgreSQL, only the one holding the projections lock does. Errors (a database restart, a
    recorder being replaced) are logged and retried after a pause, never fatal."""

    def __init__(
        self,
        settings: Settings,
        *,
        interval: float = 0.5,
        batch_size: int = DEFAULT_BATCH,
        names: Sequence[str] | None = None,
    ) -> None:
        self.settings = settings
        self.interval = interval
        self.batch_size = batch_size
        self.names = names
        self.applied = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> int:
        """Catches the views up, if no other node's runner is doing it (0 if one is)."""
        with alone(self.settings, PROJECTIONS_JOB) as held:
            if not held:
                return 0
            applied = catch_up(self.settings, names=self.names, batch_size=self.batch_size)
        self.applied += applied
        return applied

    def run(self) -> None:
        """Blocks, polling, until `stop()`."""
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:
                log.exception("projection catch-up failed; retrying in %.1f s", self.interval)
            self._stop.wait(self.interval)

    def start(self) -> ProjectionRunner:
        self._stop.clear()
        self._thread = threading.Thread(target=self.run, name="lfr-projections", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float | None = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def __enter__(self) -> ProjectionRunner:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

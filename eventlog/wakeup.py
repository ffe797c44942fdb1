"""The log's bell: what wakes a live stream when new events are committed, so that it reads the
log at once instead of polling it.

A ring says only "read again": what a stream sends, and the ids it sends them under, still come
from `select_notifications`, so a missed or spurious ring costs time, never exactness.

- Embedded SQLite: the recorder rings after each commit, in this process (`sqlite_bell`). A
  write by another process on the same file (`lfr match` without `--api`, a CLI command) rings
  nothing here, so on SQLite a stream still reads every `UNHEARD_WRITERS_SECONDS` (200 ms, the
  old poll): such writes arrive no later than before, this process's at once.
- PostgreSQL: every insert already sends `NOTIFY <events table>` in its transaction (the
  library's channel, delivered at commit to every node). One thread per process and channel
  holds its own connection (not a pooled one) in LISTEN and rings the bell for every node's
  writes, this node's included. A dropped connection is opened again, and the bell rung once,
  since a notification sent while it was down is lost. Every writer NOTIFYs, so a stream reads
  anyway only every `FALLBACK_SECONDS` (1 s), in case a notification was lost all the same.

Streams run on the server's asyncio loop while commits happen in worker threads, so a waiter
is an asyncio.Event set through its loop's `call_soon_threadsafe`: no thread per waiting stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time
from typing import Any

import psycopg
from psycopg import sql

# How long a stream waits for a ring before it reads the log anyway: when every writer rings
# (PostgreSQL), and when writers in other processes cannot (SQLite).
FALLBACK_SECONDS = 1.0
UNHEARD_WRITERS_SECONDS = 0.2
# Between attempts to reopen a lost LISTEN connection.
RECONNECT_SECONDS = 0.5

log = logging.getLogger("lfr.eventlog.wakeup")


class LogBell:
    """A count of the commits heard of, and the streams waiting for the next one."""

    def __init__(self, *, every_writer_rings: bool) -> None:
        self.every_writer_rings = every_writer_rings
        self._lock = threading.Lock()
        self._rung = 0
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    @property
    def rung(self) -> int:
        """Read before reading the log; pass to `wait`: a commit in between is not missed."""
        return self._rung

    @property
    def fallback_seconds(self) -> float:
        """How long to wait for a ring before reading the log anyway."""
        return FALLBACK_SECONDS if self.every_writer_rings else UNHEARD_WRITERS_SECONDS

    def ring(self) -> None:
        """New events were committed (from any thread)."""
        with self._lock:
            self._rung += 1
            waiters = list(self._waiters)
        for loop, event in waiters:
            # A loop that has closed took its waiter with it.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(event.set)

    async def wait(self, since: int, timeout: float) -> bool:
        """Until the bell rings after `since` (True at once if it already has), or `timeout`
        seconds pass (False)."""
        if self._rung != since:
            return True
        waiter = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            if self._rung != since:
                return True
            self._waiters.add(waiter)
        try:
            await asyncio.wait_for(waiter[1].wait(), timeout)
            return True
        except TimeoutError:
            return self._rung != since
        finally:
            with self._lock:
                self._waiters.discard(waiter)


_bells: dict[tuple[str, ...], LogBell] = {}
_listeners: dict[tuple[str, ...], PostgresListener] = {}
_registry_lock = threading.Lock()


def sqlite_bell(db_name: str, table: str) -> LogBell:
    """The bell of one SQLite events table, shared by every recorder of this process on it."""
    place = db_name if "memory" in db_name else os.path.realpath(db_name)
    key = ("sqlite", place, table)
    with _registry_lock:
        return _bells.setdefault(key, LogBell(every_writer_rings=False))


class PostgresListener(threading.Thread):
    """LISTEN on one channel over a connection of its own; each notification rings the bell."""

    def __init__(self, connect_kwargs: dict[str, Any], channel: str, bell: LogBell) -> None:
        super().__init__(name=f"lfr-listen-{channel}", daemon=True)
        self.connect_kwargs = connect_kwargs
        self.channel = channel
        self.bell = bell
        self.backend_pid: int | None = None
        self.connections = 0  # opened so far: a reconnection shows as 2
        self.listening = threading.Event()

    def run(self) -> None:
        while True:
            try:
                with psycopg.connect(**self.connect_kwargs, autocommit=True) as conn:
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
                    self.backend_pid = conn.info.backend_pid
                    self.connections += 1
                    self.listening.set()
                    # Whatever was committed while no one listened is read now.
                    self.bell.ring()
                    while True:
                        for _ in conn.notifies(timeout=30.0):
                            self.bell.ring()
            except psycopg.Error as error:
                self.listening.clear()
                self.backend_pid = None
                # The error's class only: a connection error's text may quote the DSN.
                log.warning("LISTEN %s lost (%s); reopening", self.channel, type(error).__name__)
                time.sleep(RECONNECT_SECONDS)


def postgres_bell(connect_kwargs: dict[str, Any], channel: str) -> tuple[LogBell, PostgresListener]:
    """The bell rung by NOTIFY on `channel`, and its listener (started on first use, one per
    database and channel in this process)."""
    params = {k: v for k, v in connect_kwargs.items() if k != "row_factory"}
    key = (
        "postgres",
        str(params.get("host")),
        str(params.get("port")),
        str(params.get("dbname")),
        str(params.get("user")),
        channel,
    )
    with _registry_lock:
        listener = _listeners.get(key)
        if listener is None or not listener.is_alive():
            bell = _bells.setdefault(key, LogBell(every_writer_rings=True))
            listener = PostgresListener(params, channel, bell)
            listener.start()
            _listeners[key] = listener
        return listener.bell, listener


def bell_of(recorder: object) -> LogBell | None:
    """The bell that rings when `recorder`'s log moves, or None when nothing can ring it (then
    a stream looks every `UNHEARD_WRITERS_SECONDS`)."""
    datastore = getattr(recorder, "datastore", None)
    pool = getattr(datastore, "pool", None)
    table = getattr(recorder, "events_table_name", None)
    if pool is None or table is None:
        return None
    if hasattr(pool, "db_name"):
        return sqlite_bell(pool.db_name, table)
    channel = getattr(recorder, "channel_name", None)
    kwargs = getattr(pool, "kwargs", None)
    if isinstance(channel, str) and isinstance(kwargs, dict):
        return postgres_bell(kwargs, channel)[0]
    return None

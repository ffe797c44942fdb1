"""The chain from settings: which tables are chained and how to open their readers, for the CLI
and the API."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from eventsourcing.persistence import (
    OperationalError,
    ProgrammingError,
)
from eventsourcing.postgres import (
    PostgresDatastore,
)
from eventsourcing.sqlite import SQLiteDatastore

from lfr_ledger.config.database_url import libpq_extras
from lfr_ledger.eventlog.chain.hashing import (
    CHAIN_SUFFIX,
    DEFAULT_BATCH,
    GENESIS,
    SQLITE_EVENTS_TABLE,
    chain_table_name,
)
from lfr_ledger.eventlog.chain.readers import ChainReader, PostgresChainReader, SQLiteChainReader
from lfr_ledger.eventlog.chain.recorders import ChainedPostgresApplicationRecorder
from lfr_ledger.eventlog.chain.verify import ChainReport, verify_chain

if TYPE_CHECKING:
    from lfr_ledger.config.settings import Settings


def _pg_datastore(settings: Settings) -> PostgresDatastore:
    pg = settings.postgres_params()
    datastore = PostgresDatastore(
        dbname=pg["dbname"],
        host=pg["host"],
        port=pg["port"],
        user=pg["user"],
        password=pg["password"],
        pool_size=1,
        max_overflow=0,
        schema=settings.postgres_schema or "",
    )
    kwargs = datastore.pool.kwargs
    if isinstance(kwargs, dict):  # the pool opens on first use: its connections carry these
        kwargs.update(libpq_extras(pg))
    return datastore


def stuck_writes(recorder: object, settings: Settings) -> str | None:
    """Why writes are stuck, in words (no data: a session id, its state, how long), or None.

    Stuck means a session has held the events table against writers longer than a write waits
    for it (`pg_lock_timeout`): every write now fails after its wait. A holder of another role,
    whose age this session may not see, counts only while writes queue behind it. SQLite has
    no such lock to hold: its writers wait on the file lock with a busy timeout."""
    if not isinstance(recorder, ChainedPostgresApplicationRecorder):
        return None
    bound = settings.pg_lock_timeout
    for holder in recorder.write_lock_holders(longer_than=bound):
        if holder.held_seconds is None and not holder.writes_waiting:
            continue
        seconds = holder.held_seconds
        held = "for an unknown time" if seconds is None else f"for {seconds:.0f} s"
        waiting = f", waiting on {holder.waiting_on}" if holder.waiting_on else ""
        return (
            f"writes are stuck: session {holder.pid} ({holder.state or 'state hidden'}{waiting}) "
            f"has held the event log's write lock {held}, longer than the {bound} s a write "
            f"waits for it; {holder.writes_waiting} write(s) wait behind it, and every write "
            f"fails until it ends (pg_terminate_backend({holder.pid}) ends it)"
        )
    return None


def chained_tables(settings: Settings) -> list[str]:
    """The ledger's events tables: those with a chain table beside them, and application events
    tables whose chain table is gone (so dropping it cannot make a ledger look empty)."""
    if not settings.uses_postgres:
        if not settings.events_path.exists():
            return []
        conn = sqlite3.connect(f"file:{settings.events_path}?mode=ro", uri=True)
        try:
            names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        finally:
            conn.close()
        chain = chain_table_name(SQLITE_EVENTS_TABLE)
        return [SQLITE_EVENTS_TABLE] if chain in names or SQLITE_EVENTS_TABLE in names else []
    # PostgreSQL tables are named after the application ("<name>_events"); tracking tables
    # ("*_tracking") also have a notification_id column, hence the name patterns.
    datastore = _pg_datastore(settings)
    try:
        with datastore.transaction(commit=False) as curs:
            curs.execute(
                "SELECT table_name FROM information_schema.columns "
                "WHERE table_schema = %s AND column_name = 'notification_id' "
                "AND (table_name LIKE %s OR table_name LIKE %s)",
                (datastore.schema, "%\\_events", "%\\_events\\_chain"),
            )
            names = {r["table_name"] for r in curs.fetchall()}
    finally:
        datastore.close()
    return sorted({n.removesuffix(CHAIN_SUFFIX) for n in names})


@contextmanager
def open_chain_reader(settings: Settings, events_table: str) -> Iterator[ChainReader]:
    if not settings.uses_postgres:
        sqlite_store = SQLiteDatastore(str(settings.events_path))
        try:
            yield SQLiteChainReader(sqlite_store, events_table)
        finally:
            sqlite_store.close()
        return
    pg_store = _pg_datastore(settings)
    try:
        yield PostgresChainReader(pg_store, events_table)
    finally:
        pg_store.close()


def resolve_events_table(settings: Settings, events_table: str | None = None) -> str | None:
    """The ledger's chained events table, or None when there is no ledger yet.

    `events_table` is needed only when one PostgreSQL schema holds several chained applications
    (the library names the table after the application)."""
    tables = chained_tables(settings)
    if events_table is not None:
        return events_table if events_table in tables else None
    if len(tables) > 1:
        raise ValueError(f"several chained event tables, choose one: {', '.join(tables)}")
    return tables[0] if tables else None


def verify_ledger(
    settings: Settings,
    *,
    events_table: str | None = None,
    batch_size: int = DEFAULT_BATCH,
    checkpoint: tuple[int, bytes] | None = None,
    start: tuple[int, bytes] | None = None,
) -> ChainReport:
    """Verify the ledger that `settings` points at (what `lfr audit verify` and the API run):
    from genesis, or with `start` from a signed checkpoint's (last_id, head) on."""
    table = resolve_events_table(settings, events_table)
    if table is None:
        name = events_table or ("" if settings.uses_postgres else SQLITE_EVENTS_TABLE)
        held = max(checkpoint[0] if checkpoint else 0, start[0] if start else 0)
        if held > 0:
            return ChainReport(
                False, 0, GENESIS.hex(), 0, held, "deleted", "the ledger is gone", name
            )
        return ChainReport(True, 0, GENESIS.hex(), 0, detail="empty ledger", events_table=name)
    with open_chain_reader(settings, table) as reader:
        try:
            return verify_chain(reader, batch_size=batch_size, checkpoint=checkpoint, start=start)
        except (ProgrammingError, OperationalError) as e:
            # Someone dropped the chain table (the events table is what we found the ledger by).
            if CHAIN_SUFFIX in str(e):
                return ChainReport(
                    False, 0, GENESIS.hex(), 0, None, "chain_missing", str(e), reader.events_table
                )
            raise

"""The national bench's bulk writer of the log: many aggregates' events in one transaction, by
COPY, into the ledger's own events and chain tables. The bench only: the product writes through
`ChainedPostgresApplicationRecorder`, one command a transaction.

The events are the aggregates' own, encoded by the ledger's mapper (its transcoder, compressor
and cipher), so they are the bytes a command would have stored. Their links are computed with
`chain_links`, the function the verifier recomputes them with, under the lock the recorder
takes (EXCLUSIVE on the events table), from the head the chain table holds, so `lfr audit
verify` verifies the result and the next command's link follows on. The ids come from the
events table's own sequence, so commands recorded after the bulk continue it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.sql import SQL, Identifier

from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.eventlog.chain.hashing import GENESIS, chain_links
from lfr_ledger.eventlog.chain.recorders import ChainedPostgresApplicationRecorder

# Commits of the bulk load need not wait for the WAL's flush: a crash would lose the last
# batches of a run that is thrown away anyway. Set for the bulk transactions only (SET LOCAL),
# never for the commands the bench records through the product's recorder.
BULK_SETTINGS = (("synchronous_commit", "off"),)


class BulkLog:
    def __init__(self, ledger: CaseLedger) -> None:
        recorder = ledger.recorder
        if not isinstance(recorder, ChainedPostgresApplicationRecorder):
            raise TypeError("the bulk path writes PostgreSQL's chained recorder's tables")
        self.ledger = ledger
        self.recorder = recorder
        schema = recorder.datastore.schema
        events = Identifier(schema, recorder.events_table_name)
        chain = Identifier(schema, recorder.chain_table_name)
        self._lock = SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(events)
        self._head = SQL(
            "SELECT notification_id, hash FROM {} ORDER BY notification_id DESC LIMIT 1"
        ).format(chain)
        self._ids = SQL(
            "SELECT nextval(pg_get_serial_sequence(%s, 'notification_id')) AS id "
            "FROM generate_series(1, %s)"
        )
        self._events_name = f'"{schema}"."{recorder.events_table_name}"'
        self._copy_events = SQL(
            "COPY {} (notification_id, originator_id, originator_version, topic, state) "
            "FROM STDIN (FORMAT BINARY)"
        ).format(events)
        self._copy_links = SQL(
            "COPY {} (notification_id, prev_id, hash) FROM STDIN (FORMAT BINARY)"
        ).format(chain)
        self.events_written = 0

    def save(self, aggregates: list[Any]) -> int:
        """Every pending event of `aggregates`, in their order, in one transaction."""
        mapper = self.ledger.mapper
        stored = [mapper.to_stored_event(e) for a in aggregates for e in a.collect_events()]
        if not stored:
            return 0
        with self.recorder.datastore.transaction(commit=True) as curs:
            for name, value in BULK_SETTINGS:
                curs.execute("SELECT set_config(%s, %s, true)", (name, value))
            curs.execute(self._lock)
            curs.execute(self._head)
            row = curs.fetchone()
            head = (int(row["notification_id"]), bytes(row["hash"])) if row else (0, GENESIS)
            curs.execute(self._ids, (self._events_name, len(stored)))
            ids = sorted(int(r["id"]) for r in curs.fetchall())
            links = chain_links(
                head[0], head[1], ids, stored, self.recorder.datastore.originator_id_type
            )
            with curs.copy(self._copy_events) as copy:
                copy.set_types(["int8", "uuid", "int8", "text", "bytea"])
                for nid, s in zip(ids, stored, strict=True):
                    copy.write_row((nid, s.originator_id, s.originator_version, s.topic, s.state))
            with curs.copy(self._copy_links) as copy:
                copy.set_types(["int8", "int8", "bytea"])
                for link in links:
                    copy.write_row(link)
        self.events_written += len(stored)
        return len(stored)


# The load's checkpoints spaced out (server settings, reloaded without a restart): each leaf of
# the events' primary key, a B-tree over random UUIDs, writes a full-page image to the WAL at
# its first change after a checkpoint, so with the server's 1 GB of WAL between checkpoints a
# year's load writes most of that index again at every checkpoint (docs/operations.md,
# "Tuning for a national year"). Raised only, never lowered, and restored afterwards.
SPACED_CHECKPOINTS = {"max_wal_size": ("8GB", 8 * 1024), "checkpoint_timeout": ("30min", 1800)}


@contextmanager
def spaced_checkpoints(url: str) -> Iterator[dict[str, str]]:
    """The server's checkpoints spaced out while the block runs (ALTER SYSTEM, then restored:
    the value held in postgresql.auto.conf before, or none). Yields what was set, or nothing
    when the role may not (not a superuser) or the server's values are already larger."""
    changed: dict[str, str] = {}
    restore: dict[str, str | None] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
        if row and row[0]:
            for name, (value, at_least) in SPACED_CHECKPOINTS.items():
                held = conn.execute(
                    "SELECT setting::bigint, sourcefile LIKE '%%postgresql.auto.conf' "
                    "FROM pg_settings WHERE name = %s",
                    (name,),
                ).fetchone()
                if held is None or int(held[0]) >= at_least:
                    continue
                restore[name] = (
                    conn.execute(f"SHOW {name}").fetchone()[0]  # type: ignore[index]
                    if held[1]
                    else None
                )
                conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
                changed[name] = value
            if changed:
                conn.execute("SELECT pg_reload_conf()")
    try:
        yield changed
    finally:
        if restore:
            with psycopg.connect(url, autocommit=True) as conn:
                for name, before in restore.items():
                    if before is None:
                        conn.execute(f"ALTER SYSTEM RESET {name}")
                    else:
                        conn.execute(f"ALTER SYSTEM SET {name} = '{before}'")
                conn.execute("SELECT pg_reload_conf()")


def analyse_schema(url: str, schema: str) -> None:
    """Statistics for every table of `schema`, as autovacuum gathers them in service: this
    server runs without autovacuum, and with no statistics PostgreSQL guesses 0.5 % of a table
    per equality, so that past 7 M events it read an aggregate's events (one id, one index
    entry or two) with a parallel scan of the table."""
    with psycopg.connect(url, autocommit=True) as conn:
        tables = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)
        ).fetchall()
        for (table,) in tables:
            conn.execute(SQL("ANALYZE {}").format(Identifier(schema, table)))

"""Readers: the verifier's only view of a backend (events, their digests and their links)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol
from uuid import UUID

from eventsourcing.postgres import (
    PostgresDatastore,
)
from eventsourcing.sqlite import SQLiteDatastore
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Composed, Identifier

from lfr_ledger.eventlog.chain.hashing import (
    SQLITE_EVENTS_TABLE,
    canonical_originator,
    chain_table_name,
)


class EventRow(NamedTuple):
    id: int
    topic: str
    originator_id: str
    originator_version: int
    state: bytes


class DigestRow(NamedTuple):
    """An event as the chain sees it: SHA-256 of the state is all it needs, and small to fetch."""

    id: int
    topic: str
    originator_id: str
    originator_version: int
    state_digest: bytes


class LinkRow(NamedTuple):
    id: int
    prev_id: int
    hash: bytes


class ChainReader(Protocol):
    events_table: str

    def bounds(self) -> int:
        """Highest id in either table, read in one snapshot (the verifier stops there)."""

    def events(self, after: int, stop: int, limit: int) -> list[EventRow]: ...

    def digests(self, after: int, stop: int, limit: int) -> list[DigestRow]: ...

    def links(self, after: int, stop: int, limit: int) -> list[LinkRow]: ...

    def event_exists(self, notification_id: int) -> bool: ...

    def ids_of(self, originator_ids: Sequence[UUID]) -> list[int]:
        """The notification ids of every event of these originators (what a read of their
        aggregates read), in id order."""


def _originator(stored: str, id_type: str) -> str:
    """The originator as the chain hashed it; an id edited into a non-UUID (SQLite stores text)
    is hashed as stored, so its link no longer matches and the row is named as altered."""
    try:
        return canonical_originator(stored, id_type)
    except ValueError:
        return str(stored)


class SQLiteChainReader:
    def __init__(self, datastore: SQLiteDatastore, events_table: str = SQLITE_EVENTS_TABLE):
        self.datastore = datastore
        self.events_table = events_table
        self.chain_table = chain_table_name(events_table)
        self._id_type = datastore.originator_id_type

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(sql, params)
            rows: list[Any] = c.fetchall()
            return rows

    def bounds(self) -> int:
        (row,) = self._query(
            f"SELECT (SELECT MAX(rowid) FROM {self.events_table}), "
            f"(SELECT MAX(notification_id) FROM {self.chain_table})"
        )
        return max(row[0] or 0, row[1] or 0)

    def events(self, after: int, stop: int, limit: int) -> list[EventRow]:
        rows = self._query(
            "SELECT rowid, topic, originator_id, originator_version, state "
            f"FROM {self.events_table} WHERE rowid > ? AND rowid <= ? ORDER BY rowid LIMIT ?",
            (after, stop, limit),
        )
        id_type = self._id_type
        return [EventRow(r[0], r[1], _originator(r[2], id_type), r[3], bytes(r[4])) for r in rows]

    def digests(self, after: int, stop: int, limit: int) -> list[DigestRow]:
        sha256 = hashlib.sha256
        return [
            DigestRow(*e[:4], sha256(e.state).digest()) for e in self.events(after, stop, limit)
        ]

    def links(self, after: int, stop: int, limit: int) -> list[LinkRow]:
        rows = self._query(
            f"SELECT notification_id, prev_id, hash FROM {self.chain_table} "
            "WHERE notification_id > ? AND notification_id <= ? ORDER BY notification_id LIMIT ?",
            (after, stop, limit),
        )
        return [LinkRow(r[0], r[1], bytes(r[2])) for r in rows]

    def event_exists(self, notification_id: int) -> bool:
        return bool(
            self._query(f"SELECT 1 FROM {self.events_table} WHERE rowid = ?", (notification_id,))
        )

    def ids_of(self, originator_ids: Sequence[UUID]) -> list[int]:
        found: list[int] = []
        for start in range(0, len(originator_ids), 500):
            chunk = [
                o.hex if self._id_type == "uuid" else str(o)
                for o in originator_ids[start : start + 500]
            ]
            marks = ",".join("?" * len(chunk))
            rows = self._query(
                f"SELECT rowid FROM {self.events_table} WHERE originator_id IN ({marks})", chunk
            )
            found.extend(r[0] for r in rows)
        return sorted(found)


class PostgresChainReader:
    def __init__(self, datastore: PostgresDatastore, events_table: str):
        self.datastore = datastore
        self.events_table = events_table
        self.chain_table = chain_table_name(events_table)
        self._id_type = datastore.originator_id_type
        self._events = Identifier(datastore.schema, events_table)
        self._chain = Identifier(datastore.schema, self.chain_table)

    def _query(self, sql: Composed, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        # Tuples in binary format: with the pure-Python psycopg, decoding each value is the
        # verifier's main cost on PostgreSQL.
        with (
            self.datastore.get_connection() as conn,
            conn.cursor(row_factory=tuple_row, binary=True) as curs,
        ):
            curs.execute(sql, params)
            return curs.fetchall()

    def bounds(self) -> int:
        (row,) = self._query(
            SQL(
                "SELECT (SELECT MAX(notification_id) FROM {events}), "
                "(SELECT MAX(notification_id) FROM {chain})"
            ).format(events=self._events, chain=self._chain)
        )
        return max(row[0] or 0, row[1] or 0)

    def _select_events(self, state: str, after: int, stop: int, limit: int) -> list[Any]:
        return self._query(
            SQL(
                "SELECT notification_id, topic, originator_id::text, originator_version, {state} "
                "FROM {events} WHERE notification_id > %s AND notification_id <= %s "
                "ORDER BY notification_id LIMIT %s"
            ).format(state=SQL(state), events=self._events),
            (after, stop, limit),
        )

    def events(self, after: int, stop: int, limit: int) -> list[EventRow]:
        return [EventRow(*r) for r in self._select_events("state", after, stop, limit)]

    def digests(self, after: int, stop: int, limit: int) -> list[DigestRow]:
        # Hashed by the server, so large (encrypted image) states never travel to the verifier.
        return [DigestRow(*r) for r in self._select_events("sha256(state)", after, stop, limit)]

    def links(self, after: int, stop: int, limit: int) -> list[LinkRow]:
        rows = self._query(
            SQL(
                "SELECT notification_id, prev_id, hash FROM {chain} "
                "WHERE notification_id > %s AND notification_id <= %s "
                "ORDER BY notification_id LIMIT %s"
            ).format(chain=self._chain),
            (after, stop, limit),
        )
        return [LinkRow(*r) for r in rows]

    def event_exists(self, notification_id: int) -> bool:
        return bool(
            self._query(
                SQL("SELECT 1 FROM {events} WHERE notification_id = %s").format(
                    events=self._events
                ),
                (notification_id,),
            )
        )

    def ids_of(self, originator_ids: Sequence[UUID]) -> list[int]:
        if not originator_ids:
            return []
        wanted = (
            list(originator_ids) if self._id_type == "uuid" else [str(o) for o in originator_ids]
        )
        rows = self._query(
            SQL(
                "SELECT notification_id FROM {events} WHERE originator_id = ANY(%s) "
                "ORDER BY notification_id"
            ).format(events=self._events),
            (wanted,),
        )
        return [r[0] for r in rows]

"""Readers: the verifier's only view of a backend (events, their digests and their links)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
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


# (after, stop, limit): the first `limit` links with ids in (after, stop].
Range = tuple[int, int, int]


class ChainReader(Protocol):
    events_table: str

    def bounds(self) -> int:
        """Highest id in either table, read in one snapshot (the verifier stops there)."""

    def events(self, after: int, stop: int, limit: int) -> list[EventRow]: ...

    def digests(self, after: int, stop: int, limit: int) -> list[DigestRow]: ...

    def links(self, after: int, stop: int, limit: int) -> list[LinkRow]: ...

    def event_exists(self, notification_id: int) -> bool: ...

    def links_of(self, ids: Sequence[int]) -> dict[int, tuple[LinkRow, LinkRow | None]]:
        """The stored link of each of these ids (those stored) with its predecessor's, the
        link at its `prev_id` (None if none is stored there): one query, however spread."""

    def digests_of(self, ids: Sequence[int]) -> list[DigestRow]:
        """The digests of the events of these ids (those stored), in one query."""

    def links_within(self, ranges: Sequence[Range]) -> Iterator[list[LinkRow]]:
        """For each range (after, stop, limit) in turn, what `links(after, stop, limit)`
        returns, read in one query per `RANGES_PER_READ` ranges, no connection held between
        them (a subject's thousands of Merkle blocks are never all held as links at once)."""

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

    def links_of(self, ids: Sequence[int]) -> dict[int, tuple[LinkRow, LinkRow | None]]:
        rows = self._query(
            "SELECT c.notification_id, c.prev_id, c.hash, p.notification_id, p.prev_id, p.hash "
            f"FROM json_each(?) AS w JOIN {self.chain_table} AS c "
            "ON c.notification_id = w.value "
            f"LEFT JOIN {self.chain_table} AS p ON p.notification_id = c.prev_id",
            (json.dumps(list(ids)),),
        )
        return {
            r[0]: (
                LinkRow(r[0], r[1], bytes(r[2])),
                LinkRow(r[3], r[4], bytes(r[5])) if r[3] is not None else None,
            )
            for r in rows
        }

    def digests_of(self, ids: Sequence[int]) -> list[DigestRow]:
        rows = self._query(
            "SELECT rowid, topic, originator_id, originator_version, state "
            f"FROM {self.events_table} WHERE rowid IN (SELECT value FROM json_each(?))",
            (json.dumps(list(ids)),),
        )
        sha256, id_type = hashlib.sha256, self._id_type
        return [
            DigestRow(r[0], r[1], _originator(r[2], id_type), r[3], sha256(r[4]).digest())
            for r in rows
        ]

    def links_within(self, ranges: Sequence[Range]) -> Iterator[list[LinkRow]]:
        # Each range's links numbered in id order, and cut at its limit (SQLite's LIMIT takes
        # no column): a range is read to its stop, for the tail of a tree the log's head,
        # links a checkpoint (signed every minute by `lfr serve`) ago.
        for some in _in_reads(ranges):
            rows = self._query(
                "WITH r(k, lo, hi, n) AS (SELECT key, json_extract(value, '$[0]'), "
                "json_extract(value, '$[1]'), json_extract(value, '$[2]') FROM json_each(?)) "
                "SELECT k, notification_id, prev_id, hash FROM (SELECT r.k, r.n, "
                "c.notification_id, c.prev_id, c.hash, row_number() OVER (PARTITION BY r.k "
                f"ORDER BY c.notification_id) AS nth FROM r JOIN {self.chain_table} AS c "
                "ON c.notification_id > r.lo AND c.notification_id <= r.hi) WHERE nth <= n "
                "ORDER BY k, notification_id",
                (json.dumps([list(r) for r in some]),),
            )
            yield from _by_range(iter(rows), len(some))

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

    def links_of(self, ids: Sequence[int]) -> dict[int, tuple[LinkRow, LinkRow | None]]:
        # The predecessor in a LIMIT-ed lateral subquery: never flattened into a join that an
        # estimate could turn into a scan of the chain.
        rows = self._query(
            SQL(
                "SELECT c.notification_id, c.prev_id, c.hash, p.notification_id, p.prev_id, "
                "p.hash FROM {chain} AS c LEFT JOIN LATERAL (SELECT notification_id, prev_id, hash "
                "FROM {chain} WHERE notification_id = c.prev_id LIMIT 1) AS p ON true "
                "WHERE c.notification_id = ANY(%s::bigint[])"
            ).format(chain=self._chain),
            (list(ids),),
        )
        return {
            r[0]: (LinkRow(*r[:3]), LinkRow(*r[3:]) if r[3] is not None else None) for r in rows
        }

    def digests_of(self, ids: Sequence[int]) -> list[DigestRow]:
        rows = self._query(
            SQL(
                "SELECT notification_id, topic, originator_id::text, originator_version, "
                "sha256(state) FROM {events} WHERE notification_id = ANY(%s::bigint[])"
            ).format(events=self._events),
            (list(ids),),
        )
        return [DigestRow(*r) for r in rows]

    def links_within(self, ranges: Sequence[Range]) -> Iterator[list[LinkRow]]:
        # Each range read as `links` reads it (by the primary key, LIMIT-ed), in one statement
        # per `RANGES_PER_READ`.
        statement = SQL(
            "SELECT r.k, c.notification_id, c.prev_id, c.hash "
            "FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[]) WITH ORDINALITY "
            "AS r(lo, hi, n, k) CROSS JOIN LATERAL (SELECT notification_id, prev_id, hash "
            "FROM {chain} WHERE notification_id > r.lo AND notification_id <= r.hi "
            "ORDER BY notification_id LIMIT r.n) AS c ORDER BY r.k, c.notification_id"
        ).format(chain=self._chain)
        for some in _in_reads(ranges):
            rows = self._query(
                statement,
                ([r[0] for r in some], [r[1] for r in some], [max(r[2], 0) for r in some]),
            )
            # ORDINALITY counts from 1.
            yield from _by_range(((r[0] - 1, *r[1:]) for r in rows), len(some))

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


# Ranges (Merkle blocks, 1,024 links each) read by one statement of `links_within`. Each
# statement's rows are all fetched before the caller sees the first range: the proofs it makes
# between ranges read other blocks through the same pool (of one connection for a chain reader
# of its own), so no connection may stay held while the caller works; this bounds the links
# held at once (about 65,000) and keeps a subject's thousand blocks to sixteen statements.
RANGES_PER_READ = 64


def _in_reads(ranges: Sequence[Range]) -> Iterator[Sequence[Range]]:
    for start in range(0, len(ranges), RANGES_PER_READ):
        yield ranges[start : start + RANGES_PER_READ]


def _by_range(rows: Iterator[Sequence[Any]], count: int) -> Iterator[list[LinkRow]]:
    """Rows (range number, id, prev_id, hash) ordered by range, as one list of links per range
    (an empty one for a range without links), in range order."""
    row = next(rows, None)
    for k in range(count):
        links: list[LinkRow] = []
        while row is not None and row[0] == k:
            links.append(LinkRow(row[1], row[2], bytes(row[3])))
            row = next(rows, None)
        yield links

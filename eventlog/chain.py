"""The tamper-evident hash chain over the event log, and its verifier.

Every stored event gets a row in `<events table>_chain`: (notification_id, prev_id, hash), where
`hash = chain_hash(hash of prev_id, notification_id, topic, originator, version, state)` and
`prev_id` is the notification id the row was chained onto (0 for the first). The row is written by
the recorder subclasses below in the same database transaction as the event, so an event can never
be durable without its link. `prev_id` is not needed to recompute the chain; it is kept so that the
verifier can tell a deletion from an insertion and name the id involved.

The chain hashes the stored (possibly encrypted) bytes, so crypto-shredding never breaks it.
"""

from __future__ import annotations

import hashlib
import sqlite3
import struct
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from itertools import product
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol
from uuid import UUID

from eventsourcing.persistence import (
    DatabaseError,
    OperationalError,
    ProgrammingError,
    StoredEvent,
)
from eventsourcing.postgres import (
    PostgresApplicationRecorder,
    PostgresDatastore,
)
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Composed, Identifier

if TYPE_CHECKING:
    from config.settings import Settings

GENESIS = bytes(32)
HASH_LEN = 32
CHAIN_SUFFIX = "_chain"
SQLITE_EVENTS_TABLE = "stored_events"
DEFAULT_BATCH = 10_000
# How far past a mismatching row the verifier looks for the row it was swapped with.
REORDER_WINDOW = 5_000
_MIN_ID = -(2**63)

_Q = struct.Struct(">q")
_I = struct.Struct(">I")


def chain_hash(
    prev: bytes,
    notification_id: int,
    topic: str,
    originator_id: str,
    originator_version: int,
    state: bytes,
) -> bytes:
    """h_n = SHA-256(h_{n-1} ‖ id ‖ topic ‖ originator ‖ version ‖ SHA-256(state)).

    Integers are 8-byte big-endian, strings UTF-8 with a 4-byte length prefix, so no two different
    field tuples encode to the same bytes.
    """
    return link_hash(
        prev,
        notification_id,
        topic,
        originator_id,
        originator_version,
        hashlib.sha256(state).digest(),
    )


def link_hash(
    prev: bytes,
    notification_id: int,
    topic: str,
    originator_id: str,
    originator_version: int,
    state_digest: bytes,
) -> bytes:
    """`chain_hash` given SHA-256(state) rather than the state (the verifier streams digests)."""
    if len(prev) != HASH_LEN:
        raise ValueError(f"previous hash must be {HASH_LEN} bytes, got {len(prev)}")
    t = topic.encode()
    o = originator_id.encode()
    return hashlib.sha256(
        b"".join(
            (
                prev,
                _Q.pack(notification_id),
                _I.pack(len(t)),
                t,
                _I.pack(len(o)),
                o,
                _Q.pack(originator_version),
                state_digest,
            )
        )
    ).digest()


def canonical_originator(originator_id: UUID | str, id_type: str) -> str:
    """One text form per originator on both backends (SQLite stores UUIDs as bare hex)."""
    if isinstance(originator_id, UUID):
        return str(originator_id)
    if id_type == "uuid":
        return str(UUID(originator_id))
    return originator_id


def chain_table_name(events_table: str) -> str:
    name = events_table + CHAIN_SUFFIX
    if len(name) > 63:  # PostgreSQL silently truncates longer identifiers.
        raise ProgrammingError(f"Chain table name too long: {name}")
    return name


def _links(
    prev_id: int, prev_hash: bytes, ids: Sequence[int], events: Sequence[StoredEvent], id_type: str
) -> list[tuple[int, int, bytes]]:
    rows = []
    for nid, s in zip(ids, events, strict=True):
        prev_hash = chain_hash(
            prev_hash,
            nid,
            s.topic,
            canonical_originator(s.originator_id, id_type),
            s.originator_version,
            s.state,
        )
        rows.append((nid, prev_id, prev_hash))
        prev_id = nid
    return rows


# ---------------------------------------------------------------------------------------------
# Recorders
# ---------------------------------------------------------------------------------------------


class ChainBrokenError(DatabaseError):
    """The stored chain cannot be extended (its head is not behind the new event): tampering."""


class ChainedSQLiteApplicationRecorder(SQLiteApplicationRecorder):
    """SQLite application recorder that appends the chain links in the events' transaction.

    The head of the chain is remembered after each commit, so the usual insert costs one extra
    INSERT and no read. The memory is trusted only when the new event's rowid is the remembered
    id + 1: SQLite gives a new row the largest rowid + 1, so then nobody (no other process, no
    rolled-back attempt of ours) has appended since. Otherwise the head is read from the table.
    """

    def __init__(
        self, datastore: SQLiteDatastore, events_table_name: str = SQLITE_EVENTS_TABLE
    ) -> None:
        self.chain_table_name = chain_table_name(events_table_name)
        super().__init__(datastore, events_table_name)
        self._select_head = (
            f"SELECT notification_id, hash FROM {self.chain_table_name} "
            "ORDER BY notification_id DESC LIMIT 1"
        )
        self._insert_link = f"INSERT INTO {self.chain_table_name} VALUES (?,?,?)"
        self._committed_head: tuple[int, bytes] | None = None
        self._pending_head: tuple[int, bytes] | None = None

    def construct_create_table_statements(self) -> list[str]:
        statements = super().construct_create_table_statements()
        statements.append(
            f"CREATE TABLE IF NOT EXISTS {chain_table_name(self.events_table_name)} ("
            "notification_id INTEGER PRIMARY KEY, "
            "prev_id INTEGER NOT NULL, "
            "hash BLOB NOT NULL)"
        )
        return statements

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        with self.datastore.transaction(commit=True) as c:
            ids = self._insert_events(c, stored_events, **kwargs)
            # Still under the pool's writer lock, so no other thread has replaced it.
            pending = self._pending_head
        # Only a committed head may be remembered.
        if pending is not None:
            self._committed_head = pending
        return ids

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        self._pending_head = None
        ids = super()._insert_events(c, stored_events, **kwargs)
        if not stored_events or not ids:
            return ids
        head = self._committed_head
        if head is None or head[0] != ids[0] - 1:
            # The events' INSERT took SQLite's write lock, so this read sees the latest head
            # (reading before writing could fail with SQLITE_BUSY_SNAPSHOT).
            c.execute(self._select_head)
            row = c.fetchone()
            head = (row[0], bytes(row[1])) if row else (0, GENESIS)
            if head[0] >= ids[0]:
                raise ChainBrokenError(
                    f"chain head {head[0]} is not before new event {ids[0]}: the log was "
                    "tampered with (run `lfr audit verify`)"
                )
        links = _links(head[0], head[1], ids, stored_events, self.datastore.originator_id_type)
        if len(links) == 1:
            c.execute(self._insert_link, links[0])
        else:
            c.executemany(self._insert_link, links)
        self._pending_head = (links[-1][0], links[-1][2])
        return ids

    def chain_reader(self) -> SQLiteChainReader:
        return SQLiteChainReader(self.datastore, self.events_table_name)


class ChainedPostgresApplicationRecorder(PostgresApplicationRecorder):
    """PostgreSQL application recorder whose events INSERT also appends the chain links.

    The links are computed by the database in the same statement that inserts the events (the
    same encoding as `chain_hash`, with PostgreSQL's `sha256()`), so the chain adds no statement
    and no round trip: with the pure-Python psycopg each extra statement costs more client CPU
    than the server-side hashing. The library locks the events table (EXCLUSIVE) before the
    INSERT, so the head read inside the statement is the latest committed one. The verifier
    recomputes every link in Python, which cross-checks the two implementations.

    With `POSTGRES_ENABLE_DB_FUNCTIONS` the library calls an insert function instead; ours is
    replaced by one that runs the same statement (and, unlike the library's, locks the table,
    which the chain needs to stay linear).
    """

    def __init__(
        self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self.chain_table_name = chain_table_name(events_table_name)
        schema = Identifier(self.datastore.schema)
        # A running aggregate folds the links in one pass: h = sha256(h || tail) per row, where
        # the first row fed in is the previous head itself.
        step = Identifier(self.datastore.schema, "lfr_chain_step")
        create = [
            SQL(
                "CREATE TABLE IF NOT EXISTS {schema}.{chain} ("
                "notification_id bigint PRIMARY KEY, "
                "prev_id bigint NOT NULL, "
                "hash bytea NOT NULL)"
            ).format(schema=schema, chain=Identifier(self.chain_table_name)),
            SQL(
                "CREATE OR REPLACE FUNCTION {step}(state bytea, tail bytea) RETURNS bytea "
                "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS "
                "'SELECT CASE WHEN state IS NULL THEN tail ELSE sha256(state || tail) END'"
            ).format(step=step),
            SQL("CREATE OR REPLACE AGGREGATE {agg}(bytea) (SFUNC = {step}, STYPE = bytea)").format(
                agg=Identifier(self.datastore.schema, "lfr_chain_fold"), step=step
            ),
        ]
        index = self.create_insert_function_statement_index
        self.sql_create_statements[index:index] = create
        self.create_insert_function_statement_index += len(create)
        self.insert_events_statement = self._chained_insert(
            SQL("%s::{schema}.{type}[]").format(
                schema=schema, type=Identifier(self.stored_event_type_name)
            )
        )

        function_name = self.chain_table_name + "_insert"
        self.check_identifier_length(function_name)
        self.pg_function_name_insert_events = function_name
        self.sql_invoke_pg_function_insert_events = SQL(
            "SELECT * FROM {schema}.{function}((%s))"
        ).format(schema=schema, function=Identifier(function_name))
        self.sql_create_statements[self.create_insert_function_statement_index] = SQL(
            "CREATE OR REPLACE FUNCTION {schema}.{function}(events {schema}.{type}[]) "
            "RETURNS SETOF bigint LANGUAGE plpgsql AS $BODY$ "
            "BEGIN "
            "SET LOCAL lock_timeout = '{lock_timeout}s'; "
            "LOCK TABLE {schema}.{events} IN EXCLUSIVE MODE; "
            "NOTIFY {channel}; "
            "RETURN QUERY {insert}; "
            "END; $BODY$"
        ).format(
            schema=schema,
            function=Identifier(function_name),
            type=Identifier(self.stored_event_type_name),
            lock_timeout=self.datastore.lock_timeout,
            events=Identifier(self.events_table_name),
            channel=Identifier(self.channel_name),
            insert=self._chained_insert(SQL("events")),
        )

    def _chained_insert(self, source: SQL | Composed) -> Composed:
        """INSERT the events from `source` and their links; returns the notification ids."""
        return SQL(
            "WITH ins AS ("
            " INSERT INTO {schema}.{events} AS t"
            " (originator_id, originator_version, topic, state)"
            " SELECT originator_id, originator_version, topic, state FROM unnest({source})"
            " RETURNING notification_id, originator_id, originator_version, topic, state), "
            "head AS ("
            " SELECT notification_id, hash FROM {schema}.{chain}"
            " ORDER BY notification_id DESC LIMIT 1), "
            # The previous head, then per new event everything hashed after h_{n-1}.
            "seq AS ("
            " SELECT false AS new, COALESCE((SELECT notification_id FROM head), 0) AS id,"
            " COALESCE((SELECT hash FROM head), decode(repeat('00', 32), 'hex')) AS tail"
            " UNION ALL"
            " SELECT true, notification_id, int8send(notification_id)"
            " || int4send(octet_length(convert_to(topic, 'UTF8'))) || convert_to(topic, 'UTF8')"
            " || int4send(octet_length(convert_to(originator_id::text, 'UTF8')))"
            " || convert_to(originator_id::text, 'UTF8')"
            " || int8send(originator_version) || sha256(state)"
            " FROM ins), "
            "linked AS ("
            " SELECT new, id, lag(id) OVER w AS prev_id, {fold}(tail) OVER w AS hash FROM seq"
            " WINDOW w AS (ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)) "
            "INSERT INTO {schema}.{chain} (notification_id, prev_id, hash)"
            " SELECT id, prev_id, hash FROM linked WHERE new ORDER BY id"
            " RETURNING notification_id"
        ).format(
            schema=Identifier(self.datastore.schema),
            events=Identifier(self.events_table_name),
            chain=Identifier(self.chain_table_name),
            fold=Identifier(self.datastore.schema, "lfr_chain_fold"),
            source=source,
        )

    def chain_reader(self) -> PostgresChainReader:
        return PostgresChainReader(self.datastore, self.events_table_name)


# ---------------------------------------------------------------------------------------------
# Readers: the verifier's only view of a backend
# ---------------------------------------------------------------------------------------------


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
        return [
            EventRow(r[0], r[1], canonical_originator(r[2], id_type), r[3], bytes(r[4]))
            for r in rows
        ]

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


# ---------------------------------------------------------------------------------------------
# Verification
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainReport:
    """Outcome of a verification. `head`/`last_id` describe the verified prefix.

    `reason` is one of: "altered" (event content changed), "deleted", "inserted", "reordered"
    (content moved between ids), "chain_altered" (only the stored link changed), "chain_missing"
    (a genuine event lost its link), "checkpoint_mismatch" (the log no longer extends a checkpoint).
    """

    ok: bool
    events_checked: int
    head: str
    last_id: int
    first_bad_id: int | None = None
    reason: str | None = None
    detail: str = ""
    events_table: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        if self.ok:
            return (
                f"OK: {self.events_checked} events verified, last id {self.last_id}, "
                f"head {self.head}"
            )
        return f"TAMPERED: first bad notification id {self.first_bad_id} ({self.reason})"


class _Checkpoint(NamedTuple):
    last_id: int
    head: bytes


def _paged(fetch: Callable[[int, int], Sequence[Any]], batch: int) -> Iterator[Any]:
    after = _MIN_ID
    while True:
        rows = fetch(after, batch)
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1][0]


def _merge(
    events: Iterator[DigestRow], links: Iterator[LinkRow]
) -> Iterator[tuple[int, DigestRow | None, LinkRow | None]]:
    """Full outer join on notification id of two id-ordered streams."""
    e = next(events, None)
    k = next(links, None)
    while e is not None or k is not None:
        if k is None or (e is not None and e.id < k.id):
            assert e is not None
            yield e.id, e, None
            e = next(events, None)
        elif e is None or k.id < e.id:
            yield k.id, None, k
            k = next(links, None)
        else:
            yield e.id, e, k
            e = next(events, None)
            k = next(links, None)


def _hash_row(prev: bytes, e: DigestRow) -> bytes:
    return link_hash(prev, e.id, e.topic, e.originator_id, e.originator_version, e.state_digest)


def _moved_here(prev: bytes, e: DigestRow, stored: bytes, candidates: Sequence[DigestRow]) -> bool:
    """Does some later row hold (part of) the content that was hashed at `e.id`?"""
    for c in candidates:
        for take_topic, take_origin, take_state in product((False, True), repeat=3):
            # Topics repeat across events, so a borrowed topic alone proves nothing moved;
            # states (timestamped) and (originator, version) pairs are unique to one event.
            if not (take_origin or take_state):
                continue
            h = link_hash(
                prev,
                e.id,
                c.topic if take_topic else e.topic,
                c.originator_id if take_origin else e.originator_id,
                c.originator_version if take_origin else e.originator_version,
                c.state_digest if take_state else e.state_digest,
            )
            if h == stored:
                return True
    return False


def _classify_mismatch(
    reader: ChainReader, e: DigestRow, link: LinkRow, prev: bytes, last_id: int, stop: int
) -> tuple[str, str]:
    """Why does the recomputed hash at `e.id` differ from the stored one? (failure path only)"""
    following = reader.links(e.id, stop, 1)
    nxt_link = following[0] if following else None
    if nxt_link is not None and nxt_link.prev_id == last_id:
        return "inserted", f"the next link ({nxt_link.id}) was chained onto {last_id}, not {e.id}"
    later = reader.digests(e.id, stop, REORDER_WINDOW)
    recomputed = _hash_row(prev, e)
    if (
        nxt_link is not None
        and later
        and later[0].id == nxt_link.id
        and _hash_row(recomputed, later[0]) == nxt_link.hash
    ):
        return "chain_altered", "the event is intact but its stored link was changed"
    if _moved_here(prev, e, link.hash, later):
        return "reordered", "content hashed at this id now appears at a later id"
    return "altered", "stored content no longer matches the hash recorded when it was written"


def verify_chain(
    source: ChainReader | ChainedSQLiteApplicationRecorder | ChainedPostgresApplicationRecorder,
    *,
    batch_size: int = DEFAULT_BATCH,
    checkpoint: tuple[int, bytes] | None = None,
) -> ChainReport:
    """Recompute the chain from genesis, streaming both tables in id order, and stop at the first
    bad row. With `checkpoint=(last_id, head)` also require the log to pass through that head."""
    reader: ChainReader = (
        source.chain_reader()
        if isinstance(source, ChainedSQLiteApplicationRecorder | ChainedPostgresApplicationRecorder)
        else source
    )
    cp = _Checkpoint(*checkpoint) if checkpoint else None
    # Rows committed after this point are ignored, so a concurrent writer never looks like an
    # insertion (each event and its link commit together, so both tables agree up to `stop`).
    stop = reader.bounds()
    events = _paged(lambda after, n: reader.digests(after, stop, n), batch_size)
    links = _paged(lambda after, n: reader.links(after, stop, n), batch_size)

    head, last_id, count = GENESIS, 0, 0

    def bad(nid: int | None, reason: str, detail: str) -> ChainReport:
        return ChainReport(
            False, count, head.hex(), last_id, nid, reason, detail, reader.events_table
        )

    for nid, e, link in _merge(events, links):
        if cp is not None and last_id < cp.last_id < nid:
            return bad(cp.last_id, "deleted", "the checkpointed notification id is gone")
        if e is None:
            return bad(nid, "deleted", "link present but its event row is gone")
        if link is None:
            nxt = reader.links(nid, stop, 1)
            if nxt and nxt[0].prev_id == nid:
                return bad(nid, "chain_missing", "the event's link row was removed")
            return bad(nid, "inserted", "event row has no link: it was not written by the ledger")
        if link.prev_id != last_id:
            if link.prev_id > last_id:
                if reader.event_exists(link.prev_id):
                    return bad(nid, "reordered", f"link expects {link.prev_id} before this id")
                return bad(link.prev_id, "deleted", f"id {link.prev_id} and its link were removed")
            first_inserted = reader.digests(link.prev_id, stop, 1)[0].id
            return bad(
                first_inserted,
                "inserted",
                f"link of {nid} was chained onto {link.prev_id}; later rows were added",
            )
        h = _hash_row(head, e)
        if h != link.hash:
            reason, detail = _classify_mismatch(reader, e, link, head, last_id, stop)
            return bad(nid, reason, detail)
        head, last_id, count = h, nid, count + 1
        if cp is not None and nid == cp.last_id and h != cp.head:
            return bad(nid, "checkpoint_mismatch", "the log does not extend the checkpoint here")

    if cp is not None and last_id < cp.last_id:
        return bad(cp.last_id, "deleted", "log truncated: it ends before the checkpointed id")
    return ChainReport(True, count, head.hex(), last_id, events_table=reader.events_table)


# ---------------------------------------------------------------------------------------------
# From settings (CLI, API)
# ---------------------------------------------------------------------------------------------


def _pg_datastore(settings: Settings) -> PostgresDatastore:
    pg = settings.postgres_params()
    return PostgresDatastore(
        dbname=pg["dbname"],
        host=pg["host"],
        port=pg["port"],
        user=pg["user"],
        password=pg["password"],
        pool_size=1,
        max_overflow=0,
        schema=settings.postgres_schema or "",
    )


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
) -> ChainReport:
    """Verify the ledger that `settings` points at (what `lfr audit verify` and the API run)."""
    table = resolve_events_table(settings, events_table)
    if table is None:
        name = events_table or ("" if settings.uses_postgres else SQLITE_EVENTS_TABLE)
        if checkpoint is not None and checkpoint[0] > 0:
            return ChainReport(
                False, 0, GENESIS.hex(), 0, checkpoint[0], "deleted", "the ledger is gone", name
            )
        return ChainReport(True, 0, GENESIS.hex(), 0, detail="empty ledger", events_table=name)
    with open_chain_reader(settings, table) as reader:
        try:
            return verify_chain(reader, batch_size=batch_size, checkpoint=checkpoint)
        except (ProgrammingError, OperationalError) as e:
            # Someone dropped the chain table (the events table is what we found the ledger by).
            if CHAIN_SUFFIX in str(e):
                return ChainReport(
                    False, 0, GENESIS.hex(), 0, None, "chain_missing", str(e), reader.events_table
                )
            raise

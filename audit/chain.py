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
    InterfaceError,
    OperationalError,
    ProgrammingError,
    StoredEvent,
)
from eventsourcing.postgres import (
    PostgresAggregateRecorder,
    PostgresApplicationRecorder,
    PostgresDatastore,
)
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore
from eventsourcing.utils import retry
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed, Identifier

if TYPE_CHECKING:
    from api.settings import Settings

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
                hashlib.sha256(state).digest(),
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


class ChainedSQLiteApplicationRecorder(SQLiteApplicationRecorder):
    """SQLite application recorder that appends the chain link in the event's transaction."""

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

    def construct_create_table_statements(self) -> list[str]:
        statements = super().construct_create_table_statements()
        statements.append(
            f"CREATE TABLE IF NOT EXISTS {chain_table_name(self.events_table_name)} ("
            "notification_id INTEGER PRIMARY KEY, "
            "prev_id INTEGER NOT NULL, "
            "hash BLOB NOT NULL)"
        )
        return statements

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        if not stored_events or ids is None:
            return ids
        # The events' INSERT took SQLite's write lock, so the head read now is the latest one
        # (reading first could fail with SQLITE_BUSY_SNAPSHOT under concurrent writers).
        c.execute(self._select_head)
        row = c.fetchone()
        prev_id, prev_hash = (row[0], bytes(row[1])) if row else (0, GENESIS)
        links = _links(prev_id, prev_hash, ids, stored_events, self.datastore.originator_id_type)
        c.executemany(self._insert_link, links)
        return ids

    def chain_reader(self) -> SQLiteChainReader:
        return SQLiteChainReader(self.datastore, self.events_table_name)


class ChainedPostgresApplicationRecorder(PostgresApplicationRecorder):
    """PostgreSQL application recorder that appends the chain link in the event's transaction.

    The library takes an EXCLUSIVE lock on the events table before inserting, so the head read
    after the lock is the latest committed one and ids are assigned in commit order. The head is
    read in the same pipeline as the INSERT, so the chain costs no extra round trip before the
    commit. `POSTGRES_ENABLE_DB_FUNCTIONS` is ignored: the library's insert function cannot write
    the chain, and silently skipping it would leave unchained events.
    """

    def __init__(
        self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self.chain_table_name = chain_table_name(events_table_name)
        schema = Identifier(self.datastore.schema)
        chain = Identifier(self.chain_table_name)
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {schema}.{chain} ("
                "notification_id bigint PRIMARY KEY, "
                "prev_id bigint NOT NULL, "
                "hash bytea NOT NULL)"
            ).format(schema=schema, chain=chain)
        )
        self._select_head = SQL(
            "SELECT notification_id, hash FROM {schema}.{chain} "
            "ORDER BY notification_id DESC LIMIT 1"
        ).format(schema=schema, chain=chain)
        self._insert_links = SQL(
            "INSERT INTO {schema}.{chain} (notification_id, prev_id, hash) "
            "SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::bytea[])"
        ).format(schema=schema, chain=chain)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        # Mirrors PostgresApplicationRecorder.insert_events (9.5.6) with the chain added.
        exc: Exception | None = None
        notification_ids: Sequence[int] | None = None
        with self.datastore.get_connection() as conn:
            with conn.pipeline() as pipeline, conn.transaction():
                with conn.cursor() as curs:
                    self._insert_events(curs, stored_events, **kwargs)
                if len(stored_events) > 0:
                    with conn.cursor() as curs, conn.cursor() as head_curs:
                        try:
                            self._lock_table(curs)
                            self._notify_channel(curs)
                            head_curs.execute(self._select_head, prepare=True)
                            PostgresAggregateRecorder._insert_stored_events(
                                self, curs, stored_events, **kwargs
                            )
                            pipeline.sync()
                            notification_ids = self._fetch_ids_after_insert_events(
                                curs, stored_events, **kwargs
                            )
                            self._insert_chain(curs, head_curs, stored_events, notification_ids)
                        except Exception as e:
                            # Re-raised after the pipeline exits, as the library does.
                            exc = e
            if exc:
                raise exc
        return notification_ids

    def _insert_chain(
        self,
        curs: Cursor[DictRow],
        head_curs: Cursor[DictRow],
        stored_events: Sequence[StoredEvent],
        notification_ids: Sequence[int] | None,
    ) -> None:
        if not notification_ids or len(notification_ids) != len(stored_events):
            raise ProgrammingError("Chained recorder needs the inserted notification ids")
        head = head_curs.fetchone()
        prev_id, prev_hash = (
            (head["notification_id"], bytes(head["hash"])) if head else (0, GENESIS)
        )
        links = _links(
            prev_id, prev_hash, notification_ids, stored_events, self.datastore.originator_id_type
        )
        curs.execute(
            self._insert_links,
            ([r[0] for r in links], [r[1] for r in links], [r[2] for r in links]),
            prepare=True,
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


class LinkRow(NamedTuple):
    id: int
    prev_id: int
    hash: bytes


class ChainReader(Protocol):
    events_table: str

    def bounds(self) -> int:
        """Highest id in either table, read in one snapshot (the verifier stops there)."""

    def events(self, after: int, stop: int, limit: int) -> list[EventRow]: ...

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

    def _query(self, sql: Composed, params: Sequence[Any] = ()) -> list[DictRow]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(sql, params)
            return curs.fetchall()

    def bounds(self) -> int:
        (row,) = self._query(
            SQL(
                "SELECT (SELECT MAX(notification_id) FROM {events}) AS e, "
                "(SELECT MAX(notification_id) FROM {chain}) AS c"
            ).format(events=self._events, chain=self._chain)
        )
        return max(row["e"] or 0, row["c"] or 0)

    def events(self, after: int, stop: int, limit: int) -> list[EventRow]:
        rows = self._query(
            SQL(
                "SELECT notification_id, topic, originator_id, originator_version, state "
                "FROM {events} WHERE notification_id > %s AND notification_id <= %s "
                "ORDER BY notification_id LIMIT %s"
            ).format(events=self._events),
            (after, stop, limit),
        )
        id_type = self._id_type
        return [
            EventRow(
                r["notification_id"],
                r["topic"],
                canonical_originator(r["originator_id"], id_type),
                r["originator_version"],
                bytes(r["state"]),
            )
            for r in rows
        ]

    def links(self, after: int, stop: int, limit: int) -> list[LinkRow]:
        rows = self._query(
            SQL(
                "SELECT notification_id, prev_id, hash FROM {chain} "
                "WHERE notification_id > %s AND notification_id <= %s "
                "ORDER BY notification_id LIMIT %s"
            ).format(chain=self._chain),
            (after, stop, limit),
        )
        return [LinkRow(r["notification_id"], r["prev_id"], bytes(r["hash"])) for r in rows]

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
    events: Iterator[EventRow], links: Iterator[LinkRow]
) -> Iterator[tuple[int, EventRow | None, LinkRow | None]]:
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


def _hash_row(prev: bytes, e: EventRow) -> bytes:
    return chain_hash(prev, e.id, e.topic, e.originator_id, e.originator_version, e.state)


def _moved_here(prev: bytes, e: EventRow, stored: bytes, candidates: Sequence[EventRow]) -> bool:
    """Does some later row hold (part of) the content that was hashed at `e.id`?"""
    for c in candidates:
        for take_topic, take_origin, take_state in product((False, True), repeat=3):
            if not (take_topic or take_origin or take_state):
                continue
            h = chain_hash(
                prev,
                e.id,
                c.topic if take_topic else e.topic,
                c.originator_id if take_origin else e.originator_id,
                c.originator_version if take_origin else e.originator_version,
                c.state if take_state else e.state,
            )
            if h == stored:
                return True
    return False


def _classify_mismatch(
    reader: ChainReader, e: EventRow, link: LinkRow, prev: bytes, last_id: int, stop: int
) -> tuple[str, str]:
    """Why does the recomputed hash at `e.id` differ from the stored one? (failure path only)"""
    following = reader.links(e.id, stop, 1)
    nxt_link = following[0] if following else None
    if nxt_link is not None and nxt_link.prev_id == last_id:
        return "inserted", f"the next link ({nxt_link.id}) was chained onto {last_id}, not {e.id}"
    later = reader.events(e.id, stop, REORDER_WINDOW)
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
    events = _paged(lambda after, n: reader.events(after, stop, n), batch_size)
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
            first_inserted = reader.events(link.prev_id, stop, 1)[0].id
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
    """Events tables that have a chain table beside them (PostgreSQL names them per app)."""
    if not settings.uses_postgres:
        if not settings.events_path.exists():
            return []
        with sqlite3.connect(f"file:{settings.events_path}?mode=ro", uri=True) as conn:
            names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        chain = chain_table_name(SQLITE_EVENTS_TABLE)
        return [SQLITE_EVENTS_TABLE] if chain in names or SQLITE_EVENTS_TABLE in names else []
    datastore = _pg_datastore(settings)
    try:
        with datastore.transaction(commit=False) as curs:
            curs.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = %s AND table_name LIKE %s ORDER BY table_name",
                (datastore.schema, "%" + CHAIN_SUFFIX),
            )
            return [r["table_name"][: -len(CHAIN_SUFFIX)] for r in curs.fetchall()]
    finally:
        datastore.close()


@contextmanager
def open_chain_reader(settings: Settings, events_table: str | None = None) -> Iterator[ChainReader]:
    """A reader for the ledger's events table; `events_table` is needed only when a PostgreSQL
    schema holds more than one chained application."""
    if events_table is None:
        tables = chained_tables(settings)
        if len(tables) > 1:
            raise ValueError(f"several chained event tables, choose one: {', '.join(tables)}")
        events_table = tables[0] if tables else None
    if not settings.uses_postgres:
        sqlite_store = SQLiteDatastore(str(settings.events_path))
        try:
            yield SQLiteChainReader(sqlite_store, events_table or SQLITE_EVENTS_TABLE)
        finally:
            sqlite_store.close()
        return
    pg_store = _pg_datastore(settings)
    try:
        yield PostgresChainReader(pg_store, events_table or "stored_events")
    finally:
        pg_store.close()


def _empty_report(table: str) -> ChainReport:
    return ChainReport(True, 0, GENESIS.hex(), 0, detail="empty ledger", events_table=table)


def verify_ledger(
    settings: Settings,
    *,
    events_table: str | None = None,
    batch_size: int = DEFAULT_BATCH,
    checkpoint: tuple[int, bytes] | None = None,
) -> ChainReport:
    """Verify the ledger that `settings` points at."""
    if events_table is None and not chained_tables(settings):
        if checkpoint is not None and checkpoint[0] > 0:
            return ChainReport(
                False, 0, GENESIS.hex(), 0, checkpoint[0], "deleted", "the ledger is empty"
            )
        return _empty_report(SQLITE_EVENTS_TABLE if not settings.uses_postgres else "")
    with open_chain_reader(settings, events_table) as reader:
        try:
            return verify_chain(reader, batch_size=batch_size, checkpoint=checkpoint)
        except (ProgrammingError, OperationalError) as e:
            if "chain" in str(e).lower():
                return ChainReport(
                    False, 0, GENESIS.hex(), 0, None, "chain_missing", str(e), reader.events_table
                )
            raise

"""The recorders that write each event's chain link in the event's own transaction, one per
backend, selected through the library's APPLICATION_RECORDER_TOPIC."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import (
    DatabaseError,
    InterfaceError,
    Notification,
    OperationalError,
    StoredEvent,
)
from eventsourcing.postgres import (
    PostgresApplicationRecorder,
    PostgresDatastore,
)
from eventsourcing.sqlite import SQLiteCursor, SQLiteDatastore
from eventsourcing.utils import retry
from psycopg import errors as pg_errors
from psycopg.sql import SQL, Composed, Identifier

from lfr_ledger.eventlog.chain.hashing import (
    GENESIS,
    SQLITE_EVENTS_TABLE,
    chain_links,
    chain_table_name,
)
from lfr_ledger.eventlog.chain.originators import PostgresEventsOf, SQLiteEventsOf
from lfr_ledger.eventlog.chain.read_versions import (
    postgres_checked_insert,
    postgres_params,
    raise_if_stale,
    sqlite_check,
)
from lfr_ledger.eventlog.chain.readers import PostgresChainReader, SQLiteChainReader
from lfr_ledger.eventlog.chain.sqlite_reads import AutocommitEventReads
from lfr_ledger.eventlog.wakeup import sqlite_bell


class ChainBrokenError(DatabaseError):
    """The stored chain cannot be extended (its head is not behind the new event): tampering."""


class WriteTimedOut(DatabaseError):
    """A write did not get the event log's lock within the bound (`Settings.pg_lock_timeout`):
    another transaction held it. Nothing was recorded; the same request may be sent again.

    Not an `OperationalError`, so the library's retry of broken connections does not wait the
    bound out ten times over: the client decides whether to retry."""


class ChainedSQLiteApplicationRecorder(SQLiteEventsOf, AutocommitEventReads):
    """SQLite application recorder that appends the chain links in the events' transaction.

    The head of the chain is remembered after each commit, so the usual insert costs one extra
    INSERT and no read. The memory is trusted only when the new event's rowid is the remembered
    id + 1: SQLite gives a new row the largest rowid + 1, so then nobody (no other process, no
    rolled-back attempt of ours) has appended since. Otherwise the head is read from the table.
    """

    # A write may carry `expected_versions` (`domain/read_check.py`), checked in its transaction.
    checks_read_versions = True

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
        # Wakes this process's live streams after each commit (eventlog/wakeup.py).
        self.committed = sqlite_bell(datastore.pool.db_name, events_table_name)

    def construct_create_table_statements(self) -> list[str]:
        statements = super().construct_create_table_statements()
        statements.append(
            f"CREATE TABLE IF NOT EXISTS {chain_table_name(self.events_table_name)} ("
            "notification_id INTEGER PRIMARY KEY, "
            "prev_id INTEGER NOT NULL, "
            "hash BLOB NOT NULL)"
        )
        # Questions asked of the log by topic (the policy last adopted, a deployment's alerts)
        # read that topic's rows, not every row since the first.
        # (SQLite's notification id is the rowid, which every index entry carries.)
        table = self.events_table_name
        statements.append(f"CREATE INDEX IF NOT EXISTS {table}_by_topic ON {table} (topic)")
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
        self.committed.ring()
        return ids

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        self._pending_head = None
        ids = super()._insert_events(c, stored_events, **kwargs)
        if not stored_events or not ids:
            return ids
        # After the INSERT, which holds the write lock on the latest snapshot.
        sqlite_check(c, self.events_table_name, kwargs.get("expected_versions") or {})
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
        links = chain_links(head[0], head[1], ids, stored_events, self.datastore.originator_id_type)
        if len(links) == 1:
            c.execute(self._insert_link, links[0])
        else:
            c.executemany(self._insert_link, links)
        self._pending_head = (links[-1][0], links[-1][2])
        return ids

    def chain_reader(self) -> SQLiteChainReader:
        return SQLiteChainReader(self.datastore, self.events_table_name)


class ChainedPostgresApplicationRecorder(PostgresEventsOf, PostgresApplicationRecorder):
    """PostgreSQL application recorder whose events INSERT also appends the chain links.

    The links are computed by the database in the same statement that inserts the events (the
    same encoding as `chain_hash`, with PostgreSQL's `sha256()`), so the chain adds no statement
    and no round trip: with the pure-Python psycopg each extra statement costs more client CPU
    than the server-side hashing. The library locks the events table (EXCLUSIVE) before the
    INSERT, so the head read inside the statement is the latest committed one. The verifier
    recomputes every link in Python, which cross-checks the two implementations.

    Every insert calls that statement through a database function that locks the table first
    (the library's own function does not lock it, which the chain needs to stay linear), in one
    statement and never in pipeline mode (issue 23): psycopg's pipeline sync stops flushing once
    its last command is queued (psycopg issue 685), so a multi-megabyte event left the server
    reading the rest of the parameter for ever while this transaction held the lock, and every
    write on every node queued behind it. As one statement, the server has the whole request
    before it takes the lock, and commits as soon as it is done: no wait on the client while
    holding it. Writers wait at most `lock_timeout` for it, then `WriteTimedOut`.

    A write that carries `expected_versions` (`domain/read_check.py`) calls a second function,
    which checks under the same lock that the aggregates the command read have no later event.
    """

    checks_read_versions = True

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
            # As in SQLite: reads by topic use it, not the whole log.
            SQL(
                "CREATE INDEX IF NOT EXISTS {index} ON {schema}.{table} (topic, notification_id)"
            ).format(
                index=Identifier(f"{events_table_name}_by_topic"),
                schema=schema,
                table=Identifier(events_table_name),
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
        # The lock's bound is an argument, not baked into the body: the function is shared by
        # every node, and one started with other settings must not change the others' bound.
        self.sql_invoke_pg_function_insert_events = SQL(
            "SELECT * FROM {schema}.{function}(%s, %s)"
        ).format(schema=schema, function=Identifier(function_name))
        self.sql_create_statements[self.create_insert_function_statement_index] = SQL(
            "CREATE OR REPLACE FUNCTION {schema}.{function}"
            "(events {schema}.{type}[], lock_timeout text) "
            "RETURNS SETOF bigint LANGUAGE plpgsql AS $BODY$ "
            "BEGIN "
            "PERFORM set_config('lock_timeout', lock_timeout, true); "
            "LOCK TABLE {schema}.{events} IN EXCLUSIVE MODE; "
            "NOTIFY {channel}; "
            "RETURN QUERY {insert}; "
            "END; $BODY$"
        ).format(
            schema=schema,
            function=Identifier(function_name),
            type=Identifier(self.stored_event_type_name),
            events=Identifier(self.events_table_name),
            channel=Identifier(self.channel_name),
            insert=self._chained_insert(SQL("events")),
        )
        checked_name = self.chain_table_name + "_insert_checked"
        self.check_identifier_length(checked_name)
        create_checked, self.sql_invoke_checked_insert = postgres_checked_insert(
            datastore=self.datastore,
            function=checked_name,
            type_name=self.stored_event_type_name,
            events=self.events_table_name,
            channel=self.channel_name,
            insert=self._chained_insert(SQL("events")),
        )
        self.sql_create_statements.insert(
            self.create_insert_function_statement_index + 1, create_checked
        )
        self.checked_insert_column = checked_name

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

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if not stored_events:
            return None
        rows = [
            self.construct_pg_stored_event(e.originator_id, e.originator_version, e.topic, e.state)
            for e in stored_events
        ]
        statement = self.sql_invoke_pg_function_insert_events
        column = self.pg_function_name_insert_events
        params: tuple[Any, ...] = (rows, f"{self.datastore.lock_timeout}s")
        expected = kwargs.get("expected_versions")
        if expected:
            statement, column = self.sql_invoke_checked_insert, self.checked_insert_column
            params += postgres_params(expected)
        try:
            with self.datastore.get_connection() as conn, conn.cursor() as curs:
                curs.execute(statement, params, prepare=True)
                return [row[column] for row in curs.fetchall()]
        except OperationalError as error:
            if isinstance(error.__cause__, pg_errors.LockNotAvailable):
                raise WriteTimedOut(
                    f"the event log's lock was not free within {self.datastore.lock_timeout} s "
                    "(another write holds it); nothing was recorded"
                ) from None
            raise
        except DatabaseError as error:
            raise_if_stale(error)
            raise

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]:
        """The library's read of the log, but by topic one ordered read of the topic index
        per topic, merged (`topic_read`): the library's `topic = ANY(...) ORDER BY
        notification_id` lets PostgreSQL walk the whole log by id and filter, which it chose
        (its guess: 1 % of the rows per topic), so that finding the four governance documents
        an authorisation cites read every event of the year."""
        if not topics:
            return super().select_notifications(
                start, limit, stop, topics, inclusive_of_start=inclusive_of_start
            )
        statement, params = self.topic_read(
            start, limit, stop, topics, inclusive_of_start=inclusive_of_start
        )
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, params, prepare=True)
            return [
                Notification(
                    id=row["notification_id"],
                    originator_id=row["originator_id"],
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=bytes(row["state"]),
                )
                for row in curs.fetchall()
            ]

    def topic_read(
        self,
        start: int | None,
        limit: int,
        stop: int | None,
        topics: Sequence[str],
        *,
        inclusive_of_start: bool = True,
    ) -> tuple[Composed, list[Any]]:
        """The statement and parameters of `select_notifications` by `topics`: per topic, an
        equality on the index's first column and a range on its second, in its order, so no
        plan reads a row of another topic."""
        bounds: SQL | Composed = SQL("")
        bound_params: list[Any] = []
        if start is not None:
            bounds += SQL(
                " AND notification_id >= %s" if inclusive_of_start else " AND notification_id > %s"
            )
            bound_params.append(start)
        if stop is not None:
            bounds += SQL(" AND notification_id <= %s")
            bound_params.append(stop)
        branch = SQL(
            "(SELECT * FROM {schema}.{table} WHERE topic = %s{bounds} "
            "ORDER BY notification_id LIMIT %s)"
        ).format(
            schema=Identifier(self.datastore.schema),
            table=Identifier(self.events_table_name),
            bounds=bounds,
        )
        unique = list(dict.fromkeys(topics))
        statement = (
            SQL("SELECT * FROM (")
            + SQL(" UNION ALL ").join([branch] * len(unique))
            + SQL(") AS by_topic ORDER BY notification_id LIMIT %s")
        )
        params: list[Any] = []
        for topic in unique:
            params += [topic, *bound_params, limit]
        return statement, [*params, limit]

    def write_lock_holders(self, longer_than: float) -> list[WriteLockHolder]:
        """The sessions that have held a lock that stops writes to the events table for more
        than `longer_than` seconds (any lock but ACCESS SHARE conflicts with the writers'
        EXCLUSIVE), oldest first. Reads the catalogue only: it takes no lock itself."""
        query = SQL(
            "SELECT a.pid, a.state, a.wait_event_type, a.wait_event,"
            " EXTRACT(EPOCH FROM now() - a.xact_start)::float8 AS held,"
            " (SELECT count(*) FROM pg_locks w WHERE w.locktype = 'relation'"
            "  AND w.relation = l.relation AND NOT w.granted) AS waiting"
            " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'relation' AND l.granted AND l.mode <> 'AccessShareLock'"
            " AND l.relation = (SELECT c.oid FROM pg_class c JOIN pg_namespace n"
            "  ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = %s)"
            " AND (a.xact_start IS NULL OR a.xact_start < now() - make_interval(secs => %s))"
            " ORDER BY a.xact_start"
        )
        params = (self.datastore.schema, self.events_table_name, float(longer_than))
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(query, params)
            return [
                WriteLockHolder(
                    pid=r["pid"],
                    state=r["state"],
                    waiting_on=":".join(filter(None, (r["wait_event_type"], r["wait_event"])))
                    or None,
                    held_seconds=r["held"],
                    writes_waiting=r["waiting"],
                )
                for r in curs.fetchall()
            ]

    def chain_reader(self) -> PostgresChainReader:
        return PostgresChainReader(self.datastore, self.events_table_name)


@dataclass(frozen=True)
class WriteLockHolder:
    """A session holding the events table against writers. `state` and `held_seconds` are None
    for a session of another role whose activity this one may not see."""

    pid: int
    state: str | None
    waiting_on: str | None
    held_seconds: float | None
    writes_waiting: int

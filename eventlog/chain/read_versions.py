"""The check, inside a write's transaction, that the aggregates a command read are still at the
versions it read (`domain/read_check.py`), for both recorders.

It is race-free because it runs where every writer is already ordered: on PostgreSQL after the
insert function has taken the events table's EXCLUSIVE lock (each statement of the plpgsql
function takes a new snapshot, so it sees every write committed before the lock was granted);
on SQLite after the events' INSERT took the database's write lock, which in WAL mode is only
granted on the latest snapshot. A mismatch rolls the whole transaction back.
"""

from __future__ import annotations

from collections.abc import Mapping
from uuid import UUID

from eventsourcing.persistence import DatabaseError
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteCursor
from psycopg.sql import SQL, Composed, Identifier

from lfr_ledger.domain.read_check import StaleRead

# The SQLSTATE the PostgreSQL insert function raises on a stale read (a class of its own, so
# nothing but this check raises it).
STALE_READ_SQLSTATE = "LF409"
STALE = "an aggregate the command read has changed since"


def sqlite_check(c: SQLiteCursor, table: str, expected: Mapping[UUID, int]) -> None:
    """Raises `StaleRead` when an aggregate in `expected` has an event after its version. Run
    after the events' INSERT, so under the write lock on the latest snapshot."""
    if not expected:
        return
    # One term per aggregate, each a range on the (originator_id, originator_version) key.
    terms = " OR ".join(["(originator_id=? AND originator_version>?)"] * len(expected))
    params: list[object] = []
    for aggregate_id, version in expected.items():
        params += [aggregate_id.hex, version]
    c.execute(f"SELECT 1 FROM {table} WHERE {terms} LIMIT 1", params)
    if c.fetchone() is not None:
        raise StaleRead(STALE)


def postgres_checked_insert(
    *,
    datastore: PostgresDatastore,
    function: str,
    type_name: str,
    events: str,
    channel: str,
    insert: Composed,
) -> tuple[Composed, Composed]:
    """The insert function that checks the versions read before inserting, under the lock,
    and the statement that calls it. A function of its own beside the one without the check,
    whose signature nodes of an earlier release still call."""
    schema, id_type = Identifier(datastore.schema), SQL(datastore.originator_id_type)
    create = SQL(
        "CREATE OR REPLACE FUNCTION {schema}.{function}"
        "(events {schema}.{type}[], lock_timeout text, read_ids {id_type}[], "
        "read_versions bigint[]) "
        "RETURNS SETOF bigint LANGUAGE plpgsql AS $BODY$ "
        "BEGIN "
        "PERFORM set_config('lock_timeout', lock_timeout, true); "
        "LOCK TABLE {schema}.{events} IN EXCLUSIVE MODE; "
        "IF EXISTS (SELECT 1 FROM unnest(read_ids, read_versions) AS r(id, version) "
        " WHERE EXISTS (SELECT 1 FROM {schema}.{events} e WHERE e.originator_id = r.id"
        " AND e.originator_version > r.version)) THEN "
        "RAISE EXCEPTION '{stale}' USING ERRCODE = '{sqlstate}'; "
        "END IF; "
        "NOTIFY {channel}; "
        "RETURN QUERY {insert}; "
        "END; $BODY$"
    ).format(
        schema=schema,
        function=Identifier(function),
        type=Identifier(type_name),
        id_type=id_type,
        events=Identifier(events),
        channel=Identifier(channel),
        insert=insert,
        stale=SQL(STALE),
        sqlstate=SQL(STALE_READ_SQLSTATE),
    )
    invoke = SQL("SELECT * FROM {schema}.{function}(%s, %s, %s::{id_type}[], %s::bigint[])").format(
        schema=schema, function=Identifier(function), id_type=id_type
    )
    return create, invoke


def postgres_params(expected: Mapping[UUID, int]) -> tuple[list[UUID], list[int]]:
    """The checked insert function's last two arguments."""
    return list(expected), [int(v) for v in expected.values()]


def raise_if_stale(error: DatabaseError) -> None:
    """Turns the insert function's stale-read refusal into `StaleRead`."""
    if getattr(error.__cause__, "sqlstate", None) == STALE_READ_SQLSTATE:
        raise StaleRead(STALE) from None

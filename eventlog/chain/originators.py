"""Reading the events of many originators in one query, on each backend: what the repository
asks when a reader looks at many aggregates in one request (`CopyOnWriteRepository.get_many`;
subject access reads every entry, deployment and alert of a subject so, issue 28) instead of
one query per aggregate. Mixed into the chained recorders (`recorders.py`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore
from eventsourcing.utils import retry
from psycopg.sql import SQL, Identifier


class SQLiteEventsOf:
    datastore: SQLiteDatastore
    events_table_name: str

    def select_events_of(self, after: Mapping[UUID, int]) -> list[StoredEvent]:
        """Each originator's stored events after the version given (0: all of them), in
        version order per originator. The originators go in as one JSON parameter (any number
        in one statement), each looked up by the table's primary key."""
        if not after:
            return []
        wanted = json.dumps({str(getattr(i, "hex", i)): int(v) for i, v in after.items()})
        statement = (
            "SELECT e.originator_id, e.originator_version, e.topic, e.state "
            f"FROM json_each(?) AS w CROSS JOIN {self.events_table_name} AS e "
            "WHERE e.originator_id = w.key AND e.originator_version > w.value "
            "ORDER BY e.originator_id, e.originator_version"
        )
        by_uuid = self.datastore.originator_id_type == "uuid"  # as the library converts
        with self.datastore.transaction(commit=False) as c:
            c.execute(statement, (wanted,))
            return [
                StoredEvent(
                    originator_id=UUID(row["originator_id"]) if by_uuid else row["originator_id"],
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=row["state"],
                )
                for row in c.fetchall()
            ]


class PostgresEventsOf:
    datastore: PostgresDatastore
    events_table_name: str

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def select_events_of(self, after: Mapping[UUID, int]) -> list[StoredEvent]:
        """As on SQLite: the originators and their versions as two arrays, unnested, each
        originator's events read by the table's primary key (originator_id,
        originator_version). The ordered subquery is never flattened into a join, so no
        estimate of how many there are turns it into a scan of the log (a hash join would read
        every event of the year to find a subject's few hundred entries)."""
        if not after:
            return []
        statement = SQL(
            "SELECT e.originator_id, e.originator_version, e.topic, e.state "
            "FROM unnest(%s::{id_type}[], %s::bigint[]) AS w(id, after) "
            "CROSS JOIN LATERAL (SELECT * FROM {schema}.{table} AS s "
            "WHERE s.originator_id = w.id AND s.originator_version > w.after "
            "ORDER BY s.originator_version) AS e "
            "ORDER BY e.originator_id, e.originator_version"
        ).format(
            id_type=SQL(self.datastore.originator_id_type),
            schema=Identifier(self.datastore.schema),
            table=Identifier(self.events_table_name),
        )
        params: list[Any] = [list(after), [int(v) for v in after.values()]]
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, params, prepare=True)
            return [
                StoredEvent(
                    originator_id=row["originator_id"],
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=bytes(row["state"]),
                )
                for row in curs.fetchall()
            ]

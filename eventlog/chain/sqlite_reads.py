"""Catch-up reads on SQLite without a transaction around each (issue 28)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import OperationalError, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder


class AutocommitEventReads(SQLiteApplicationRecorder):
    """The library's application recorder, reading an aggregate's events in one statement."""

    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        """The library's read of one aggregate's events, as one statement in autocommit rather
        than inside BEGIN ... ROLLBACK: a single SELECT already reads one consistent snapshot
        (its own read transaction, ended when the cursor is closed), so the explicit
        transaction only added two statements to every catch-up read (issue 28)."""
        statement = self.select_events_statement
        params: list[Any] = [
            originator_id.hex if isinstance(originator_id, UUID) else originator_id
        ]
        if gt is not None:
            statement += "AND originator_version>? "
            params.append(gt)
        if lte is not None:
            statement += "AND originator_version<=? "
            params.append(lte)
        statement += "ORDER BY originator_version " + ("DESC " if desc else "ASC ")
        if limit is not None:
            statement += "LIMIT ? "
            params.append(limit)
        with self.datastore.get_connection(commit=False) as conn:
            cursor = conn.cursor().sqlite_cursor
            try:
                rows = cursor.execute(statement, params).fetchall()
            except sqlite3.OperationalError as error:
                raise OperationalError(error) from error
            finally:
                cursor.close()
        return [
            StoredEvent(
                originator_id=self.convert_originator_id(row["originator_id"]),
                originator_version=row["originator_version"],
                topic=row["topic"],
                state=row["state"],
            )
            for row in rows
        ]

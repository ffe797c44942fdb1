"""Issue 28: on PostgreSQL a read of the log by topic (the governance documents an authorisation
cites, a deployment's alerts, the policy last adopted) reads that topic's rows and no other.
The library's `topic = ANY(...) ORDER BY notification_id` let the planner walk the whole log by
id and filter it: at 1.6 M events, finding four documents read every event (2.6 s), once per
authorisation. The recorder reads each topic by its index, in order, and merges."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.sql import SQL

from lfr_ledger.api.bootstrap import build_ledger
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.eventlog.chain.recorders import ChainedPostgresApplicationRecorder
from tests.conftest import _skip_or_fail_without_postgres

RARE, OTHER, COMMON = "test/Rare.Registered", "test/Other.Noted", "test/Common.Counted"


@pytest.fixture
def backend() -> str:
    _skip_or_fail_without_postgres()
    return "postgres"


@pytest.fixture
def recorder(settings: Settings) -> Iterator[ChainedPostgresApplicationRecorder]:
    ledger: CaseLedger = build_ledger(settings)
    try:
        assert isinstance(ledger.recorder, ChainedPostgresApplicationRecorder)
        yield ledger.recorder
    finally:
        ledger.close()


def stored(topic: str) -> StoredEvent:
    return StoredEvent(uuid.uuid4(), 1, topic, b"{}")


def scanned(plan: dict[str, Any], table: str) -> int:
    """Rows the plan's scans of `table` read: those returned and those filtered out."""
    own = 0
    if plan.get("Relation Name") == table:
        own = int(plan.get("Actual Rows", 0)) * int(plan.get("Actual Loops", 1)) + int(
            plan.get("Rows Removed by Filter", 0)
        )
    return own + sum(scanned(child, table) for child in plan.get("Plans", []))


def test_a_read_by_topic_reads_only_that_topics_rows(
    recorder: ChainedPostgresApplicationRecorder,
) -> None:
    base = int(recorder.max_notification_id() or 0)
    for batch in range(6):
        recorder.insert_events([stored(RARE), stored(OTHER)] if batch % 2 else [])
        recorder.insert_events([stored(COMMON) for _ in range(500)])
    rare = [n.id for n in recorder.select_notifications(base, 10, topics=[RARE])]
    assert len(rare) == 3 and rare == sorted(rare)

    # The same notifications as the library's read, bounds and limits included.
    for start, limit, stop, inclusive in (
        (base, 10, None, False),
        (rare[0], 10, None, True),
        (rare[0], 10, None, False),
        (base, 3, rare[2], False),
        (base, 2, None, False),
        (None, 4, None, True),
    ):
        for topics in ([RARE], [RARE, OTHER], [OTHER, RARE, RARE]):
            mine = recorder.select_notifications(
                start, limit, stop, topics, inclusive_of_start=inclusive
            )
            theirs = PostgresApplicationRecorder.select_notifications(
                recorder, start, limit, stop, topics, inclusive_of_start=inclusive
            )
            assert mine == theirs, (start, limit, stop, inclusive, topics)

    # What the database reads for it: the rare topic's rows, not the 3,000 around them.
    statement, params = recorder.topic_read(base, 10, None, [RARE, OTHER])
    with recorder.datastore.get_connection() as conn, conn.cursor() as curs:
        curs.execute(SQL("EXPLAIN (ANALYZE, FORMAT JSON) ") + statement, params)
        row = curs.fetchone()
    assert row is not None
    plan = next(iter(row.values()))[0]["Plan"]
    assert scanned(plan, recorder.events_table_name) <= 6, plan

"""Nodes started at once on a fresh PostgreSQL schema (a server and the CLI beside it, two
nodes of a fleet) each create the ledger's tables, types and functions: none may fail on the
other's half-made catalog rows ("tuple concurrently updated", a duplicate type), and the log
they then share is one log. Found when the kill test's own ledger started beside its server."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from lfr_ledger.api.bootstrap import build_ledger
from lfr_ledger.api.demo.sample_deployment import ADMIN
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.application import CaseLedger
from tests.conftest import PG_URL

pytestmark = pytest.mark.postgres
STARTS = 4  # nodes started together on each fresh schema
ROUNDS = 6  # fresh schemas, each a new race


@pytest.fixture
def fresh_schemas() -> Iterator[list[str]]:
    schemas = [f"t_{uuid.uuid4().hex[:12]}" for _ in range(ROUNDS)]
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        for schema in schemas:
            conn.execute(f'CREATE SCHEMA "{schema}"')
    yield schemas
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        for schema in schemas:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def started_at_once(settings: Settings) -> tuple[list[CaseLedger], list[BaseException]]:
    """`STARTS` nodes building their ledger on `settings` in the same instant."""
    ready = threading.Barrier(STARTS)
    ledgers: list[CaseLedger] = []
    errors: list[BaseException] = []

    def start() -> None:
        ready.wait(timeout=30)
        try:
            ledgers.append(build_ledger(settings))
        except BaseException as error:  # the test reports what any node met
            errors.append(error)

    threads = [threading.Thread(target=start) for _ in range(STARTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return ledgers, errors


def test_nodes_started_at_once_on_a_fresh_schema_all_start(
    fresh_schemas: list[str], tmp_path: Path
) -> None:
    for schema in fresh_schemas:
        settings = Settings(data_dir=tmp_path / schema, database_url=PG_URL, postgres_schema=schema)
        ledgers, errors = started_at_once(settings)
        try:
            assert errors == [], f"{schema}: {errors!r}"
            assert len(ledgers) == STARTS
            # One log: what one node writes, every other reads at the same position.
            ledgers[0].adopt_policy(ADMIN)
            assert {ledger.recorder.max_notification_id() for ledger in ledgers} == {1}
        finally:
            for ledger in ledgers:
                ledger.close()

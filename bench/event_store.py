"""Durable commands per second on SQLite and PostgreSQL, beside raw single-row inserts.

A command here is one of the live pair an operator and a matcher produce all day: raise an
alert, adjudicate it. Each is one durable transaction. The baseline inserts the very same
stored-event rows, one row per transaction, into a plain table of the same database: the
cost of durability alone. The ratio is what the ledger (aggregates, transcoding, hash chain)
costs on top. The same commands without the hash chain isolate the chain's share.

    python bench/event_store.py [--alerts N]
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg

from api.bootstrap import build_ledger
from api.settings import Settings
from bench.common import PG_URL, write_result
from domain.application import CaseLedger
from domain.values import Decision
from tests.builders import OPERATOR, matcher_for, reviewed
from tests.conftest import Clock


class _NoChainSettings(Settings):
    def eventsourcing_env(self) -> dict[str, str]:
        env = super().eventsourcing_env()
        env.pop("APPLICATION_RECORDER_TOPIC")
        return env


def _settings(backend: str, root: Path, schema: str, chain: bool) -> Settings:
    cls = Settings if chain else _NoChainSettings
    if backend == "sqlite":
        return cls(data_dir=root / f"{schema}")
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return cls(data_dir=root / schema, database_url=PG_URL, postgres_schema=schema)


def run_commands(ledger: CaseLedger, clock: Clock, alerts: int) -> float:
    deployment, entries = reviewed(ledger)
    clock.advance(hours=3)
    ledger.start_deployment(OPERATOR, deployment)
    matcher = matcher_for(deployment)
    started = time.perf_counter()
    for i in range(alerts):
        alert = ledger.raise_alert(
            matcher,
            deployment,
            camera_id="cam-1",
            entry_id=entries[i % len(entries)],
            similarity=0.8,
            captured_at=clock.now,
        )
        ledger.adjudicate(OPERATOR, alert, Decision.MATCH)
    elapsed = time.perf_counter() - started
    return 2 * alerts / elapsed


def stored_rows(ledger: CaseLedger, n: int) -> list[tuple[Any, ...]]:
    notifications = ledger.recorder.select_notifications(1, 10**9)[-n:]
    return [(str(x.originator_id), x.originator_version, x.topic, x.state) for x in notifications]


def raw_sqlite(path: Path, rows: list[tuple[Any, ...]]) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(
        "CREATE TABLE raw_events (id INTEGER PRIMARY KEY, originator_id TEXT, "
        "originator_version INTEGER, topic TEXT, state BLOB, "
        "UNIQUE (originator_id, originator_version))"
    )
    started = time.perf_counter()
    for row in rows:
        conn.execute("BEGIN")
        conn.execute(
            "INSERT INTO raw_events (originator_id, originator_version, topic, state) "
            "VALUES (?, ?, ?, ?)",
            row,
        )
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return len(rows) / elapsed


def raw_postgres(schema: str, rows: list[tuple[Any, ...]]) -> float:
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(
            f'CREATE TABLE "{schema}".raw_events (id bigserial PRIMARY KEY, originator_id uuid, '
            "originator_version bigint, topic text, state bytea, "
            "UNIQUE (originator_id, originator_version))"
        )
        sql = (
            f'INSERT INTO "{schema}".raw_events (originator_id, originator_version, topic, state) '
            "VALUES (%s, %s, %s, %s)"
        )
        started = time.perf_counter()
        for row in rows:
            conn.execute(sql, row)
        elapsed = time.perf_counter() - started
    return len(rows) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=1500)
    args = parser.parse_args()
    results: dict[str, Any] = {"alerts": args.alerts, "commands": 2 * args.alerts}
    schemas: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        try:
            for backend in ("sqlite", "postgres"):
                figures: dict[str, float] = {}
                for chain in (False, True):
                    schema = f"bench_{uuid.uuid4().hex[:10]}"
                    schemas.append(schema)
                    clock = Clock(_start())
                    settings = _settings(backend, root, schema, chain)
                    ledger = build_ledger(settings, clock=clock)
                    rate = run_commands(ledger, clock, args.alerts)
                    figures["commands_per_s_with_chain" if chain else "commands_per_s_no_chain"] = (
                        rate
                    )
                    if chain:
                        rows = stored_rows(ledger, 2 * args.alerts)
                        if backend == "sqlite":
                            figures["raw_inserts_per_s"] = raw_sqlite(
                                settings.data_dir / "raw.sqlite", rows
                            )
                        else:
                            figures["raw_inserts_per_s"] = raw_postgres(schema, rows)
                    ledger.close()
                figures["ratio_with_chain"] = (
                    figures["commands_per_s_with_chain"] / figures["raw_inserts_per_s"]
                )
                figures["ratio_no_chain"] = (
                    figures["commands_per_s_no_chain"] / figures["raw_inserts_per_s"]
                )
                figures["chain_cost"] = 1 - (
                    figures["commands_per_s_with_chain"] / figures["commands_per_s_no_chain"]
                )
                results[backend] = {k: round(v, 3) for k, v in figures.items()}
                print(backend, results[backend], flush=True)
        finally:
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                for schema in schemas:
                    conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    print(write_result("event_store", results))


def _start() -> Any:
    from datetime import UTC, datetime

    return datetime(2025, 6, 2, 8, 0, tzinfo=UTC)


if __name__ == "__main__":
    main()

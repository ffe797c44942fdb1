"""Durable commands per second on SQLite and PostgreSQL, beside raw single-row inserts.

Two kinds of command, each one durable transaction:
- the live pair a matcher and an operator produce all day: raise an alert, adjudicate it
  (each reads the aggregates it checks, then writes one event);
- the simplest command, a new single-event record with no reads (an access-log entry).
The baseline inserts the very same stored-event rows, one row per transaction, into a plain
table of the same database: the cost of durability alone. Ledgers with and without the hash
chain isolate the chain's share. Rounds interleave all four so that a noisy neighbour slows
each of them alike; ratios are taken within this one run.

Beside the rates, the SQL statements each kind of command sent (`bench/statement_count.py`):
counts the machine's load does not change. The ledger without the chain runs on the library's
own recorders, which cannot check a command's reads at its write (`domain/read_check.py`): it
catches up before every command as all ledgers did before, so its `*_chain_cost` also holds the
reads the chained ledger no longer makes.

    python bench/event_store.py [--alerts N] [--rounds R]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg

from bench import statement_count
from bench.common import PG_URL, RESULTS, StepClock, write_result
from lfr_ledger.api.bootstrap import build_ledger
from lfr_ledger.api.demo.sample_deployment import OPERATOR, OVERSIGHT, matcher_for, reviewed
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.alert import AlertClaim
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.values import Decision

Row = tuple[str, int, str, bytes]


class _NoChainSettings(Settings):
    def eventsourcing_env(self) -> dict[str, str]:
        env = super().eventsourcing_env()
        env.pop("APPLICATION_RECORDER_TOPIC")
        return env


class Subject:
    """One ledger under test, with a live deployment ready for alerts."""

    def __init__(self, backend: str, root: Path, chain: bool, schemas: list[str]) -> None:
        self.schema = f"bench_{uuid.uuid4().hex[:10]}"
        schemas.append(self.schema)
        cls = Settings if chain else _NoChainSettings
        if backend == "sqlite":
            self.settings = cls(data_dir=root / self.schema)
        else:
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(f'CREATE SCHEMA "{self.schema}"')
            self.settings = cls(
                data_dir=root / self.schema, database_url=PG_URL, postgres_schema=self.schema
            )
        self.clock = StepClock(datetime(2025, 6, 2, 8, 0, tzinfo=UTC))
        self.ledger: CaseLedger = build_ledger(self.settings, clock=self.clock)
        self.deployment, self.entries = reviewed(self.ledger)
        self.clock.now += timedelta(hours=3)
        self.ledger.start_deployment(OPERATOR, self.deployment)
        self.matcher = matcher_for(self.deployment)
        self.seconds = {"alert": 0.0, "simple": 0.0}
        self.commands = {"alert": 0, "simple": 0}
        # SQL statements per command kind and database (`bench/statement_count.py`).
        self.statements: dict[str, Counter[str]] = {
            kind: Counter() for kind in ("raise", "adjudicate", "simple")
        }

    def alerts(self, n: int) -> None:
        started = time.perf_counter()
        for i in range(n):
            with statement_count.counting(self.statements["raise"]):
                alert = self.ledger.raise_alert(
                    self.matcher,
                    AlertClaim(
                        self.deployment,
                        camera_id="cam-1",
                        entry_id=self.entries[i % len(self.entries)],
                        similarity=0.8,
                        captured_at=self.clock.now,
                    ),
                )
            with statement_count.counting(self.statements["adjudicate"]):
                self.ledger.adjudicate(OPERATOR, alert, Decision.MATCH, "bench")
        self.seconds["alert"] += time.perf_counter() - started
        self.commands["alert"] += 2 * n

    def consultations(self, n: int) -> None:
        started = time.perf_counter()
        for i in range(n):
            with statement_count.counting(self.statements["simple"]):
                self.ledger.record_consultation(OVERSIGHT, record=f"alert:{i}", purpose="review")
        self.seconds["simple"] += time.perf_counter() - started
        self.commands["simple"] += n

    def last_rows(self, n: int) -> list[Row]:
        top = self.ledger.recorder.max_notification_id() or 0
        notifications = self.ledger.recorder.select_notifications(top - n, n)
        return [
            (str(x.originator_id), x.originator_version, x.topic, x.state) for x in notifications
        ]

    def rate(self, kind: str) -> float:
        return self.commands[kind] / self.seconds[kind]

    def statements_per_command(self) -> dict[str, dict[str, float]]:
        """Statements each kind of command sent, on average, per database: counts, which the
        machine's load does not change (a raise and an adjudication are half an alert pair)."""
        done = {
            "raise": self.commands["alert"] / 2,
            "adjudicate": self.commands["alert"] / 2,
            "simple": self.commands["simple"],
        }
        return {
            kind: {db: round(n / done[kind], 2) for db, n in sorted(counts.items())}
            for kind, counts in self.statements.items()
            if done[kind]
        }


def raw_sqlite(path: Path) -> Callable[[list[Row]], float]:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(
        "CREATE TABLE raw_events (id INTEGER PRIMARY KEY, originator_id TEXT, "
        "originator_version INTEGER, topic TEXT, state BLOB, "
        "UNIQUE (originator_id, originator_version))"
    )

    def insert(rows: list[Row]) -> float:
        started = time.perf_counter()
        for row in rows:
            conn.execute("BEGIN")
            conn.execute(
                "INSERT INTO raw_events (originator_id, originator_version, topic, state) "
                "VALUES (?, ?, ?, ?)",
                row,
            )
            conn.execute("COMMIT")
        return time.perf_counter() - started

    return insert


def raw_postgres(schema: str) -> Callable[[list[Row]], float]:
    conn = psycopg.connect(PG_URL, autocommit=True)
    conn.execute(
        f'CREATE TABLE "{schema}".raw_events (id bigserial PRIMARY KEY, originator_id uuid, '
        "originator_version bigint, topic text, state bytea, "
        "UNIQUE (originator_id, originator_version))"
    )
    sql = (
        f'INSERT INTO "{schema}".raw_events (originator_id, originator_version, topic, state) '
        "VALUES (%s, %s, %s, %s)"
    )

    def insert(rows: list[Row]) -> float:
        started = time.perf_counter()
        for row in rows:
            conn.execute(sql, row)
        return time.perf_counter() - started

    return insert


def bench_backend(
    backend: str, root: Path, alerts: int, rounds: int, schemas: list[str]
) -> dict[str, Any]:
    bare = Subject(backend, root, chain=False, schemas=schemas)
    chained = Subject(backend, root, chain=True, schemas=schemas)
    raw = (
        raw_sqlite(chained.settings.data_dir / "raw.sqlite")
        if backend == "sqlite"
        else raw_postgres(chained.schema)
    )
    raw_seconds, raw_rows = 0.0, 0
    per_round = alerts // rounds
    for _ in range(rounds):
        for subject in (bare, chained):
            subject.alerts(per_round)
            subject.consultations(2 * per_round)
        rows = chained.last_rows(4 * per_round)
        # Fresh ids so the baseline's unique index sees new keys, as the ledger's did.
        rows = [(str(uuid.uuid4()), v, t, s) for (_, v, t, s) in rows]
        raw_seconds += raw(rows)
        raw_rows += len(rows)
    figures = {"raw_inserts_per_s": raw_rows / raw_seconds}
    for kind in ("alert", "simple"):
        figures[f"{kind}_commands_per_s_no_chain"] = bare.rate(kind)
        figures[f"{kind}_commands_per_s_with_chain"] = chained.rate(kind)
        figures[f"{kind}_ratio_with_chain"] = chained.rate(kind) / figures["raw_inserts_per_s"]
        figures[f"{kind}_ratio_no_chain"] = bare.rate(kind) / figures["raw_inserts_per_s"]
        figures[f"{kind}_chain_cost"] = 1 - chained.rate(kind) / bare.rate(kind)
    for subject in (bare, chained):
        subject.ledger.close()
    rounded: dict[str, Any] = {k: round(v, 3) for k, v in figures.items()}
    rounded["statements_per_command_with_chain"] = chained.statements_per_command()
    rounded["statements_per_command_no_chain"] = bare.statements_per_command()
    return rounded


# A ratio that fell by more than this against the committed figures is flagged (issue 28: the
# ratios fell for rounds of write-path work while no one reran the benchmark).
REGRESSION = 0.20
GUARDED = ("alert_ratio_with_chain", "simple_ratio_with_chain")


def committed_figures() -> dict[str, Any]:
    """The figures this run is about to replace, read before they are overwritten."""
    try:
        loaded = json.loads((RESULTS / "event_store.json").read_text())
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def against_committed(
    backend: str, figures: dict[str, Any], committed: dict[str, Any]
) -> dict[str, dict[str, float]]:
    """Each guarded ratio beside the committed one; prints a warning when it fell by more
    than `REGRESSION`."""
    before = committed.get(backend, {})
    compared: dict[str, dict[str, float]] = {}
    for name in GUARDED:
        if not isinstance(before.get(name), int | float) or not before[name]:
            continue
        change = figures[name] / before[name] - 1
        compared[name] = {
            "committed": before[name],
            "now": figures[name],
            "change": round(change, 3),
        }
        print(
            f"  {backend} {name}: {figures[name]:.3f} (committed {before[name]:.3f}, {change:+.0%})"
        )
        if change < -REGRESSION:
            print(
                f"WARNING: {backend} {name} fell {-change:.0%} below the committed figure "
                f"(more than {REGRESSION:.0%})",
                flush=True,
            )
    return compared


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    # Before any ledger opens a connection, so that every one is counted.
    statement_count.install()
    results: dict[str, Any] = {
        "alerts": args.alerts,
        "rounds": args.rounds,
        "note": "commands/s and raw single-row inserts/s interleaved in one run",
    }
    committed = committed_figures()
    results["committed"] = {"commit": committed.get("machine", {}).get("commit")}
    schemas: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            for backend in ("sqlite", "postgres"):
                results[backend] = bench_backend(
                    backend, Path(tmp), args.alerts, args.rounds, schemas
                )
                print(backend, results[backend], flush=True)
                results["committed"][backend] = against_committed(
                    backend, results[backend], committed
                )
        finally:
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                for schema in schemas:
                    conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    print(write_result("event_store", results))


if __name__ == "__main__":
    main()

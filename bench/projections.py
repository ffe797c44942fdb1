"""Projection catch-up speed beside merely reading and decoding the same notifications.

For each backend: record a deployment, then ~N events of alerts (raised, adjudicated, engaged,
outcome, closed) and face counts through the case ledger in bulk saves; then time
  1. reading and decoding every notification (the floor any projection pays), and
  2. `catch_up` from zero: decode, apply to every view, write rows and tracking, commit.
The ratio catch-up / read-and-decode is the projection's own overhead. Writes
bench/results/projections.json.

    .venv/bin/python bench/projections.py [--events 500000] [--backends sqlite,postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

import msgspec
import psycopg

# Run as a script, this file's folder comes first on the path and bench/api.py would shadow
# the `api` package: the repository root goes before it.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import RESULTS, StepClock, machine
from lfr_ledger.api.bootstrap import build_vault
from lfr_ledger.api.demo.sample_deployment import AUTHORITY, SIGNAGE, register_documents
from lfr_ledger.api.demo.seed import (
    ADMIN,
    AUTHORISING_OFFICER,
    OFFICER,
    OPERATOR,
    PLANNER,
    WATCHLIST_MANAGER,
    seed_subject,
)
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.actors import Actor, Role
from lfr_ledger.domain.alert import AlertClaim, Outcome
from lfr_ledger.domain.alert.aggregate import Alert
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.records import FaceCount
from lfr_ledger.domain.values import (
    Camera,
    ComplianceResult,
    Confirmation,
    Decision,
    DeploymentPlan,
    Location,
    OutcomeType,
    PublicNotice,
)
from lfr_ledger.projections.catch_up import catch_up
from lfr_ledger.projections.readers.statistics import StatisticsReader
from lfr_ledger.projections.store import close_stores, store_for

PG_URL = os.environ.get("LFR_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
MODEL = "nec-neoface-v4"
CAMERAS = ("cam-1", "cam-2", "cam-3", "cam-4")
ENTRIES = 40
EVENTS_PER_ALERT = 5
ALERTS_PER_SAVE = 1000
FACE_REPORT_EVERY = 50  # alerts
READ_RUNS = 1  # the log is read once before the catch-up, cold like it

ARREST = Outcome(OutcomeType.ARREST, offences=("theft",), reference="BENCH")
COMPLIED = Outcome(
    OutcomeType.COMPLIANCE_CHECK, conditions=("curfew",), result=ComplianceResult.COMPLIED
)
NOT_LOCATED = Outcome(OutcomeType.NOT_LOCATED)


@dataclass
class Deployed:
    deployment_id: uuid.UUID
    entries: list[uuid.UUID]
    matcher: Actor


@contextmanager
def storage(backend: str) -> Iterator[Settings]:
    if backend == "sqlite":
        tmp = Path(tempfile.mkdtemp(prefix="lfr-bench-"))
        try:
            yield Settings(data_dir=tmp / "var", model_dir=tmp / "models")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield Settings(
            data_dir=Path(tempfile.gettempdir()) / f"lfr-bench-{schema}",
            database_url=PG_URL,
            postgres_schema=schema,
        )
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def generator_ledger(settings: Settings, clock: StepClock) -> CaseLedger:
    """The ledger that writes the bench's events, on the library's own recorder: the hash chain
    costs the writer, not the reader, and the projection reads the same notifications."""
    env = settings.eventsourcing_env()
    env.pop("APPLICATION_RECORDER_TOPIC", None)
    return CaseLedger(env, vault=build_vault(settings), clock=clock)


def deploy(ledger: CaseLedger, clock: StepClock) -> Deployed:
    ledger.adopt_policy(ADMIN)
    register_documents(ledger)
    operation_id = ledger.open_operation(PLANNER, name="Bench", force="demo", purpose="bench")
    start = clock.now + timedelta(hours=1)
    deployment_id = ledger.propose_deployment(
        PLANNER,
        DeploymentPlan(
            operation_id=str(operation_id),
            location=Location("High Street", "Benchton", "town_centre"),
            starts_at=start,
            ends_at=start + timedelta(days=60),
            purpose="bench",
            intelligence_case="IC",
            watchlist_categories=("wanted_by_courts", "subject_to_court_order"),
            cameras=tuple(Camera(c, c) for c in CAMERAS),
            controlling_force="demo",
            equipment_owner_force="demo",
            dpia_ref="DPIA-1",
            eia_ref="EIA-1",
            policy_ref=ledger.policy.version,
            public_notice=PublicNotice("signage", clock.now - timedelta(days=1)),
            model_id=MODEL,
        ),
        threshold=0.64,
    )
    ledger.authorise_deployment(AUTHORISING_OFFICER, deployment_id, authority_ref="A", **AUTHORITY)
    entries = []
    for i in range(ENTRIES):
        subject = seed_subject(0, i)
        if subject.category == "suspected_offender":
            continue
        entries.append(ledger.enrol(WATCHLIST_MANAGER, deployment_id, subject))
    ledger.review_watchlist(
        AUTHORISING_OFFICER, deployment_id, confirmed_count=len(entries), not_excessive=True
    )
    clock.now = start
    ledger.confirm_signage(OPERATOR, deployment_id, **SIGNAGE)
    ledger.start_deployment(OPERATOR, deployment_id)
    matcher = Actor("matcher-bench", Role.MATCHER, deployment_id=str(deployment_id))
    return Deployed(deployment_id, entries, matcher)


def alert_story(d: Deployed, n: int, at: datetime) -> Alert:
    """One alert taken to its close: five events, decisions in a realistic mix."""
    claim = AlertClaim(
        deployment_id=d.deployment_id,
        camera_id=CAMERAS[n % len(CAMERAS)],
        entry_id=d.entries[n % len(d.entries)],
        similarity=0.64 + (n % 360) / 1000,
        captured_at=at - timedelta(seconds=2),
    )
    alert = Alert.raise_(
        claim,
        category="wanted_by_courts" if n % 3 else "subject_to_court_order",
        threshold=0.64,
        model_id=MODEL,
        sealed_face_crop=None,
        actor=d.matcher,
        occurred_at=at,
    )
    kind = n % 10
    decision = (
        Decision.MATCH if kind < 7 else Decision.NO_MATCH if kind < 9 else Decision.INCONCLUSIVE
    )
    alert.adjudicate(
        decision=decision, reason="bench", actor=OPERATOR, occurred_at=at + timedelta(seconds=30)
    )
    engaged = decision == Decision.MATCH
    alert.record_engagement(
        engaged=engaged,
        confirmed=Confirmation.CONFIRMED if engaged else Confirmation.UNKNOWN,
        actor=OFFICER,
        occurred_at=at + timedelta(minutes=2),
    )
    outcome = (ARREST if kind < 3 else COMPLIED) if engaged else NOT_LOCATED
    later = at + timedelta(minutes=10)
    alert.record_outcome(outcome=outcome, actor=OFFICER, occurred_at=later, recorded_at=later)
    alert.close(actor=OFFICER, occurred_at=later)
    return alert


def generate(ledger: CaseLedger, clock: StepClock, events: int) -> dict[str, Any]:
    started = time.perf_counter()
    d = deploy(ledger, clock)
    alerts = events // EVENTS_PER_ALERT
    base = clock.now
    faces = 0
    for first in range(0, alerts, ALERTS_PER_SAVE):
        batch: list[Any] = []
        for n in range(first, min(first + ALERTS_PER_SAVE, alerts)):
            at = base + timedelta(seconds=20 * n)
            batch.append(alert_story(d, n, at))
            if n % FACE_REPORT_EVERY == 0:
                batch.append(
                    FaceCount.report(
                        deployment_id=d.deployment_id,
                        camera_id=CAMERAS[n % len(CAMERAS)],
                        period_start=at,
                        period_end=at + timedelta(seconds=20),
                        count=1000 + n % 97,
                        actor=d.matcher,
                        occurred_at=at + timedelta(seconds=20),
                    )
                )
                faces += 1000 + n % 97
        ledger.save(*batch)
    head = int(ledger.recorder.max_notification_id() or 0)
    return {
        "deployment_id": str(d.deployment_id),
        "alerts": alerts,
        "faces": faces,
        "notifications": head,
        "seconds": round(time.perf_counter() - started, 2),
    }


def read_and_decode(settings: Settings, batch: int) -> tuple[int, float]:
    source = store_for(settings).source
    started = time.perf_counter()
    after, count = 0, 0
    while True:
        page = source.read(after, batch)
        if not page:
            break
        for notification in page:
            source.decode(notification)
        count += len(page)
        after = page[-1].id
    return count, time.perf_counter() - started


def run_backend(backend: str, events: int, batch: int) -> dict[str, Any]:
    with storage(backend) as settings:
        clock = StepClock(datetime(2025, 6, 1, 8, 0, tzinfo=UTC))
        ledger = generator_ledger(settings, clock)
        try:
            print(f"[{backend}] generating ~{events:,} events …", flush=True)
            generated = generate(ledger, clock, events)
            print(f"[{backend}] generated {generated}", flush=True)

            baseline = []
            for _ in range(READ_RUNS):
                count, seconds = read_and_decode(settings, batch)
                baseline.append({"events": count, "seconds": round(seconds, 3)})
                print(f"[{backend}] read+decode {count / seconds:,.0f} events/s", flush=True)

            started = time.perf_counter()
            applied = catch_up(settings, batch_size=batch)
            catch_up_seconds = time.perf_counter() - started
            print(f"[{backend}] catch-up {applied / catch_up_seconds:,.0f} events/s", flush=True)

            summary = msgspec.to_builtins(
                StatisticsReader(settings).deployment_summary(uuid.UUID(generated["deployment_id"]))
            )
            assert summary is not None
            totals = summary["totals"]
            assert applied == generated["notifications"], (applied, generated)
            assert totals["alerts"] == generated["alerts"], totals
            assert totals["faces_processed"] == generated["faces"], totals

            read_rate = max(b["events"] / b["seconds"] for b in baseline)
            catch_up_rate = applied / catch_up_seconds
            return {
                "events": applied,
                "generation": generated,
                "batch_size": batch,
                "read_and_decode_runs": baseline,
                "read_and_decode_events_per_s": round(read_rate),
                "catch_up_seconds": round(catch_up_seconds, 3),
                "catch_up_events_per_s": round(catch_up_rate),
                "catch_up_over_read_and_decode": round(catch_up_rate / read_rate, 3),
                "alerts_projected": totals["alerts"],
                "true_alerts_projected": totals["true_alerts"],
                "arrests_projected": totals["arrests"],
            }
        finally:
            close_stores()
            ledger.close()
            close = getattr(ledger.vault, "close", None)
            if close:
                close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=500_000)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--batch", type=int, default=5000, help="notifications per transaction")
    parser.add_argument("--out", type=Path, default=RESULTS / "projections.json")
    args = parser.parse_args(argv)

    results: dict[str, Any] = {
        "benchmark": "projection catch-up vs read-and-decode",
        "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {**machine(), "eventsourcing": metadata.version("eventsourcing")},
        "definition": "events/s over every notification in the log, one process, from zero; "
        "ratio = catch-up rate / best read-and-decode rate of the same notifications",
        "backends": {},
    }
    for backend in args.backends.split(","):
        results["backends"][backend] = run_backend(backend.strip(), args.events, args.batch)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results["backends"], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

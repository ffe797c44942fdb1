"""Subject access and retention at two log sizes, by their indexes and by the old scan.

For each size (default 50k and 500k events, SQLite): one deployment a day, each proposed,
authorised, enrolling five subjects drawn from a pool of a few hundred (the SAR subject is on
the first three), started, alerted on (two alerts with face crops), ended; between them, bulk
face-count reports make up the size. Retention then clears the backlog a day at a time up to
two days before the last deployment ended plus the watchlist period (untimed). Timed:

- a subject-access request for the SAR subject, by the index and by the scan (same answer;
  median of 5 and of 3 calls);
- a retention run with one day's worth due, by the scan (day one), then by the index (day two,
  its own day's worth).

The indexes are caught up before the timings, as the projection runner keeps them; the catch-up
of the day's tail is inside the timed index calls. Writes bench/results/oversight_scale.json.

    .venv/bin/python bench/oversight_scale.py [--sizes 50000,500000]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# Run as a script, this file's folder comes first on the path and bench/api.py would shadow
# the `api` package: the repository root goes before it.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import StepClock, write_result
from lfr_ledger.api.bootstrap import build_retention, build_subject_index, build_vault
from lfr_ledger.api.demo.sample_deployment import (
    AUTHORITY,
    SIGNAGE,
    plan,
    register_documents,
    train,
)
from lfr_ledger.api.demo.seed import (
    ADMIN,
    AUTHORISING_OFFICER,
    OFFICER,
    OPERATOR,
    PLANNER,
    WATCHLIST_MANAGER,
)
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.actors import Actor, Role
from lfr_ledger.domain.alert import AlertClaim
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.commands.watchlist import Enrolment
from lfr_ledger.domain.records import FaceCount
from lfr_ledger.domain.values import (
    Camera,
    Confirmation,
    Decision,
    Location,
    PublicNotice,
)
from lfr_ledger.oversight.subject_access import subject_access
from lfr_ledger.projections.catch_up import catch_up
from lfr_ledger.projections.oversight_indexes import RETENTION_DEADLINES, SUBJECT_INDEX
from lfr_ledger.projections.store import close_stores

MODEL = "nec-neoface-v4"
CAMERAS = ("cam-1", "cam-2")
SUBJECTS = 300
PER_DEPLOYMENT = 5
SAR_SUBJECT = "BENCH-SAR-0001"
EVENTS_PER_DEPLOYMENT = 1000  # so the log grows with days, at a constant rate per day
SAVE = 5000


@contextmanager
def storage() -> Iterator[Settings]:
    tmp = Path(tempfile.mkdtemp(prefix="lfr-oversight-bench-"))
    try:
        yield Settings(data_dir=tmp / "var", model_dir=tmp / "models")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def enrolment(ref: str, n: int) -> Enrolment:
    return Enrolment(
        subject_ref=ref,
        name=f"Bench Subject {n}",
        category="wanted_by_courts",
        legal_basis="DPA 2018 Part 3, s.35",
        rationale="Wanted on warrant for a serious offence; intelligence case BENCH-IC",
        offence="burglary",
        image_source="custody",
    )


def one_deployment(
    ledger: CaseLedger, clock: StepClock, day: datetime, k: int, operation_id: uuid.UUID
) -> uuid.UUID:
    clock.now = day
    start = day + timedelta(hours=2)
    deployment_id = ledger.propose_deployment(
        PLANNER,
        plan(
            operation_id,
            ledger.policy.version,
            location=Location(f"Street {k % 40}", "Benchton", "town_centre"),
            starts_at=start,
            ends_at=start + timedelta(hours=8),
            watchlist_categories=("wanted_by_courts",),
            cameras=tuple(Camera(c, c) for c in CAMERAS),
            public_notice=PublicNotice("signage", day - timedelta(days=1)),
            model_id=MODEL,
        ),
        threshold=0.64,
    )
    ledger.authorise_deployment(AUTHORISING_OFFICER, deployment_id, authority_ref="A", **AUTHORITY)
    refs = [f"BENCH-{(k * PER_DEPLOYMENT + j) % SUBJECTS:04d}" for j in range(PER_DEPLOYMENT)]
    if k < 3:
        refs[0] = SAR_SUBJECT
    entries = [
        ledger.enrol(WATCHLIST_MANAGER, deployment_id, enrolment(ref, n))
        for n, ref in enumerate(refs)
    ]
    ledger.review_watchlist(
        AUTHORISING_OFFICER, deployment_id, confirmed_count=len(entries), not_excessive=True
    )
    clock.now = start
    ledger.confirm_signage(OPERATOR, deployment_id, **SIGNAGE)
    ledger.start_deployment(OPERATOR, deployment_id)
    matcher = Actor(f"matcher-{k}", Role.MATCHER, deployment_id=str(deployment_id))
    for a in range(2):
        clock.now = start + timedelta(hours=1 + a)
        alert = ledger.raise_alert(
            matcher,
            AlertClaim(
                deployment_id,
                camera_id=CAMERAS[a],
                entry_id=entries[0],
                similarity=0.8,
                captured_at=clock.now - timedelta(seconds=1),
                face_crop=b"\xff\xd8\xff" + uuid.uuid4().bytes,
            ),
        )
        ledger.adjudicate(OPERATOR, alert, Decision.MATCH, "same face")
        ledger.record_engagement(OFFICER, alert, engaged=True, confirmed=Confirmation.CONFIRMED)
    return deployment_id


def face_counts(ledger: CaseLedger, deployment_id: uuid.UUID, start: datetime, n: int) -> None:
    matcher = Actor("matcher-faces", Role.MATCHER, deployment_id=str(deployment_id))
    for first in range(0, n, SAVE):
        batch = []
        for i in range(first, min(first + SAVE, n)):
            at = start + timedelta(seconds=10 * i)
            batch.append(
                FaceCount.report(
                    deployment_id=deployment_id,
                    camera_id=CAMERAS[i % len(CAMERAS)],
                    period_start=at,
                    period_end=at + timedelta(seconds=10),
                    count=10 + i % 17,
                    actor=matcher,
                    occurred_at=at + timedelta(seconds=10),
                )
            )
        ledger.save(*batch)


def generate(ledger: CaseLedger, clock: StepClock, events: int) -> dict[str, Any]:
    started = time.perf_counter()
    first_day = clock.now.replace(hour=8, minute=0, second=0, microsecond=0)
    ledger.adopt_policy(ADMIN)
    register_documents(ledger)
    train(ledger, OPERATOR.id, "adjudicate")
    train(ledger, OFFICER.id, "engage")
    operation_id = ledger.open_operation(PLANNER, name="Bench", force="demo", purpose="bench")
    days = max(events // EVENTS_PER_DEPLOYMENT, 10)
    for k in range(days):
        day = first_day + timedelta(days=k)
        before = int(ledger.recorder.max_notification_id() or 0)
        deployment_id = one_deployment(ledger, clock, day, k, operation_id)
        written = int(ledger.recorder.max_notification_id() or 0) - before
        face_counts(ledger, deployment_id, clock.now, max(EVENTS_PER_DEPLOYMENT - written - 1, 0))
        clock.now = day + timedelta(hours=10)
        ledger.end_deployment(OPERATOR, deployment_id)
    return {
        "deployments": days,
        "notifications": int(ledger.recorder.max_notification_id() or 0),
        "seconds": round(time.perf_counter() - started, 1),
        "last_end": clock.now,
    }


def timed(fn: Any, repeat: int = 1) -> tuple[Any, float]:
    """The result and the median time of `repeat` calls (a read-only call may repeat)."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return result, statistics.median(times)


def run_size(events: int) -> dict[str, Any]:
    with storage() as settings:
        clock = StepClock(datetime(2025, 1, 6, 8, 0, tzinfo=UTC))
        env = settings.eventsourcing_env()
        ledger = CaseLedger(env, vault=build_vault(settings), clock=clock)
        try:
            print(f"[{events:,}] generating …", flush=True)
            generated = generate(ledger, clock, events)
            last_end: datetime = generated.pop("last_end")
            print(f"[{events:,}] generated {generated}", flush=True)
            _, index_build = timed(
                lambda: catch_up(settings, names=[SUBJECT_INDEX, RETENTION_DEADLINES])
            )

            # Subject access: the scan first (cold caches favour the index, not the scan).
            period = (datetime(2024, 1, 1, tzinfo=UTC), last_end + timedelta(days=1))
            scan_answer, sar_scan = timed(
                lambda: subject_access(ledger, SAR_SUBJECT, start=period[0], end=period[1]),
                repeat=3,
            )
            index = build_subject_index(settings)
            index_answer, sar_index = timed(
                lambda: subject_access(
                    ledger, SAR_SUBJECT, start=period[0], end=period[1], index=index
                ),
                repeat=5,
            )
            assert index_answer.to_dict() == scan_answer.to_dict()
            assert len(index_answer.entries) == 3 and index_answer.in_alert

            # Retention: clear the backlog a day at a time (untimed), then one day each way.
            retention = build_retention(ledger, settings)
            watchlist_due = last_end + timedelta(hours=24)
            day = watchlist_due - timedelta(days=max(generated["deployments"], 40))
            while day <= watchlist_due - timedelta(days=2):
                clock.now = day
                retention.run(day)
                day += timedelta(days=1)
            catch_up(settings, names=[RETENTION_DEADLINES])
            clock.now = watchlist_due - timedelta(days=1)
            scan_report, retention_scan = timed(
                lambda: build_retention(ledger, settings, scan=True).run(clock.now)
            )
            clock.now = watchlist_due
            index_report, retention_index = timed(lambda: retention.run(clock.now))
            for report in (scan_report, index_report):
                assert len(report.watchlists_destroyed) == 1, report.summary()
                assert not report.failures, report.failures
            return {
                "events": generated["notifications"],
                "generation": generated,
                "index_catch_up_from_zero_s": round(index_build, 2),
                "subject_access": {
                    "entries": len(index_answer.entries),
                    "alerts": sum(len(e.alerts) for e in index_answer.entries),
                    "index_s": round(sar_index, 4),
                    "scan_s": round(sar_scan, 4),
                },
                "retention_day": {
                    "scan": {
                        "watchlists": len(scan_report.watchlists_destroyed),
                        "entries": len(scan_report.entries_destroyed),
                        "alert_images": len(scan_report.alert_images_erased),
                        "seconds": round(retention_scan, 4),
                    },
                    "index": {
                        "watchlists": len(index_report.watchlists_destroyed),
                        "entries": len(index_report.entries_destroyed),
                        "alert_images": len(index_report.alert_images_erased),
                        "seconds": round(retention_index, 4),
                    },
                },
            }
        finally:
            close_stores()
            ledger.close()
            close = getattr(ledger.vault, "close", None)
            if close:
                close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", default="50000,500000")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    runs = [run_size(n) for n in sizes]
    small, large = runs[0], runs[-1]

    def ratio(path: tuple[str, ...]) -> float:
        a: Any = small
        b: Any = large
        for key in path:
            a, b = a[key], b[key]
        return round(b / a, 2)

    result = {
        "benchmark": "subject access and a day's retention: index vs scan, two log sizes",
        "backend": "sqlite",
        "command": "python bench/oversight_scale.py --sizes " + args.sizes,
        "runs": runs,
        "large_over_small": {
            "subject_access_index": ratio(("subject_access", "index_s")),
            "subject_access_scan": ratio(("subject_access", "scan_s")),
            "retention_index": ratio(("retention_day", "index", "seconds")),
            "retention_scan": ratio(("retention_day", "scan", "seconds")),
        },
        "goals": {
            "index_large_over_small_at_most": 1.5,
            "subject_access_index_at_most_s": 1.0,
        },
    }
    path = write_result("oversight_scale", result)
    print(f"wrote {path}")
    for run in runs:
        print(
            f"{run['events']:>8,} events: subject access index {run['subject_access']['index_s']}"
            f" s / scan {run['subject_access']['scan_s']} s; retention day index "
            f"{run['retention_day']['index']['seconds']} s / scan "
            f"{run['retention_day']['scan']['seconds']} s"
        )
    print(result["large_over_small"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""National scale (issue 15): a simulated year of a 50-van fleet on PostgreSQL, at two scale
factors an order of magnitude apart, and what each periodic job and read costs at each.

A fleet year at scale factor 1.0: 50 vans × 250 days, each van-day one deployment (proposed,
authorised, a watchlist of ten compiled and reviewed, started, ended) with two cameras reporting
faces every minute for eight hours (960 reports) and alerts at ten times the seed's rate (15 a
van-day, each raised, adjudicated, engaged, given an outcome and closed): about 1,050 events a
van-day, 13 M a year. A factor of 0.01 is 125 van-days. Commands go through the case ledger
with its hash chain, as in service; face counts and alert stories are saved in bulk.

Measured at each factor, on the same schema:
- `verify_since_checkpoint_s`: a checkpoint is signed, one more van-day is recorded, and the
  chain is verified from the checkpoint; `verify_full_s` beside it for scale;
- `checkpoint_s`: signing the next checkpoint after that van-day;
- `subject_access_s` (a subject on several watchlists) and `retention_day_s` (one day of the
  fleet's watchlists due, the same fifty at every factor), through their indexes;
- `deployment_summary_ms`, `publication_export_s` (every deployment's record) and
  `publication_day_s` (one day's fifty, as a periodic publication reads them);
- `catch_up_us_per_event`: the views caught up from zero, per event;
- `bytes_per_event`: the schema's tables on disk over the events;
- `node_start_s` (a node finds the policy last adopted in the log), `end_deployment_ms` (the
  command reads the log for the deployment's undecided alerts) and `van_day_s` (one van-day's
  commands, proposal to end);
- `fleet_load`: command latency on two `lfr serve` nodes under the fleet's steady load
  (`bench/fleet_load.py`), `--fleet-seconds` long.

Each periodic job's goal: its time at the larger factor ≤ 1.5 × at the smaller.

    python bench/national.py [--factors 0.01,0.1] [--fleet-seconds 60]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import PG_URL, StepClock, write_result
from bench.fleet_load import fleet_load
from lfr_ledger.api.bootstrap import build_ledger
from lfr_ledger.api.demo.sample_deployment import AUTHORITY, SIGNAGE, plan, register_documents
from lfr_ledger.api.demo.seed import (
    ADMIN,
    AUTHORISING_OFFICER,
    OPERATOR,
    PLANNER,
    WATCHLIST_MANAGER,
    seed_subject,
)
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.actors import Actor, Role
from lfr_ledger.domain.alert.aggregate import Alert
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.records import FaceCount
from lfr_ledger.domain.values import Camera, Location, PublicNotice
from lfr_ledger.projections.catch_up import catch_up, rebuild
from lfr_ledger.projections.readers.statistics import StatisticsReader
from lfr_ledger.projections.store import close_stores

VANS = 50
DAYS = 250
CAMERAS = ("cam-1", "cam-2")
HOURS = 8
WATCHLIST = 10
ALERTS_PER_VAN_DAY = 15
SUBJECTS = 400  # the wanted people the fleet's watchlists draw from, each on several lists
YEAR_START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


@dataclass
class Fleet:
    settings: Settings
    ledger: CaseLedger
    clock: StepClock
    operation_id: uuid.UUID
    van_days: int = 0
    deployments: list[uuid.UUID] | None = None
    last_end_s: float = 0.0
    van_day_s: list[float] = field(default_factory=list)


def van_day(fleet: Fleet, n: int) -> uuid.UUID:
    """One van's day: a deployment from proposal to its end, its face counts and alerts."""
    from bench.projections import Deployed, alert_story

    ledger, clock = fleet.ledger, fleet.clock
    day = YEAR_START + timedelta(days=n // VANS * 365 / DAYS)
    clock.now = day - timedelta(hours=2)
    start = day
    deployment_id = ledger.propose_deployment(
        PLANNER,
        plan(
            fleet.operation_id,
            ledger.policy.version,
            location=Location(f"Street {n % 97}", f"Town {n % VANS}", "town_centre"),
            starts_at=start,
            ends_at=start + timedelta(hours=HOURS),
            intelligence_case=f"IC-{n}",
            cameras=tuple(Camera(c, c) for c in CAMERAS),
            public_notice=PublicNotice("signage", clock.now - timedelta(days=1)),
        ),
    )
    ledger.authorise_deployment(
        AUTHORISING_OFFICER, deployment_id, authority_ref=f"A-{n}", **AUTHORITY
    )
    entries = []
    for i in range(WATCHLIST * 2):
        if len(entries) == WATCHLIST:
            break
        subject = seed_subject(0, (n * 7 + i) % SUBJECTS)
        if subject.category == "suspected_offender":
            continue
        entries.append(ledger.enrol(WATCHLIST_MANAGER, deployment_id, subject))
    ledger.review_watchlist(
        AUTHORISING_OFFICER, deployment_id, confirmed_count=len(entries), not_excessive=True
    )
    clock.now = start
    ledger.confirm_signage(OPERATOR, deployment_id, **SIGNAGE)
    ledger.start_deployment(OPERATOR, deployment_id)
    matcher = Actor(f"matcher-{n % VANS}", Role.MATCHER, deployment_id=str(deployment_id))
    deployed = Deployed(deployment_id, entries, matcher)
    batch: list[Any] = []
    for minute in range(HOURS * 60):
        at = start + timedelta(minutes=minute)
        for camera in CAMERAS:
            batch.append(
                FaceCount.report(
                    deployment_id=deployment_id,
                    camera_id=camera,
                    period_start=at,
                    period_end=at + timedelta(minutes=1),
                    count=40 + (minute * 7 + n) % 60,
                    actor=matcher,
                    occurred_at=at + timedelta(minutes=1),
                )
            )
    alerts: list[Alert] = [
        alert_story(deployed, n * ALERTS_PER_VAN_DAY + k, start + timedelta(minutes=30 * k + 5))
        for k in range(ALERTS_PER_VAN_DAY)
    ]
    ledger.save(*batch, *alerts)
    clock.now = start + timedelta(hours=HOURS)
    ended = time.perf_counter()
    ledger.end_deployment(OPERATOR, deployment_id)
    fleet.last_end_s = time.perf_counter() - ended
    fleet.van_days += 1
    return deployment_id


def generate(settings: Settings, factor: float) -> tuple[Fleet, float]:
    clock = StepClock(YEAR_START - timedelta(days=2))
    ledger = build_ledger(settings, clock=clock)
    ledger.adopt_policy(ADMIN)
    register_documents(ledger)
    operation_id = ledger.open_operation(PLANNER, name="Fleet year", force="demo", purpose="bench")
    fleet = Fleet(settings, ledger, clock, operation_id, deployments=[])
    started = time.perf_counter()
    for n in range(max(1, round(VANS * DAYS * factor))):
        assert fleet.deployments is not None
        fleet.deployments.append(van_day(fleet, n))
    return fleet, time.perf_counter() - started


def timed(body: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    value = body()
    return value, time.perf_counter() - started


def bytes_on_disk(settings: Settings) -> int:
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        row = conn.execute(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind IN ('r', 'm')",
            (settings.postgres_schema,),
        ).fetchone()
    return int(row[0]) if row else 0


def measure_commands(fleet: Fleet) -> dict[str, Any]:
    """What a node pays to start (the policy last adopted, found in the log) and the command
    that asks the log for a deployment's undecided alerts (ending it): neither may grow with
    the years before."""
    settings = fleet.settings
    starts = [timed(lambda: build_ledger(settings).close())[1] for _ in range(3)]
    ends = []
    for _ in range(3):
        started = time.perf_counter()
        van_day(fleet, fleet.van_days)  # proposal to end; the end reads the log since its start
        ends.append(fleet.last_end_s)
        fleet.van_day_s.append(time.perf_counter() - started)
    return {
        "node_start_s": round(sorted(starts)[1], 3),
        "end_deployment_ms": round(sorted(ends)[1] * 1000, 1),
        "van_day_s": round(sorted(fleet.van_day_s)[1], 3),
    }


def measure_views(fleet: Fleet, events: int) -> dict[str, Any]:
    settings = fleet.settings
    applied, catch_up_s = timed(lambda: rebuild(settings))
    reader = StatisticsReader(settings)
    assert fleet.deployments
    probe = fleet.deployments[len(fleet.deployments) // 2]
    reader.deployment_summary(probe)  # warm
    runs = [timed(lambda: reader.deployment_summary(probe))[1] for _ in range(20)]
    _, publication_s = timed(reader.publication_csv)
    # A periodic publication: one day's deployments (the fleet's fifty), the same at every factor.
    first_day = YEAR_START.date()
    _, publication_day_s = timed(lambda: reader.publication_csv((first_day, first_day)))
    return {
        "catch_up_us_per_event": round(catch_up_s / max(applied, 1) * 1e6, 1),
        "deployment_summary_ms": round(sorted(runs)[len(runs) // 2] * 1000, 2),
        "publication_export_s": round(publication_s, 3),
        "publication_day_s": round(publication_day_s, 4),
        "bytes_per_event": round(bytes_on_disk(settings) / max(events, 1), 1),
    }


def measure_audit(fleet: Fleet) -> dict[str, Any]:
    """After a checkpoint, one more van-day: the chain verified from the checkpoint, in full,
    and the next checkpoint (which extends the first)."""
    from lfr_ledger.eventlog.chain.wiring import verify_ledger
    from lfr_ledger.eventlog.checkpoint import (
        latest_checkpoint_path,
        read_checkpoint,
        sign_if_moved,
    )

    settings = fleet.settings
    sign_if_moved(settings)
    path = latest_checkpoint_path(settings)
    assert path is not None
    held = read_checkpoint(path)
    anchor = (int(held["last_id"]), bytes.fromhex(held["head"]))
    van_day(fleet, fleet.van_days)
    since, since_s = timed(lambda: verify_ledger(settings, start=anchor))
    assert since.ok, since.summary()
    full, full_s = timed(lambda: verify_ledger(settings))
    assert full.ok, full.summary()
    _, checkpoint_s = timed(lambda: sign_if_moved(settings))
    return {
        "verify_since_checkpoint_s": round(since_s, 3),
        "events_verified_since_checkpoint": since.events_checked,
        "verify_full_s": round(full_s, 3),
        "checkpoint_s": round(checkpoint_s, 3),
    }


def measure_oversight(fleet: Fleet) -> dict[str, Any]:
    """A subject-access request for a subject on several of the fleet's watchlists, then a
    retention run with one day of the fleet's watchlists due (the same fifty at every factor),
    both through their indexes as `lfr serve` runs them."""
    from lfr_ledger.api.bootstrap import build_retention, build_subject_index
    from lfr_ledger.oversight.subject_access import subject_access

    settings, ledger = fleet.settings, fleet.ledger
    subject = seed_subject(0, 7).subject_ref
    end = YEAR_START + timedelta(days=400)
    index = build_subject_index(settings)
    found, first_s = timed(
        lambda: subject_access(ledger, subject, start=YEAR_START, end=end, index=index)
    )
    runs = [
        timed(lambda: subject_access(ledger, subject, start=YEAR_START, end=end, index=index))[1]
        for _ in range(5)
    ]
    as_of = YEAR_START + timedelta(hours=HOURS + ledger.policy.watchlist_hours_after_end, minutes=1)
    fleet.clock.now = as_of
    report, retention_s = timed(lambda: build_retention(ledger, settings).run(as_of))
    return {
        "subject_access_s": round(sorted(runs)[len(runs) // 2], 4),
        "subject_access_first_s": round(first_s, 4),
        "subject_entries_found": len(found.entries),
        "retention_day_s": round(retention_s, 3),
        "watchlists_destroyed": len(report.watchlists_destroyed),
    }


def run_factor(factor: float, fleet_seconds: float, done: list[dict[str, Any]]) -> dict[str, Any]:
    """One factor's figures; `done`: the factors measured before it, kept with it."""
    schema = f"bench_fleet_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    settings = Settings(
        data_dir=Path(tempfile.mkdtemp(prefix="lfr-fleet-")),
        database_url=PG_URL,
        postgres_schema=schema,
    )
    try:
        fleet, generate_s = generate(settings, factor)
        events = int(fleet.ledger.recorder.max_notification_id() or 0)
        result = {
            "factor": factor,
            "van_days": fleet.van_days,
            "events": events,
            "generate_s": round(generate_s, 1),
            **measure_views(fleet, events),
            **measure_oversight(fleet),
            **measure_audit(fleet),
            **measure_commands(fleet),
        }
        catch_up(settings)
        write_result("national", summary([*done, result]))  # kept should the load fail
        if fleet_seconds > 0:
            result["fleet_load"] = fleet_load(settings, fleet_seconds)
        fleet.ledger.close()
        return result
    finally:
        close_stores()
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--factors", default="0.01,0.1")
    parser.add_argument(
        "--fleet-seconds",
        type=float,
        default=60.0,
        help="how long the fleet load runs on two API nodes at each factor (0: skip)",
    )
    args = parser.parse_args(argv)
    factors = [float(f) for f in args.factors.split(",")]
    runs: list[dict[str, Any]] = []
    for factor in factors:
        runs.append(run_factor(factor, args.fleet_seconds, runs))
        path = write_result("national", summary(runs))  # each factor kept as it is done
    print(path.read_text())


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    small, large = runs[0], runs[-1]
    ratios = {}
    for key in (
        "verify_since_checkpoint_s",
        "checkpoint_s",
        "subject_access_s",
        "retention_day_s",
        "deployment_summary_ms",
        "publication_export_s",
        "publication_day_s",
        "catch_up_us_per_event",
        "bytes_per_event",
        "node_start_s",
        "end_deployment_ms",
        "van_day_s",
    ):
        if len(runs) > 1 and small.get(key) and large.get(key):
            ratios[key] = round(large[key] / small[key], 2)
    return {
        "what": "a simulated fleet year on PostgreSQL at two scale factors (1.0 ≈ 13 M events)",
        "runs": runs,
        "large_over_small": ratios,
        "goal": "each periodic job ≤ 1.5 × at the larger factor",
    }


if __name__ == "__main__":
    main()

"""National scale (issue 15): a simulated year of a 50-van fleet on PostgreSQL, at two scale
factors an order of magnitude apart, and what each periodic job and read costs at each.

A fleet year at scale factor 1.0: 50 vans × 250 days, each van-day one deployment (proposed,
authorised, a watchlist of ten compiled and reviewed, started, ended) with two cameras reporting
faces every minute for eight hours (960 reports) and alerts at ten times the seed's rate (15 a
van-day, each raised, adjudicated, engaged, given an outcome and closed): about 1,050 events a
van-day, 13 M a year. A factor of 0.01 is 125 van-days. Commands go through the case ledger
with its hash chain, as in service; each van-day's face counts and alert stories are written in
one transaction by the bench's bulk path (`bench/bulk_log.py`: the same events, encoded and
chained as the recorder does, so `lfr audit verify` verifies them), by `--workers` processes
side by side (`bench/national_fleet.py`). The load alone runs with the checkpoints spaced out
and its sessions' commits not waiting for the WAL's flush; every figure after it is taken with
the server's own settings (`load_settings` in the JSON).

Measured at each factor, on the same schema:
- `verify_since_checkpoint_s`: a checkpoint is signed, one more van-day is recorded, and the
  chain is verified from the checkpoint; `verify_full_s` beside it for scale;
- `checkpoint_s`: signing the next checkpoint after that van-day;
- `rolling_slice_s`: one slice of the rolling re-verification at its bound (30,000 events), as
  `lfr serve` runs one a minute (`rolling_slice_sized_events`: the slice the server sizes);
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

Each periodic job's goal: its time at the larger factor ≤ 1.5 × at the smaller; subject access
≤ 1 s and a summary ≤ 100 ms at the larger; command p99 ≤ 250 ms under the fleet load
(`goals_met` in the JSON).

    python bench/national.py [--factors 0.1,1.0] [--fleet-seconds 60] [--workers 2] [--keep]
    python bench/national.py --remeasure-kept   # node start, subject access on the kept years
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bulk_log import analyse_schema, spaced_checkpoints
from bench.common import PG_URL, write_result
from bench.fleet_load import fleet_load
from bench.national_fleet import (
    HOURS,
    LOAD_OPTIONS,
    YEAR_START,
    Fleet,
    generate,
    van_day,
)
from lfr_ledger.api.bootstrap import build_ledger
from lfr_ledger.api.demo.seed import (
    seed_subject,
)
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.projections.catch_up import catch_up, rebuild
from lfr_ledger.projections.readers.statistics import StatisticsReader
from lfr_ledger.projections.store import close_stores

# Where `--keep` names the years it left in the database, by factor.
KEPT = Path(__file__).resolve().parent.parent / "var" / "national-kept.json"


def keep_year(factor: float, schema: str, data_dir: Path) -> None:
    """Names a kept year in `KEPT` beside those kept before (a factor kept again replaces its
    earlier year in the file, not in the database)."""
    held = json.loads(KEPT.read_text()) if KEPT.exists() else {}
    held[str(factor)] = {"schema": schema, "data_dir": str(data_dir)}
    KEPT.parent.mkdir(parents=True, exist_ok=True)
    KEPT.write_text(json.dumps(held, indent=2) + "\n")


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


def measure_node_start(settings: Settings) -> dict[str, Any]:
    """A node's start (the vault opened and its keys' KEK checked, the policy last adopted found
    in the log): the median of five. Also what `--remeasure-kept` runs again on each kept year."""
    starts = sorted(timed(lambda: build_ledger(settings).close())[1] for _ in range(5))
    return {"node_start_s": round(starts[2], 3)}


def measure_commands(fleet: Fleet) -> dict[str, Any]:
    """What a node pays to start (the policy last adopted, found in the log) and the command
    that asks the log for a deployment's undecided alerts (ending it): neither may grow with
    the years before."""
    settings = fleet.settings
    starts = measure_node_start(settings)
    ends = []
    for _ in range(3):
        started = time.perf_counter()
        van_day(fleet, fleet.van_days)  # proposal to end; the end reads the log since its start
        ends.append(fleet.last_end_s)
        fleet.van_day_s.append(time.perf_counter() - started)
    return {
        **starts,
        "end_deployment_ms": round(sorted(ends)[1] * 1000, 1),
        "van_day_s": round(sorted(fleet.van_day_s)[1], 3),
    }


def measure_views(fleet: Fleet, events: int, applied: int, catch_up_s: float) -> dict[str, Any]:
    """The views' figures, once caught up (`applied` events in `catch_up_s`)."""
    settings = fleet.settings
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
        **measure_rolling(fleet),
    }


def measure_rolling(fleet: Fleet) -> dict[str, Any]:
    """The rolling re-verification as `lfr serve` runs it a minute at a time: the slice the
    server sizes (the log over the minutes of its period, so it grows with the log up to its
    bound, by design) and a slice at that bound, whose time is the job's cost per minute and
    must not grow with the history before it."""
    from lfr_ledger.api.reverify import reverify_step

    settings = fleet.settings
    at = YEAR_START + timedelta(days=400)
    sized = reverify_step(settings, now=at)  # also prepares the store: not timed
    assert sized is not None and sized.rehashed is not None
    cap = settings.reverify_max_events_per_minute
    runs = []
    for minute in range(1, 4):
        cpu = time.process_time()
        result, wall = timed(
            lambda m=minute: reverify_step(settings, now=at + timedelta(minutes=m), events=cap)
        )
        assert result is not None and not result.tampered
        runs.append((wall, time.process_time() - cpu))
    return {
        "rolling_slice_sized_events": sized.rehashed[1] - sized.rehashed[0] + 1,
        "rolling_slice_events": cap,
        "rolling_slice_s": round(sorted(w for w, _ in runs)[1], 3),
        "rolling_slice_cpu_s": round(sorted(c for _, c in runs)[1], 3),
    }


def measure_subject_access(settings: Settings, ledger: CaseLedger) -> dict[str, Any]:
    """A subject-access request for a subject on several of the fleet's watchlists
    (`seed_subject(0, 7)`, over the year), through the index as `lfr serve` answers it: the
    first, then the median of five more. Also what `--remeasure-kept` runs again."""
    from lfr_ledger.api.bootstrap import build_subject_index
    from lfr_ledger.oversight.subject_access import subject_access

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
    return {
        "subject_access_s": round(sorted(runs)[len(runs) // 2], 4),
        "subject_access_first_s": round(first_s, 4),
        "subject_entries_found": len(found.entries),
    }


def measure_oversight(fleet: Fleet) -> dict[str, Any]:
    """A subject-access request for a subject on several of the fleet's watchlists, then a
    retention run with one day of the fleet's watchlists due (the same fifty at every factor),
    both through their indexes as `lfr serve` runs them."""
    from lfr_ledger.api.bootstrap import build_retention

    settings, ledger = fleet.settings, fleet.ledger
    subject_access = measure_subject_access(settings, ledger)
    as_of = YEAR_START + timedelta(hours=HOURS + ledger.policy.watchlist_hours_after_end, minutes=1)
    fleet.clock.now = as_of
    report, retention_s = timed(lambda: build_retention(ledger, settings).run(as_of))
    return {
        **subject_access,
        "retention_day_s": round(retention_s, 3),
        "watchlists_destroyed": len(report.watchlists_destroyed),
    }


def run_factor(
    factor: float,
    fleet_seconds: float,
    done: list[dict[str, Any]],
    workers: int = 2,
    keep: bool = False,
) -> dict[str, Any]:
    """One factor's figures; `done`: the factors measured before it, kept with it. With
    `keep`, the year's schema and data folder stay, named in `KEPT` under its factor, for a
    later measurement against the same year without generating it again."""
    schema = f"bench_fleet_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    settings = Settings(
        data_dir=Path(tempfile.mkdtemp(prefix="lfr-fleet-")),
        database_url=PG_URL,
        postgres_schema=schema,
    )
    try:
        load_before = os.getloadavg()
        # The load (the year written, then the views rebuilt from it) with the checkpoints
        # spaced out; every job after it measured with the server's own settings.
        with spaced_checkpoints(PG_URL) as spaced:
            fleet, generate_s = generate(settings, factor, workers)
            applied, catch_up_s = timed(lambda: rebuild(settings))
        analyse_schema(PG_URL, schema)  # what autovacuum does after such a load, in service
        events = int(fleet.ledger.recorder.max_notification_id() or 0)
        result = {
            "factor": factor,
            "van_days": fleet.van_days,
            "events": events,
            "generate_s": round(generate_s, 1),
            "generate_events_per_s": round(events / generate_s),
            "generate_workers": workers,
            "load_settings": {"server": spaced, "load_sessions": LOAD_OPTIONS},
            "load_average_before_after_generation": [
                round(load_before[0], 2),
                round(os.getloadavg()[0], 2),
            ],
            **measure_views(fleet, events, applied, catch_up_s),
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
        if keep:
            keep_year(factor, schema, settings.data_dir)
        else:
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--factors", default="0.1,1.0")
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 2,
        help="processes generating the year side by side (default: one per core)",
    )
    parser.add_argument(
        "--fleet-seconds",
        type=float,
        default=60.0,
        help="how long the fleet load runs on two API nodes at each factor (0: skip)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help=f"keep each factor's year (its schema and data folder, named in {KEPT})",
    )
    parser.add_argument(
        "--remeasure-kept",
        action="store_true",
        help=f"only measure node start (each kept year) and subject access (the largest) again "
        f"on the years named in {KEPT}, into the committed results (bench/national_kept.py)",
    )
    args = parser.parse_args(argv)
    if args.remeasure_kept:
        from bench.national_kept import remeasure_kept

        print(remeasure_kept().read_text())
        return
    factors = [float(f) for f in args.factors.split(",")]
    runs: list[dict[str, Any]] = []
    for factor in factors:
        runs.append(run_factor(factor, args.fleet_seconds, runs, args.workers, args.keep))
        path = write_result("national", summary(runs))  # each factor kept as it is done
    print(path.read_text())


# The periodic jobs: each at the larger factor ≤ 1.5 × at the smaller.
PERIODIC = (
    "verify_since_checkpoint_s",
    "checkpoint_s",
    "rolling_slice_s",
    "retention_day_s",
    "publication_day_s",
    "end_deployment_ms",
    "node_start_s",
)
RATIO_GOAL = 1.5
SUBJECT_ACCESS_GOAL_S = 1.0
SUMMARY_GOAL_MS = 100.0
COMMAND_P99_GOAL_MS = 250.0


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    small, large = runs[0], runs[-1]
    ratios = {}
    for key in (
        *PERIODIC,
        "subject_access_s",
        "deployment_summary_ms",
        "publication_export_s",
        "catch_up_us_per_event",
        "bytes_per_event",
        "van_day_s",
        "generate_events_per_s",
    ):
        if len(runs) > 1 and small.get(key) and large.get(key):
            ratios[key] = round(large[key] / small[key], 2)
    goals: dict[str, bool] = {key: ratios[key] <= RATIO_GOAL for key in PERIODIC if key in ratios}
    goals["subject_access_s"] = large["subject_access_s"] <= SUBJECT_ACCESS_GOAL_S
    goals["deployment_summary_ms"] = large["deployment_summary_ms"] <= SUMMARY_GOAL_MS
    if "fleet_load" in large:
        goals["fleet_command_p99_ms"] = (
            large["fleet_load"]["commands_ms"]["p99"] <= COMMAND_P99_GOAL_MS
        )
    return {
        "what": "a simulated fleet year on PostgreSQL at two scale factors (1.0 ≈ 13 M events)",
        "runs": runs,
        "large_over_small": ratios,
        "goal": (
            f"each periodic job ({', '.join(PERIODIC)}) ≤ {RATIO_GOAL} × at the larger factor; "
            f"subject access ≤ {SUBJECT_ACCESS_GOAL_S} s, summary ≤ {SUMMARY_GOAL_MS} ms, "
            f"two-node command p99 ≤ {COMMAND_P99_GOAL_MS} ms under the fleet load"
        ),
        "goals_met": goals,
        "all_goals_met": all(goals.values()),
        "load_average_1_5_15m": [round(x, 2) for x in os.getloadavg()],
    }


if __name__ == "__main__":
    main()

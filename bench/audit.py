"""Verification since the latest signed checkpoint against verification from the first event.

For each backend, logs of two sizes an order of magnitude apart are built through the chained
recorder (links computed as in production, events written in batches so that building is
quick), a checkpoint is signed over each, and the same number of new events is recorded after
it. Then timed: the incremental verify (`lfr audit verify`'s default), the full verify
(`--full`) and signing the next checkpoint, which extends the previous one. The incremental
times should not grow with the log: the goal is larger / smaller <= 1.5.

Then the rolling re-verification (`eventlog/rolling.py`, `audit_rolling.json`): on logs of
`--rolling-sizes` events, an hour of `lfr serve`'s runs (60 slices, sized as the server sizes
them for a 24 h period, a minute apart on the pass's clock) is timed back to back, and one
slice at the bound (`LFR_REVERIFY_MAX_EVENTS_PER_MINUTE`). Core-seconds: this process's CPU
time; on PostgreSQL the server hashes the states, so wall time (the job is sequential: client
and server take turns) bounds the cores both spend.

    python bench/audit.py [--sizes 50000 500000] [--new 10000] [--backends sqlite postgres]
                          [--rolling-sizes 130000 1300000] [--skip-checkpoints] [--skip-rolling]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from eventsourcing.application import Application

from bench.common import PG_URL, record_filler, write_result
from lfr_ledger.api.reverify import reverify_step
from lfr_ledger.config.settings import Settings
from lfr_ledger.eventlog.checkpoint import (
    make_checkpoint,
    save_checkpoint,
    verify_checkpoint,
)


class AuditBench(Application):
    """Any Application sits on the chained recorder; the case ledger's aggregates are not
    needed to measure the chain."""


def _record(app: Application, n: int) -> None:
    record_filler(app.recorder, n, "bench.audit:Recorded")


def _seconds(work: Callable[[], Any], repeat: int) -> float:
    """Median wall time of `repeat` runs (the host is shared: one slow run is noise)."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return round(statistics.median(times), 3)


def _settings(backend: str, root: Path, schemas: list[str]) -> Settings:
    name = f"bench_audit_{uuid.uuid4().hex[:10]}"
    if backend == "sqlite":
        return Settings(data_dir=root / name)
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    schemas.append(name)
    return Settings(data_dir=root / name, database_url=PG_URL, postgres_schema=name)


def one_size(backend: str, root: Path, size: int, new: int, schemas: list[str]) -> dict[str, Any]:
    settings = _settings(backend, root, schemas)
    app = AuditBench(env=settings.eventsourcing_env())
    try:
        started = time.perf_counter()
        _record(app, size)
        build_s = time.perf_counter() - started
        started = time.perf_counter()
        first = make_checkpoint(settings)  # no predecessor: the whole log is verified
        first_checkpoint_s = time.perf_counter() - started
        save_checkpoint(settings, first)
        _record(app, new)
    finally:
        app.close()

    def since() -> None:
        report = verify_checkpoint(settings, first, full=False)
        assert report.ok and report.chain is not None and report.chain.events_checked == new

    def full() -> None:
        report = verify_checkpoint(settings, first, full=True)
        assert report.ok and report.chain is not None
        assert report.chain.events_checked == size + new

    def next_checkpoint() -> None:
        checkpoint = make_checkpoint(settings)
        assert checkpoint["events"] == size + new and checkpoint["previous"] is not None

    result = {
        "events_before_checkpoint": size,
        "events_after_checkpoint": new,
        "build_s": round(build_s, 1),
        "first_checkpoint_full_s": round(first_checkpoint_s, 3),
        "verify_since_checkpoint_s": _seconds(since, 3),
        "next_checkpoint_s": _seconds(next_checkpoint, 3),
        "verify_full_s": _seconds(full, 1),
    }
    print(backend, result, flush=True)
    return result


def run(backend: str, root: Path, sizes: list[int], new: int, schemas: list[str]) -> dict[str, Any]:
    by_size = [one_size(backend, root, size, new, schemas) for size in sizes]
    small, large = by_size[0], by_size[-1]

    def ratio(key: str) -> float:
        return round(large[key] / small[key], 2)

    return {
        "sizes": by_size,
        "large_over_small": {
            "verify_since_checkpoint": ratio("verify_since_checkpoint_s"),
            "next_checkpoint": ratio("next_checkpoint_s"),
            "verify_full": ratio("verify_full_s"),
        },
    }


def _timed(work: Callable[[], Any]) -> tuple[float, float]:
    """(wall, CPU) seconds of `work` in this process."""
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


def rolling_size(backend: str, root: Path, size: int, schemas: list[str]) -> dict[str, Any]:
    settings = _settings(backend, root, schemas)
    app = AuditBench(env=settings.eventsourcing_env())
    try:
        _record(app, size)
    finally:
        app.close()
    start = datetime(2025, 6, 2, tzinfo=UTC)
    # The first run after a start prepares the read-model store (migrations): not a minute's
    # cost, so run before the clock starts.
    warm = reverify_step(settings, now=start)
    assert warm is not None and warm.rehashed is not None
    slices: list[int] = []

    def an_hour() -> None:
        for minute in range(1, 61):
            result = reverify_step(settings, now=start + timedelta(minutes=minute))
            assert result is not None and result.rehashed is not None
            slices.append(result.rehashed[1] - result.rehashed[0] + 1)

    hour_wall, hour_cpu = _timed(an_hour)
    cap = settings.reverify_max_events_per_minute
    caps = []
    for minute in range(61, 64):
        caps.append(
            _timed(
                lambda m=minute: reverify_step(
                    settings, now=start + timedelta(minutes=m), events=cap
                )
            )
        )
    cap_wall = statistics.median(w for w, _ in caps)
    cap_cpu = statistics.median(c for _, c in caps)
    events_per_hour = sum(slices)
    result = {
        "events": size,
        "slice_events_median": statistics.median(slices),
        "events_rehashed_per_hour": events_per_hour,
        "hour_of_slices_wall_s": round(hour_wall, 2),
        "hour_of_slices_cpu_s": round(hour_cpu, 2),
        "core_seconds_per_hour": round(hour_cpu if backend == "sqlite" else hour_wall, 2),
        "slice_at_the_bound_events": cap,
        "slice_at_the_bound_wall_s": round(cap_wall, 3),
        "slice_at_the_bound_cpu_s": round(cap_cpu, 3),
        "whole_log_in_hours_at_this_pace": round(size / events_per_hour, 1),
    }
    print(backend, "rolling", result, flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs=2, default=[50_000, 500_000])
    parser.add_argument("--new", type=int, default=10_000)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgres"])
    parser.add_argument("--rolling-sizes", type=int, nargs="+", default=[130_000, 1_300_000])
    parser.add_argument("--skip-checkpoints", action="store_true")
    parser.add_argument("--skip-rolling", action="store_true")
    args = parser.parse_args()
    result: dict[str, Any] = {
        "note": "seconds, median of 3 (full verify: 1 run); events recorded after the "
        "checkpoint are the same at both sizes; goal: large_over_small <= 1.5 for the "
        "verify since the checkpoint and the next checkpoint",
        "new_events": args.new,
    }
    rolling: dict[str, Any] = {
        "note": "the rolling re-verification: an hour of lfr serve's runs (60 slices sized for "
        "a 24 h period) timed back to back; core_seconds_per_hour is this process's CPU on "
        "SQLite, and on PostgreSQL the wall time (client and server take turns, so it bounds "
        "the cores both spend); the slice at the bound is the most a minute may cost",
        "period_hours": 24,
    }
    schemas: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            for backend in args.backends if not args.skip_checkpoints else ():
                result[backend] = run(backend, Path(tmp), args.sizes, args.new, schemas)
            for backend in args.backends if not args.skip_rolling else ():
                rolling[backend] = [
                    rolling_size(backend, Path(tmp), size, schemas) for size in args.rolling_sizes
                ]
        finally:
            if schemas:
                with psycopg.connect(PG_URL, autocommit=True) as conn:
                    for schema in schemas:
                        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    if not args.skip_checkpoints:
        print(write_result("audit", result))
    if not args.skip_rolling:
        print(write_result("audit_rolling", rolling))


if __name__ == "__main__":
    main()

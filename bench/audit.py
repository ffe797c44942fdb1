"""Verification since the latest signed checkpoint against verification from the first event.

For each backend, logs of two sizes an order of magnitude apart are built through the chained
recorder (links computed as in production, events written in batches so that building is
quick), a checkpoint is signed over each, and the same number of new events is recorded after
it. Then timed: the incremental verify (`lfr audit verify`'s default), the full verify
(`--full`) and signing the next checkpoint, which extends the previous one. The incremental
times should not grow with the log: the goal is larger / smaller <= 1.5.

    python bench/audit.py [--sizes 50000 500000] [--new 10000] [--backends sqlite postgres]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from eventsourcing.application import Application
from eventsourcing.persistence import StoredEvent

from bench.common import PG_URL, write_result
from lfr_ledger.config.settings import Settings
from lfr_ledger.eventlog.checkpoint import (
    make_checkpoint,
    save_checkpoint,
    verify_checkpoint,
)

BATCH = 5_000
STATE_BYTES = 160  # about an encoded domain event's size


class AuditBench(Application):
    """Any Application sits on the chained recorder; the case ledger's aggregates are not
    needed to measure the chain."""


def _record(app: Application, n: int) -> None:
    """`n` single-event records, `BATCH` to a transaction, through the chained recorder."""
    for start in range(0, n, BATCH):
        app.recorder.insert_events(
            [
                StoredEvent(
                    originator_id=uuid.uuid4(),
                    originator_version=1,
                    topic="bench.audit:Recorded",
                    state=os.urandom(STATE_BYTES),
                )
                for _ in range(min(BATCH, n - start))
            ]
        )


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs=2, default=[50_000, 500_000])
    parser.add_argument("--new", type=int, default=10_000)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgres"])
    args = parser.parse_args()
    result: dict[str, Any] = {
        "note": "seconds, median of 3 (full verify: 1 run); events recorded after the "
        "checkpoint are the same at both sizes; goal: large_over_small <= 1.5 for the "
        "verify since the checkpoint and the next checkpoint",
        "new_events": args.new,
    }
    schemas: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            for backend in args.backends:
                result[backend] = run(backend, Path(tmp), args.sizes, args.new, schemas)
        finally:
            if schemas:
                with psycopg.connect(PG_URL, autocommit=True) as conn:
                    for schema in schemas:
                        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    print(write_result("audit", result))


if __name__ == "__main__":
    main()

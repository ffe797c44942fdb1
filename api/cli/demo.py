"""`lfr demo`: records the seed operation on the embedded SQLite store and shows the result."""

from __future__ import annotations

import argparse
import shutil
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from api.settings import Settings

if TYPE_CHECKING:
    from eventsourcing.persistence import Notification

    from domain.application import CaseLedger


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    parser = subparsers.add_parser(
        "demo", help="record the seed operation (4 deployments, 13 alerts) and verify the log"
    )
    parser.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="data directory for the demo (default: $LFR_DATA_DIR/demo); it is recreated",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from api.bootstrap import build_ledger
    from api.demo.seed import DemoClock, record_seed_operation
    from audit.chain import verify_ledger

    base = Settings.from_env()
    data_dir: Path = args.dir or base.data_dir / "demo"
    if data_dir.exists():
        shutil.rmtree(data_dir)
    # The demo always runs on the embedded default, whatever LFR_DATABASE_URL says.
    settings = Settings(data_dir=data_dir, model_dir=base.model_dir)
    clock = DemoClock()
    ledger = build_ledger(settings, clock=clock)
    started = time.perf_counter()
    seed = record_seed_operation(ledger, clock.set)
    elapsed = time.perf_counter() - started

    print(f"lfr-ledger demo: data directory {data_dir}")
    print(
        f"Recorded the seed operation {seed.operation_id}: {len(seed.deployment_ids)} deployments, "
        f"{len(seed.alert_ids)} alerts, in {elapsed:.2f} s"
    )
    from api.demo.live import run_live_demo
    from matching.engine import load_engine
    from matching.models import ModelPackError

    try:
        engine = load_engine("insightface", "sface", settings.model_dir)
    except ModelPackError as error:
        print(f"\nLive matching demo skipped: {error} (run `lfr models fetch`)")
    else:
        run_live_demo(ledger, clock, settings, engine)

    counts = Counter(n.topic for n in _all_notifications(ledger))
    print(f"\nEvents by type ({sum(counts.values())} in all):")
    for topic, count in sorted(counts.items()):
        print(f"  {count:6d}  {topic}")
    report = verify_ledger(settings)
    print(f"\naudit verify: {report.summary()}")
    ledger.close()
    return 0 if report.ok else 1


def _all_notifications(ledger: CaseLedger) -> list[Notification]:
    out: list[Notification] = []
    start = 0
    while True:
        batch = ledger.recorder.select_notifications(start, 1000, inclusive_of_start=False)
        if not batch:
            return out
        out.extend(batch)
        start = batch[-1].id

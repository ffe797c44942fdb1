"""The cost of checking one event on read: its link, and its inclusion in the latest checkpoint's
Merkle tree (RFC 9162 proof from one block of 1,024 links and a path over block roots), or, for
an event after the checkpoint, its chain to the head.

For each backend and log size, a log is built through the chained recorder, a checkpoint signed
over it (the first one builds the tree from every link and keeps its block roots), then `--new`
events recorded and the next checkpoint signed (extending the tree's frontier). Then timed
through the same `InclusionChecker` the reads use: the first check against the checkpoint (it
also reads the block roots), then single events picked at random under the checkpoint (median
and 95th percentile of `--samples`), and an event after it. The single-event check should not
grow with the log beyond the logarithm of its size.

    python bench/inclusion.py [--sizes 130000 1300000] [--new 10000] [--backends sqlite postgres]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg

from bench.audit import AuditBench, _record, _settings
from bench.common import PG_URL, write_result
from lfr_ledger.eventlog.chain.wiring import open_chain_reader
from lfr_ledger.eventlog.checkpoint import make_checkpoint, save_checkpoint
from lfr_ledger.eventlog.inclusion import InclusionChecker, kept_checkpoints_source
from lfr_ledger.eventlog.tree import links_after


def _ms(work: Callable[[], Any]) -> float:
    started = time.perf_counter()
    work()
    return (time.perf_counter() - started) * 1000


def one_size(
    backend: str, root: Path, size: int, new: int, samples: int, schemas: list[str]
) -> dict[str, Any]:
    settings = _settings(backend, root, schemas)
    app = AuditBench(env=settings.eventsourcing_env())
    try:
        _record(app, size)
        started = time.perf_counter()
        first = make_checkpoint(settings)
        first_s = time.perf_counter() - started
        save_checkpoint(settings, first)
        _record(app, new)
        started = time.perf_counter()
        second = make_checkpoint(settings)
        next_s = time.perf_counter() - started
        save_checkpoint(settings, second)
        _record(app, 100)  # a few events after the latest checkpoint
    finally:
        app.close()
    table = second["events_table"]
    with open_chain_reader(settings, table) as reader:
        ids = [link.id for link in links_after(reader, -(2**63), 2**62)]
        checker = InclusionChecker(reader, kept_checkpoints_source(settings))
        under = [i for i in ids if i <= second["last_id"]]
        rng = random.Random(23)
        first_check = _ms(lambda: checker.check([rng.choice(under)]))
        times = [_ms(lambda: checker.check([rng.choice(under)])) for _ in range(samples)]
        after = ids[-1]
        after_first = _ms(lambda: checker.check([after]))
        after_again = statistics.median(_ms(lambda: checker.check([after])) for _ in range(20))
        # One block's worth of a history read: 200 events of one stretch, checked together.
        stretch = under[len(under) // 2 : len(under) // 2 + 200]
        stretch_ms = _ms(lambda: checker.check(stretch))
    result = {
        "events": len(ids),
        "tree_size": second["tree_size"],
        "first_checkpoint_with_tree_s": round(first_s, 2),
        "next_checkpoint_s": round(next_s, 3),
        "first_check_after_checkpoint_ms": round(first_check, 2),
        "single_event_in_checkpoint_ms_median": round(statistics.median(times), 2),
        "single_event_in_checkpoint_ms_p95": round(statistics.quantiles(times, n=20)[-1], 2),
        "event_after_checkpoint_first_ms": round(after_first, 2),
        "event_after_checkpoint_again_ms": round(after_again, 2),
        "history_of_200_events_ms": round(stretch_ms, 1),
    }
    print(backend, result, flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[130_000, 1_300_000])
    parser.add_argument("--new", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgres"])
    args = parser.parse_args()
    result: dict[str, Any] = {
        "note": "milliseconds for one read's check through InclusionChecker (the reads' own); "
        "the first check after a checkpoint also reads its block roots; events after the "
        "checkpoint are chained to the head once, then from where the last check stopped",
        "new_events": args.new,
    }
    schemas: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            for backend in args.backends:
                result[backend] = [
                    one_size(backend, Path(tmp), size, args.new, args.samples, schemas)
                    for size in args.sizes
                ]
        finally:
            if schemas:
                with psycopg.connect(PG_URL, autocommit=True) as conn:
                    for schema in schemas:
                        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    print(write_result("audit_inclusion", result))


if __name__ == "__main__":
    main()

"""Backup and restore times (the RTO's parts) for logs of N events, on SQLite and PostgreSQL.

Each size: a ledger with a real deployment and watchlist (so the vault holds keys and the
restore has tombstones to re-apply: its watchlist destroyed after the backup), then N events
through the chained recorder; `lfr backup`'s work timed; then `lfr restore`'s (copy or
pg_restore, the tombstones re-applied, the chain re-hashed from the first event, the
checkpoints and the vault checked). PostgreSQL here is the logical copy (pg_dump); the
physical procedure (base backup + WAL archive) is drilled in tests/test_restore_pitr.py.

    python bench/backup.py [--sizes 10000 100000] [--backends sqlite postgres]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from eventsourcing.application import Application

from bench.common import PG_URL, record_filler, write_result
from lfr_ledger.api.backup.restore import restore
from lfr_ledger.api.backup.take import take_backup
from lfr_ledger.api.bootstrap import build_ledger
from lfr_ledger.api.demo.sample_deployment import OPERATOR, reviewed
from lfr_ledger.config.settings import Settings
from lfr_ledger.eventlog.checkpoint import make_checkpoint, save_checkpoint


class Filler(Application):
    """More events in the case ledger's own table (the vault check skips their topic)."""

    name = "lfr"


def _fill(settings: Settings, n: int) -> None:
    app = Filler(env=settings.eventsourcing_env())
    try:
        record_filler(app.recorder, n, "bench.backup:Recorded")
    finally:
        app.close()


def _settings(backend: str, root: Path, schemas: list[str]) -> Settings:
    name = f"bench_backup_{uuid.uuid4().hex[:10]}"
    if backend == "sqlite":
        return Settings(data_dir=root / name)
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    schemas.append(name)
    return Settings(data_dir=root / name, database_url=PG_URL, postgres_schema=name)


def one_size(backend: str, root: Path, size: int, schemas: list[str]) -> dict[str, Any]:
    settings = _settings(backend, root, schemas)
    at = [datetime(2025, 6, 2, 8, 0, tzinfo=UTC)]
    ledger = build_ledger(settings, clock=lambda: at[0])
    try:
        deployment, entries = reviewed(ledger, 20)
    finally:
        ledger.close()
    _fill(settings, size)
    save_checkpoint(settings, make_checkpoint(settings))
    out = root / f"{settings.data_dir.name}.backup"
    started = time.perf_counter()
    manifest = take_backup(settings, out)
    backup_s = time.perf_counter() - started
    ledger = build_ledger(settings, clock=lambda: at[0])
    try:  # after the backup: the watchlist destroyed (20 tombstones to re-apply)
        ledger.end_deployment(OPERATOR, deployment)
        at[0] = datetime(2025, 6, 3, 12, 0, tzinfo=UTC)
        ledger.destroy_watchlist(deployment, rule="retention.watchlist_hours_after_end")
    finally:
        ledger.close()
    target = settings
    if backend == "sqlite":  # into a new folder, the KEK and journal where they were
        target = Settings(
            data_dir=root / f"{settings.data_dir.name}.restored",
            tombstone_journal=settings.tombstones_path,
            kek=_kek_of(settings),
        )
    started = time.perf_counter()
    report = restore(target, out, force=True)
    restore_s = time.perf_counter() - started
    assert report.ok and len(report.reapplied) >= len(entries), report.lines()
    size_mb = sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 1e6
    result = {
        "events": manifest["last_id"],
        "backup_s": round(backup_s, 2),
        "backup_mb": round(size_mb, 1),
        "restore_s": round(restore_s, 2),
        "tombstones_reapplied": len(report.reapplied),
    }
    print(backend, result, flush=True)
    return result


def _kek_of(settings: Settings) -> Any:
    from lfr_ledger.config.kek_spec import parse_kek_spec

    return parse_kek_spec(f"file:{settings.default_kek_path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgres"])
    args = parser.parse_args()
    schemas: list[str] = []
    root = Path(tempfile.mkdtemp(prefix="lfr-bench-backup-"))
    results: dict[str, Any] = {}
    try:
        for backend in args.backends:
            results[backend] = [one_size(backend, root, n, schemas) for n in args.sizes]
    finally:
        shutil.rmtree(root, ignore_errors=True)
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            for schema in schemas:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    print(write_result("backup", results))


if __name__ == "__main__":
    main()

"""`lfr backup --out DIR`: a consistent online copy of the ledger, with a manifest.

SQLite: each database through SQLite's online backup API (`sqlite3.Connection.backup`), which
copies a consistent snapshot while `lfr serve` writes (a `cp` of a live file may be torn). The
event log is copied before the vault, so a key destroyed between the two copies is one the
tombstone journal names (the restore re-applies it), and a key created between them is only an
extra key; the reverse order could leave an enrolled entry with no key and nothing to say why.
PostgreSQL: `pg_dump --format=custom` (one consistent snapshot of the schema, vault included).
Both: the keys folder (token secret, checkpoint key) and the checkpoints this node kept. The
read models' own files (`index/`, a matcher's journals) are rebuilt from the log, so not copied.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.clock import utcnow
from lfr_ledger.eventlog.tombstones import TombstoneJournal
from lfr_ledger.oversight.bundles.format import sha256_file

MANIFEST = "manifest.json"
DUMP = "database.dump"
FORMAT = 1
# Copied first, in this order (see the module's docstring); any other *.sqlite after them.
FIRST = ("events.sqlite", "keys.sqlite")
FOLDERS = ("keys", "checkpoints")
# SQLite's side files, gone once the last connection closes: never part of a backup.
TRANSIENT = ("-wal", "-shm", "-journal")


class BackupError(Exception):
    pass


def take_backup(settings: Settings, out: Path) -> dict[str, Any]:
    """Writes the backup into `out` (new or empty) and returns its manifest."""
    if out.exists() and any(out.iterdir()):
        raise BackupError(f"{out} is not empty: a backup goes into a new folder")
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    started, clock = utcnow(), time.monotonic()
    if settings.uses_postgres:
        head = _verified_head(settings)  # the dump's snapshot holds at least this much
        _dump_postgres(settings, out / DUMP)
    else:
        _copy_sqlite(settings, out)
        head = _verified_head(Settings(data_dir=out))  # the copy itself, re-hashed
    for name in FOLDERS:
        if (settings.data_dir / name).is_dir():
            shutil.copytree(settings.data_dir / name, out / name)
    files = sorted(
        p
        for p in out.rglob("*")
        if p.is_file() and p.name != MANIFEST and not p.name.endswith(TRANSIENT)
    )
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "backend": "postgresql" if settings.uses_postgres else "sqlite",
        "schema": settings.postgres_schema,
        "started_at": started.isoformat(),
        "finished_at": utcnow().isoformat(),
        "seconds": round(time.monotonic() - clock, 3),
        "last_id": head[0],
        "head": head[1],
        "release": _release(),
        # The journal this node appends to, and how many it held: a restore that finds fewer
        # there is reading another journal (it is append-only) and refuses.
        "tombstone_journal": str(settings.tombstones_path),
        "tombstones_at_backup": len(TombstoneJournal(settings.tombstones_path).read()),
        "files": {str(p.relative_to(out)): sha256_file(p) for p in files},
    }
    path = out / MANIFEST
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    os.chmod(path, 0o600)
    return manifest


def _copy_sqlite(settings: Settings, out: Path) -> None:
    found = {p.name for p in settings.data_dir.glob("*.sqlite")}
    if "events.sqlite" not in found:
        raise BackupError(f"no ledger in {settings.data_dir}: events.sqlite is missing")
    for name in [*(n for n in FIRST if n in found), *sorted(found - set(FIRST))]:
        source = sqlite3.connect(f"file:{settings.data_dir / name}?mode=ro", uri=True)
        target = sqlite3.connect(out / name)
        try:
            # All pages in one step: a writer between steps would restart the copy.
            source.backup(target, pages=-1)
        finally:
            target.close()
            source.close()
        os.chmod(out / name, 0o600)


def pg_environment(settings: Settings) -> dict[str, str]:
    """libpq's variables for PostgreSQL's own tools (the password never on a command line)."""
    pg = settings.postgres_params()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(PGHOST=pg["host"], PGPORT=pg["port"], PGUSER=pg["user"], PGDATABASE=pg["dbname"])
    if pg["password"]:
        env["PGPASSWORD"] = pg["password"]
    return env


def _dump_postgres(settings: Settings, path: Path) -> None:
    tool = shutil.which("pg_dump")
    if tool is None:
        raise BackupError("pg_dump is not installed (Debian: apt-get install postgresql-client)")
    args = [tool, "--format=custom", "--no-owner", f"--file={path}"]
    if settings.postgres_schema:
        args.append(f"--schema={settings.postgres_schema}")
    done = subprocess.run(args, env=pg_environment(settings), capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
    os.chmod(path, 0o600)


def _verified_head(settings: Settings) -> tuple[int, str]:
    """The last id and chain head of the log `settings` names, re-hashed from the first event;
    a log that does not verify is not backed up as if it did."""
    from lfr_ledger.eventlog.chain.wiring import verify_ledger

    report = verify_ledger(settings)
    if not report.ok:
        raise BackupError(f"the log does not verify: {report.summary()}")
    return report.last_id, report.head


def _release() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("lfr-ledger")
    except PackageNotFoundError:
        return "unknown"

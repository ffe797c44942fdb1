"""Applies the numbered SQL files in `migrations/<backend>/` and records each in
`schema_migrations`, so every database knows which read-model schema it holds."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from lfr_ledger.domain.clock import utcnow
from lfr_ledger.projections.db import Database

_FILE = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")
# Any constant will do: it only has to be the same in every process that migrates.
_PG_MIGRATION_LOCK = 0x1F5_1ED6E5

_CREATE_VERSION_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
)


class SchemaTooNew(ValueError):
    """The database holds a read-model schema a newer release wrote: this one must not run on
    it (its views would write rows the newer schema reads differently)."""

    one_line = True


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def _migrations_dir(backend: str) -> Path:
    return Path(str(resources.files("lfr_ledger.migrations").joinpath(backend)))


def available(backend: str) -> list[Migration]:
    found: list[Migration] = []
    for path in sorted(_migrations_dir(backend).iterdir()):
        match = _FILE.match(path.name)
        if match:
            found.append(Migration(int(match[1]), match[2], path.read_text(encoding="utf-8")))
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"{backend} migrations must be numbered 001, 002, … without gaps")
    return found


def latest_version(backend: str) -> int:
    return len(available(backend))


def too_new(held: int | None, backend: str) -> str | None:
    """Why a node of this release must not run on a database holding schema version `held`
    (None: it may). An older node would miss the newer tables' rows, or write what the newer
    schema reads differently; a newer node migrates forward instead."""
    known = latest_version(backend)
    if held is not None and held > known:
        return (
            f"this database's read-model schema is version {held}, this release knows up to "
            f"{known}: upgrade this node before starting it"
        )
    return None


def _lock(db: Database) -> None:
    if db.backend == "postgres":
        db.execute("SELECT pg_advisory_xact_lock(?)", (_PG_MIGRATION_LOCK,))
    db.execute(_CREATE_VERSION_TABLE)


def current_version(db: Database) -> int:
    with db.transaction():
        _lock(db)
        rows = db.execute("SELECT MAX(version) FROM schema_migrations")
    return int(rows[0][0] or 0)


def migrate(db: Database, target: int | None = None) -> list[int]:
    """Brings the read-model schema up to `target` (default: the latest); returns the versions
    applied. Each migration and its record commit together; concurrent callers take turns."""
    applied: list[int] = []
    refused = too_new(current_version(db), db.backend)
    if refused:
        raise SchemaTooNew(refused)
    for migration in available(db.backend):
        if target is not None and migration.version > target:
            break
        with db.transaction():
            _lock(db)
            done = db.execute(
                "SELECT 1 FROM schema_migrations WHERE version = ?", (migration.version,)
            )
            if done:
                continue
            db.script(migration.sql)
            db.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (migration.version, migration.name, utcnow().isoformat()),
            )
        applied.append(migration.version)
    return applied

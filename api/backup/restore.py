"""`lfr restore`: a backup put back, every erasure since it re-applied, then the copy verified.

The order is the point: the files (or the dump) go back; every key the tombstone journal names
that the restored vault still holds is destroyed again, before the node serves; then the chain
is re-hashed from the first event, each kept checkpoint at or under the restored head must be
passed through, and the ones above it are reported as lost (the events they name were recorded
after the backup: the RPO, in evidence). A key missing from the restored vault that a tombstone
names is an erasure made after the backup (its event was lost with the rest), not tampering.

`in_place` is for a PostgreSQL restored by its own tools (base backup + WAL replay): nothing to
copy, the same re-application and verification.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from lfr_ledger.api.backup.take import (
    DUMP,
    FOLDERS,
    MANIFEST,
    TRANSIENT,
    BackupError,
    pg_environment,
)
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.clock import utcnow
from lfr_ledger.eventlog.tombstones import TombstoneJournal
from lfr_ledger.oversight.bundles.format import sha256_file


@dataclass
class RestoreReport:
    manifest: dict[str, Any] | None
    reapplied: list[str] = field(default_factory=list)  # key ids destroyed again
    newer_than_backup: int = 0  # tombstones written after the backup began
    tombstones: int = 0
    journal: str = ""
    chain: dict[str, Any] = field(default_factory=dict)
    checkpoints_verified: list[str] = field(default_factory=list)
    checkpoints_failed: list[str] = field(default_factory=list)
    checkpoints_lost: list[dict[str, Any]] = field(default_factory=list)
    erased_after_backup: list[str] = field(default_factory=list)  # explained missing keys
    vault_findings: list[str] = field(default_factory=list)  # unexplained
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return (
            bool(self.chain.get("ok")) and not self.checkpoints_failed and not self.vault_findings
        )

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}

    def lines(self) -> list[str]:
        head = f"last id {self.chain.get('last_id')}, head {self.chain.get('head')}"
        out = [
            f"restored: {head} ({self.seconds:.1f} s)",
            f"tombstones: {self.tombstones} in {self.journal}, {self.newer_than_backup} newer than "
            f"the backup; {len(self.reapplied)} key(s) destroyed again",
            f"chain: {self.chain.get('summary')}",
            f"checkpoints: {len(self.checkpoints_verified)} passed through, "
            f"{len(self.checkpoints_failed)} failed",
        ]
        out += [f"checkpoint failed: {name}" for name in self.checkpoints_failed]
        out += [
            f"lost: {c['name']} signed id {c['last_id']}; events {self.chain.get('last_id', 0) + 1}"
            f"..{c['last_id']} were recorded after the backup and are not in this copy"
            for c in self.checkpoints_lost
        ]
        if self.erased_after_backup:
            out.append(
                f"vault: {len(self.erased_after_backup)} key(s) erased after the backup "
                "(tombstoned; their erasure events were recorded after it)"
            )
        out += [f"vault: {finding}" for finding in self.vault_findings]
        out.append("OK" if self.ok else "NOT OK: do not serve from this copy")
        return out


def read_manifest(backup: Path) -> dict[str, Any]:
    """The backup's manifest, every file it lists present and unchanged."""
    try:
        manifest: dict[str, Any] = json.loads((backup / MANIFEST).read_text())
    except (OSError, ValueError) as e:
        raise BackupError(f"{backup} is not a backup: {e}") from None
    for name, digest in manifest.get("files", {}).items():
        path = backup / name
        if not path.is_file() or sha256_file(path) != digest:
            raise BackupError(f"{path} is missing or differs from the manifest: not restored")
    return manifest


def restore(
    settings: Settings,
    backup: Path | None,
    *,
    force: bool = False,
    extra_checkpoints: tuple[Path, ...] = (),
) -> RestoreReport:
    """Restores `backup` into the store `settings` names (None: the store is already restored,
    by PostgreSQL's PITR), re-applies the tombstones, verifies, and keeps the record."""
    clock = time.monotonic()
    manifest = None
    if backup is not None:
        manifest = read_manifest(backup)
        wanted = "postgresql" if settings.uses_postgres else "sqlite"
        if manifest.get("backend") != wanted:
            raise BackupError(f"a {manifest.get('backend')} backup cannot restore a {wanted} store")
        _refuse_another_journal(settings, manifest)
        _require_kek(settings)
        _refuse_occupied_folders(settings, force)
        if settings.uses_postgres:
            _restore_postgres(settings, backup, manifest, force)
        else:
            _restore_sqlite(settings, backup, manifest, force)
        _restore_folders(settings, backup, manifest, force)
    report = RestoreReport(manifest)
    _reapply_tombstones(settings, report)
    _verify(settings, report, extra_checkpoints)
    report.seconds = round(time.monotonic() - clock, 3)
    _keep_record(settings, report)
    return report


def _restore_sqlite(
    settings: Settings, backup: Path, manifest: dict[str, Any], force: bool
) -> None:
    target = settings.data_dir
    live = sorted(p.name for p in target.glob("*.sqlite")) if target.is_dir() else []
    if live and not force:
        raise BackupError(
            f"{target} already holds a store ({', '.join(live)}): stop its node, then restore "
            "into a new folder or give --force to replace it"
        )
    target.mkdir(parents=True, exist_ok=True, mode=0o700)
    for old in target.iterdir():
        if old.name.endswith((".sqlite", *(".sqlite" + t for t in TRANSIENT))):
            old.unlink()
    if (target / "index").is_dir():  # the watchlist index follows the log: rebuilt from it
        shutil.rmtree(target / "index")
    for name in manifest["files"]:
        if "/" not in name:
            shutil.copy2(backup / name, target / name)


def _require_kek(settings: Settings) -> None:
    """The KEK is kept apart from every backup (it wraps the vault's keys): without it the
    restored vault opens nothing, so nothing is copied until it can be loaded."""
    from lfr_ledger.eventlog.kek import load_kek

    kek = load_kek(settings)
    close = getattr(kek, "close", None)
    if close is not None:
        close()


def _refuse_another_journal(settings: Settings, manifest: dict[str, Any]) -> None:
    """The journal is append-only: one holding fewer tombstones than the node's held when the
    backup was taken is not that node's (a restore into a new folder that forgot to name it)."""
    held = len(TombstoneJournal(settings.tombstones_path).read())
    known = int(manifest.get("tombstones_at_backup", 0))
    if held < known:
        raise BackupError(
            f"the tombstone journal {settings.tombstones_path} holds {held} tombstone(s), but "
            f"the node's held {known} when the backup was taken: set LFR_TOMBSTONE_JOURNAL to "
            f"that node's journal ({manifest.get('tombstone_journal')})"
        )


def _refuse_occupied_folders(settings: Settings, force: bool) -> None:
    for folder in FOLDERS:
        here = settings.data_dir / folder
        if here.is_dir() and any(here.iterdir()) and not force:
            raise BackupError(
                f"{here} is not empty: restore into a new folder or give --force to replace it"
            )


def _restore_folders(
    settings: Settings, backup: Path, manifest: dict[str, Any], force: bool
) -> None:
    for folder in FOLDERS:
        if (settings.data_dir / folder).exists():
            shutil.rmtree(settings.data_dir / folder)
    for name in manifest["files"]:
        if "/" in name:
            (settings.data_dir / name).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            shutil.copy2(backup / name, settings.data_dir / name)


def _restore_postgres(
    settings: Settings, backup: Path, manifest: dict[str, Any], force: bool
) -> None:
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    schema = manifest.get("schema") or "public"
    if (settings.postgres_schema or "public") != schema:
        raise BackupError(f"the dump is of schema {schema!r}: restore it under that schema")
    with psycopg.connect(make_conninfo(**settings.postgres_params()), autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = %s", (schema,)
        ).fetchone()
        if row and row[0] and not force:
            raise BackupError(
                f"schema {schema!r} already holds {row[0]} table(s): stop every node, then "
                "restore into a new database or give --force to replace it"
            )
        if row and row[0]:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
            if schema == "public":
                conn.execute("CREATE SCHEMA public")
    tool = shutil.which("pg_restore")
    if tool is None:
        raise BackupError("pg_restore is not installed (Debian: apt-get install postgresql-client)")
    done = subprocess.run(
        [
            tool,
            "--no-owner",
            "--exit-on-error",
            "--dbname",
            settings.postgres_params()["dbname"],
            str(backup / DUMP),
        ],
        env=pg_environment(settings),
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed: {done.stderr.strip()}")


def _reapply_tombstones(settings: Settings, report: RestoreReport) -> None:
    """Destroys again every tombstoned key the restored vault holds. All of them, not only the
    ones newer than the backup: key ids are never reused, so an older tombstone whose key is
    back (a torn or mislabelled backup) is an erasure to re-apply too, and a clock that moved
    cannot hide one."""
    from lfr_ledger.api.bootstrap import build_vault

    tombstones = TombstoneJournal(settings.tombstones_path).read()
    report.tombstones, report.journal = len(tombstones), str(settings.tombstones_path)
    started = report.manifest.get("started_at") if report.manifest else None
    if started is not None:
        began = datetime.fromisoformat(started)
        report.newer_than_backup = sum(t.destroyed_at >= began for t in tombstones)
    vault = build_vault(settings)  # no journal attached: these tombstones are already written
    try:
        for t in tombstones:
            if vault.has_key(t.key_id) and vault.shred(t.key_id):
                report.reapplied.append(str(t.key_id))
        if report.reapplied and hasattr(vault, "vacuum"):
            vault.vacuum()
    finally:
        vault.close()


def _verify(settings: Settings, report: RestoreReport, extra: tuple[Path, ...]) -> None:
    from lfr_ledger.api.bootstrap import build_ledger
    from lfr_ledger.eventlog.chain.wiring import verify_ledger
    from lfr_ledger.eventlog.checkpoint import checkpoints_dir, read_checkpoint, verify_checkpoint
    from lfr_ledger.eventlog.key_audit import MissingKey, audit_vault

    chain = verify_ledger(settings)
    report.chain = {**chain.to_dict(), "summary": chain.summary()}
    seen: set[tuple[int, str]] = set()
    for folder in (checkpoints_dir(settings), *extra):
        for path in sorted(folder.glob("checkpoint-*.json")):
            checkpoint = read_checkpoint(path)
            mark = (int(checkpoint["last_id"]), str(checkpoint["head"]))
            if mark in seen:
                continue
            seen.add(mark)
            if mark[0] > chain.last_id:
                report.checkpoints_lost.append({"name": path.name, "last_id": mark[0]})
            elif verify_checkpoint(settings, checkpoint, full=False, name=path.name).extends:
                report.checkpoints_verified.append(path.name)
            else:
                report.checkpoints_failed.append(path.name)
    journal = TombstoneJournal(settings.tombstones_path)
    tombstoned, marked = journal.key_ids(), journal.lost_erasures()
    ledger = build_ledger(settings)
    try:
        findings = audit_vault(ledger)
    finally:
        ledger.close()
    backup = report.manifest.get("started_at", "") if report.manifest else "in place"
    for finding in findings:
        if isinstance(finding, MissingKey) and finding.key_id in tombstoned:
            report.erased_after_backup.append(str(finding.key_id))
            if finding.key_id not in marked:  # from now on the vault check counts it
                journal.append(finding.key_id, position=chain.last_id, restored_from=backup)
        else:
            report.vault_findings.append(finding.summary())


def _keep_record(settings: Settings, report: RestoreReport) -> None:
    """The restore's record beside the store: what came back, what was destroyed again, what
    was lost. Ids only."""
    folder = settings.data_dir / "restores"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    stamp = utcnow().strftime("%Y%m%dT%H%M%S%fZ")
    (folder / f"restore-{stamp}.json").write_text(
        json.dumps(report.to_dict(), indent=2, sort_keys=True, default=str) + "\n"
    )

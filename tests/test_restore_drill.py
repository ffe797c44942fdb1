"""The restore drill (issue 27), on SQLite and on the real PostgreSQL (a logical `lfr backup`):
back up; record more, erase and retain; restore the backup; what was acknowledged before the
backup is there, what was erased after it stays erased although the backup held its key, the
chain and the checkpoints under the restored head verify, and the later checkpoint is reported
as lost (the events after the backup: the RPO of a backup without WAL archiving).

PostgreSQL with WAL archiving and point-in-time recovery is `test_restore_pitr.py`.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from lfr_ledger.api.backup.restore import restore
from lfr_ledger.api.backup.take import BackupError, take_backup
from lfr_ledger.api.bootstrap import build_ledger, build_retention
from lfr_ledger.api.demo.sample_deployment import COMPILER, OPERATOR, matcher_for, reviewed
from lfr_ledger.config.kek_spec import KekSpec, parse_kek_spec
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.alert import AlertClaim
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.errors import NotFound
from lfr_ledger.domain.values import Decision
from lfr_ledger.eventlog.checkpoint import checkpoints_dir, make_checkpoint, save_checkpoint
from lfr_ledger.eventlog.tombstones import TombstoneError, TombstoneJournal
from tests.conftest import Clock

LFR = str(Path(sys.executable).parent / "lfr")
CROP = b"\xff\xd8\xff\xe0 a face crop, sealed under the alert's key"


def alert(ledger: CaseLedger, deployment: UUID, entry: UUID, clock: Clock) -> UUID:
    claim = AlertClaim(deployment, "cam-1", entry, 0.9, clock.now, face_crop=CROP)
    return ledger.raise_alert(matcher_for(deployment), claim)


def checkpoint(settings: Settings) -> None:
    save_checkpoint(settings, make_checkpoint(settings))


def test_the_restore_drill(settings: Settings, clock: Clock, tmp_path: Path) -> None:
    ledger = build_ledger(settings, clock=clock)
    try:
        # Acknowledged before the backup: a live deployment, its watchlist, an alert.
        deployment, entries = reviewed(ledger, 2)
        clock.advance(hours=3)
        ledger.start_deployment(OPERATOR, deployment)
        before = alert(ledger, deployment, entries[0], clock)
        checkpoint(settings)
        backup = tmp_path / "backup"
        manifest = take_backup(settings, backup)
        assert manifest["last_id"] == ledger.recorder.max_notification_id()

        # After it: one more alert, that alert's images erased, the watchlist destroyed when
        # retention finds it due; a checkpoint names all of it.
        after = alert(ledger, deployment, entries[1], clock)
        ledger.erase_alert_images(before, rule="drill: erased on request")
        for raised in (before, after):
            ledger.adjudicate(OPERATOR, raised, Decision.NO_MATCH, "not them", ("subject",))
        ledger.end_deployment(OPERATOR, deployment)
        clock.advance(hours=25)
        retained = build_retention(ledger, settings).destroy_watchlist_if_due(deployment)
        assert sorted(retained.entries_destroyed) == sorted(entries)
        checkpoint(settings)
        acknowledged = ledger.recorder.max_notification_id()
    finally:
        ledger.close()
    erased = {before, *entries}
    assert _backup_holds_keys(settings, backup, erased), "the backup must hold the keys"
    journal = TombstoneJournal(settings.tombstones_path)
    assert erased <= journal.key_ids()
    written = len(journal.read())
    assert not settings.tombstones_path.is_relative_to(settings.data_dir)

    # The old node's checkpoints survive elsewhere (a witness holds them too).
    old_checkpoints = shutil.copytree(checkpoints_dir(settings), tmp_path / "old-checkpoints")
    with pytest.raises(BackupError, match="--force"):
        restore(settings, backup)  # the store is there: refused, nothing replaced
    report = restore(settings, backup, force=True, extra_checkpoints=(old_checkpoints,))

    assert report.ok, report.lines()
    assert set(report.reapplied) == {str(k) for k in erased}
    assert report.newer_than_backup == written  # every one was written after the backup
    assert report.chain["last_id"] == manifest["last_id"] < acknowledged
    assert [c["last_id"] for c in report.checkpoints_lost] == [acknowledged]
    assert report.checkpoints_verified  # the one the backup held, passed through
    assert set(report.erased_after_backup) == {str(k) for k in erased}

    restored = build_ledger(settings, clock=clock)
    try:
        assert (
            restored.alert(before, to_change=False).deployment_id == deployment
        )  # acknowledged: there
        with pytest.raises(NotFound):
            restored.alert(after, to_change=False)  # recorded after the backup: lost (the RPO)
        for entry in entries:  # destroyed after the backup: erased, though it held the keys
            assert restored.reveal_entry(entry).template is None
            assert restored.reveal_entry(entry).erased
        assert not restored.vault.has_key(before)
    finally:
        restored.close()
    # The node's own check agrees: the erasures the restored log lost are accounted for.
    audit = _lfr(_env(settings), "audit", "verify")
    assert audit.returncode == 0, audit.stdout + audit.stderr


def test_a_tombstone_alone_excuses_no_missing_key(settings: Settings, clock: Clock) -> None:
    """A key destroyed through the vault with no erasure event (a fault, a bypass) leaves a
    tombstone, yet `lfr audit verify` still reports it: only a restore marks an erasure as
    lost with the log."""
    ledger = build_ledger(settings, clock=clock)
    try:
        _, entries = reviewed(ledger, 1)
        ledger.vault.shred(entries[0])  # no WatchlistEntry.Destroyed: a silent erasure
    finally:
        ledger.close()
    assert entries[0] in TombstoneJournal(settings.tombstones_path).key_ids()
    audit = _lfr(_env(settings), "audit", "verify")
    assert audit.returncode == 1 and "no erasure of it was recorded" in audit.stdout


def test_a_restore_refuses_another_nodes_journal(tmp_path: Path, clock: Clock) -> None:
    """Restored into a new folder without naming the node's journal, the tombstones would be
    missed: refused before anything is written."""
    settings = Settings(data_dir=tmp_path / "var")
    ledger = build_ledger(settings, clock=clock)
    try:
        deployment, _ = reviewed(ledger, 1)
        ledger.end_deployment(OPERATOR, deployment)
        clock.advance(hours=30)
        ledger.destroy_watchlist(deployment, rule="retention.watchlist_hours_after_end")
    finally:
        ledger.close()
    take_backup(settings, tmp_path / "b")
    elsewhere = Settings(data_dir=tmp_path / "new", kek=_kek(settings))
    with pytest.raises(BackupError, match="LFR_TOMBSTONE_JOURNAL"):
        restore(elsewhere, tmp_path / "b")
    assert not (tmp_path / "new").exists()
    named = replace(elsewhere, tombstone_journal=settings.tombstones_path)
    assert restore(named, tmp_path / "b").ok


def _kek(settings: Settings) -> KekSpec:
    return parse_kek_spec(f"file:{settings.default_kek_path}")


def _backup_holds_keys(settings: Settings, backup: Path, keys: set[UUID]) -> bool:
    if settings.uses_postgres:
        listed = subprocess.run(
            [
                "pg_restore",
                "--data-only",
                "--table=vault_keys",
                "-f",
                "-",
                str(backup / "database.dump"),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return all(str(k) in listed for k in keys)
    with sqlite3.connect(backup / "keys.sqlite") as conn:
        held = {UUID(bytes=bytes(r[0])) for r in conn.execute("SELECT key_id FROM vault_keys")}
    return keys <= held


def test_tombstones_hold_ids_only(settings: Settings, clock: Clock) -> None:
    ledger = build_ledger(settings, clock=clock)
    try:
        deployment, entries = reviewed(ledger, 1)
        name = ledger.reveal_entry(entries[0]).name
        ledger.withdraw_entry(COMPILER, entries[0], "the subject was arrested yesterday")
        ledger.end_deployment(OPERATOR, deployment)
        clock.advance(hours=30)
        ledger.destroy_watchlist(deployment, rule="retention.watchlist_hours_after_end")
    finally:
        ledger.close()
    text = settings.tombstones_path.read_text()
    assert name and name not in text and "arrested" not in text
    for line in text.splitlines():
        assert set(json.loads(line)) <= {"key_id", "destroyed_at", "position", "kind"}
    assert str(entries[0]) in text


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_backup_is_consistent_while_a_writer_writes(
    settings: Settings, clock: Clock, tmp_path: Path
) -> None:
    """`lfr backup` of a store another process is writing to: the copy verifies from its first
    event (SQLite's backup API copies a snapshot; `cp` of the live file may be torn)."""
    ledger = build_ledger(settings, clock=clock)
    reviewed(ledger, 1)
    ledger.close()
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(settings.data_dir)])
    try:
        env = _env(settings)
        for n in range(3):
            done = _lfr(env, "backup", "--out", str(tmp_path / f"b{n}"))
            assert done.returncode == 0, done.stderr
            assert "backed up sqlite through id" in done.stdout
    finally:
        writer.terminate()
        writer.wait(timeout=20)
    manifests = [json.loads((tmp_path / f"b{n}" / "manifest.json").read_text()) for n in range(3)]
    assert manifests[-1]["last_id"] > manifests[0]["last_id"], "the writer was writing"
    # Restored by the command, into a new folder, the copy verifies.
    # The KEK and the tombstone journal stay where they were, outside the data folder.
    env["LFR_KEK"] = f"file:{settings.default_kek_path}"
    env["LFR_TOMBSTONE_JOURNAL"] = str(settings.tombstones_path)
    target = tmp_path / "restored"
    done = _lfr({**env, "LFR_DATA_DIR": str(target)}, "restore", "--from", str(tmp_path / "b2"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().endswith("OK")
    # A live store is never overwritten without --force; a backup into a used folder refused.
    again = _lfr({**env, "LFR_DATA_DIR": str(target)}, "restore", "--from", str(tmp_path / "b2"))
    assert again.returncode == 2 and "--force" in again.stderr and not again.stdout
    used = _lfr(env, "backup", "--out", str(tmp_path / "b2"))
    assert used.returncode == 2 and "not empty" in used.stderr


def test_an_altered_backup_is_not_restored(tmp_path: Path, clock: Clock) -> None:
    settings = Settings(data_dir=tmp_path / "var")
    ledger = build_ledger(settings, clock=clock)
    reviewed(ledger, 1)
    ledger.close()
    take_backup(settings, tmp_path / "b")
    copy = tmp_path / "b" / "events.sqlite"
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 1  # one bit of the copy changed
    copy.write_bytes(bytes(data))
    target = Settings(data_dir=tmp_path / "new", kek=_kek(settings))
    with pytest.raises(BackupError, match="differs from the manifest"):
        restore(target, tmp_path / "b")
    assert not (tmp_path / "new").exists()


WRITER = """
import sys
from datetime import UTC, datetime
from pathlib import Path
from lfr_ledger.api.bootstrap import build_ledger
from lfr_ledger.api.demo.sample_deployment import reviewed
from lfr_ledger.config.kek_spec import KekSpec, parse_kek_spec
from lfr_ledger.config.settings import Settings
at = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)
ledger = build_ledger(Settings(data_dir=Path(sys.argv[1])), clock=lambda: at)
while True:
    reviewed(ledger, 1)
"""


def _env(settings: Settings) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("LFR_")}
    env["LFR_DATA_DIR"] = str(settings.data_dir)
    if settings.uses_postgres:
        env.update(
            LFR_DATABASE_URL=settings.database_url or "",
            LFR_POSTGRES_SCHEMA=settings.postgres_schema or "",
        )
    return env


def _lfr(env: dict[str, Any], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([LFR, *args], env=env, capture_output=True, text=True, timeout=60)


def test_the_journal_skips_a_torn_last_line_and_refuses_an_edited_one(tmp_path: Path) -> None:
    journal = TombstoneJournal(tmp_path / "journal.jsonl")
    first, second = UUID(int=1), UUID(int=2)
    journal.append(first, position=3)
    journal.append(second, position=4)
    text = journal.path.read_text()
    journal.path.write_text(text + '{"key_id": "0000')  # a crash in the middle of a write
    assert [t.key_id for t in journal.read()] == [first, second]
    journal.path.write_text(text.replace(str(first), "someone's name"))
    with pytest.raises(TombstoneError, match="line 1"):
        journal.read()
    assert oct(journal.path.stat().st_mode & 0o777) == "0o600"

"""The restore drill on PostgreSQL with WAL archiving (docs/operations.md, Backups): a base
backup, then more acknowledged writes, an erasure and a retention run; the server is lost; a
new one is made from the base backup and replays the archived WAL (point-in-time recovery to
the archive's end); `lfr restore --in-place` then finds every acknowledged write there (RPO 0
for what was archived), the erasures still erased, the chain and checkpoints verified.

A private cluster (tests/pg_cluster.py): WAL archiving is a server setting, not the shared
server's to change. `SELECT pg_switch_wal()` stands for `archive_timeout` elapsing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psycopg

from lfr_ledger.api.bootstrap import build_ledger, build_retention
from lfr_ledger.api.demo.sample_deployment import OPERATOR, reviewed
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.values import Decision
from lfr_ledger.eventlog.checkpoint import make_checkpoint, save_checkpoint
from tests.conftest import Clock
from tests.pg_cluster import Cluster, give_to_owner, new_home, require_server_tools
from tests.test_restore_drill import alert

LFR = str(Path(sys.executable).parent / "lfr")


def _wait_for(check: str, url: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with psycopg.connect(url, autocommit=True, connect_timeout=2) as conn:
                row = conn.execute(check).fetchone()
                if row and row[0]:
                    return
        except psycopg.OperationalError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{check} never held")


def test_pitr_loses_nothing_acknowledged(tmp_path: Path, clock: Clock) -> None:
    bin_dir = require_server_tools()
    home = new_home()
    archive = home / "archive"
    archive.mkdir()
    give_to_owner(archive)
    primary = Cluster(bin_dir, home)
    restored = Cluster(bin_dir, home, name="restored")
    try:
        primary.init()
        primary.configure(
            wal_level="replica",
            archive_mode="on",
            archive_command=f"test ! -f {archive}/%f && cp %p {archive}/%f",
            archive_timeout="60",
        )
        primary.start()
        settings = Settings(data_dir=tmp_path / "var", database_url=primary.url())
        ledger = build_ledger(settings, clock=clock)
        try:
            deployment, entries = reviewed(ledger, 2)
            clock.advance(hours=3)
            ledger.start_deployment(OPERATOR, deployment)
            before = alert(ledger, deployment, entries[0], clock)
            save_checkpoint(settings, make_checkpoint(settings))
            # The base backup, as the guide has it (plain format here, to start from).
            primary.run(
                "pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
                "-D", str(restored.data), "-X", "stream", "--checkpoint=fast",
            )  # fmt: skip
            after = alert(ledger, deployment, entries[1], clock)
            ledger.erase_alert_images(before, rule="drill: erased on request")
            for raised in (before, after):
                ledger.adjudicate(OPERATOR, raised, Decision.NO_MATCH, "not them", ("subject",))
            ledger.end_deployment(OPERATOR, deployment)
            clock.advance(hours=25)
            build_retention(ledger, settings).destroy_watchlist_if_due(deployment)
            save_checkpoint(settings, make_checkpoint(settings))
            acknowledged = ledger.recorder.max_notification_id()
        finally:
            ledger.close()
        with psycopg.connect(primary.url(), autocommit=True) as conn:
            row = conn.execute("SELECT pg_walfile_name(pg_switch_wal())").fetchone()
            assert row is not None
        _wait_for(f"SELECT last_archived_wal >= '{row[0]}' FROM pg_stat_archiver", primary.url())
        primary.kill()  # the server is lost; its archive and the base backup are not

        # Point-in-time recovery: the base backup replays the archive to its end, then serves.
        restored.configure(
            restore_command=f"cp {archive}/%f %p",
            archive_mode="off",
            recovery_target_timeline="latest",
        )
        (restored.data / "recovery.signal").touch()
        give_to_owner(restored.data)
        restored.start()
        _wait_for("SELECT NOT pg_is_in_recovery()", restored.url())

        env = {k: v for k, v in os.environ.items() if not k.startswith("LFR_")}
        env.update(LFR_DATA_DIR=str(settings.data_dir), LFR_DATABASE_URL=restored.url())
        done = subprocess.run(
            [LFR, "restore", "--in-place"], env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"restored: last id {acknowledged}," in done.stdout
        assert "0 key(s) destroyed again" in done.stdout  # the WAL replayed the erasures too
        assert "2 passed through, 0 failed" in done.stdout

        back = build_ledger(
            Settings(data_dir=settings.data_dir, database_url=restored.url()), clock=clock
        )
        try:
            assert back.recorder.max_notification_id() == acknowledged  # nothing lost
            assert back.alert(after, to_change=False).deployment_id == deployment
            assert all(back.reveal_entry(e).erased for e in entries)
            assert not back.vault.has_key(before)
        finally:
            back.close()
    finally:
        restored.kill()
        primary.kill()
        shutil.rmtree(home, ignore_errors=True)

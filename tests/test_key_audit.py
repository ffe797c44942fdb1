"""Issue 10, defect 6: a vault key deleted without an erasure event is a silent erasure, and
`lfr audit verify` (and GET /audit/verify) report it as tampering. Both backends."""

from __future__ import annotations

import json
from typing import Any

import pytest
from litestar.testing import TestClient

import lfr_ledger.api.cli
from lfr_ledger.api.app import create_app
from lfr_ledger.api.auth import issue_token
from lfr_ledger.api.demo.sample_deployment import OPERATOR, reviewed
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.values import Decision
from lfr_ledger.eventlog.key_audit import missing_keys
from tests.conftest import Clock
from tests.test_invariants import live, send_alert


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("LFR_DATA_DIR", str(settings.data_dir))
    if settings.uses_postgres:
        monkeypatch.setenv("LFR_DATABASE_URL", str(settings.database_url))
        monkeypatch.setenv("LFR_POSTGRES_SCHEMA", settings.postgres_schema or "")
    else:
        monkeypatch.delenv("LFR_DATABASE_URL", raising=False)
    return lfr_ledger.api.cli.main


def test_a_key_deleted_without_an_erasure_event_is_tampering(
    ledger: CaseLedger, settings: Settings, cli: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    _, entries = reviewed(ledger, entries=2)
    assert missing_keys(ledger) == []
    assert cli(["audit", "verify"]) == 0

    ledger.vault.shred(entries[1])  # no WatchlistEntry.Destroyed: a silent erasure
    [missing] = missing_keys(ledger)
    assert (missing.key_id, missing.what) == (entries[1], "watchlist entry")
    capsys.readouterr()
    assert cli(["audit", "verify"]) == 1
    out = capsys.readouterr().out
    assert f"TAMPERED: the key of watchlist entry {entries[1]} is missing" in out

    token = issue_token(settings, role="oversight", sub="ICO-1")
    with TestClient(app=create_app(settings, ledger=ledger)) as client:
        body = client.get("/audit/verify", headers={"Authorization": f"Bearer {token}"}).json()
    assert (body["ok"], body["reason"], body["missing_keys"]) == (
        False,
        "key_missing",
        [str(entries[1])],
    )


def test_erasures_the_log_records_are_not_reported(ledger: CaseLedger, clock: Clock) -> None:
    deployment, entries = live(ledger, clock)
    alert = send_alert(ledger, deployment, entries[0], clock, face_crop=b"\xff\xd8crop")
    assert ledger.vault.has_key(alert)
    ledger.erase_alert_images(alert, rule="test: images erased under a recorded rule")
    assert missing_keys(ledger) == []
    ledger.adjudicate(OPERATOR, alert, Decision.NO_MATCH, "a different person", ("subject",))
    ledger.end_deployment(OPERATOR, deployment)
    ledger.destroy_watchlist(deployment, rule="test: watchlist destroyed under a recorded rule")
    assert not any(ledger.vault.has_key(e) for e in entries)
    assert missing_keys(ledger) == []


@pytest.mark.parametrize("checkpointed", [False, True], ids=["whole-log", "since-checkpoint"])
def test_the_json_report_says_not_ok_when_a_key_is_missing(
    ledger: CaseLedger,
    settings: Settings,
    cli: Any,
    capsys: pytest.CaptureFixture[str],
    checkpointed: bool,
) -> None:
    """Issue 23, item 7 (d): `--json` said "ok": true while the exit code said tampered."""
    _, entries = reviewed(ledger, entries=2)
    if checkpointed:
        assert cli(["audit", "checkpoint"]) == 0
    capsys.readouterr()
    assert cli(["audit", "verify", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True

    ledger.vault.shred(entries[1])  # no WatchlistEntry.Destroyed: a silent erasure
    assert cli(["audit", "verify", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert (report["ok"], report["reason"], report["missing_keys"]) == (
        False,
        "key_missing",
        [str(entries[1])],
    )
    assert f"the key of watchlist entry {entries[1]} is missing" in report["detail"]
    token = issue_token(settings, role="oversight", sub="ICO-1")
    with TestClient(app=create_app(settings, ledger=ledger)) as client:
        body = client.get("/audit/verify", headers={"Authorization": f"Bearer {token}"}).json()
    assert (body["ok"], body["reason"]) == (report["ok"], report["reason"])

"""A log written by the previous release still loads, verifies and projects the same figures.

`fixtures/release-r2/` holds what `lfr demo` wrote at commit f6fd545 (the last release of round
two, before the house was split by concern): its event store, with the read models that release
projected, and its key vault, gzipped. Moving a class must never break a stored event: every
event is decoded and every aggregate replayed by today's code, the chain verifies from the first
event, and the views rebuilt from zero by today's projections read exactly what the previous
release's views held.
"""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

import lfr_ledger.api.cli
from lfr_ledger.api.bootstrap import build_ledger
from lfr_ledger.config.settings import Settings

RELEASE = Path(__file__).parent / "fixtures" / "release-r2"
# What the previous release's demo recorded (its own `lfr audit verify` said so when it wrote it).
EVENTS_WRITTEN = 420


@pytest.fixture
def release_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    for name in ("events.sqlite", "keys.sqlite"):
        with gzip.open(RELEASE / f"{name}.gz") as packed, (data_dir / name).open("wb") as out:
            shutil.copyfileobj(packed, out)
    (data_dir / "keys.sqlite").chmod(0o600)
    monkeypatch.setenv("LFR_DATA_DIR", str(data_dir))
    monkeypatch.delenv("LFR_DATABASE_URL", raising=False)
    monkeypatch.delenv("LFR_POSTGRES_SCHEMA", raising=False)
    return data_dir


def lfr_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    capsys.readouterr()
    assert lfr_ledger.api.cli.main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_every_event_of_the_previous_release_decodes_and_every_aggregate_replays(
    release_dir: Path,
) -> None:
    ledger = build_ledger(Settings(data_dir=release_dir))
    try:
        notifications = ledger.recorder.select_notifications(start=1, limit=10_000)
        assert len(notifications) == EVENTS_WRITTEN
        originators: dict[UUID, int] = {}
        for notification in notifications:
            event = ledger.mapper.to_domain_event(notification)
            assert event.originator_id == notification.originator_id
            originators[event.originator_id] = event.originator_version
        for originator_id, version in originators.items():
            assert ledger.repository.get(originator_id).version == version
        assert {type(ledger.repository.get(i)).__name__ for i in originators} >= {
            "Operation",
            "Deployment",
            "WatchlistEntry",
            "Alert",
        }
    finally:
        ledger.close()


def test_the_previous_release_log_verifies_and_its_views_rebuild_to_the_same_figures(
    release_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert lfr_ledger.api.cli.main(["audit", "verify", "--full"]) == 0
    assert capsys.readouterr().out.startswith(f"OK: {EVENTS_WRITTEN} events verified")

    written = lfr_json(capsys, "stats", "period", "--year", "2025")
    assert written["alerts"] > 0 and written["arrests"] > 0
    lfr_json(capsys, "projections", "rebuild")
    assert lfr_json(capsys, "stats", "period", "--year", "2025") == written

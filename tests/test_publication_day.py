"""Issue 28: a day's publication reads that day's deployments and nothing of the history around
them. Its records are those the export of every deployment gives for that day (same counts of
faces, alerts and outcomes), and each read of the views behind them asks for one of the day's
deployments by its id: never the join of a detail table to the selection, which PostgreSQL
planned, past a million events, as a scan of every face count and alert of the year."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec
import pytest

import lfr_ledger.projections.readers.base as readers_base
from lfr_ledger.api.demo.sample_deployment import (
    OPERATOR,
    WINDOW_START,
    matcher_for,
)
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.alert import AlertClaim
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.records import FaceCount
from lfr_ledger.domain.values import Decision
from lfr_ledger.projections.catch_up import catch_up
from lfr_ledger.projections.readers.statistics import StatisticsReader
from lfr_ledger.projections.store import close_stores
from tests.conftest import Clock, live_deployment

DETAIL_VIEWS = (
    "view_face_counts",
    "view_alerts",
    "view_deployment_cameras",
    "view_watchlist_entries",
    "view_blue_walk_pasts",
    "view_deployment_operation",
)


@pytest.fixture(autouse=True)
def _close_projection_connections() -> Iterator[None]:
    yield
    close_stores()


def live_day(ledger: CaseLedger, clock: Clock, day: datetime, n: int) -> UUID:
    """A deployment live for an hour on `day`: `n + 1` face counts and `n` alerts, the first
    adjudicated a match, the others inconclusive."""
    clock.now = day - timedelta(hours=2)
    deployment, entry = live_deployment(
        ledger,
        clock,
        entry=n,
        authority_ref=f"AUTH-{n}",
        starts_at=day,
        ends_at=day + timedelta(hours=2),
    )
    matcher = matcher_for(deployment)
    counts = [
        FaceCount.report(
            deployment_id=deployment,
            camera_id="cam-1",
            period_start=day + timedelta(minutes=m),
            period_end=day + timedelta(minutes=m + 1),
            count=10 * (m + 1),
            actor=matcher,
            occurred_at=day + timedelta(minutes=m + 1),
        )
        for m in range(n + 1)
    ]
    ledger.save(*counts)
    for k in range(n):
        clock.now = day + timedelta(minutes=5 + k)
        claim = AlertClaim(
            deployment_id=deployment,
            camera_id="cam-1",
            entry_id=entry,
            similarity=0.9,
            captured_at=clock.now - timedelta(seconds=1),
        )
        alert = ledger.raise_alert(matcher, claim)
        decision = Decision.MATCH if k == 0 else Decision.INCONCLUSIVE
        ledger.adjudicate(OPERATOR, alert, decision=decision, reason="bench")
    clock.now = day + timedelta(hours=1)
    ledger.end_deployment(OPERATOR, deployment)
    return deployment


def test_a_days_publication_reads_only_its_deployments(
    settings: Settings, ledger: CaseLedger, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = WINDOW_START, WINDOW_START + timedelta(days=1)
    on_first = [live_day(ledger, clock, first, n) for n in (1, 2)]
    on_second = [live_day(ledger, clock, second, n) for n in (3, 4)]
    catch_up(settings)
    reader = StatisticsReader(settings, clock=lambda: clock.now)
    every = msgspec.to_builtins(reader.publication_records())
    assert {r["deployment_id"] for r in every} == {str(d) for d in on_first + on_second}

    reads: list[tuple[str, tuple[Any, ...]]] = []
    select_rows = readers_base.select_rows

    def recorded(db: Any, columns: Any, rest: str, params: Any = ()) -> Any:
        reads.append((rest, tuple(params)))
        return select_rows(db, columns, rest, params)

    monkeypatch.setattr(readers_base, "select_rows", recorded)
    day: date = first.date()
    published = msgspec.to_builtins(reader.publication_records((day, day)))

    # The day's records are the export's for that day, figures and all.
    assert published == [r for r in every if r["deployment_id"] in {str(d) for d in on_first}]
    assert sorted(r["alerts"] for r in published) == [1, 2]
    assert sorted(r["faces_processed"] for r in published) == [30, 60]
    # Each detail read names one of the day's deployments, by its id.
    details = [(rest, params) for rest, params in reads if any(v in rest for v in DETAIL_VIEWS)]
    assert {v for v in DETAIL_VIEWS if any(v in rest for rest, _ in details)} == set(DETAIL_VIEWS)
    for rest, params in details:
        assert "IN (SELECT" not in rest, rest
        assert "deployment_id = ?" in rest and params in {(str(d),) for d in on_first}, rest

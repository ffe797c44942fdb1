"""Issue 10, defect 1: one valid-looking write must not halt the statistics.

Times outside the ledger's window are refused before they become events; an event that a view
still cannot take (written before this release, or by a bug) is recorded and skipped by that
view alone, while every other event and view carries on. Both backends.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID

import pytest
from litestar.testing import TestClient

from lfr_ledger.api.app import create_app
from lfr_ledger.api.demo.sample_deployment import matcher_for
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.errors import InvalidInput
from lfr_ledger.domain.records import FaceCount, FaceCountTopic
from lfr_ledger.projections.catch_up import catch_up, rebuild, status
from lfr_ledger.projections.readers.statistics import StatisticsReader
from tests.conftest import Clock
from tests.test_api import Api, api, assert_problem  # noqa: F401
from tests.test_invariants import live, refused, send_alert

YEAR_ONE = datetime(1, 1, 1, tzinfo=timezone(timedelta(minutes=30)))
YEAR_9999 = datetime(9999, 12, 31, 23, 30, tzinfo=timezone(timedelta(hours=-1)))


@pytest.mark.parametrize("start", [YEAR_ONE, YEAR_9999, datetime(1999, 12, 31, tzinfo=UTC)])
def test_a_face_count_outside_the_window_is_refused(
    ledger: CaseLedger, clock: Clock, start: datetime
) -> None:
    deployment, _ = live(ledger, clock)
    with refused(ledger, InvalidInput, match="period_start must lie between 2000 and 2099"):
        ledger.report_faces_counted(
            matcher_for(deployment),
            deployment,
            camera_id="cam-1",
            period_start=start,
            period_end=start + timedelta(minutes=1) if start.year < 9999 else start,
            count=3,
        )


def test_times_become_utc_before_they_are_recorded(ledger: CaseLedger, clock: Clock) -> None:
    deployment, _ = live(ledger, clock)
    local = clock.now.astimezone(timezone(timedelta(hours=2)))
    report_id = ledger.report_faces_counted(
        matcher_for(deployment),
        deployment,
        camera_id="cam-1",
        period_start=local - timedelta(minutes=1),
        period_end=local,
        count=3,
    )
    recorded = ledger.repository.get(report_id)
    assert recorded.period_end == clock.now and recorded.period_end.utcoffset() == timedelta(0)


def _unreadable_face_count(ledger: CaseLedger, deployment: UUID) -> int:
    """A face count as a release without the window check could have written it: built
    directly (the aggregate's constructor, not the command), so only a reader can trip on it."""
    count = FaceCount(
        id=FaceCount.id_for(deployment, "cam-1", YEAR_ONE),
        deployment_id=deployment,
        camera_id="cam-1",
        period_start=YEAR_ONE,
        period_end=YEAR_ONE + timedelta(minutes=1),
        count=5,
        actor=matcher_for(deployment),
        occurred_at=datetime(2025, 6, 2, 11, 0, tzinfo=UTC),
    )
    ledger.save(count)
    [notification] = ledger.recorder.select_notifications(
        0, 1, topics=[FaceCountTopic.FACES_COUNTED]
    )
    return int(notification.id)


def test_an_event_a_view_cannot_take_is_skipped_by_that_view_alone(
    ledger: CaseLedger, settings: Settings, clock: Clock
) -> None:
    deployment, entries = live(ledger, clock)
    bad = _unreadable_face_count(ledger, deployment)
    alert = send_alert(ledger, deployment, entries[0], clock)  # after the bad event

    catch_up(settings)  # used to raise OverflowError, here and on every later read

    views = {v["name"]: v for v in status(settings)}
    assert all(v["lag"] == 0 for v in views.values())
    skipped = [f for v in views.values() for f in v["failures"]]
    assert [(f["notification_id"], f["topic"]) for f in skipped] == [
        (bad, FaceCountTopic.FACES_COUNTED)
    ]
    assert skipped[0]["error"].startswith("OverflowError at ")
    summary = StatisticsReader(settings).deployment_summary(deployment)
    assert summary is not None and summary.totals.alerts == 1
    assert [a.id for a in StatisticsReader(settings).deployment_alerts(deployment)] == [str(alert)]

    # A rebuild works around it again (and records it again: the fix is not in yet).
    rebuild(settings)
    again = [f["notification_id"] for v in status(settings) for f in v["failures"]]
    assert again == [bad]
    assert StatisticsReader(settings).deployment_summary(deployment) == summary


def test_health_and_metrics_report_a_projection_skipping_an_event(
    ledger: CaseLedger, settings: Settings, clock: Clock
) -> None:
    deployment, _ = live(ledger, clock)
    with TestClient(app=create_app(settings, ledger=ledger)) as client:
        assert client.get("/health").json() == {"status": "ok"}
        _unreadable_face_count(ledger, deployment)
        catch_up(settings)
        client.app.state["services"]._failures_read_at = float("-inf")  # skip the 5 s cache
        assert client.get("/health").json() == {"status": "degraded", "projection_failures": 1}
        metrics = client.get("/metrics")
        assert metrics.status_code == 200
        assert "lfr_projection_failures 1.0" in metrics.text.splitlines()


@pytest.mark.parametrize(
    "name", ["Op\x00Northampton", "Op\x1b[31mred", "two\nlines"], ids=["nul", "escape", "newline"]
)
def test_control_characters_in_names_are_refused_at_the_edge(
    api: Api,  # noqa: F811
    name: str,
) -> None:
    # On PostgreSQL a NUL in a name used to halt the projections (psycopg.DataError).
    before = api.client.app.state["services"].ledger.recorder.max_notification_id()
    response = api.post("/operations", "planner", {"name": name, "force": "demo", "purpose": "x"})
    body = assert_problem(response, 400)
    assert "name" in body["detail"]
    after = api.client.app.state["services"].ledger.recorder.max_notification_id()
    assert after == before

"""What the people who run the service see: Prometheus metrics by route template, readiness
that turns false while views lag, and access-log lines as JSON with the request id. Never a
record id, a stated purpose or a concrete path."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from litestar.testing import TestClient

from lfr_ledger.api.app import create_app
from lfr_ledger.api.auth import issue_token
from lfr_ledger.api.controllers import health
from lfr_ledger.api.observability import JsonFormatter, scrape
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.application import CaseLedger
from tests.conftest import Clock


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[TestClient, Settings]]:
    settings = Settings(data_dir=tmp_path)
    with TestClient(create_app(settings)) as client:
        yield client, settings


def test_metrics_count_requests_by_route_and_report_each_views_lag(
    served: tuple[TestClient, Settings],
) -> None:
    client, settings = served
    headers = {"Authorization": f"Bearer {issue_token(settings, role='planner', sub='P-9')}"}
    before = client.get("/metrics").text
    for _ in range(3):
        client.get("/deployments/6d9f3c1e-0b6a-4c11-9a43-2f7f2d5a1b10", headers=headers)
    text = client.get("/metrics").text
    route = (
        'lfr_http_requests_total{method="GET",route="/deployments/{deployment_id}",status="404"}'
    )
    counted = [line for line in text.splitlines() if line.startswith(route)]
    earlier = [line for line in before.splitlines() if line.startswith(route)]
    was = float(earlier[0].rsplit(" ", 1)[1]) if earlier else 0.0
    assert counted and float(counted[0].rsplit(" ", 1)[1]) == was + 3
    assert "6d9f3c1e" not in text  # the template, never the path
    assert 'lfr_projection_lag_events{view="alerts"}' in text
    assert "lfr_http_request_seconds_bucket" in text and "lfr_projection_failures 0.0" in text
    assert "lfr_checkpoint_age_seconds" not in text  # none signed yet: absent, not 0


def test_readiness_turns_false_while_a_view_lags(
    served: tuple[TestClient, Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, _ = served
    ready = client.get("/health/ready")
    assert ready.status_code == 200 and ready.json()["ready"] is True
    assert client.get("/health/live").json() == {"status": "ok"}
    # The policy adoption is one event the views have not applied: a bound of 0 trips.
    client.post(
        "/policy/adopt",
        headers={"Authorization": f"Bearer {issue_token(served[1], role='admin', sub='ADM-9')}"},
    )
    monkeypatch.setattr(health, "READY_LAG_EVENTS", 0)
    lagging = client.get("/health/ready")
    assert lagging.status_code == 503
    body = lagging.json()
    assert body["ready"] is False and body["lagging"] and "trail the log" in body["reason"]


def test_an_access_log_line_is_json_with_its_request_id() -> None:
    record = logging.LogRecord(
        "lfr.access", logging.INFO, __file__, 1, "%s %s", ("GET", "/x"), None
    )
    record.request_id = "abc12345"
    record.route = "/alerts/{alert_id}"
    record.status = 200
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "abc12345" and line["route"] == "/alerts/{alert_id}"
    assert line["level"] == "info" and line["message"] == "GET /x" and line["time"].endswith("Z")


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_metrics_show_the_retention_backlog_and_each_cameras_heartbeat_age(
    ledger: CaseLedger, settings: Settings, clock: Clock
) -> None:
    """A watchlist past its period and not destroyed is a backlog of one until retention runs;
    a live camera's heartbeat age is how long ago the ledger received it."""
    from lfr_ledger.api.bootstrap import build_retention
    from lfr_ledger.api.camera_health import accept_heartbeat
    from lfr_ledger.api.demo.sample_deployment import matcher_for
    from lfr_ledger.domain.commands.camera_health import HeartbeatReport
    from lfr_ledger.projections.catch_up import catch_up
    from tests.test_retention import ran_deployment

    scene = ran_deployment(ledger, clock, alerts=1)  # ended in 2025: long past its period
    live = ran_deployment(ledger, clock, alerts=0, end=False, seed=1, first_subject=10)
    accept_heartbeat(
        ledger,
        settings,
        matcher_for(live.deployment_id),
        HeartbeatReport(
            live.deployment_id,
            camera_id="cam-1",
            frames_per_second=10.0,
            faces_seen=2,
            frames_dropped=0,
            interval_seconds=30.0,
        ),
    )

    def gauge(text: str, name: str) -> float:
        (line,) = [line for line in text.splitlines() if line.startswith(name)]
        return float(line.rsplit(" ", 1)[1])

    catch_up(settings)  # the cameras' gauges read the views, as the server's runner keeps them
    text = scrape(settings, 0, build_retention(ledger, settings)).decode()
    assert gauge(text, 'lfr_retention_overdue_records{kind="watchlist"}') == 1
    assert gauge(text, 'lfr_retention_overdue_records{kind="alert_images"}') == 1
    camera = f'camera_id="cam-1",deployment_id="{live.deployment_id}"'
    age = gauge(text, f"lfr_camera_heartbeat_age_seconds{{{camera}}}")
    assert age > 0  # received at the ledger's clock, in 2025
    clock.now = datetime.now(UTC)  # the gauges judge by the wall clock, as retention runs by it
    build_retention(ledger, settings).run()
    text = scrape(settings, 0, build_retention(ledger, settings)).decode()
    assert gauge(text, 'lfr_retention_overdue_records{kind="watchlist"}') == 0
    assert gauge(text, 'lfr_retention_overdue_records{kind="alert_images"}') == 0
    assert str(scene.deployment_id) not in text  # an ended deployment has no camera gauges

"""Camera and matcher health (issue 11): matcher heartbeats over HTTP and in process, each camera's
state for the operator and oversight, and silent cameras recorded once per silence, on both
stores, with a test clock."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from datetime import datetime, timedelta
from uuid import UUID

import numpy as np
import pytest
from litestar.testing import TestClient

from lfr_ledger.api.app import create_app
from lfr_ledger.api.auth import issue_token
from lfr_ledger.api.bootstrap import build_ledger
from lfr_ledger.api.camera_health import check_silent_cameras
from lfr_ledger.api.cli.match import _runner_config, add_arguments, heartbeat_keeper
from lfr_ledger.api.controllers.audit import _event_data
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.commands.camera_health import LAST_ERROR_MAX, clean_error_text
from lfr_ledger.domain.deployment import DeploymentTopic
from lfr_ledger.domain.errors import ConcurrentWrite, NotPermitted
from lfr_ledger.domain.policy import Policy
from lfr_ledger.domain.values import Camera
from lfr_ledger.matching.index.follower import WatchlistIndex
from lfr_ledger.matching.live_terms import LedgerWatch
from lfr_ledger.matching.runner import MatchRunner, RunnerConfig
from lfr_ledger.matching.sinks import HeartbeatReport, HttpSink, LedgerSink
from lfr_ledger.matching.sources import Frame
from lfr_ledger.projections.camera_health import latest_heartbeats
from tests.builders import (
    AO,
    AUTHORITY,
    COMPILER,
    OPERATOR,
    WINDOW_START,
    matcher_for,
    proposed,
    subject,
)
from tests.conftest import Clock
from tests.fixtures_faces import sface_engine, sface_model_dir  # noqa: F401

CAMERAS = (Camera("cam-1", "van mast"), Camera("cam-2", "tripod"), Camera("cam-3", "doorway"))
SILENT_AFTER = Policy.load().camera_silent_after_seconds


def live(ledger: CaseLedger, clock: Clock) -> UUID:
    """A live deployment with three cameras, started at the window's start."""
    deployment = proposed(ledger, cameras=CAMERAS)
    ledger.authorise_deployment(AO, deployment, authority_ref="AUTH-1", **AUTHORITY)
    ledger.enrol(COMPILER, deployment, subject(1))
    ledger.review_watchlist(AO, deployment, confirmed_count=1, not_excessive=True)
    clock.now = WINDOW_START
    ledger.start_deployment(OPERATOR, deployment)
    return deployment


def topics_of(ledger: CaseLedger, deployment: UUID, *topics: str) -> list[dict[str, object]]:
    found = ledger.recorder.select_notifications(0, 10_000, topics=list(topics))
    return [
        {"topic": n.topic, **_event_data(ledger.mapper.to_domain_event(n))}
        for n in found
        if UUID(str(n.originator_id)) == deployment
    ]


def headers(settings: Settings, role: str, **claims: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {issue_token(settings, role=role, sub=f'{role}-1', **claims)}"
    }


@pytest.fixture
def client(settings: Settings, ledger: CaseLedger) -> Iterator[TestClient]:  # type: ignore[type-arg]
    # The app runs on the test's ledger, and so on its clock.
    with TestClient(create_app(settings, ledger=ledger)) as test_client:
        yield test_client


def test_error_text_is_one_line_masked_and_short() -> None:
    text = "cannot open rtsp://admin:hunter2@10.0.0.7/stream\nretrying " + "x" * 500
    cleaned = clean_error_text(text)
    assert cleaned is not None
    assert "hunter2" not in cleaned and "admin" not in cleaned
    assert cleaned.startswith("cannot open rtsp://***@10.0.0.7/stream retrying")
    assert len(cleaned) == LAST_ERROR_MAX
    assert clean_error_text("  \n ") is None


def test_heartbeat_over_http_from_the_matchers_http_sink(
    ledger: CaseLedger,
    settings: Settings,
    clock: Clock,
    client: TestClient,  # type: ignore[type-arg]
) -> None:
    deployment = live(ledger, clock)
    clock.advance(seconds=20)
    token = issue_token(
        settings, role="matcher", sub="matcher-van-1", deployment_id=str(deployment)
    )
    sink = HttpSink("", token, client=client, retries=0)
    report = HeartbeatReport(
        deployment_id=deployment,
        camera_id="cam-1",
        frames_per_second=12.5,
        faces_seen=40,
        frames_dropped=3,
        interval_seconds=30.0,
        last_error="cannot open rtsp://admin:hunter2@10.0.0.7/stream",
    )
    assert sink.send_heartbeat(report) is False  # kept; the camera was never silent
    clock.advance(seconds=SILENT_AFTER + 1)  # cam-1's heartbeat is now older than the bound
    ledger.report_faces_counted(
        matcher_for(deployment),
        deployment,
        camera_id="cam-2",
        period_start=WINDOW_START,
        period_end=WINDOW_START + timedelta(seconds=100),
        count=7,
    )
    cameras = client.get(
        f"/deployments/{deployment}/cameras", headers=headers(settings, "operator")
    )
    assert cameras.status_code == 200, cameras.text
    body = cameras.json()
    assert body["status"] == "live"
    assert body["silent_after_seconds"] == SILENT_AFTER
    by_id = {c["camera_id"]: c for c in body["cameras"]}
    assert [c["camera_id"] for c in body["cameras"]] == ["cam-1", "cam-2", "cam-3"]
    beat = by_id["cam-1"]["last_heartbeat"]
    assert beat["frames_per_second"] == 12.5
    assert (beat["faces_seen"], beat["frames_dropped"], beat["interval_seconds"]) == (40, 3, 30.0)
    assert beat["last_error"] == "cannot open rtsp://***@10.0.0.7/stream"
    assert datetime.fromisoformat(beat["received_at"]) == WINDOW_START + timedelta(seconds=20)
    assert by_id["cam-1"]["state"] == "overdue"
    assert by_id["cam-2"]["last_heartbeat"] is None
    assert by_id["cam-2"]["last_face_report"]["faces"] == 7
    assert by_id["cam-2"]["state"] == "reporting"
    assert by_id["cam-3"]["state"] == "never_reported"
    assert "hunter2" not in cameras.text
    # Oversight, the AO and officers read it too; analysts and matchers do not.
    for role in ("oversight", "authorising_officer", "officer"):
        reply = client.get(f"/deployments/{deployment}/cameras", headers=headers(settings, role))
        assert reply.status_code == 200, role
    for role, claims in (("analyst", {}), ("matcher", {"deployment_id": str(deployment)})):
        reply = client.get(
            f"/deployments/{deployment}/cameras", headers=headers(settings, role, **claims)
        )
        assert reply.status_code == 403, role
    # Heartbeats are not events: none of this reached the log.
    assert (
        topics_of(
            ledger, deployment, DeploymentTopic.CAMERA_WENT_SILENT, DeploymentTopic.CAMERA_REPORTING
        )
        == []
    )


def test_another_deployments_matcher_and_bad_heartbeats_are_refused(
    ledger: CaseLedger,
    settings: Settings,
    clock: Clock,
    client: TestClient,  # type: ignore[type-arg]
) -> None:
    deployment = live(ledger, clock)
    other = UUID(int=7)
    body = {"camera_id": "cam-1", "frames_per_second": 10, "faces_seen": 1, "interval_seconds": 30}
    path = f"/deployments/{deployment}/heartbeat"
    refused = client.post(
        path, json=body, headers=headers(settings, "matcher", deployment_id=str(other))
    )
    assert refused.status_code == 403, refused.text
    assert client.post(path, json=body, headers=headers(settings, "operator")).status_code == 403
    own = headers(settings, "matcher", deployment_id=str(deployment))
    unknown_camera = client.post(path, json={**body, "camera_id": "cam-9"}, headers=own)
    assert unknown_camera.status_code == 422, unknown_camera.text
    assert "cam-9" in unknown_camera.json()["detail"]
    negative = client.post(path, json={**body, "faces_seen": -1}, headers=own)
    assert negative.status_code == 400, negative.text
    assert latest_heartbeats(settings, deployment) == {}  # nothing kept of any of them
    # In process too: the ledger refuses another deployment's matcher.
    sink = LedgerSink(ledger, matcher_for(other), heartbeats=heartbeat_keeper(ledger, settings))
    with pytest.raises(NotPermitted):
        sink.send_heartbeat(HeartbeatReport(deployment, "cam-1", 10.0, 1, 0, 30.0))
    assert latest_heartbeats(settings, deployment) == {}
    ok = client.post(path, json=body, headers=own)
    assert ok.status_code == 200, ok.text
    assert ok.json()["reporting_recorded"] is False
    assert set(latest_heartbeats(settings, deployment)) == {"cam-1"}


def test_a_silent_camera_is_recorded_once_and_reporting_again_on_its_next_heartbeat(
    ledger: CaseLedger,
    settings: Settings,
    clock: Clock,
    client: TestClient,  # type: ignore[type-arg]
) -> None:
    deployment = live(ledger, clock)
    matcher = matcher_for(deployment)
    own = headers(settings, "matcher", deployment_id=str(deployment))
    beat = {"frames_per_second": 10, "faces_seen": 1, "interval_seconds": 30}
    path = f"/deployments/{deployment}/heartbeat"
    clock.advance(seconds=10)
    for camera in ("cam-1", "cam-3"):
        assert client.post(path, json={"camera_id": camera, **beat}, headers=own).status_code == 200
    ledger.report_faces_counted(
        matcher,
        deployment,
        camera_id="cam-2",
        period_start=WINDOW_START,
        period_end=WINDOW_START + timedelta(seconds=100),
        count=3,
    )
    clock.advance(seconds=SILENT_AFTER - 10)  # 120 s after start, 110 s after the heartbeats
    assert check_silent_cameras(ledger, settings) == []
    clock.advance(seconds=15)  # cam-3 reports just in time; cam-1 does not
    assert client.post(path, json={"camera_id": "cam-3", **beat}, headers=own).status_code == 200
    clock.advance(seconds=10)  # heartbeat of cam-1 135 s ago, cam-2's face count 45 s ago
    assert check_silent_cameras(ledger, settings) == [(deployment, "cam-1")]
    # A second check, and a checker on another node, record nothing more.
    assert check_silent_cameras(ledger, settings) == []
    second = build_ledger(settings, clock=clock)
    try:
        assert check_silent_cameras(second, settings) == []
    finally:
        second.close()
    silences = topics_of(ledger, deployment, DeploymentTopic.CAMERA_WENT_SILENT)
    assert silences == [
        {
            "topic": DeploymentTopic.CAMERA_WENT_SILENT,
            "camera_id": "cam-1",
            "last_seen_at": (WINDOW_START + timedelta(seconds=10)).isoformat(),
        }
    ], silences
    state = client.get(f"/deployments/{deployment}/cameras", headers=headers(settings, "operator"))
    states = {c["camera_id"]: c["state"] for c in state.json()["cameras"]}
    assert states == {"cam-1": "silent", "cam-2": "reporting", "cam-3": "reporting"}
    # cam-1 comes back: its heartbeat records it reporting, once.
    clock.advance(seconds=300)
    back = client.post(path, json={"camera_id": "cam-1", **beat}, headers=own)
    assert back.json()["reporting_recorded"] is True
    again = client.post(path, json={"camera_id": "cam-1", **beat}, headers=own)
    assert again.json()["reporting_recorded"] is False
    reporting = topics_of(ledger, deployment, DeploymentTopic.CAMERA_REPORTING)
    assert reporting == [
        {
            "topic": DeploymentTopic.CAMERA_REPORTING,
            "camera_id": "cam-1",
            "silent_since": (WINDOW_START + timedelta(seconds=10)).isoformat(),
        }
    ]
    # cam-2 (face counts only) falls silent later and stays so until the deployment ends.
    clock.advance(seconds=1)
    assert check_silent_cameras(ledger, settings) == [(deployment, "cam-2"), (deployment, "cam-3")]
    assert client.post(path, json={"camera_id": "cam-3", **beat}, headers=own).json()[
        "reporting_recorded"
    ]
    clock.advance(minutes=10)
    ledger.end_deployment(OPERATOR, deployment)
    ended_at = clock.now
    # Oversight reads both topics in the history, typed.
    history = client.get(
        f"/deployments/{deployment}/history",
        headers={**headers(settings, "oversight"), "X-Purpose": "camera record"},
    )
    assert history.status_code == 200, history.text
    seen = [e["topic"] for e in history.json()["events"]]
    assert seen.count(DeploymentTopic.CAMERA_WENT_SILENT) == 3
    assert seen.count(DeploymentTopic.CAMERA_REPORTING) == 2
    # The summary shows when each camera was, and was not, running.
    summary = client.get(
        f"/deployments/{deployment}/summary", headers=headers(settings, "oversight")
    )
    assert summary.status_code == 200, summary.text
    intervals = [
        (s["camera_id"], s["silent_since"], s["until"], s["ended_by"], s["seconds"])
        for s in summary.json()["camera_silences"]
    ]
    t = WINDOW_START
    iso = lambda d: d.isoformat()  # noqa: E731
    assert intervals == [
        (
            "cam-1",
            iso(t + timedelta(seconds=10)),
            iso(t + timedelta(seconds=445)),
            "reporting",
            435,
        ),
        ("cam-2", iso(t + timedelta(seconds=100)), iso(ended_at), "deployment_ended", 946),
        (
            "cam-3",
            iso(t + timedelta(seconds=135)),
            iso(t + timedelta(seconds=446)),
            "reporting",
            311,
        ),
    ], intervals


def test_no_silence_while_paused_and_silence_counts_from_the_resume(
    ledger: CaseLedger, settings: Settings, clock: Clock
) -> None:
    deployment = live(ledger, clock)
    clock.advance(seconds=30)
    ledger.pause_deployment(OPERATOR, deployment, "rain")
    clock.advance(minutes=30)
    assert check_silent_cameras(ledger, settings) == []
    ledger.resume_deployment(OPERATOR, deployment)
    resumed = clock.now
    clock.advance(seconds=SILENT_AFTER)
    assert check_silent_cameras(ledger, settings) == []
    clock.advance(seconds=1)
    recorded = check_silent_cameras(ledger, settings)
    assert recorded == [(deployment, c.id) for c in CAMERAS]
    silences = topics_of(ledger, deployment, DeploymentTopic.CAMERA_WENT_SILENT)
    assert {s["last_seen_at"] for s in silences} == {resumed.isoformat()}


def test_two_checkers_writing_at_once_record_one_silence(
    ledger: CaseLedger, settings: Settings, clock: Clock
) -> None:
    deployment = live(ledger, clock)
    clock.advance(seconds=SILENT_AFTER + 1)
    second = build_ledger(settings, clock=clock)
    try:
        # Both checkers read the deployment before either writes.
        first_view, second_view = ledger.deployment(deployment), second.deployment(deployment)
        for view in (first_view, second_view):
            assert view.note_camera_silent(
                camera_id="cam-1",
                last_seen_at=WINDOW_START,
                policy=ledger.policy,
                actor=AO,
                occurred_at=clock.now,
            )
        ledger._commit(first_view)
        with pytest.raises(ConcurrentWrite):
            second._commit(second_view)
        # The command on the loser's side sees the silence and records nothing.
        assert second.record_camera_silent(deployment, "cam-1", last_seen_at=WINDOW_START) is False
    finally:
        second.close()
    silences = topics_of(ledger, deployment, DeploymentTopic.CAMERA_WENT_SILENT)
    assert [s["camera_id"] for s in silences] == ["cam-1"]


# --- the matcher sends them -------------------------------------------------------------------


class Ticks:
    """A monotonic clock that moves ten seconds each time it is read."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 10.0
        return self.now


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_runner_sends_heartbeats_in_process(
    ledger: CaseLedger,
    settings: Settings,
    clock: Clock,
    sface_engine: object,  # noqa: F811
) -> None:
    deployment = live(ledger, clock)
    dropped = iter(range(0, 1000, 2))
    blank = np.zeros((240, 320, 3), dtype=np.uint8)
    frames = [Frame(blank, WINDOW_START + timedelta(seconds=i)) for i in range(6)]
    with WatchlistIndex.open(settings) as index:
        runner = MatchRunner(
            deployment_id=deployment,
            camera_id="cam-2",
            engine=sface_engine,  # type: ignore[arg-type]
            index=index,
            sink=LedgerSink(
                ledger, matcher_for(deployment), heartbeats=heartbeat_keeper(ledger, settings)
            ),
            watch=LedgerWatch(ledger, deployment),
            config=RunnerConfig(heartbeat_every_seconds=30),
            clock=ledger.clock,
            monotonic=Ticks(),
            frames_dropped=lambda: next(dropped),
        )
        summary = runner.run(iter(frames))
    # Started at 10; frames read the clock at 20, 30, 40 (the third frame: 30 s, a heartbeat) ...
    assert len(summary.heartbeats) >= 1
    first = summary.heartbeats[0]
    assert first.camera_id == "cam-2" and first.faces_seen == 0
    assert first.interval_seconds == 30.0 and first.frames_per_second == pytest.approx(0.1)
    assert first.frames_dropped == 2
    kept = latest_heartbeats(settings, deployment)
    assert set(kept) == {"cam-2"}
    assert kept["cam-2"].received_at == clock.now


def test_the_cli_takes_the_heartbeat_interval() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    base = ["--deployment", str(UUID(int=1)), "--camera", "cam-1", "--source", "x"]
    config = _runner_config(parser.parse_args([*base, "--heartbeat-every", "5"]))
    assert config is not None and config.heartbeat_every_seconds == 5.0
    assert _runner_config(parser.parse_args(base)).heartbeat_every_seconds == 30.0  # type: ignore[union-attr]
    assert _runner_config(parser.parse_args([*base, "--heartbeat-every", "0"])) is None
    assert "--heartbeat-every" in parser.format_help()

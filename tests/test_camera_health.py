"""Camera and matcher health (issue 11): matcher heartbeats over HTTP and in process, each camera's
state for the operator and oversight, and silent cameras recorded once per silence, on both
stores, with a test clock."""

from __future__ import annotations

import argparse
import threading
import time
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
from lfr_ledger.api.demo.sample_deployment import (
    AO,
    OPERATOR,
    WINDOW_START,
    matcher_for,
)
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.commands.camera_health import (
    LAST_ERROR_MAX,
    HeartbeatReport,
    clean_error_text,
)
from lfr_ledger.domain.deployment import DeploymentTopic
from lfr_ledger.domain.errors import ConcurrentWrite, NotPermitted
from lfr_ledger.domain.policy import Policy
from lfr_ledger.domain.values import Camera
from lfr_ledger.matching.index.follower import WatchlistIndex
from lfr_ledger.matching.node.live_terms import LedgerWatch
from lfr_ledger.matching.node.sinks import HttpSink, LedgerSink, request_body
from lfr_ledger.matching.pipeline.config import RunnerConfig
from lfr_ledger.matching.pipeline.ports import DeploymentCamera, RunnerReads, RunnerWrites
from lfr_ledger.matching.pipeline.runner import MatchRunner
from lfr_ledger.matching.pipeline.sources import Frame, SourceCounts, SourceGap
from lfr_ledger.projections.camera_health import latest_heartbeats
from tests.conftest import Clock, live_deployment

CAMERAS = (Camera("cam-1", "van mast"), Camera("cam-2", "tripod"), Camera("cam-3", "doorway"))
SILENT_AFTER = Policy.load().camera_silent_after_seconds


def live(ledger: CaseLedger, clock: Clock) -> UUID:
    """A live deployment with three cameras, started at the window's start."""
    deployment, _ = live_deployment(ledger, clock, cameras=CAMERAS)
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
    sface_engine: object,
) -> None:
    deployment = live(ledger, clock)
    dropped = iter(range(0, 1000, 2))
    blank = np.zeros((240, 320, 3), dtype=np.uint8)
    frames = [Frame(blank, WINDOW_START + timedelta(seconds=i)) for i in range(6)]
    with WatchlistIndex.open(settings) as index:
        runner = MatchRunner(
            camera=DeploymentCamera(deployment, "cam-2"),
            engine=sface_engine,  # type: ignore[arg-type]
            reads=RunnerReads(
                watch=LedgerWatch(ledger, deployment),
                index=index,
                source_counts=lambda: SourceCounts(offered=0, dropped=next(dropped), gaps=()),
                clock=ledger.clock,
                monotonic=Ticks(),
            ),
            writes=RunnerWrites(
                sink=LedgerSink(
                    ledger, matcher_for(deployment), heartbeats=heartbeat_keeper(ledger, settings)
                )
            ),
            config=RunnerConfig(heartbeat_every_seconds=30),
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


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_runner_waiting_on_a_lost_source_still_reports_the_open_gap(
    ledger: CaseLedger,
    settings: Settings,
    clock: Clock,
    sface_engine: object,
) -> None:
    """No frame comes while the source reconnects, yet heartbeats go out on time, each naming
    the gap still open; once frames return the closed gap is reported once."""
    deployment = live(ledger, clock)
    blank = np.zeros((240, 320, 3), dtype=np.uint8)
    lost = SourceGap(started_at=WINDOW_START + timedelta(seconds=1))
    gaps: list[SourceGap] = []
    source_back = threading.Event()

    def frames() -> Iterator[Frame]:
        yield Frame(blank, WINDOW_START)
        gaps.append(lost)
        assert source_back.wait(10), "the runner never reported the lost source"
        gaps[-1] = SourceGap(lost.started_at, WINDOW_START + timedelta(seconds=3))
        yield Frame(blank, WINDOW_START + timedelta(seconds=3))
        # Until a heartbeat has gone out after the one reporting the gap closed (every 0.2 s).
        deadline = time.monotonic() + 10
        while (closed := reported_closed()) is None or len(sent) <= closed + 1:
            assert time.monotonic() < deadline, "no heartbeat after the gap was reported closed"
            time.sleep(0.01)
        yield Frame(blank, WINDOW_START + timedelta(seconds=4))

    sent: list[HeartbeatReport] = []
    back_after: list[int] = []  # how many heartbeats had gone out when the source came back

    def reported_closed() -> int | None:
        """The index of the first heartbeat reporting the gap closed, if one went out."""
        return next(
            (i for i, r in enumerate(sent) if r.source_gaps and r.source_gaps[-1].ended_at),
            None,
        )

    def keep(actor: object, report: HeartbeatReport) -> bool:
        sent.append(report)
        waiting = [r for r in sent if r.frames_processed == 0 and r.source_gaps]
        if len(waiting) >= 2 and not source_back.is_set():
            back_after.append(len(sent))
            source_back.set()
        return False

    with WatchlistIndex.open(settings) as index:
        runner = MatchRunner(
            camera=DeploymentCamera(deployment, "cam-2"),
            engine=sface_engine,  # type: ignore[arg-type]
            reads=RunnerReads(
                watch=LedgerWatch(ledger, deployment),
                index=index,
                source_counts=lambda: SourceCounts(offered=0, dropped=0, gaps=tuple(gaps)),
                clock=ledger.clock,
            ),
            writes=RunnerWrites(sink=LedgerSink(ledger, matcher_for(deployment), heartbeats=keep)),
            config=RunnerConfig(heartbeat_every_seconds=0.2),
        )
        runner.run(frames())
    # The first heartbeat naming the gap may also count the first frame, and one may go out after
    # the source is back but before its next frame is matched: the claim is about the wait between.
    first_lost = next(i for i, r in enumerate(sent) if r.source_gaps == (lost,))
    waiting = sent[first_lost + 1 : back_after[0]]
    idle = [r for r in sent[first_lost : back_after[0]] if r.frames_processed == 0]
    assert len(idle) >= 2, "heartbeats should go out while no frame comes"
    assert all(r.frames_processed == 0 and r.source_gaps == (lost,) for r in waiting)
    closed = [r for r in sent if r.source_gaps and r.source_gaps[-1].ended_at is not None]
    assert len(closed) == 1  # reported closed once, then no more
    assert sent[-1].source_gaps == () or sent[-1] is closed[0]


def test_the_cli_takes_the_heartbeat_interval() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    base = ["--deployment", str(UUID(int=1)), "--camera", "cam-1", "--source", "x"]
    config = _runner_config(parser.parse_args([*base, "--heartbeat-every", "5"]))
    assert config is not None and config.heartbeat_every_seconds == 5.0
    assert _runner_config(parser.parse_args(base)).heartbeat_every_seconds == 30.0  # type: ignore[union-attr]
    assert _runner_config(parser.parse_args([*base, "--heartbeat-every", "0"])) is None
    assert "--heartbeat-every" in parser.format_help()


# --- what the source did (issue 14) -----------------------------------------------------------


def test_heartbeat_carries_frame_counts_and_source_gaps(
    ledger: CaseLedger,
    settings: Settings,
    clock: Clock,
    client: TestClient,  # type: ignore[type-arg]
) -> None:
    from datetime import UTC, timezone

    from lfr_ledger.matching.pipeline.sources import SourceGap

    deployment = live(ledger, clock)
    clock.advance(seconds=20)
    token = issue_token(settings, role="matcher", sub="matcher-1", deployment_id=str(deployment))
    lost = WINDOW_START + timedelta(seconds=3)
    bst = timezone(timedelta(hours=1))  # an offset other than UTC: kept in UTC
    report = HeartbeatReport(
        deployment_id=deployment,
        camera_id="cam-1",
        frames_per_second=9.5,
        faces_seen=4,
        frames_dropped=90,
        interval_seconds=30.0,
        frames_offered=375,
        frames_processed=285,
        source_gaps=(
            SourceGap(lost, lost + timedelta(seconds=7)),
            SourceGap((lost + timedelta(seconds=15)).astimezone(bst)),  # still lost
        ),
    )
    assert request_body(report)["source_gaps"][1] == {
        "started_at": (lost + timedelta(seconds=15)).astimezone(bst).isoformat(),
        "ended_at": None,
    }
    assert HttpSink("", token, client=client, retries=0).send_heartbeat(report) is False
    cameras = client.get(
        f"/deployments/{deployment}/cameras", headers=headers(settings, "operator")
    )
    assert cameras.status_code == 200, cameras.text
    beat = {c["camera_id"]: c for c in cameras.json()["cameras"]}["cam-1"]["last_heartbeat"]
    counts = ("frames_offered", "frames_processed", "frames_dropped", "faces_seen")
    assert [beat[k] for k in counts] == [375, 285, 90, 4]
    gaps = [
        (
            datetime.fromisoformat(g["started_at"]),
            None if g["ended_at"] is None else datetime.fromisoformat(g["ended_at"]),
        )
        for g in beat["source_gaps"]
    ]
    assert gaps == [(lost, lost + timedelta(seconds=7)), (lost + timedelta(seconds=15), None)]
    assert all(started.utcoffset() == timedelta(0) for started, _ in gaps)  # kept in UTC
    # The service's metrics show them per camera (the views caught up by the read above).
    metrics = client.get("/metrics").text
    labels = f'{{camera_id="cam-1",deployment_id="{deployment}"}}'
    for line in (
        f"lfr_camera_frames_offered{labels} 375.0",
        f"lfr_camera_frames_processed{labels} 285.0",
        f"lfr_camera_frames_dropped{labels} 90.0",
        f"lfr_camera_source_lost{labels} 1.0",
    ):
        assert line in metrics.splitlines(), line

    # In process the same, through the matcher's in-process sink; the latest 20 gaps only.
    many = tuple(
        SourceGap(lost + timedelta(seconds=2 * n), lost + timedelta(seconds=2 * n + 1))
        for n in range(25)
    )
    sink = LedgerSink(
        ledger, matcher_for(deployment), heartbeats=heartbeat_keeper(ledger, settings)
    )
    clock.advance(seconds=30)
    sink.send_heartbeat(
        HeartbeatReport(
            deployment,
            "cam-2",
            10.0,
            1,
            0,
            30.0,
            frames_offered=300,
            frames_processed=300,
            source_gaps=many,
        )
    )
    kept = latest_heartbeats(settings, deployment)["cam-2"]
    assert (kept.frames_offered, kept.frames_processed, kept.frames_dropped) == (300, 300, 0)
    assert [g.started_at for g in kept.source_gaps] == [g.started_at for g in many[-20:]]
    assert all(g.ended_at is not None and g.ended_at.tzinfo == UTC for g in kept.source_gaps)


def test_an_older_matchers_heartbeat_without_the_new_fields_is_accepted(
    ledger: CaseLedger,
    settings: Settings,
    clock: Clock,
    client: TestClient,  # type: ignore[type-arg]
) -> None:
    deployment = live(ledger, clock)
    own = headers(settings, "matcher", deployment_id=str(deployment))
    body = {"camera_id": "cam-3", "frames_per_second": 10, "faces_seen": 2, "interval_seconds": 30}
    ok = client.post(f"/deployments/{deployment}/heartbeat", json=body, headers=own)
    assert ok.status_code == 200, ok.text
    cameras = client.get(
        f"/deployments/{deployment}/cameras", headers=headers(settings, "operator")
    ).json()
    beat = {c["camera_id"]: c for c in cameras["cameras"]}["cam-3"]["last_heartbeat"]
    assert (beat["frames_offered"], beat["frames_processed"], beat["frames_dropped"]) == (0, 0, 0)
    assert beat["source_gaps"] == []
    # Counts without offered (a matcher whose source does not count them) are not compared.
    only_processed = {**body, "frames_processed": 300}
    ok = client.post(f"/deployments/{deployment}/heartbeat", json=only_processed, headers=own)
    assert ok.status_code == 200, ok.text


START = "2025-06-02T10:00:03+00:00"
BAD_HEARTBEATS: dict[str, tuple[dict[str, object], int, str]] = {
    "negative offered": ({"frames_offered": -1}, 400, "frames_offered"),
    "negative processed": ({"frames_processed": -5}, 400, "frames_processed"),
    "processed beyond offered": (
        {"frames_offered": 10, "frames_processed": 11},
        422,
        "frames_processed",
    ),
    "gap ending before it started": (
        {"source_gaps": [{"started_at": START, "ended_at": "2025-06-02T10:00:02+00:00"}]},
        422,
        "source_gaps[0].ended_at",
    ),
    "gap without a time zone": (
        {"source_gaps": [{"started_at": "2025-06-02T10:00:03"}]},
        400,
        "source_gaps[0].started_at",
    ),
    "gap without a start": ({"source_gaps": [{"ended_at": START}]}, 400, "started_at"),
    "too many gaps": ({"source_gaps": [{"started_at": START}] * 21}, 400, "source_gaps"),
    "a gap's unknown field": (
        {"source_gaps": [{"started_at": START, "camera_url": "rtsp://x"}]},
        400,
        "source_gaps[0]",  # the detail names `camera_url`
    ),
}


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize("case", list(BAD_HEARTBEATS), ids=list(BAD_HEARTBEATS))
def test_bad_frame_counts_and_gaps_are_refused_naming_the_field(
    ledger: CaseLedger,
    settings: Settings,
    clock: Clock,
    client: TestClient,  # type: ignore[type-arg]
    case: str,
) -> None:
    deployment = live(ledger, clock)
    extra, status, field = BAD_HEARTBEATS[case]
    body = {"camera_id": "cam-1", "frames_per_second": 10, "faces_seen": 1, "interval_seconds": 30}
    refused = client.post(
        f"/deployments/{deployment}/heartbeat",
        json={**body, **extra},
        headers=headers(settings, "matcher", deployment_id=str(deployment)),
    )
    assert refused.status_code == status, refused.text
    problem = refused.json()
    assert field in problem["detail"], problem
    assert any(field in (e.get("field") or "") for e in problem["errors"]), problem
    assert latest_heartbeats(settings, deployment) == {}  # nothing kept


def test_the_ledger_refuses_gaps_no_source_could_have_had(ledger: CaseLedger, clock: Clock) -> None:
    """In process there is no schema in front: the ledger's own checks name the field."""
    from lfr_ledger.domain.commands.camera_health import HEARTBEAT_GAPS_MAX, ReportedGap
    from lfr_ledger.domain.errors import InvalidInput

    deployment = live(ledger, clock)
    matcher = matcher_for(deployment)
    counts = {"frames_per_second": 1.0, "faces_seen": 0, "frames_dropped": 0}
    base = {"camera_id": "cam-1", "interval_seconds": 30.0, **counts}
    naive = datetime(2025, 6, 2, 10, 0)
    cases = [
        ({"source_gaps": [ReportedGap(naive)]}, "source_gaps[0].started_at"),
        (
            {"source_gaps": [ReportedGap(WINDOW_START), ReportedGap(WINDOW_START, naive)]},
            "source_gaps[1].ended_at",
        ),
        (
            {"source_gaps": [ReportedGap(WINDOW_START)] * (HEARTBEAT_GAPS_MAX + 1)},
            "source_gaps",
        ),
        ({"frames_offered": 5, "frames_processed": 6}, "frames_processed"),
        ({"frames_offered": -1}, "frames_offered"),
    ]
    for extra, field in cases:
        with pytest.raises(InvalidInput) as refused:
            ledger.check_heartbeat(matcher, HeartbeatReport(deployment, **base, **extra))  # type: ignore[arg-type]
        assert refused.value.field == field, (extra, refused.value)

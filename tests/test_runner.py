"""The live runner on a real (rendered) street video with the real sface pack.

Two enrolled people and three who are not walk past the camera; the first enrolled person twice.
Alerts come for the enrolled only, once per cool-down; nothing of the others is kept anywhere.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import cv2
import numpy as np
import pytest

from lfr_ledger.api.bootstrap import build_ledger
from lfr_ledger.api.demo.sample_deployment import (
    AO,
    COMPILER,
    OPERATOR,
    SIGNAGE,
    authorised,
    live_around_now,
    matcher_for,
    register_evaluation,
    subject,
)
from lfr_ledger.api.demo.street.people import encode_jpeg
from lfr_ledger.api.demo.street.script import Walker, portraits, render_frames, street_looks
from lfr_ledger.api.demo.street.video import write_video
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.alert import AlertClaim
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.deployment import DeploymentTopic
from lfr_ledger.domain.values import Decision
from lfr_ledger.matching.engines.enrolment import enrol_from_image
from lfr_ledger.matching.engines.faces import DetectedFace, Face, FaceEngine
from lfr_ledger.matching.engines.insightface_engine import InsightFaceEngine
from lfr_ledger.matching.index.follower import WatchlistIndex
from lfr_ledger.matching.node.live_terms import LedgerWatch
from lfr_ledger.matching.node.sinks import LedgerSink
from lfr_ledger.matching.pipeline.alerts import alert_id_for
from lfr_ledger.matching.pipeline.config import RunnerConfig
from lfr_ledger.matching.pipeline.journal import AlertJournal
from lfr_ledger.matching.pipeline.ports import (
    AlertSink,
    DeploymentCamera,
    RunnerHooks,
    RunnerReads,
    RunnerWrites,
)
from lfr_ledger.matching.pipeline.runner import MatchRunner, RunnerRefused
from lfr_ledger.matching.pipeline.sources import Frame, FrameSource
from lfr_ledger.matching.pipeline.summary import RunSummary
from tests.conftest import Clock

# The runner needs an event store, not a particular one: SQLite is enough here.
sqlite_only = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)

ROOT = Path(__file__).resolve().parents[1]
FPS = 5.0
SIZE = (480, 360)
COOLDOWN = timedelta(seconds=3)
ENROLLED = ("t1-2", "astronaut")
OTHERS = ("t1-0", "t1-4", "t1-1")
# Seven seconds: t1-2 passes twice, 4 s apart (> the cool-down), the astronaut once.
SCRIPT = (
    Walker("t1-0", 0.0, 2.5, height=150),
    Walker("t1-2", 0.5, 2.5, leftwards=True, height=150, baseline=0.58),
    Walker("astronaut", 2.0, 2.5, height=150, baseline=0.6),
    Walker("t1-4", 3.0, 2.5, leftwards=True, height=150, baseline=0.64),
    Walker("t1-2", 4.5, 2.5, height=150, baseline=0.6),
    Walker("t1-1", 5.0, 2.0, leftwards=True, height=150, baseline=0.56),
)


class RecordingEngine:
    """The engine, with every embedding it hands the runner kept aside by the test (only)."""

    def __init__(self, engine: InsightFaceEngine) -> None:
        self.engine = engine
        self.model_id = engine.model_id
        self.embedding_dim = engine.embedding_dim
        self.seen: list[np.ndarray] = []

    def detect(self, image_bgr: np.ndarray) -> list[DetectedFace]:
        return self.engine.detect(image_bgr)

    def find_faces(self, image_bgr: np.ndarray) -> list[DetectedFace]:
        return self.engine.find_faces(image_bgr)

    def embed(self, image_bgr: np.ndarray, face: DetectedFace) -> np.ndarray:
        return self.engine.embed(image_bgr, face)

    def embed_faces(
        self, image_bgr: np.ndarray, faces: Sequence[DetectedFace]
    ) -> list[Face | None]:
        found = self.engine.embed_faces(image_bgr, faces)
        self.seen.extend(face.embedding.copy() for face in found if face is not None)
        return found

    def analyse(self, image_bgr: np.ndarray) -> list[Face]:
        return self.engine.analyse(image_bgr)


@dataclass(frozen=True)
class Street:
    video: Path
    enrolment_images: dict[str, bytes]  # JPEG of the original portrait


@pytest.fixture(scope="module")
def street(
    sface_engine: InsightFaceEngine,
    tmp_path_factory: pytest.TempPathFactory,
) -> Street:
    originals = portraits(sface_engine)
    frames = render_frames(street_looks(originals), SCRIPT, fps=FPS, size=SIZE, seconds=7.0)
    video = write_video(tmp_path_factory.mktemp("street") / "street.avi", frames, FPS)
    return Street(
        video=video,
        enrolment_images={p: encode_jpeg(originals[p]) for p in (*ENROLLED, *OTHERS)},
    )


def live_deployment(
    ledger: CaseLedger, engine: InsightFaceEngine, street: Street, clock: Clock | None = None
) -> tuple[UUID, dict[str, UUID]]:
    deployment = authorised(ledger)
    entries = {
        person: enrol_from_image(
            ledger, engine, COMPILER, deployment, subject(i), street.enrolment_images[person]
        )
        for i, person in enumerate(ENROLLED)
    }
    ledger.review_watchlist(AO, deployment, confirmed_count=len(entries), not_excessive=True)
    if clock is not None:
        clock.now = datetime(2025, 6, 2, 10, 0, tzinfo=UTC)
    ledger.confirm_signage(OPERATOR, deployment, **SIGNAGE)
    ledger.start_deployment(OPERATOR, deployment)
    return deployment, entries


def node_env(settings: Settings, model_dir: Path) -> dict[str, str]:
    """The environment of a matcher subprocess on the test's embedded store."""
    env = {**os.environ, "LFR_DATA_DIR": str(settings.data_dir), "LFR_MODEL_DIR": str(model_dir)}
    env.pop("LFR_DATABASE_URL", None)
    return env


def raised_alerts(ledger: CaseLedger) -> list[UUID]:
    found = ledger.recorder.select_notifications(
        0, 100, topics=["lfr/Alert.Raised"], inclusive_of_start=False
    )
    return [UUID(str(n.originator_id)) for n in found]


def close(ledger: CaseLedger) -> None:
    ledger.close()
    close_vault = getattr(ledger.vault, "close", None)
    if close_vault is not None:
        close_vault()


def make_runner(
    ledger: CaseLedger,
    engine: FaceEngine,
    settings: Settings,
    deployment: UUID,
    config: RunnerConfig | None = None,
    *,
    sink: AlertSink | None = None,
    journal: AlertJournal | None = None,
    on_alert: Callable[[AlertClaim], None] | None = None,
    on_frame: Callable[[Frame], None] | None = None,
) -> tuple[MatchRunner, WatchlistIndex]:
    index = WatchlistIndex.open(settings)
    runner = MatchRunner(
        camera=DeploymentCamera(deployment, "cam-1"),
        engine=engine,
        reads=RunnerReads(
            watch=LedgerWatch(ledger, deployment),
            index=index,
            refresh=lambda: index.sync(ledger),
            clock=ledger.clock,
        ),
        writes=RunnerWrites(
            sink=sink or LedgerSink(ledger, matcher_for(deployment)), journal=journal
        ),
        config=config or RunnerConfig(cooldown=COOLDOWN, count_interval=timedelta(seconds=5)),
        hooks=RunnerHooks(on_alert=on_alert, on_frame=on_frame),
    )
    return runner, index


STREAM_START = datetime(2025, 6, 2, 10, 0, 5, tzinfo=UTC)


def replay(street: Street, count: int | None = None) -> Iterator[Frame]:
    return iter(FrameSource(str(street.video), start=STREAM_START, max_frames=count))


# --- alerts for the enrolled only, once per cool-down -----------------------------------------


@sqlite_only
def test_alerts_for_the_enrolled_only_and_nothing_kept_of_the_others(
    ledger: CaseLedger,
    settings: Settings,
    clock: Clock,
    sface_engine: InsightFaceEngine,
    street: Street,
) -> None:
    deployment, entries = live_deployment(ledger, sface_engine, street, clock)
    engine = RecordingEngine(sface_engine)
    runner, index = make_runner(ledger, engine, settings, deployment)
    with index:
        summary = runner.run(replay(street))
    check_alerts(ledger, deployment, entries, summary)
    check_crops(ledger, sface_engine, deployment, entries, summary)
    check_nothing_stored_of_strangers(ledger, settings, engine.seen, entries)


def check_alerts(
    ledger: CaseLedger, deployment: UUID, entries: dict[str, UUID], summary: RunSummary
) -> None:
    assert summary.stopped == "source ended"
    assert summary.frames == 35
    by_entry = Counter(a.entry_id for a in summary.alerts)
    # t1-2 passes twice, 4 s apart, with a 3 s cool-down; the astronaut once.
    assert by_entry == {entries["t1-2"]: 2, entries["astronaut"]: 1}
    for claim in summary.alerts:
        alert = ledger.alert(claim.alert_id)
        assert alert.entry_id == claim.entry_id
        assert alert.similarity >= ledger.deployment(deployment).threshold
        # The id derives from the track's start: a replay finds the same alert.
        assert claim.alert_id == alert_id_for(
            deployment, "cam-1", claim.entry_id, claim.captured_at
        )
    repeats = sorted(a.captured_at for a in summary.alerts if a.entry_id == entries["t1-2"])
    assert repeats[1] - repeats[0] >= COOLDOWN
    # Faces processed are reported per 5 s of captured time and add up to every face seen.
    assert sum(c.count for c in summary.counts) == summary.faces > 0
    assert summary.counts[0].period_start == STREAM_START
    assert all(c.period_end > c.period_start for c in summary.counts)


def check_crops(
    ledger: CaseLedger,
    engine: InsightFaceEngine,
    deployment: UUID,
    entries: dict[str, UUID],
    summary: RunSummary,
) -> None:
    """Each alert's crop shows its own subject, and no one else on the watchlist."""
    templates = {
        entry_id: np.frombuffer(ledger.reveal_entry(entry_id).template or b"", "<f4")
        for entry_id in entries.values()
    }
    threshold = ledger.deployment(deployment).threshold
    for claim in summary.alerts:
        crop = ledger.reveal_face_crop(claim.alert_id)
        assert crop is not None and crop[:3] == b"\xff\xd8\xff"  # JPEG
        image = cv2.imdecode(np.frombuffer(crop, np.uint8), cv2.IMREAD_COLOR)
        assert image is not None
        faces = engine.analyse(np.asarray(image))
        assert faces, "the crop shows no face"
        best = max(float(templates[claim.entry_id] @ f.embedding) for f in faces)
        assert best >= threshold
        for other, template in templates.items():
            if other != claim.entry_id:
                assert max(float(template @ f.embedding) for f in faces) < threshold


def check_nothing_stored_of_strangers(
    ledger: CaseLedger, settings: Settings, seen: list[np.ndarray], entries: dict[str, UUID]
) -> None:
    templates = np.stack(
        [np.frombuffer(ledger.reveal_entry(e).template or b"", "<f4") for e in entries.values()]
    )
    threshold = ledger.policy.thresholds_for("sface-2021dec").default_threshold
    # Every embedding the runner was handed for a face that matched nobody: the very bytes it
    # held (and had to drop).
    strangers = [
        vector.astype("<f4").tobytes()
        for vector in seen
        if float(np.max(templates @ vector)) < threshold
    ]
    # Tracked, each passer-by is compared a few times, not in every frame: at least once each.
    assert len(strangers) >= len(OTHERS), "every non-enrolled passer-by should be compared"
    files = [p for p in settings.data_dir.rglob("*") if p.is_file()]
    names = {p.name for p in files}
    assert {"events.sqlite", "keys.sqlite", "watchlist.sqlite"} <= names
    blobs = {p: p.read_bytes() for p in files}  # WAL and journal files included
    for raw in strangers:
        for path, blob in blobs.items():
            # The whole vector, and its first eight floats alone.
            assert raw not in blob, f"a non-enrolled face's embedding is in {path}"
            assert raw[:32] not in blob, f"part of a non-enrolled face's embedding is in {path}"
    # Images exist only sealed: no JPEG (enrolment photo or crop) lies anywhere in clear, so no
    # crop of a passer-by can either.
    for path, blob in blobs.items():
        assert b"\xff\xd8\xff" not in blob, f"an unsealed JPEG is in {path}"


# --- refusals and stops --------------------------------------------------------------------


@sqlite_only
def test_refuses_when_the_deployment_is_not_live(
    ledger: CaseLedger,
    settings: Settings,
    clock: Clock,
    sface_engine: InsightFaceEngine,
    street: Street,
) -> None:
    deployment = authorised(ledger)
    clock.now = datetime(2025, 6, 2, 10, 30, tzinfo=UTC)
    runner, index = make_runner(ledger, sface_engine, settings, deployment)
    with index, pytest.raises(RunnerRefused, match="is authorised; matching runs only while"):
        runner.run(replay(street, 5))


@sqlite_only
def test_refuses_outside_the_window(
    ledger: CaseLedger,
    settings: Settings,
    clock: Clock,
    sface_engine: InsightFaceEngine,
    street: Street,
) -> None:
    deployment, _ = live_deployment(ledger, sface_engine, street, clock)
    clock.now = datetime(2025, 6, 2, 17, 30, tzinfo=UTC)  # the window closed at 17:00
    runner, index = make_runner(ledger, sface_engine, settings, deployment)
    with index, pytest.raises(RunnerRefused, match="outside that window"):
        runner.run(replay(street, 5))
    assert ledger.deployment(deployment).is_live  # refusing is all it did


@sqlite_only
def test_stops_when_paused_and_applies_a_threshold_change(
    ledger: CaseLedger,
    settings: Settings,
    clock: Clock,
    sface_engine: InsightFaceEngine,
    street: Street,
) -> None:
    deployment, _ = live_deployment(ledger, sface_engine, street, clock)
    seen: list[AlertClaim] = []
    evaluation = register_evaluation(ledger)

    def operator(frame: Frame) -> None:
        offset = frame.captured_at - STREAM_START
        if offset == timedelta(0):
            # Applies from the next read of the terms (frame 4), before anyone walks in.
            ledger.change_threshold(AO, deployment, 0.99, "test: nobody may match", evaluation)
        if offset == timedelta(seconds=2):
            ledger.pause_deployment(OPERATOR, deployment, "crowd too dense")

    config = RunnerConfig(cooldown=COOLDOWN, check_every_frames=5, check_every_seconds=60)
    runner, index = make_runner(
        ledger, sface_engine, settings, deployment, config, on_frame=operator, on_alert=seen.append
    )
    with index:
        summary = runner.run(replay(street))
    assert summary.stopped == "deployment paused"
    # The terms are re-read every 5 frames: the pause at frame 10 stops it at the next read.
    assert summary.frames == 14
    assert seen == [] and summary.alerts == []
    # Faces seen before the stop are still counted.
    assert sum(c.count for c in summary.counts) == summary.faces > 0


# --- a killed runner, restarted on the same source -------------------------------------------


@sqlite_only
def test_sigkill_then_restart_neither_duplicates_nor_loses_alerts(
    settings: Settings,
    sface_engine: InsightFaceEngine,
    sface_model_dir: Path,
    street: Street,
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    # The subprocess runs on the wall clock: a window around now, a recording stamped from now.
    ledger = build_ledger(settings)
    try:
        deployment, entries = live_around_now(
            ledger, sface_engine, [street.enrolment_images[p] for p in ENROLLED], hours_left=1
        )
        by_person = dict(zip(ENROLLED, entries, strict=True))
        env = node_env(settings, sface_model_dir)
        command = [
            sys.executable, "-m", "lfr_ledger.api.cli.match",
            "--deployment", str(deployment), "--camera", "cam-1",
            "--source", str(street.video), "--start", now.isoformat(),
            "--cooldown", str(COOLDOWN.total_seconds()), "--count-interval", "5",
        ]  # fmt: skip

        # Paced at the frame rate, so the kill lands between the first and the second alert.
        first = subprocess.Popen(
            [*command, "--realtime"], cwd=ROOT, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        deadline = time.monotonic() + 90
        while not raised_alerts(ledger):
            assert first.poll() is None, first.stderr.read().decode() if first.stderr else ""
            assert time.monotonic() < deadline, "no alert became durable"
            time.sleep(0.02)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        before = raised_alerts(ledger)
        assert len(before) < 3, "the runner finished before it could be killed"

        second = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, timeout=120, check=False
        )
        assert second.returncode == 0, second.stderr.decode()
        after = raised_alerts(ledger)
        assert len(after) == len(set(after)) == 3
        assert set(before) <= set(after)
        by_entry = Counter(ledger.alert(a).entry_id for a in after)
        assert by_entry == {by_person["t1-2"]: 2, by_person["astronaut"]: 1}
        # The restart announced only the alerts new to it: the earlier ones came from its journal
        # and were sent again quietly (and recognised as recorded).
        printed = [
            line for line in second.stdout.decode().splitlines() if line.startswith("alert ")
        ]
        assert len(printed) == 3 - len(before)
        journal = settings.data_dir / "matchers" / str(deployment) / "cam-1.jsonl"
        assert len(journal.read_text().splitlines()) == 3
    finally:
        close(ledger)


@sqlite_only
def test_waiting_matcher_follows_the_deployment_it_serves(
    settings: Settings,
    sface_engine: InsightFaceEngine,
    sface_model_dir: Path,
    street: Street,
) -> None:
    """`lfr match --wait`: idle until the operator starts the deployment, match while it is
    live, exit when it ends; the jobs come from the event log."""
    ledger = build_ledger(settings)
    try:
        deployment, _ = live_around_now(
            ledger,
            sface_engine,
            [street.enrolment_images[p] for p in ENROLLED],
            hours_left=1,
            start=False,
        )
        env = node_env(settings, sface_model_dir)
        node = subprocess.Popen(
            [
                sys.executable, "-m", "lfr_ledger.api.cli.match", "--wait", "--realtime",
                "--deployment", str(deployment), "--camera", "cam-1",
                "--source", str(street.video), "--cooldown", "60",
            ],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip

        def raised() -> int:
            return len(raised_alerts(ledger))

        try:
            time.sleep(4)
            assert node.poll() is None, node.stderr.read().decode() if node.stderr else ""
            assert raised() == 0, "nothing may be matched before the deployment is live"
            ledger.start_deployment(OPERATOR, deployment)
            deadline = time.monotonic() + 60
            while raised() == 0:
                assert node.poll() is None, node.stderr.read().decode() if node.stderr else ""
                assert time.monotonic() < deadline, "the waiting matcher never began"
                time.sleep(0.1)
            # As an operator would: pause (no alert is raised while paused), decide every
            # alert, then end; a deployment never ends with an alert undecided.
            ledger.pause_deployment(OPERATOR, deployment, "closing down")
            for alert in raised_alerts(ledger):
                ledger.adjudicate(
                    OPERATOR, alert, Decision.NO_MATCH, "test: not reviewed", ("subject",)
                )
            ledger.end_deployment(OPERATOR, deployment)
            out, err = node.communicate(timeout=60)
        finally:
            if node.poll() is None:
                node.kill()
        assert node.returncode == 0, err.decode()
        assert "is over" in out.decode()
        # The node has exited, so the log holds all it will ever write: no alert follows the end.
        (ended,) = ledger.recorder.select_notifications(
            0, 100, topics=[DeploymentTopic.ENDED], inclusive_of_start=False
        )
        after_end = ledger.recorder.select_notifications(
            ended.id, 100, topics=["lfr/Alert.Raised"], inclusive_of_start=False
        )
        assert raised() > 0 and after_end == [], "no alert after the end"
    finally:
        close(ledger)


# --- the remote sink, through the real HTTP app ---------------------------------------------


@sqlite_only
def test_http_sink_posts_alerts_and_counts_idempotently(
    ledger: CaseLedger, settings: Settings, clock: Clock
) -> None:
    from litestar.testing import TestClient

    from lfr_ledger.api.app import create_app
    from lfr_ledger.api.auth import issue_token
    from lfr_ledger.api.demo.sample_deployment import reviewed
    from lfr_ledger.domain.errors import InvalidTransition
    from lfr_ledger.matching.node.sinks import HttpSink
    from lfr_ledger.matching.pipeline.ports import FacesCounted

    deployment, entries = reviewed(ledger)
    clock.now = datetime(2025, 6, 2, 10, 0, tzinfo=UTC)
    ledger.start_deployment(OPERATOR, deployment)
    token = issue_token(
        settings, role="matcher", sub="matcher-van-1", deployment_id=str(deployment)
    )
    captured = clock.now + timedelta(seconds=3)
    claim = AlertClaim(
        alert_id=alert_id_for(deployment, "cam-1", entries[0], captured),
        deployment_id=deployment,
        camera_id="cam-1",
        entry_id=entries[0],
        similarity=0.71,
        captured_at=captured,
        model_id="sface-2021dec",
        track_id="trk-1",
        # A real JPEG: the API refuses a face crop that is not an image (issue 23, item 7).
        face_crop=encode_jpeg(np.full((40, 32, 3), 128, np.uint8)),
    )
    with TestClient(create_app(settings, ledger=ledger)) as client:
        sink = HttpSink("", token, client=client, retries=0)
        assert sink.raise_alert(claim) == claim.alert_id
        assert sink.raise_alert(claim) == claim.alert_id  # a retry records nothing new
        assert ledger.reveal_face_crop(claim.alert_id) == claim.face_crop
        report = FacesCounted(deployment, "cam-1", captured, captured + timedelta(minutes=1), 42)
        assert sink.report_faces_counted(report) == report.report_id
        assert sink.report_faces_counted(report) == report.report_id
        ledger.pause_deployment(OPERATOR, deployment, "test")
        later = captured + timedelta(seconds=40)
        paused = AlertClaim(
            alert_id=alert_id_for(deployment, "cam-1", entries[1], later),
            deployment_id=deployment,
            camera_id="cam-1",
            entry_id=entries[1],
            similarity=0.8,
            captured_at=later,
            model_id="sface-2021dec",
            track_id="trk-2",
        )
        # The API's refusal comes back as the domain's own error, as in-process.
        with pytest.raises(InvalidTransition, match="paused"):
            sink.raise_alert(paused)
        raised = ledger.recorder.select_notifications(
            0, 100, topics=["lfr/Alert.Raised"], inclusive_of_start=False
        )
        assert len(raised) == 1  # the app closes the ledger on shutdown: asked before


# --- the schedule, rebuilt from the log -------------------------------------------------------


@sqlite_only
def test_schedule_jobs_rebuilt_from_the_log_are_deterministic_and_idempotent(
    ledger: CaseLedger, clock: Clock
) -> None:
    from apscheduler.schedulers.background import BackgroundScheduler

    from lfr_ledger.api.demo.sample_deployment import reviewed
    from lfr_ledger.matching.node.schedule import MatchSchedule, match_job_id, stop_job_id

    deployment, _ = reviewed(ledger)
    begun: list[tuple[UUID, str]] = []
    halted: list[tuple[UUID, str]] = []
    scheduler = BackgroundScheduler(timezone=UTC)
    scheduler.start(paused=True)
    try:
        schedule = MatchSchedule(
            ledger,
            scheduler,
            begin=lambda d, c: begun.append((d, c)),
            halt=lambda d, c: halted.append((d, c)),
            clock=clock,
        )
        expected = {match_job_id(deployment, "cam-1"), stop_job_id(deployment, "cam-1")}
        assert set(schedule.rebuild()) == expected
        assert set(schedule.rebuild()) == expected  # again: replaced, not duplicated
        assert {job.id for job in scheduler.get_jobs()} == expected
        match_job = scheduler.get_job(match_job_id(deployment, "cam-1"))
        assert match_job.next_run_time == datetime(2025, 6, 2, 10, 0, tzinfo=UTC)
        stop_job = scheduler.get_job(stop_job_id(deployment, "cam-1"))
        assert stop_job.next_run_time == datetime(2025, 6, 2, 17, 0, tzinfo=UTC)

        # Authorised but not started: a tick at the window's start waits for the operator.
        clock.now = datetime(2025, 6, 2, 10, 0, tzinfo=UTC)
        assert schedule.tick(deployment, "cam-1") is False
        ledger.start_deployment(OPERATOR, deployment)
        assert schedule.tick(deployment, "cam-1") is True
        assert begun == [(deployment, "cam-1")]

        # Once the deployment has ended there is nothing left to schedule.
        ledger.end_deployment(OPERATOR, deployment)
        assert schedule.rebuild() == []
        assert scheduler.get_jobs() == []
    finally:
        scheduler.shutdown(wait=False)


def test_a_live_source_hands_over_only_the_newest_frame(street: Street) -> None:
    # A file read as a live camera would be: the grabber outruns a slow consumer.
    source = FrameSource(str(street.video), drop_stale=True)
    taken = []
    for frame in source:
        taken.append(frame.captured_at)
        time.sleep(0.05)
    assert 1 <= len(taken) < 35
    assert taken == sorted(taken)


def test_a_recording_played_back_as_a_camera_delivers_on_time_and_drops_what_is_late(
    street: Street,
) -> None:
    """`realtime` with `drop_stale`: each frame arrives (and is stamped) at its moment, and a
    consumer slower than the camera gets the newest, every other one counted dropped."""
    source = FrameSource(str(street.video), realtime=True, drop_stale=True, max_frames=6)
    started = time.monotonic()
    taken = []
    for frame in source:
        taken.append(frame.captured_at)
        time.sleep(2.5 / FPS)  # two and a half frame periods per frame
    counts = source.counts()
    assert 5 <= len(taken) <= 12
    # Stamped as delivered: the stream's own pace, not the decoder's (which is far faster).
    spacing = [(b - a).total_seconds() for a, b in itertools.pairwise(taken)]
    assert min(spacing) >= 1.5 / FPS
    assert counts.dropped > 0 and counts.offered == len(taken) + counts.dropped
    assert time.monotonic() - started >= (counts.offered - 1) / FPS


def test_runner_pool_runs_one_runner_per_camera_and_halts_it() -> None:
    import threading

    from lfr_ledger.matching.node.schedule import RunnerPool

    started: list[tuple[UUID, str]] = []

    def launch(deployment: UUID, camera: str, stop: threading.Event) -> RunSummary:
        started.append((deployment, camera))
        stop.wait(10)
        return RunSummary(stopped="stopped")

    pool = RunnerPool(launch)
    deployment = UUID(int=1)
    assert pool.begin(deployment, "cam-1") is True
    assert pool.begin(deployment, "cam-1") is False  # a tick while it runs changes nothing
    assert pool.begin(deployment, "cam-2") is True
    deadline = time.monotonic() + 5
    while len(started) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sorted(pool.running()) == [(deployment, "cam-1"), (deployment, "cam-2")]
    pool.halt(deployment, "cam-1")
    assert pool.running() == [(deployment, "cam-2")]
    pool.halt_all()
    assert pool.running() == []
    assert sorted(started) == [(deployment, "cam-1"), (deployment, "cam-2")]

"""Face tracking: geometry first (boxes moved by hand), then the runner on rendered streets with
the real sface pack — one person crossing, two crossing paths, one leaving and coming back."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from uuid import UUID

import cv2
import numpy as np
import pytest

from lfr_ledger.api.demo.sample_deployment import (
    AO,
    COMPILER,
    OPERATOR,
    SIGNAGE,
    authorised,
    subject,
)
from lfr_ledger.api.demo.street.people import encode_jpeg
from lfr_ledger.api.demo.street.script import Walker, portraits, render_frames, street_looks
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.matching.engines.enrolment import enrol_from_image
from lfr_ledger.matching.engines.faces import DetectedFace
from lfr_ledger.matching.engines.insightface_engine import InsightFaceEngine
from lfr_ledger.matching.pipeline.config import RunnerConfig
from lfr_ledger.matching.pipeline.sources import Frame
from lfr_ledger.matching.pipeline.summary import RunSummary
from lfr_ledger.matching.pipeline.tracking import FaceTracker, TrackingConfig, iou
from tests.conftest import Clock
from tests.test_runner import make_runner

sqlite_only = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)

T0 = datetime(2025, 6, 2, 10, 0, 5, tzinfo=UTC)
STEP = timedelta(seconds=0.1)


def face(x: float, y: float, size: float = 80.0) -> DetectedFace:
    """A detection whose box starts at (x, y); landmarks are irrelevant to tracking."""
    return DetectedFace(bbox=(x, y, x + size, y + size), score=0.9, landmarks=np.zeros((5, 2)))


# --- geometry -------------------------------------------------------------------------------


def test_a_face_crossing_the_view_is_one_track_that_ends_after_it_leaves() -> None:
    tracker = FaceTracker(TrackingConfig(max_gap=timedelta(seconds=0.5)))
    ids = set()
    for n in range(30):  # 45 px a frame: a walker crossing 1280 px in about three seconds
        update = tracker.update([face(10 + 45 * n, 300)], T0 + n * STEP)
        ((track, _),) = update.assigned
        ids.add(track.track_id)
        assert not update.ended
    assert len(ids) == 1
    (track,) = tracker.tracks
    assert track.sightings == 30
    assert track.velocity[0] == pytest.approx(450, rel=0.01)  # pixels per second
    # Gone: still held within the gap, ended after it.
    assert not tracker.update([], T0 + 34 * STEP).ended
    ended = tracker.update([], T0 + 35 * STEP).ended
    assert [t.track_id for t in ended] == [track.track_id]
    assert tracker.tracks == ()


def test_two_faces_crossing_paths_keep_their_tracks_through_an_occlusion() -> None:
    tracker = FaceTracker()
    tracks: dict[str, set[int]] = {"rightwards": set(), "leftwards": set()}
    crowded_seen = False
    for n in range(21):
        at = T0 + n * STEP
        a, b = face(100 + 50 * n, 300), face(1100 - 50 * n, 310)
        # Side by side at the crossing (frames 10 and 11) the nearer face hides the other;
        # otherwise both are found, in an order that says nothing about who is who.
        detections = [a] if n in (10, 11) else [b, a]
        update = tracker.update(detections, at)
        crowded_seen = crowded_seen or any(t.crowded for t in tracker.tracks)
        for track, detection in update.assigned:
            walker = "rightwards" if detection is a else "leftwards"
            tracks[walker].add(track.track_id)
    assert len(tracks["rightwards"]) == 1 and len(tracks["leftwards"]) == 1
    assert tracks["rightwards"] != tracks["leftwards"]
    assert crowded_seen, "tracks that overlapped should be marked for another comparison"


def test_a_face_gone_longer_than_the_gap_comes_back_as_a_new_track() -> None:
    tracker = FaceTracker(TrackingConfig(max_gap=timedelta(seconds=1)))
    first = tracker.update([face(400, 300)], T0).assigned[0][0]
    assert tracker.update([face(402, 300)], T0 + timedelta(seconds=0.9)).assigned[0][0] is first
    back = tracker.update([face(404, 300)], T0 + timedelta(seconds=2.5))
    assert [t.track_id for t in back.ended] == [first.track_id]
    assert back.assigned[0][0].track_id != first.track_id


def test_faces_too_far_apart_or_unlike_in_size_are_not_joined() -> None:
    tracker = FaceTracker()
    tracker.update([face(100, 100)], T0)
    far = tracker.update([face(400, 100)], T0 + STEP)  # four face widths away
    assert len(tracker.tracks) == 2 and far.assigned[0][0].sightings == 1
    tracker = FaceTracker()
    tracker.update([face(100, 100, size=40)], T0)
    tracker.update([face(100, 100, size=120)], T0 + STEP)  # three times the size
    assert len(tracker.tracks) == 2


def test_a_track_is_compared_first_then_only_when_materially_better_up_to_the_cap() -> None:
    config = TrackingConfig(max_embeddings=3, improvement=0.25)
    track = FaceTracker(config).update([face(0, 0)], T0).assigned[0][0]
    assert track.wants_embedding(0.2, config)
    track.embedded(0.2)
    assert track.wants_embedding(0.1, config)  # its look could not be embedded: still new
    track.compared = True  # the runner's second stage searched its embedding
    assert not track.wants_embedding(0.24, config)  # better, but not by a quarter
    assert track.wants_embedding(0.26, config)
    track.embedded(0.26)
    track.crowded = True  # crossed another face: compared again whatever the quality
    assert track.wants_embedding(0.1, config)
    track.embedded(0.1)
    assert track.embeddings == 3 and not track.crowded
    assert not track.wants_embedding(1.0, config)  # the cap


def test_iou() -> None:
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(50 / 150)
    assert iou((0, 0, 10, 10), (10, 0, 20, 10)) == 0.0


# --- the runner on rendered streets -------------------------------------------------------------

FPS = 10.0
SIZE = (640, 480)
ENROLLED = "t1-2"
STRANGER = "t1-4"


@pytest.fixture(scope="module")
def looks(sface_engine: InsightFaceEngine) -> dict[str, np.ndarray]:
    return street_looks(portraits(sface_engine))


@pytest.fixture(scope="module")
def enrolment_photo(sface_engine: InsightFaceEngine) -> bytes:
    return encode_jpeg(portraits(sface_engine)[ENROLLED])


def live_with_one_entry(
    ledger: CaseLedger, engine: InsightFaceEngine, photo: bytes, clock: Clock
) -> tuple[UUID, UUID]:
    deployment = authorised(ledger)
    entry = enrol_from_image(ledger, engine, COMPILER, deployment, subject(0), photo)
    ledger.review_watchlist(AO, deployment, confirmed_count=1, not_excessive=True)
    clock.now = datetime(2025, 6, 2, 10, 0, tzinfo=UTC)
    ledger.confirm_signage(OPERATOR, deployment, **SIGNAGE)
    ledger.start_deployment(OPERATOR, deployment)
    return deployment, entry


def stream(frames: Sequence[np.ndarray]) -> Iterator[Frame]:
    for n, image in enumerate(frames):
        yield Frame(image, T0 + n * timedelta(seconds=1 / FPS))


def run_street(
    ledger: CaseLedger,
    settings: Settings,
    engine: InsightFaceEngine,
    deployment: UUID,
    frames: Sequence[np.ndarray],
    cooldown: timedelta = timedelta(seconds=3),
) -> RunSummary:
    config = RunnerConfig(cooldown=cooldown, count_interval=timedelta(seconds=5))
    runner, index = make_runner(ledger, engine, settings, deployment, config)
    with index:
        return runner.run(stream(frames))


@sqlite_only
def test_a_person_crossing_alerts_once_from_a_few_embeddings(
    ledger: CaseLedger,
    settings: Settings,
    clock: Clock,
    sface_engine: InsightFaceEngine,
    looks: dict[str, np.ndarray],
    enrolment_photo: bytes,
) -> None:
    deployment, entry = live_with_one_entry(ledger, sface_engine, enrolment_photo, clock)
    frames = render_frames(looks, (Walker(ENROLLED, 0.0, 3.0, height=170),), fps=FPS, size=SIZE)
    summary = run_street(ledger, settings, sface_engine, deployment, frames)
    assert [a.entry_id for a in summary.alerts] == [entry]
    assert summary.faces == 1  # one passer-by, one face processed
    assert summary.detections >= 20  # seen in most of the thirty frames...
    assert 1 <= summary.embeddings <= TrackingConfig().max_embeddings  # ...embedded a few times


@sqlite_only
def test_two_people_crossing_paths_raise_one_alert_for_the_enrolled_one(
    ledger: CaseLedger,
    settings: Settings,
    clock: Clock,
    sface_engine: InsightFaceEngine,
    looks: dict[str, np.ndarray],
    enrolment_photo: bytes,
) -> None:
    deployment, entry = live_with_one_entry(ledger, sface_engine, enrolment_photo, clock)
    script = (  # the same height in the frame: their faces overlap as they pass
        Walker(STRANGER, 0.0, 3.0, height=170, baseline=0.55),
        Walker(ENROLLED, 0.0, 3.0, leftwards=True, height=170, baseline=0.6),
    )
    frames = render_frames(looks, script, fps=FPS, size=SIZE)
    summary = run_street(ledger, settings, sface_engine, deployment, frames)
    assert Counter(a.entry_id for a in summary.alerts) == {entry: 1}
    assert summary.faces >= 2  # both compared (a swap would add a track, never lose one)
    # The crop the operator sees is the enrolled person's.
    (claim,) = summary.alerts
    crop = ledger.reveal_face_crop(claim.alert_id)
    assert crop is not None
    image = cv2.imdecode(np.frombuffer(crop, np.uint8), cv2.IMREAD_COLOR)
    template = np.frombuffer(ledger.reveal_entry(entry).template or b"", "<f4")
    threshold = ledger.deployment(deployment).threshold
    assert max(float(template @ f.embedding) for f in sface_engine.analyse(image)) >= threshold


@sqlite_only
@pytest.mark.parametrize(("gap", "alerts"), [(1.0, 1), (5.0, 2)])
def test_a_person_coming_back_alerts_again_only_after_the_cooldown(
    ledger: CaseLedger,
    settings: Settings,
    clock: Clock,
    sface_engine: InsightFaceEngine,
    looks: dict[str, np.ndarray],
    enrolment_photo: bytes,
    gap: float,
    alerts: int,
) -> None:
    """Cool-down 4 s from the first sighting: back 1 s after leaving (its track ended, but
    inside the cool-down) raises nothing new; back 5 s after raises a second alert."""
    deployment, entry = live_with_one_entry(ledger, sface_engine, enrolment_photo, clock)
    script = (
        Walker(ENROLLED, 0.0, 2.0, height=170),
        Walker(ENROLLED, 2.0 + gap, 2.0, leftwards=True, height=170),
    )
    frames = render_frames(looks, script, fps=FPS, size=SIZE)
    summary = run_street(
        ledger, settings, sface_engine, deployment, frames, cooldown=timedelta(seconds=4)
    )
    assert [a.entry_id for a in summary.alerts] == [entry] * alerts
    assert summary.faces == 2  # two passes, two faces processed, whatever was alerted
    if alerts == 2:
        first, second = sorted(a.captured_at for a in summary.alerts)
        assert second - first >= timedelta(seconds=4)

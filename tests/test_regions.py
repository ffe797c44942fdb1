"""Where the runner searches for faces (`matching/pipeline/regions.py`): only where something
moved or a track predicts a face, and the whole frame at least once a second; and what it sheds
when it is behind (`FaceTrack.wants_embedding(behind=True)`).

The rule that matters: a face never appears where the gate does not search. It is checked on the
rendered street (the van benchmark's, `api/demo/street/`) against the scene's truth, frame by
frame, with the whole-frame search switched off, so motion alone has to find every new face."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import cv2
import numpy as np
import pytest

from lfr_ledger.api.cli.match import _runner_config, add_arguments
from lfr_ledger.api.demo.street.drawing import frames, street
from lfr_ledger.api.demo.street.people import DEFAULT_ENROLLED, SAMPLE_PEOPLE, scene_portraits
from lfr_ledger.api.demo.street.plan import plan_passages
from lfr_ledger.api.demo.street.scene import Passage, SceneSpec
from lfr_ledger.api.demo.street.truth import truth_boxes
from lfr_ledger.domain.alert import AlertClaim
from lfr_ledger.matching.engines.insightface_engine import InsightFaceEngine
from lfr_ledger.matching.engines.model_packs import SFACE_PACK
from lfr_ledger.matching.pipeline.config import RunnerConfig
from lfr_ledger.matching.pipeline.ports import (
    DeploymentCamera,
    FacesCounted,
    LiveTerms,
    RunnerReads,
    RunnerWrites,
)
from lfr_ledger.matching.pipeline.regions import Box, GatingConfig, RegionGate, merge_boxes
from lfr_ledger.matching.pipeline.runner import MatchRunner
from lfr_ledger.matching.pipeline.sources import Frame
from lfr_ledger.matching.pipeline.summary import RunSummary
from lfr_ledger.matching.pipeline.tracking import FaceTrack, FaceTracker, TrackingConfig, iou

pytestmark = pytest.mark.filterwarnings("ignore:`estimate` is deprecated:FutureWarning")

SPEC = SceneSpec(seconds=12.0)  # the benchmark's street, 1280 × 720 at 10 fps, three passes
T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
# Motion and tracks only: the once-a-second whole-frame search would hide a miss.
NEVER_WHOLE = GatingConfig(full_every=timedelta(days=1), max_cover=1.0)


def _at(index: int) -> datetime:
    return T0 + timedelta(seconds=index / SPEC.fps)


def _inside(box: Box, regions: list[Box], slack: float = 1.0) -> bool:
    return any(
        r[0] - slack <= box[0] and r[1] - slack <= box[1] and box[2] <= r[2] + slack
        and box[3] <= r[3] + slack
        for r in regions
    )  # fmt: skip


@pytest.fixture(scope="module")
def street_frames(sface_engine: InsightFaceEngine) -> tuple[list[Passage], list[np.ndarray]]:
    portraits = scene_portraits(sface_engine, SPEC)
    passages = plan_passages("cam-1", SAMPLE_PEOPLE, DEFAULT_ENROLLED, SPEC)
    return passages, list(frames(portraits, passages, SPEC))


@pytest.fixture(scope="module")
def engine(sface_model_dir: Path) -> InsightFaceEngine:
    """The engine as the van runs it: faces found on the frame shrunk to 640 px."""
    return InsightFaceEngine(sface_model_dir, SFACE_PACK, threads=1, detector_max_side=640)


def test_motion_alone_covers_every_face_in_view_from_the_frame_it_appears(
    street_frames: tuple[list[Passage], list[np.ndarray]],
) -> None:
    passages, images = street_frames
    gate = RegionGate(NEVER_WHOLE)
    assert gate.regions(images[0], [], _at(0)) is None  # the first frame: searched whole
    faces = 0
    for index in range(1, len(images)):
        regions = gate.regions(images[index], [], _at(index))
        assert regions is not None
        for person, box in truth_boxes(passages, SPEC, index):
            faces += 1
            assert _inside(box, regions), f"{person} in frame {index} is outside {regions}"
    assert faces > 100  # the street was busy: three passes of two or three people
    # ...and the first frame of each passage fully in view was one of them
    assert all(p.enters_at * SPEC.fps < len(images) for p in passages[:3])


def test_gated_search_finds_the_faces_the_whole_frame_search_finds(
    engine: InsightFaceEngine,
    street_frames: tuple[list[Passage], list[np.ndarray]],
) -> None:
    """On the shrunk frame the benchmark uses: every face in view and uncovered that the whole
    frame's search finds, the gated search finds in the same frame."""
    passages, images = street_frames
    gate, tracker = RegionGate(NEVER_WHOLE), FaceTracker()
    found, searched_px = 0, 0.0
    for index, image in enumerate(images):
        at = _at(index)
        regions = gate.regions(image, tracker.predicted_boxes(at), at)
        whole = engine.find_faces(image)
        gated = whole if regions is None else engine.find_faces_in(image, regions)
        tracker.update(gated, at)
        searched_px += sum((r[2] - r[0]) * (r[3] - r[1]) for r in regions or [(0, 0, 1280, 720)])
        for person, box in truth_boxes(passages, SPEC, index, min_visible=0.9):
            if any(iou(face.bbox, box) > 0.5 for face in whole):
                found += 1
                assert any(iou(face.bbox, box) > 0.5 for face in gated), (person, index)
    assert found > 100
    assert searched_px < 0.5 * 1280 * 720 * len(images)  # and it searched less than half


def test_a_still_street_is_not_searched_and_a_change_everywhere_is_searched_whole() -> None:
    background = street(SPEC, "cam-1")
    gate = RegionGate()
    assert gate.regions(background, [], _at(0)) is None
    assert gate.regions(background, [], _at(1)) == []
    brighter = cv2.add(background, np.full_like(background, 40))  # the sun came out
    assert gate.regions(brighter, [], _at(2)) is None
    assert gate.regions(brighter, [], _at(3)) == []  # and then it is the street as it is now


def test_the_whole_frame_is_searched_at_least_every_full_every() -> None:
    background = street(SPEC, "cam-1")
    gate = RegionGate(GatingConfig(full_every=timedelta(seconds=1)))
    searched_whole = [gate.regions(background, [], _at(i)) is None for i in range(25)]
    assert searched_whole == [i % 10 == 0 for i in range(25)]


def test_a_followed_face_is_searched_where_its_track_predicts_it_even_when_still() -> None:
    background = street(SPEC, "cam-1")
    gate = RegionGate()
    gate.regions(background, [], _at(0))
    face = (600.0, 300.0, 700.0, 420.0)
    regions = gate.regions(background, [face], _at(1))
    assert regions is not None and _inside(face, regions)
    assert not _inside((100.0, 100.0, 200.0, 220.0), regions)


def test_merged_regions_cover_every_box_and_never_overlap() -> None:
    rng = np.random.default_rng(3)
    for _ in range(50):
        corners = rng.uniform(0, 1000, (8, 2))
        sizes = rng.uniform(10, 200, (8, 2))
        boxes: list[Box] = [
            (float(x), float(y), float(x + w), float(y + h))
            for (x, y), (w, h) in zip(corners, sizes, strict=True)
        ]
        merged = merge_boxes(boxes)
        assert all(_inside(box, merged, slack=0.0) for box in boxes)
        for i, a in enumerate(merged):
            for b in merged[i + 1 :]:
                assert min(a[2], b[2]) < max(a[0], b[0]) or min(a[3], b[3]) < max(a[1], b[1])


def test_a_region_search_gives_frame_coordinates_and_nothing_outside_it(
    engine: InsightFaceEngine,
    street_frames: tuple[list[Passage], list[np.ndarray]],
) -> None:
    passages, images = street_frames
    index = next(i for i in range(len(images)) if len(truth_boxes(passages, SPEC, i)) >= 2)
    (_, first), (_, second) = truth_boxes(passages, SPEC, index)[:2]
    region = (first[0] - 60, first[1] - 60, first[2] + 60, first[3] + 60)
    if _inside(second, [region]):
        pytest.skip("the two faces are too close for this frame")
    whole = engine.find_faces(images[index])
    found = engine.find_faces_in(images[index], [region])
    assert [iou(f.bbox, first) > 0.5 for f in found] == [True]
    (mine,) = [f for f in whole if iou(f.bbox, first) > 0.5]
    assert iou(found[0].bbox, mine.bbox) > 0.9 and found[0].coarse == mine.coarse


# --- what the runner sheds when it is behind -------------------------------------------------


def _track(
    embeddings: int, best: float, crowded: bool = False, compared: bool | None = None
) -> FaceTrack:
    track = FaceTrack(1, (0.0, 0.0, 100.0, 100.0), first_seen=T0, last_seen=T0)
    track.embeddings, track.best_quality, track.crowded = embeddings, best, crowded
    track.compared = embeddings > 0 if compared is None else compared
    return track


def test_behind_only_a_second_look_at_a_face_already_compared_is_shed() -> None:
    config = TrackingConfig()
    better = 0.5 * (1 + config.improvement) + 0.1
    # a better look: compared when keeping up, shed when behind
    assert _track(1, 0.5).wants_embedding(better, config)
    assert not _track(1, 0.5).wants_embedding(better, config, behind=True)
    # never shed: a new face, and a face that has just crossed another
    assert _track(0, 0.0).wants_embedding(0.1, config, behind=True)
    assert _track(2, 0.5, crowded=True).wants_embedding(0.1, config, behind=True)
    # nor a face whose looks so far the recogniser could not embed (cut by the frame's edge):
    # it has not been compared yet
    assert _track(1, 0.5, compared=False).wants_embedding(0.1, config, behind=True)
    # the cap holds either way
    assert not _track(config.max_embeddings, 0.5, crowded=True).wants_embedding(0.9, config)


# --- the runner and the CLI -------------------------------------------------------------------


class _Watch:
    def __init__(self, model_id: str) -> None:
        self.live = LiveTerms(
            "live", T0 - timedelta(hours=1), T0 + timedelta(hours=1), 0.99, model_id,
            frozenset({"cam-1"}),
        )  # fmt: skip

    def terms(self) -> LiveTerms:
        return self.live


class _NobodyListed:
    def search_many(
        self, deployment_id: UUID, embeddings: Any, k: int = 1, *, model_id: str
    ) -> list[list[Any]]:
        return [[] for _ in embeddings]


class _Counts:
    def __init__(self) -> None:
        self.reports: list[FacesCounted] = []

    def raise_alert(self, claim: AlertClaim) -> UUID:
        raise AssertionError("nobody is listed")

    def report_faces_counted(self, report: FacesCounted) -> UUID:
        self.reports.append(report)
        return UUID(int=len(self.reports))


def _run(
    engine: InsightFaceEngine, images: list[np.ndarray], gating: GatingConfig | None
) -> RunSummary:
    runner = MatchRunner(
        camera=DeploymentCamera(UUID(int=7), "cam-1"),
        engine=engine,
        reads=RunnerReads(watch=_Watch(engine.model_id), index=_NobodyListed(), clock=lambda: T0),
        writes=RunnerWrites(sink=_Counts()),
        config=RunnerConfig(gating=gating),
    )
    return runner.run(Frame(image, _at(i)) for i, image in enumerate(images))


def test_the_gated_runner_compares_the_same_passers_by_searching_whole_once_a_second(
    engine: InsightFaceEngine,
    street_frames: tuple[list[Passage], list[np.ndarray]],
) -> None:
    _, images = street_frames
    whole = _run(engine, images, None)
    gated = _run(engine, images, GatingConfig())
    assert whole.whole_frames == whole.frames == gated.frames == len(images)
    assert gated.whole_frames <= len(images) // 10 + 2  # once a second, or when most moved
    assert gated.faces == whole.faces > 0  # every passer-by compared, none twice
    assert abs(gated.detections - whole.detections) <= whole.detections // 50


def test_lfr_match_searches_where_faces_can_be_unless_told_whole_frames() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    base = ["--deployment", str(UUID(int=1)), "--camera", "cam-1", "--source", "x"]
    config = _runner_config(parser.parse_args(base))
    assert config is not None and config.gating == GatingConfig()
    whole = _runner_config(parser.parse_args([*base, "--whole-frames"]))
    assert whole is not None and whole.gating is None

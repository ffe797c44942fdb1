"""Face tracks: one passer-by followed across one camera's frames, so the runner compares a face
with the watchlist a few times as it crosses the view instead of in every frame.

A track holds only geometry and numbers: its last box, its velocity, when it was first and last
seen, how good its best sighting was and how many embeddings were taken of it. No pixels and no
embedding ever live here; a track unseen for `max_gap` of captured time ends, and the runner
counts it and forgets it.

Association is greedy on motion-predicted centres: each track's box is moved by its velocity to
the frame's capture time, and a detection joins the nearest predicted track within about one face
width whose size is alike. Two people crossing paths keep their tracks because their predictions
diverge; while two tracks' predicted boxes overlap, both are marked `crowded`, and the runner
compares each again once they part, so a track that swapped faces mid-crossing is caught.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import cv2
import numpy as np

from lfr_ledger.matching.engines.faces import DetectedFace, region

Box = tuple[float, float, float, float]  # x1, y1, x2, y2 in frame pixels


@dataclass(frozen=True)
class TrackingConfig:
    """`max_gap`: a track unseen this long (captured time) has left the view.
    `max_distance`: how far (in face widths) a detection may lie from a track's predicted centre.
    `max_size_ratio`: how much larger or smaller a face may be from one sighting to the next.
    `max_embeddings`: how many times one track may be compared with the watchlist.
    `improvement`: a later sighting is compared again only if its quality beats the best compared
    so far by this fraction.
    `every_sighting`: compare every sighting of every face, as the runner did before it tracked
    (the benchmarks' baseline; it costs an embedding per face per frame).
    """

    max_gap: timedelta = timedelta(seconds=1.0)
    max_distance: float = 1.0
    max_size_ratio: float = 1.6
    max_embeddings: int = 4
    improvement: float = 0.25
    every_sighting: bool = False

    def __post_init__(self) -> None:
        if self.max_gap <= timedelta(0) or self.max_distance <= 0 or self.max_size_ratio < 1:
            raise ValueError("max_gap, max_distance must be positive and max_size_ratio ≥ 1")
        if self.max_embeddings < 1 or self.improvement < 0:
            raise ValueError("max_embeddings must be ≥ 1 and improvement ≥ 0")


@dataclass(eq=False)
class FaceTrack:
    """One face followed across frames. Geometry and counts only."""

    track_id: int
    box: Box
    first_seen: datetime
    last_seen: datetime
    velocity: tuple[float, float] = (0.0, 0.0)  # of the box centre, pixels per second
    sightings: int = 1
    embeddings: int = 0
    best_quality: float = 0.0  # of the sightings compared with the watchlist
    crowded: bool = False  # overlapped another track since it was last compared
    # Set by the runner's second stage once an embedding of it was searched: a first look the
    # recogniser could not embed (a face cut by the frame's edge) leaves the track still new.
    compared: bool = False

    def predicted(self, at: datetime) -> Box:
        """The box moved on by the track's velocity to `at`."""
        dt = (at - self.last_seen).total_seconds()
        dx, dy = self.velocity[0] * dt, self.velocity[1] * dt
        x1, y1, x2, y2 = self.box
        return (x1 + dx, y1 + dy, x2 + dx, y2 + dy)

    def wants_embedding(
        self, quality: float, config: TrackingConfig, *, behind: bool = False
    ) -> bool:
        """Whether this sighting is worth comparing with the watchlist: the first one, the first
        after a crossing, or one materially better than any compared so far, up to the cap.
        A track whose looks so far could not be embedded is still waiting for its first.
        `behind` (the runner cannot keep up): only the first and the first after a crossing,
        which are never shed."""
        if config.every_sighting:
            return True
        if self.embeddings == 0:
            return True
        if (self.crowded or not self.compared) and self.embeddings < config.max_embeddings:
            return True
        if behind or self.embeddings >= config.max_embeddings:
            return False
        return quality > self.best_quality * (1.0 + config.improvement)

    def embedded(self, quality: float) -> None:
        self.embeddings += 1
        self.best_quality = max(self.best_quality, quality)
        self.crowded = False


@dataclass(frozen=True)
class TrackUpdate:
    """What one frame did to the tracks: which detection went to which track (new tracks
    included, `FaceTrack.sightings == 1`), and which tracks ended."""

    assigned: list[tuple[FaceTrack, DetectedFace]]
    ended: list[FaceTrack]


@dataclass
class FaceTracker:
    """Follows the faces of one camera. Not thread-safe: one tracker per runner."""

    config: TrackingConfig = field(default_factory=TrackingConfig)
    _tracks: list[FaceTrack] = field(default_factory=list, init=False)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1), init=False)

    @property
    def tracks(self) -> Sequence[FaceTrack]:
        return tuple(self._tracks)

    def update(self, detections: Sequence[DetectedFace], at: datetime) -> TrackUpdate:
        """Assigns the frame's detections (captured `at`) to tracks, opening a track for each
        detection no track claims, and ends tracks unseen for longer than `max_gap`."""
        ended = [t for t in self._tracks if at - t.last_seen > self.config.max_gap]
        live = [t for t in self._tracks if t not in ended]
        predictions = {id(t): t.predicted(at) for t in live}
        _mark_crowded(live, predictions)

        pairs = []
        for ti, track in enumerate(live):
            for di, detection in enumerate(detections):
                cost = self._cost(predictions[id(track)], detection.bbox)
                if cost is not None:
                    pairs.append((cost, ti, di))
        pairs.sort()
        taken_tracks: set[int] = set()
        taken_detections: set[int] = set()
        assigned: list[tuple[FaceTrack, DetectedFace]] = []
        for _, ti, di in pairs:
            if ti in taken_tracks or di in taken_detections:
                continue
            taken_tracks.add(ti)
            taken_detections.add(di)
            track = live[ti]
            _follow(track, detections[di].bbox, at)
            assigned.append((track, detections[di]))
        for di, detection in enumerate(detections):
            if di not in taken_detections:
                track = FaceTrack(next(self._ids), detection.bbox, first_seen=at, last_seen=at)
                live.append(track)
                assigned.append((track, detection))
        self._tracks = live
        return TrackUpdate(assigned=assigned, ended=ended)

    def predicted_boxes(self, at: datetime) -> list[Box]:
        """Where each live track's face should be at `at` (tracks unseen longer than `max_gap`
        left out: the next update ends them)."""
        return [t.predicted(at) for t in self._tracks if at - t.last_seen <= self.config.max_gap]

    def end_all(self) -> list[FaceTrack]:
        """Ends every track (the source ended or the runner stopped)."""
        ended, self._tracks = self._tracks, []
        return ended

    def _cost(self, predicted: Box, box: Box) -> float | None:
        """Distance between centres in face widths; None when too far or too unlike in size."""
        width_p, width_d = predicted[2] - predicted[0], box[2] - box[0]
        if width_p <= 0 or width_d <= 0:
            return None
        ratio = max(width_p, width_d) / min(width_p, width_d)
        if ratio > self.config.max_size_ratio:
            return None
        (px, py), (dx, dy) = _centre(predicted), _centre(box)
        distance = math.hypot(px - dx, py - dy) / ((width_p + width_d) / 2)
        return distance if distance <= self.config.max_distance else None


def _centre(box: Box) -> tuple[float, float]:
    return ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)


def _follow(track: FaceTrack, box: Box, at: datetime) -> None:
    dt = (at - track.last_seen).total_seconds()
    if dt > 0:
        (ox, oy), (nx, ny) = _centre(track.box), _centre(box)
        measured = ((nx - ox) / dt, (ny - oy) / dt)
        if track.sightings == 1:
            track.velocity = measured
        else:
            # Smoothed: a detector's box jitters a few pixels from frame to frame.
            track.velocity = (
                0.5 * track.velocity[0] + 0.5 * measured[0],
                0.5 * track.velocity[1] + 0.5 * measured[1],
            )
    track.box = box
    track.last_seen = at
    track.sightings += 1


def _mark_crowded(tracks: Sequence[FaceTrack], predictions: dict[int, Box]) -> None:
    for a, b in itertools.combinations(tracks, 2):
        if iou(predictions[id(a)], predictions[id(b)]) > 0.0:
            a.crowded = b.crowded = True


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


# --- how good a sighting is ---------------------------------------------------------------------

# Beyond this a face is big enough: the recogniser sees 112 px.
_ENOUGH_PX = 112.0
# Variance of the Laplacian on a 64-px grey face at which a face counts as sharp.
_SHARP_VARIANCE = 150.0


def sighting_quality(image_bgr: np.ndarray, face: DetectedFace) -> float:
    """How well this sighting shows the face, in [0, 1]: size, the detector's confidence,
    sharpness and how frontal it is, multiplied. Used to choose which sightings to compare and
    which crop the operator sees."""
    size = min(face.size_px / _ENOUGH_PX, 1.0)
    return size * max(0.0, min(face.score, 1.0)) * _sharpness(image_bgr, face) * _frontal(face)


def _sharpness(image_bgr: np.ndarray, face: DetectedFace) -> float:
    left, top, right, bottom = region(face.bbox, image_bgr.shape)
    if right - left < 4 or bottom - top < 4:
        return 0.0
    grey = cv2.cvtColor(image_bgr[top:bottom, left:right], cv2.COLOR_BGR2GRAY)
    grey = cv2.resize(grey, (64, 64), interpolation=cv2.INTER_AREA)
    variance = float(cv2.Laplacian(grey, cv2.CV_32F).var())
    return min(variance / _SHARP_VARIANCE, 1.0)


def _frontal(face: DetectedFace) -> float:
    """1 for a face looking at the camera, falling as the nose moves off the eyes' midline."""
    landmarks = face.landmarks
    left_eye, right_eye, nose = landmarks[0], landmarks[1], landmarks[2]
    eye_distance = float(np.linalg.norm(right_eye - left_eye))
    if eye_distance <= 0:
        return 0.0
    offset = abs(float(nose[0] - (left_eye[0] + right_eye[0]) / 2)) / eye_distance
    return max(0.0, 1.0 - offset)

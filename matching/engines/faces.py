"""What an engine finds and the protocols engines and detectors satisfy.

A `DetectedFace` is a detector's box, score and five landmarks; a `Face` is one that passed the
`QualityGate` and was embedded. `FaceEngine` is what the matcher needs of any engine plugin
(`plugins.py` finds them); `Detector` is what the built-in engine needs of its detector.

An engine holds per-call state (each detector network's input size): `detect`/`find_faces` may
run on one thread while `embed_faces` runs on another (the runner's pipeline does this; they
share no network), but neither may run on two threads at once: give each runner its own engine.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np


# eq=False: fields hold arrays, whose `==` is elementwise; faces compare by identity.
@dataclass(frozen=True, eq=False)
class DetectedFace:
    """A face the detector found, in the frame's pixel coordinates."""

    bbox: tuple[float, float, float, float]  # x1, y1, x2, y2
    score: float
    # (5, 2) float32: eye, eye, nose tip, mouth corner, mouth corner, image-left first in each
    # pair — the order insightface's `norm_crop` maps onto the ArcFace template.
    landmarks: np.ndarray = field(repr=False)
    # Found on a shrunk frame: good enough to track, too coarse to align (see `YuNetDetector`).
    coarse: bool = False

    @property
    def size_px(self) -> float:
        """The shorter side of the box: what a minimum-face-size rule is measured against."""
        x1, y1, x2, y2 = self.bbox
        return min(x2 - x1, y2 - y1)


@dataclass(frozen=True, eq=False)
class Face:
    """A face that passed the quality gate, with its L2-normalised embedding."""

    detection: DetectedFace
    embedding: np.ndarray = field(repr=False)  # (embedding_dim,) float32, unit length

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        return self.detection.bbox

    @property
    def score(self) -> float:
        return self.detection.score


@dataclass(frozen=True)
class QualityGate:
    """Faces too small or too doubtful to compare are discarded before embedding.

    `min_face_px` is the shorter side of the detector's box in frame pixels; `min_detector_score`
    is the detector's own confidence.
    """

    min_face_px: float = 32.0
    min_detector_score: float = 0.7

    def admits(self, face: DetectedFace) -> bool:
        return face.size_px >= self.min_face_px and face.score >= self.min_detector_score


def region(
    box: tuple[float, float, float, float], shape: tuple[int, ...], margin: float = 0.0
) -> tuple[int, int, int, int]:
    """`box` grown by `margin` of its size on every side and clipped to an image of `shape`,
    as whole pixels: left, top, right, bottom."""
    x1, y1, x2, y2 = box
    mx, my = (x2 - x1) * margin, (y2 - y1) * margin
    height, width = shape[:2]
    return (
        max(0, math.floor(x1 - mx)),
        max(0, math.floor(y1 - my)),
        min(width, math.ceil(x2 + mx)),
        min(height, math.ceil(y2 + my)),
    )


def nearest_face(faces: Sequence[DetectedFace], point: tuple[float, float]) -> DetectedFace | None:
    """The face whose box centre lies nearest `point` (x, y); None if there is none."""
    if not faces:
        return None

    def distance(face: DetectedFace) -> float:
        x1, y1, x2, y2 = face.bbox
        return ((x1 + x2) / 2 - point[0]) ** 2 + ((y1 + y2) / 2 - point[1]) ** 2

    return min(faces, key=distance)


@runtime_checkable
class FaceEngine(Protocol):
    """What the matcher needs from an engine. Images are BGR uint8 (H, W, 3), as OpenCV reads."""

    model_id: str
    embedding_dim: int

    def detect(self, image_bgr: np.ndarray) -> list[DetectedFace]: ...

    def find_faces(self, image_bgr: np.ndarray) -> list[DetectedFace]:
        """The faces worth following: detected, and admitted by the quality gate."""
        ...

    def embed(self, image_bgr: np.ndarray, face: DetectedFace) -> np.ndarray: ...

    def embed_faces(
        self, image_bgr: np.ndarray, faces: Sequence[DetectedFace]
    ) -> list[Face | None]:
        """Each face aligned and embedded (coarse ones refined first), in one recogniser run;
        None where a face could not be refined or gave a degenerate embedding."""
        ...

    def analyse(self, image_bgr: np.ndarray) -> list[Face]: ...


class Detector(Protocol):
    def detect(self, image_bgr: np.ndarray) -> list[DetectedFace]: ...

    def refine(self, image_bgr: np.ndarray, face: DetectedFace) -> DetectedFace | None:
        """A coarse face's box and landmarks found again at full resolution (called only for
        faces this detector marked `coarse`)."""
        ...

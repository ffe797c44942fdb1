"""The detectors the built-in engine runs: YuNet through OpenCV (the sface pack) and SCRFD
through InsightFace on onnxruntime (buffalo_l).

InsightFace would route YuNet to SCRFD, wrongly, so YuNet runs in `cv2.FaceDetectorYN`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from lfr_ledger.matching.engines.faces import DetectedFace, nearest_face, region


class YuNetDetector:
    """YuNet through `cv2.FaceDetectorYN`, optionally on a frame shrunk to `max_side`.

    Shrinking bounds the cost on HD frames (YuNet's cost grows with pixels) but costs landmark
    precision, and alignment error moves SFace's similarities a lot: on the sample group photo,
    detecting at half size dropped one person's genuine score from 0.83 to 0.51. So faces found on
    a shrunk frame are marked `coarse`, and `refine` finds each again in a full-resolution crop
    around it (box plus `REFINE_MARGIN`) before it is aligned: a few milliseconds a face, paid only
    for the faces being embedded.
    """

    REFINE_MARGIN = 0.6
    REGION_STEP = 32

    def __init__(
        self,
        model_path: Path,
        *,
        score_threshold: float = 0.5,
        nms_threshold: float = 0.3,
        max_side: int | None = None,
    ) -> None:
        # Two networks: `refine` runs on the embedding side of the runner's pipeline while
        # `detect` runs on the next frame, and one network's input size is per-call state.
        self._frames = _YuNet(model_path, score_threshold, nms_threshold)
        self._crops = _YuNet(model_path, score_threshold, nms_threshold)
        self._max_side = max_side

    def detect(self, image_bgr: np.ndarray) -> list[DetectedFace]:
        small, scale = self._shrunk(image_bgr)
        return self._frames.run(small, scale=scale, offset=(0.0, 0.0))

    def detect_in(
        self, image_bgr: np.ndarray, regions: Sequence[tuple[float, float, float, float]]
    ) -> list[DetectedFace]:
        """The faces centred inside `regions` (frame pixels, not overlapping), each region
        searched on its own at the scale `detect` searches the whole frame, so a face is found
        there as `detect` would find it. A region is widened to whole blocks of `REGION_STEP`
        pixels at that scale (the network's input size then changes less often, and each
        change costs a re-plan)."""
        if not regions:
            return []
        small, scale = self._shrunk(image_bgr)
        height, width = small.shape[:2]
        faces: list[DetectedFace] = []
        for x1, y1, x2, y2 in regions:
            left, right = _widened(x1 * scale, x2 * scale, width)
            top, bottom = _widened(y1 * scale, y2 * scale, height)
            if right - left < 8 or bottom - top < 8:
                continue
            found = self._frames.run(
                small[top:bottom, left:right], scale=scale, offset=(left / scale, top / scale)
            )
            # Widened regions may overlap: each face belongs to the region its centre is in.
            faces += [f for f in found if _centred_in(f, (x1, y1, x2, y2))]
        return faces

    def _shrunk(self, image_bgr: np.ndarray) -> tuple[np.ndarray, float]:
        height, width = image_bgr.shape[:2]
        if self._max_side is None or max(height, width) <= self._max_side:
            return image_bgr, 1.0
        scale = self._max_side / max(height, width)
        small = cv2.resize(
            image_bgr,
            (max(1, round(width * scale)), max(1, round(height * scale))),
            interpolation=cv2.INTER_AREA,
        )
        return small, scale

    def refine(self, image_bgr: np.ndarray, face: DetectedFace) -> DetectedFace | None:
        """`face` found again in the full-resolution crop around it; None if it is not there."""
        if not face.coarse:
            return face
        left, top, right, bottom = region(face.bbox, image_bgr.shape, self.REFINE_MARGIN)
        if right - left < 8 or bottom - top < 8:
            return None
        found = self._crops.run(
            image_bgr[top:bottom, left:right], scale=1.0, offset=(float(left), float(top))
        )
        if not found:
            return None
        # The crop may show a neighbour too: the face is the one nearest where it was found.
        x1, y1, x2, y2 = face.bbox
        return nearest_face(found, ((x1 + x2) / 2, (y1 + y2) / 2))


def _centred_in(face: DetectedFace, box: tuple[float, float, float, float]) -> bool:
    x1, y1, x2, y2 = face.bbox
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    return box[0] <= cx < box[2] and box[1] <= cy < box[3]


def _widened(low: float, high: float, limit: int) -> tuple[int, int]:
    """[low, high) as whole pixels, widened about its middle to a multiple of
    `YuNetDetector.REGION_STEP` (at least one), shifted and clipped to [0, limit)."""
    step = YuNetDetector.REGION_STEP
    span = min(limit, max(step, math.ceil((high - low) / step) * step))
    start = math.floor((low + high) / 2 - span / 2)
    start = max(0, min(start, limit - span))
    return start, start + span


class _YuNet:
    """One `cv2.FaceDetectorYN` and the input size it was last set to."""

    def __init__(self, model_path: Path, score_threshold: float, nms_threshold: float) -> None:
        self.size = (320, 320)
        self.net = cv2.FaceDetectorYN.create(
            str(model_path), "", self.size, score_threshold, nms_threshold, 5000
        )

    def run(
        self, image_bgr: np.ndarray, *, scale: float, offset: tuple[float, float]
    ) -> list[DetectedFace]:
        size = (image_bgr.shape[1], image_bgr.shape[0])
        if size != self.size:
            self.net.setInputSize(size)
            self.size = size
        _, rows = self.net.detect(image_bgr)
        if rows is None:
            return []
        # Columns: x, y, w, h, 5 × (x, y) landmarks, score.
        coords = np.asarray(rows[:, :14], dtype=np.float32) / np.float32(scale)
        if offset != (0.0, 0.0):  # x, y of the box and of each landmark; not w, h
            coords[:, [0, 4, 6, 8, 10, 12]] += np.float32(offset[0])
            coords[:, [1, 5, 7, 9, 11, 13]] += np.float32(offset[1])
        faces = []
        for row, score in zip(coords, rows[:, 14], strict=True):
            x, y, w, h = (float(v) for v in row[:4])
            faces.append(
                DetectedFace(
                    bbox=(x, y, x + w, y + h),
                    score=float(score),
                    landmarks=np.array(row[4:14], dtype=np.float32).reshape(5, 2),
                    coarse=scale != 1.0,
                )
            )
        return faces


class ScrfdDetector:
    """InsightFace's SCRFD (buffalo_l's det_10g) at one fixed input size."""

    def __init__(
        self,
        model_path: Path,
        session: Any,
        *,
        score_threshold: float = 0.5,
        input_size: tuple[int, int] = (640, 640),
    ) -> None:
        from insightface.model_zoo.scrfd import SCRFD

        self._model = SCRFD(model_file=str(model_path), session=session)
        # One explicit size: insightface 2.1 otherwise runs a second 128×128 pass on every frame.
        self._model.prepare(0, input_size=input_size, det_thresh=score_threshold)
        self._input_size = input_size

    def detect(self, image_bgr: np.ndarray) -> list[DetectedFace]:
        boxes, landmarks = self._model.detect(image_bgr, input_size=self._input_size)
        faces = []
        for i in range(boxes.shape[0]):
            x1, y1, x2, y2, score = (float(v) for v in boxes[i, :5])
            if landmarks is None:
                continue  # without landmarks the face cannot be aligned, so cannot be compared
            faces.append(
                DetectedFace(
                    bbox=(x1, y1, x2, y2),
                    score=score,
                    landmarks=np.asarray(landmarks[i], dtype=np.float32),
                )
            )
        return faces

    def detect_in(
        self, image_bgr: np.ndarray, regions: Sequence[tuple[float, float, float, float]]
    ) -> list[DetectedFace]:
        """SCRFD runs at one fixed input size: a region costs as much as the frame, so the
        whole frame is searched (correct, never cheaper)."""
        return self.detect(image_bgr)

    def refine(self, image_bgr: np.ndarray, face: DetectedFace) -> DetectedFace | None:
        return face  # SCRFD always runs on the whole frame: its landmarks are never coarse

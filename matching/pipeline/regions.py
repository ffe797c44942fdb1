"""Where a face can be: the regions of a frame the detector needs to search.

A van's camera is fixed, and most of its view is street that does not change from one frame to
the next. Finding faces is most of a camera's cost (YuNet on the whole shrunk frame, about
14 ms), and searching a region costs in proportion to its pixels, so the runner searches only:

- where something moved: the frame, as a small grey thumbnail, against a slowly updated
  background (a running average); every changed blob, grown by a margin;
- where a track predicts its face to be, grown by half a face width on every side (a face
  standing still is absorbed into the background in time, but its track keeps its region
  searched);
- the whole frame at least every `full_every` of captured time, on the first frame, after a
  gap, and whenever the regions would cover most of it anyway (a camera shaken, the light
  changed): whatever the gate missed is found there, within a second.

A face cannot appear without changing the pixels it appears in, so the motion regions hold every
new face; the rule is tested on the rendered street against the scene's truth
(`tests/test_regions.py`). Regions are merged until none overlap, so one face is never found
twice. The gate holds, in memory only, a grey thumbnail of the scene's background (for 1280 ×
720, 160 × 90 values, each the mean of an 8 × 8 block; a passer-by barely enters it, since it
follows moving pixels at a tenth of its rate), never a frame, and never stores or sends it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

import cv2
import numpy as np

from lfr_ledger.matching.engines.faces import DetectedFace

Box = tuple[float, float, float, float]  # x1, y1, x2, y2 in frame pixels


@dataclass(frozen=True)
class GatingConfig:
    """`full_every`: the longest captured time between two whole-frame searches.
    `thumb_width`: the motion thumbnail's width in pixels (its height keeps the frame's aspect).
    `threshold`: a thumbnail pixel this many grey levels from the background has changed.
    `background_rate`: how fast the background follows the scene (a running average's weight).
    `motion_margin`: a changed blob is grown by this share of its size on every side, and by at
    least `min_margin_px` frame pixels.
    `track_margin`: a track's predicted box is grown by this many face widths on every side (the
    tracker's prediction is good to well under one; a face the next frame does not find in its
    region is still found by motion or the next whole-frame search).
    `max_cover`: regions covering more than this share of the frame are searched as one frame.
    """

    full_every: timedelta = timedelta(seconds=1)
    thumb_width: int = 160
    threshold: float = 10.0
    background_rate: float = 0.1
    motion_margin: float = 0.1
    min_margin_px: float = 16.0
    track_margin: float = 0.5
    max_cover: float = 0.6

    def __post_init__(self) -> None:
        if self.full_every <= timedelta(0) or self.thumb_width < 16 or self.threshold <= 0:
            raise ValueError("full_every and threshold must be positive, thumb_width ≥ 16")
        if not 0 < self.background_rate <= 1 or not 0 < self.max_cover <= 1:
            raise ValueError("background_rate and max_cover must lie in (0, 1]")


@runtime_checkable
class RegionFinder(Protocol):
    """An engine that can search only some regions of a frame (the built-in one can)."""

    def find_faces_in(self, image_bgr: np.ndarray, regions: Sequence[Box]) -> list[DetectedFace]:
        """The admitted faces found inside `regions` (frame pixels, not overlapping), in the
        frame's coordinates, as `find_faces` would give them for those parts of the frame."""
        ...


class RegionGate:
    """Chooses, frame by frame, where one camera's detector searches. Not thread-safe."""

    def __init__(self, config: GatingConfig | None = None) -> None:
        self.config = config or GatingConfig()
        self._background: np.ndarray | None = None
        self._full_at: datetime | None = None

    def regions(
        self, image_bgr: np.ndarray, tracks: Sequence[Box], at: datetime
    ) -> list[Box] | None:
        """Where to search the frame captured `at`, given the tracks' predicted boxes: a list of
        regions (possibly empty: nothing can hold a face), or None for the whole frame."""
        config = self.config
        height, width = image_bgr.shape[:2]
        thumb = _thumbnail(image_bgr, config.thumb_width)
        background, full_at = self._background, self._full_at
        if background is None or background.shape != thumb.shape:
            self._background, self._full_at = thumb, at
            return None
        changed = cv2.absdiff(thumb, background) > config.threshold
        # Where something moved the background follows slowly, so a passer-by leaves no trail
        # of changed pixels behind, yet one who stops is absorbed in time (their track keeps
        # their region searched meanwhile).
        moving = changed.astype(np.uint8)
        cv2.accumulateWeighted(thumb, background, config.background_rate, mask=1 - moving)
        cv2.accumulateWeighted(thumb, background, config.background_rate / 10, mask=moving)
        if full_at is None or not timedelta(0) <= at - full_at < config.full_every:
            self._full_at = at
            return None
        sx, sy = width / thumb.shape[1], height / thumb.shape[0]
        boxes: list[Box] = []
        count, _, stats, _ = cv2.connectedComponentsWithStats(moving, connectivity=8)
        for x, y, w, h, _area in stats[1:count]:
            boxes.append(
                _grown(
                    (x * sx, y * sy, (x + w) * sx, (y + h) * sy),
                    config.motion_margin,
                    config.min_margin_px,
                )
            )
        for box in tracks:
            face_width = box[2] - box[0]
            boxes.append(_grown(box, 0.0, config.track_margin * face_width))
        merged = merge_boxes([_clipped(b, width, height) for b in boxes])
        merged = [b for b in merged if b[2] > b[0] and b[3] > b[1]]
        if sum((b[2] - b[0]) * (b[3] - b[1]) for b in merged) > config.max_cover * width * height:
            # Most of the view changed (the light, the camera moved): this is the scene now.
            self._background, self._full_at = thumb, at
            return None
        return merged


def _thumbnail(image_bgr: np.ndarray, thumb_width: int) -> np.ndarray:
    height, width = image_bgr.shape[:2]
    size = (thumb_width, max(1, round(height * thumb_width / width)))
    grey = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2GRAY)
    return np.asarray(cv2.resize(grey, size, interpolation=cv2.INTER_AREA), dtype=np.float32)


def _grown(box: Box, share: float, at_least: float) -> Box:
    x1, y1, x2, y2 = box
    mx = max((x2 - x1) * share, at_least)
    my = max((y2 - y1) * share, at_least)
    return (x1 - mx, y1 - my, x2 + mx, y2 + my)


def _clipped(box: Box, width: int, height: int) -> Box:
    return (
        max(0.0, box[0]),
        max(0.0, box[1]),
        min(float(width), box[2]),
        min(float(height), box[3]),
    )


def merge_boxes(boxes: Sequence[Box]) -> list[Box]:
    """The boxes, each group that overlaps (or touches) replaced by its bounding box, until no
    two overlap."""
    merged = list(boxes)
    changed = True
    while changed:
        changed = False
        out: list[Box] = []
        for box in merged:
            for i, kept in enumerate(out):
                if (
                    box[0] <= kept[2]
                    and kept[0] <= box[2]
                    and box[1] <= kept[3]
                    and kept[1] <= box[3]
                ):
                    out[i] = (
                        min(box[0], kept[0]),
                        min(box[1], kept[1]),
                        max(box[2], kept[2]),
                        max(box[3], kept[3]),
                    )
                    changed = True
                    break
            else:
                out.append(box)
        merged = out
    return merged

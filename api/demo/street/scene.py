"""The street scene's vocabulary: a stream's shape (`SceneSpec`), one person crossing one camera's
view (`Passage`) and how their face box moves (`Motion`).

Times are seconds from the stream's start, boxes are frame pixels. Everything the scene draws or
judges is a pure function of these values, seeded from `SceneSpec.seed` and the camera id
(`camera_key`), so a frame can be regenerated and two cameras differ even with one spec.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

Box = tuple[float, float, float, float]  # x1, y1, x2, y2 in frame pixels
Direction = Literal["left-to-right", "right-to-left"]

# The truth box's height over its width. YuNet's boxes on the sample portraits are 1.15–1.43
# times as tall as wide; one canonical ratio keeps the truth independent of the portraits (IoU
# with the exact box ≥ 0.88), so `truth_boxes` needs only the plan.
FACE_ASPECT = 1.3

# How far a passer-by's face grows while crossing (approaching the camera), as a fraction.
GROWTH = (0.06, 0.12)

# A sprite (face plus margin) shows a little before its face box does and after it has gone.
SPRITE_SLACK_SECONDS = 1.0


@dataclass(frozen=True)
class SceneSpec:
    """One stream's shape. `size` is (width, height), OpenCV's order; `face_px` bounds the face
    box's width (the shorter side, what `DetectedFace.size_px` measures) over a whole passage;
    `margin` must be the one the portraits were cut with; `noise` is the sensor noise's standard
    deviation in grey levels; every `crossing_every`-th pass (0: none) has two people crossing."""

    seconds: float = 60.0
    fps: float = 10.0
    size: tuple[int, int] = (1280, 720)
    pass_seconds: float = 3.0
    pass_every_seconds: float = 4.0
    max_people: int = 3
    min_repeat_seconds: float = 10.0
    face_px: tuple[int, int] = (90, 150)
    margin: float = 0.5
    noise: float = 2.0
    crossing_every: int = 3
    lead_seconds: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.seconds <= 0 or self.fps <= 0 or self.pass_seconds <= 0:
            raise ValueError("seconds, fps and pass_seconds must be positive")
        if self.pass_every_seconds < self.pass_seconds:
            raise ValueError("pass_every_seconds must be at least pass_seconds")
        if self.max_people < 1 or self.crossing_every < 0 or self.min_repeat_seconds < 0:
            raise ValueError("max_people ≥ 1, crossing_every ≥ 0, min_repeat_seconds ≥ 0")
        low, high = self.face_px
        if not 24 <= low <= high / (1 + GROWTH[1]):
            raise ValueError(f"face_px {self.face_px}: need 24 ≤ low ≤ high / {1 + GROWTH[1]}")

    @property
    def frame_count(self) -> int:
        return round(self.seconds * self.fps)


@dataclass(frozen=True)
class Motion:
    """Where a passer-by's face box is `dt` seconds after its passage's `enters_at`."""

    x: float  # face-box centre x at enters_at
    y: float  # face-box centre y (the lane), before the bob
    speed: float  # px/s; positive is left to right
    size: float  # face-box width at enters_at
    growth: float  # relative width gained per second
    bob_px: float
    bob_hz: float
    bob_phase: float

    def box(self, dt: float) -> Box:
        width = self.size * (1.0 + self.growth * dt)
        cx = self.x + self.speed * dt
        cy = self.y + self.bob_px * math.sin(2 * math.pi * self.bob_hz * dt + self.bob_phase)
        half_w, half_h = width / 2, width * FACE_ASPECT / 2
        return (cx - half_w, cy - half_h, cx + half_w, cy + half_h)


@dataclass(frozen=True)
class Passage:
    """One person crossing one camera's view. Times are seconds from the stream's start, on the
    frame grid (frame n is at n / fps): the face is fully in view from `enters_at` to
    `leaves_at` inclusive, and partly in view from `appears_at` to `disappears_at`."""

    camera_id: str
    person: str
    enrolled: bool
    enters_at: float
    leaves_at: float
    direction: Direction
    pass_index: int
    crossing: bool  # crosses paths with another passer-by of its pass
    appears_at: float
    disappears_at: float
    motion: Motion = field(repr=False)
    light: tuple[float, float] = (1.0, 0.0)  # gain, offset: the person's lighting this time

    def face_box(self, t: float) -> Box:
        return self.motion.box(t - self.enters_at)

    def may_show(self, t: float) -> bool:
        """Whether any of the passer-by's sprite may be in view at `t` (motion is only
        meaningful near its passage: extrapolated far enough, the growth would shrink a face to
        nothing)."""
        return (
            self.appears_at - SPRITE_SLACK_SECONDS <= t <= self.disappears_at + SPRITE_SLACK_SECONDS
        )


def camera_key(camera_id: str) -> int:
    """A stable number for a camera id (Python's `hash` of a str changes between runs)."""
    return zlib.crc32(camera_id.encode("utf-8"))


def mask_ellipse(box: Box, margin: float) -> tuple[float, float, float, float]:
    """Centre and semi-axes of a passer-by's mask ellipse (the portrait's box, margin around)."""
    x1, y1, x2, y2 = box
    scale = (1 + 2 * margin) / 2
    return ((x1 + x2) / 2, (y1 + y2) / 2, (x2 - x1) * scale, (y2 - y1) * scale)


def draw_order(passages: Sequence[Passage]) -> list[Passage]:
    """Far to near: lower on the screen is nearer, drawn later, covering the others."""
    return sorted(passages, key=lambda p: (p.motion.y, p.person))


def fully_in(box: Box, size: tuple[int, int]) -> bool:
    return box[0] >= 0 and box[1] >= 0 and box[2] <= size[0] and box[3] <= size[1]


def partly_in(box: Box, size: tuple[int, int]) -> bool:
    return box[2] > 0 and box[0] < size[0] and box[3] > 0 and box[1] < size[1]

"""Drawing the street: a seeded background (sky, buildings, road, footway), each passer-by's
portrait under a soft elliptical mask pasted where its face box is, and mild sensor noise.

Every frame is a function of its index, the spec, the camera id and the portraits, so a frame can
be regenerated (`frame_at`) and a stream replayed identically.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterator, Mapping, Sequence
from typing import NamedTuple

import cv2
import numpy as np

from lfr_ledger.api.demo.street.scene import Passage, SceneSpec, camera_key, draw_order

# Where the mask starts to fade (normalised elliptical radius): solid over the face, whose box's
# corners sit at radius 0.71 for a margin of 0.5.
MASK_SOLID = 0.75


def _camera_of(passages: Sequence[Passage]) -> str:
    cameras = {p.camera_id for p in passages}
    if len(cameras) > 1:
        raise ValueError(f"passages of one camera expected, got {sorted(cameras)}")
    return cameras.pop() if cameras else ""


def street(spec: SceneSpec, camera_id: str) -> np.ndarray:
    """A drawn street, seeded per camera: sky, a row of buildings with windows and shop fronts,
    a road and a paved footway, with low-frequency texture so nothing is perfectly flat."""
    rng = np.random.default_rng([spec.seed, camera_key(camera_id), 0])
    width, height = spec.size
    image = np.zeros((height, width, 3), np.float32)
    horizon = round(0.62 * height)
    sky = np.linspace(0.0, 1.0, horizon, dtype=np.float32)[:, None]
    image[:horizon] = (np.array([215, 170, 120]) * (1 - sky) + np.array([235, 222, 205]) * sky)[
        :, None, :
    ]
    palette = ((70, 80, 150), (150, 185, 205), (135, 135, 130), (85, 85, 95), (185, 210, 225))
    x = -int(rng.integers(0, 60))
    while x < width:
        block_w = int(rng.integers(110, 260))
        top = round(float(rng.uniform(0.06, 0.3)) * height)
        base = np.array(palette[int(rng.integers(0, len(palette)))], np.float32)
        colour = tuple(float(c) for c in np.clip(base + rng.uniform(-15, 15, 3), 0, 255))
        cv2.rectangle(image, (x, top), (x + block_w - 2, horizon), colour, -1)
        # Windows on a grid, some lit; a shop front and a door at street level.
        pitch_x, pitch_y = int(rng.integers(34, 48)), int(rng.integers(44, 60))
        win_w, win_h = pitch_x - int(rng.integers(12, 18)), pitch_y - int(rng.integers(16, 24))
        for wy in range(top + 14, horizon - 90, pitch_y):
            for wx in range(x + 12, x + block_w - win_w - 10, pitch_x):
                lit = rng.random() < 0.2
                glass = (150, 205, 230) if lit else (95, 78, 62)
                cv2.rectangle(image, (wx, wy), (wx + win_w, wy + win_h), glass, -1)
        cv2.rectangle(
            image, (x + 6, horizon - 70), (x + block_w - 10, horizon - 6), (60, 55, 50), -1
        )
        door = x + int(rng.integers(10, max(11, block_w - 40)))
        cv2.rectangle(image, (door, horizon - 62), (door + 26, horizon - 6), (40, 45, 70), -1)
        x += block_w
    road = horizon + round(0.07 * height)
    image[horizon:road] = (72, 74, 76)
    middle = (horizon + road) // 2
    for dash in range(-int(rng.integers(0, 80)), width, 80):
        cv2.line(image, (dash, middle), (dash + 40, middle), (200, 200, 200), 2)
    image[road : road + 6] = (175, 175, 170)  # kerb
    image[road + 6 :] = (148, 150, 152)
    # Paving slabs in perspective: rows widening towards the camera, joints to a vanishing point.
    row, gap = float(road + 6), 10.0
    while row < height:
        cv2.line(image, (0, round(row)), (width, round(row)), (120, 122, 124), 1)
        row, gap = row + gap, gap * 1.35
    vanish_x, vanish_y = width / 2 + float(rng.uniform(-200, 200)), road - 300.0
    shrink = (road + 6 - vanish_y) / (height - vanish_y)
    for foot in range(-2 * width, 3 * width, 160):
        top_x = vanish_x + (foot - vanish_x) * shrink
        cv2.line(image, (round(top_x), road + 6), (foot, height), (120, 122, 124), 1)
    coarse = rng.normal(0.0, 7.0, (height // 16 + 1, width // 16 + 1)).astype(np.float32)
    texture = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    softened = cv2.GaussianBlur(image + texture[:, :, None], (0, 0), 0.7)  # as a lens would
    return np.clip(softened + 0.5, 0, 255).astype(np.uint8)


def _noise_tables(sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Lookup tables from a uniform byte to a rounded normal deviate, split into its positive and
    negative parts so noise adds with saturation on uint8 (cv2.add / cv2.subtract)."""
    normal = statistics.NormalDist(0.0, max(sigma, 1e-9))
    deviates = np.array([round(normal.inv_cdf((u + 0.5) / 256)) for u in range(256)])
    deviates = np.clip(deviates, -127, 127) if sigma > 0 else np.zeros(256, int)
    return np.maximum(deviates, 0).astype(np.uint8), np.maximum(-deviates, 0).astype(np.uint8)


class _Sprite(NamedTuple):
    pixels: np.ndarray  # (h, w, 4) float32: BGR and alpha 0..1
    face_width: float  # the face box's width in the portrait's pixels


def _sprite(portrait: np.ndarray, margin: float) -> _Sprite:
    """The portrait under a soft elliptical mask: solid over the face, fading to nothing at the
    portrait's edge, so neither the crop's corners nor a neighbour's cut-off face in the group
    photo make an edge the detector could take for a face."""
    height, width = portrait.shape[:2]
    ys = (np.arange(height, dtype=np.float32) + 0.5) / height * 2 - 1
    xs = (np.arange(width, dtype=np.float32) + 0.5) / width * 2 - 1
    radius = np.sqrt(ys[:, None] ** 2 + xs[None, :] ** 2)
    fade = np.clip((1.0 - radius) / (1.0 - MASK_SOLID), 0.0, 1.0)
    alpha = fade * fade * (3 - 2 * fade)  # smoothstep: no visible ring where the fade starts
    pixels = np.dstack([portrait.astype(np.float32), alpha])
    return _Sprite(pixels, width / (1 + 2 * margin))


class _Renderer:
    """Draws frame n of one camera's stream on demand; every frame is a function of n alone."""

    def __init__(
        self, portraits: Mapping[str, np.ndarray], passages: Sequence[Passage], spec: SceneSpec
    ) -> None:
        missing = {p.person for p in passages} - set(portraits)
        if missing:
            raise KeyError(f"no portrait for {sorted(missing)}")
        self.spec = spec
        self.camera = _camera_of(passages)
        self.background = street(spec, self.camera)
        self.sprites = {
            person: _sprite(portraits[person], spec.margin)
            for person in {p.person for p in passages}
        }
        self.order = draw_order(passages)
        self.plus, self.minus = _noise_tables(spec.noise)

    def frame(self, index: int) -> np.ndarray:
        spec = self.spec
        t = index / spec.fps
        image = self.background.copy()
        for passage in self.order:
            if passage.may_show(t):
                self._paste(image, passage, t)
        rng = np.random.default_rng([spec.seed, camera_key(self.camera), 1, index])
        uniform = np.frombuffer(rng.bytes(image.size), np.uint8).reshape(image.shape)
        image = cv2.add(image, cv2.LUT(uniform, self.plus))
        return np.asarray(cv2.subtract(image, cv2.LUT(uniform, self.minus)))

    def _paste(self, image: np.ndarray, passage: Passage, t: float) -> None:
        sprite = self.sprites[passage.person]
        box = passage.face_box(t)
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        scale = (box[2] - box[0]) / sprite.face_width
        src_h, src_w = sprite.pixels.shape[:2]
        height, width = image.shape[:2]
        x0 = max(0, math.floor(cx - src_w * scale / 2))
        y0 = max(0, math.floor(cy - src_h * scale / 2))
        x1 = min(width, math.ceil(cx + src_w * scale / 2))
        y1 = min(height, math.ceil(cy + src_h * scale / 2))
        if x0 >= x1 or y0 >= y1:
            return
        # Scale and place in one resampling, at sub-pixel positions: a walker moves smoothly.
        matrix = np.array(
            [
                [scale, 0.0, cx - x0 - scale * (src_w - 1) / 2],
                [0.0, scale, cy - y0 - scale * (src_h - 1) / 2],
            ],
            np.float32,
        )
        warped = cv2.warpAffine(
            sprite.pixels,
            matrix,
            (x1 - x0, y1 - y0),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=(0, 0, 0, 0),
        )
        gain, offset = passage.light
        alpha = warped[:, :, 3:4]
        region = image[y0:y1, x0:x1].astype(np.float32)
        blended = region + (np.clip(warped[:, :, :3] * gain + offset, 0, 255) - region) * alpha
        image[y0:y1, x0:x1] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)


def frames(
    portraits: Mapping[str, np.ndarray], passages: Sequence[Passage], spec: SceneSpec
) -> Iterator[np.ndarray]:
    """The stream's frames (BGR uint8, spec.size), deterministic for (camera, spec, portraits)."""
    renderer = _Renderer(portraits, passages, spec)
    for index in range(spec.frame_count):
        yield renderer.frame(index)


def frame_at(
    portraits: Mapping[str, np.ndarray], passages: Sequence[Passage], spec: SceneSpec, index: int
) -> np.ndarray:
    """One frame of the stream, as `frames` yields it (builds the renderer: for spot checks)."""
    return _Renderer(portraits, passages, spec).frame(index)

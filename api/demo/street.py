"""A short street scene for the live demo: real faces walking past a van's camera.

The people are the sample identities shipped with our dependencies (the six in insightface's
`t1.jpg`, and scikit-image's astronaut). Each walks across a drawn street and leaves. Walkers
wear a *variant* of their portrait (other scale, light, mirror image), so an enrolment from the
original photo and a sighting in the video are two different images of one person, as in life.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from lfr_ledger.matching.engines.engine import FaceEngine
from lfr_ledger.matching.packs.samples import sample_identities

FRAME_SIZE = (640, 480)  # width, height
FPS = 10.0

# Who the demo puts on the watchlist, and who merely walks by.
ENROLLED = ("t1-2", "astronaut")
PASSERS_BY = ("t1-0", "t1-1", "t1-3", "t1-4", "t1-5")


@dataclass(frozen=True)
class Walker:
    """`person` crosses the frame from `enter_at` for `duration` seconds; `leftwards` walks from
    the right edge. `height` is the head-and-shoulders sprite's height in pixels."""

    person: str
    enter_at: float
    duration: float
    leftwards: bool = False
    height: int = 200
    baseline: float = 0.62  # the sprite's centre, as a fraction of the frame height


# About sixteen seconds: two enrolled people among five who are not; the first enrolled person
# walks by twice, far enough apart for a second alert after a five-second cool-down.
DEMO_SCRIPT: tuple[Walker, ...] = (
    Walker("t1-0", 0.0, 4.0),
    Walker("t1-2", 1.0, 4.0, leftwards=True, baseline=0.58),
    Walker("t1-4", 3.5, 4.0, baseline=0.66),
    Walker("astronaut", 5.0, 4.0, baseline=0.6),
    Walker("t1-1", 7.0, 4.0, leftwards=True),
    Walker("t1-3", 9.0, 4.0, baseline=0.56),
    Walker("t1-2", 10.5, 4.0, baseline=0.64),
    Walker("t1-5", 12.0, 4.0, leftwards=True, baseline=0.6),
)


def script_seconds(script: Sequence[Walker]) -> float:
    return max(w.enter_at + w.duration for w in script)


def _light(gain: float, offset: float) -> Callable[[np.ndarray], np.ndarray]:
    return lambda image: cv2.convertScaleAbs(image, alpha=gain, beta=offset)


# How each person looks on the street compared with their enrolment photo.
STREET_LOOK: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "astronaut": lambda image: _light(0.85, 12)(np.ascontiguousarray(image[:, ::-1])),
    "t1-2": _light(1.1, 18),
}


def portraits(engine: FaceEngine) -> dict[str, np.ndarray]:
    """Each sample person's portrait cut from the original photo: what an enrolment uses."""
    return sample_identities(engine, margin=0.6)


def street_looks(originals: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The portraits as the camera sees them on the street."""
    return {
        person: np.ascontiguousarray(STREET_LOOK.get(person, _light(0.95, 6))(image))
        for person, image in originals.items()
    }


def encode_jpeg(image: np.ndarray, quality: int = 92) -> bytes:
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return bytes(encoded.tobytes())


# --- drawing ----------------------------------------------------------------------------------


def background(size: tuple[int, int] = FRAME_SIZE) -> np.ndarray:
    """A plain high street: sky, a row of shop fronts with windows, a pavement and a kerb."""
    width, height = size
    frame = np.zeros((height, width, 3), np.uint8)
    sky = np.linspace(235, 190, height // 4, dtype=np.float32)
    frame[: height // 4] = np.stack([sky, sky * 0.92, sky * 0.8], axis=1)[:, None, :].astype(
        np.uint8
    )
    colours = ((88, 96, 140), (120, 130, 118), (150, 120, 96), (100, 112, 160), (132, 132, 132))
    shop_w = max(1, width // 5)
    for i, colour in enumerate(colours):
        x0 = i * shop_w
        cv2.rectangle(frame, (x0, height // 8), (x0 + shop_w, height * 3 // 5), colour, -1)
        for row in range(2):
            for col in range(2):
                wx = x0 + 12 + col * (shop_w // 2)
                wy = height // 8 + 16 + row * 60
                cv2.rectangle(frame, (wx, wy), (wx + shop_w // 2 - 24, wy + 40), (60, 50, 40), -1)
        cv2.rectangle(frame, (x0 + 8, height * 3 // 5 - 70), (x0 + shop_w - 8, height * 3 // 5 - 4),
                      (200, 190, 170), -1)  # fmt: skip
    frame[height * 3 // 5 :] = (150, 150, 146)  # pavement
    cv2.line(frame, (0, height * 9 // 10), (width, height * 9 // 10), (90, 90, 90), 6)  # kerb
    return frame


def _sprite(portrait: np.ndarray, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Head and shoulders: the portrait in an oval, on a coat; returns (pixels, alpha 0..1)."""
    scale = height * 0.72 / portrait.shape[0]
    head = cv2.resize(
        portrait,
        (max(1, round(portrait.shape[1] * scale)), max(1, round(portrait.shape[0] * scale))),
        interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC,
    )
    hh, hw = head.shape[:2]
    width = max(hw, round(height * 0.75))
    pixels = np.zeros((height, width, 3), np.uint8)
    alpha = np.zeros((height, width), np.float32)
    # The coat: a rounded block under the head.
    coat = (70, 60, 50)
    top = round(hh * 0.8)
    cv2.ellipse(pixels, (width // 2, height), (width // 2, height - top), 0, 180, 360, coat, -1)
    cv2.ellipse(alpha, (width // 2, height), (width // 2, height - top), 0, 180, 360, 1.0, -1)
    x0 = (width - hw) // 2
    oval = np.zeros((hh, hw), np.float32)
    cv2.ellipse(oval, (hw // 2, hh // 2), (hw // 2 - 1, hh // 2 - 1), 0, 0, 360, 1.0, -1)
    oval = cv2.GaussianBlur(oval, (0, 0), 2.0)
    region = pixels[:hh, x0 : x0 + hw]
    region[:] = (region * (1 - oval[..., None]) + head * oval[..., None]).astype(np.uint8)
    alpha[:hh, x0 : x0 + hw] = np.maximum(alpha[:hh, x0 : x0 + hw], oval)
    return pixels, alpha


def _paste(frame: np.ndarray, pixels: np.ndarray, alpha: np.ndarray, cx: int, cy: int) -> None:
    h, w = alpha.shape
    x0, y0 = cx - w // 2, cy - h // 2
    fx0, fy0 = max(0, x0), max(0, y0)
    fx1, fy1 = min(frame.shape[1], x0 + w), min(frame.shape[0], y0 + h)
    if fx0 >= fx1 or fy0 >= fy1:
        return
    sx0, sy0 = fx0 - x0, fy0 - y0
    a = alpha[sy0 : sy0 + fy1 - fy0, sx0 : sx0 + fx1 - fx0, None]
    src = pixels[sy0 : sy0 + fy1 - fy0, sx0 : sx0 + fx1 - fx0]
    dst = frame[fy0:fy1, fx0:fx1]
    dst[:] = (dst * (1 - a) + src * a).astype(np.uint8)


def render_frames(
    looks: Mapping[str, np.ndarray],
    script: Sequence[Walker] = DEMO_SCRIPT,
    *,
    fps: float = FPS,
    size: tuple[int, int] = FRAME_SIZE,
    seconds: float | None = None,
) -> list[np.ndarray]:
    """Every frame of the scene, BGR."""
    total = seconds if seconds is not None else script_seconds(script)
    scene = background(size)
    sprites = {(w.person, w.height): _sprite(looks[w.person], w.height) for w in script}
    width, height = size
    frames = []
    for n in range(round(total * fps)):
        t = n / fps
        frame = scene.copy()
        for walker in script:
            progress = (t - walker.enter_at) / walker.duration
            if not 0.0 <= progress <= 1.0:
                continue
            pixels, alpha = sprites[(walker.person, walker.height)]
            span = width + alpha.shape[1]
            x = -alpha.shape[1] / 2 + progress * span
            if walker.leftwards:
                x = width - x
            _paste(frame, pixels, alpha, round(x), round(walker.baseline * height))
        frames.append(frame)
    return frames


def write_video(path: Path, frames: Sequence[np.ndarray], fps: float = FPS) -> Path:
    """Writes frames as Motion-JPEG in AVI (readable by every OpenCV build without codecs)."""
    if not frames:
        raise ValueError("no frames to write")
    path.parent.mkdir(parents=True, exist_ok=True)
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, (width, height))
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write an MJPG video to {path}")
    try:
        for frame in frames:
            writer.write(frame)
    finally:
        writer.release()
    return path


def build_street_video(
    path: Path,
    engine: FaceEngine,
    script: Sequence[Walker] = DEMO_SCRIPT,
    *,
    fps: float = FPS,
    size: tuple[int, int] = FRAME_SIZE,
) -> Path:
    """The demo's street scene, written to `path` (an .avi)."""
    looks = street_looks(portraits(engine))
    return write_video(path, render_frames(looks, script, fps=fps, size=size), fps)

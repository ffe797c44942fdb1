"""The live demo's street: a short script of sample people walking past a van's camera, drawn by
the one street renderer the benchmark's streets use (`drawing.py`).

Each line of the script is one walk across the frame at a steady pace. Walkers wear a *variant* of
their portrait (other light, mirror image), so an enrolment from the original photo and a
sighting in the video are two different images of one person, as in life.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from lfr_ledger.api.demo.street.drawing import frames
from lfr_ledger.api.demo.street.scene import Motion, Passage, SceneSpec, fully_in, partly_in
from lfr_ledger.api.demo.street.video import write_video
from lfr_ledger.matching.engines.faces import FaceEngine
from lfr_ledger.matching.packs.samples import sample_identities

FRAME_SIZE = (640, 480)  # width, height
FPS = 10.0

# Who the demo puts on the watchlist, and who merely walks by.
ENROLLED = ("t1-2", "astronaut")
PASSERS_BY = ("t1-0", "t1-1", "t1-3", "t1-4", "t1-5")

# The demo's portraits show more around the face than the benchmark's (0.6 of the face box on
# every side, not 0.5): an enrolment photo with some head and shoulders.
PORTRAIT_MARGIN = 0.6
# A walker is a head-and-shoulders figure `height` pixels tall: the portrait (the head) is this
# share of it tall, the figure this share of it wide, and the face's centre this share of it
# above the figure's centre. The figure crosses from wholly off one edge to wholly off the other.
HEAD_SHARE = 0.72
FIGURE_WIDTH_SHARE = 0.75
FACE_ABOVE_SHARE = 0.14
# The camera id the demo's street is seeded with (its buildings, its sensor noise).
STREET_CAMERA = "demo"


@dataclass(frozen=True)
class Walker:
    """`person` crosses the frame from `enter_at` for `duration` seconds; `leftwards` walks from
    the right edge. `height` is the head-and-shoulders figure's height in pixels, `baseline` its
    centre as a fraction of the frame height."""

    person: str
    enter_at: float
    duration: float
    leftwards: bool = False
    height: int = 200
    baseline: float = 0.62


# About sixteen seconds: two enrolled people among five who are not; the first enrolled person
# walks by twice, far enough apart for a second alert after a five-second cool-down. t1-3 has
# left by the right edge as t1-5 steps in there: a face leaving where another enters at that
# moment is one the tracker may take for the other.
DEMO_SCRIPT: tuple[Walker, ...] = (
    Walker("t1-0", 0.0, 4.0),
    Walker("t1-2", 1.0, 4.0, leftwards=True, baseline=0.58),
    Walker("t1-4", 3.5, 4.0, baseline=0.66),
    Walker("astronaut", 5.0, 4.0, baseline=0.6),
    Walker("t1-1", 7.0, 4.0, leftwards=True),
    Walker("t1-3", 8.75, 4.0, baseline=0.56),
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
    return sample_identities(engine, margin=PORTRAIT_MARGIN)


def street_looks(originals: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The portraits as the camera sees them on the street."""
    return {
        person: np.ascontiguousarray(STREET_LOOK.get(person, _light(0.95, 6))(image))
        for person, image in originals.items()
    }


def head_sized(looks: Mapping[str, np.ndarray], script: Sequence[Walker]) -> dict[str, np.ndarray]:
    """Each walker's look resized to the head it is drawn as (its tallest walk's), averaging
    pixels when it shrinks: the renderer then only places it, and a face drawn from a large photo
    keeps the detail a camera would see rather than resampling aliases."""
    tallest: dict[str, int] = {}
    for walker in script:
        tallest[walker.person] = max(tallest.get(walker.person, 0), walker.height)
    heads = {}
    for person, height in tallest.items():
        image = looks[person]
        scale = HEAD_SHARE * height / image.shape[0]
        size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
        shrink = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
        heads[person] = cv2.resize(image, size, interpolation=shrink)
    return heads


def scene_spec(
    script: Sequence[Walker],
    *,
    fps: float = FPS,
    size: tuple[int, int] = FRAME_SIZE,
    seconds: float | None = None,
) -> SceneSpec:
    """The stream a script is drawn in: its length, rate and size, the demo's portrait margin."""
    return SceneSpec(
        seconds=seconds if seconds is not None else script_seconds(script),
        fps=fps,
        size=size,
        margin=PORTRAIT_MARGIN,
    )


def scripted_passages(
    script: Sequence[Walker],
    spec: SceneSpec,
    looks: Mapping[str, np.ndarray],
    enrolled: Collection[str] = ENROLLED,
) -> list[Passage]:
    """Each walker as a passage across the street, in the order of the script; `looks` are the
    portraits drawn (their shape sizes the face)."""
    return [
        _passage(index, walker, spec, looks[walker.person].shape[:2], walker.person in enrolled)
        for index, walker in enumerate(script)
    ]


def _passage(
    index: int, walker: Walker, spec: SceneSpec, portrait: tuple[int, ...], enrolled: bool
) -> Passage:
    width, height = spec.size
    # The portrait is the face box grown by the margin on every side, drawn HEAD_SHARE tall.
    head_height = HEAD_SHARE * walker.height
    head_width = head_height * portrait[1] / portrait[0]
    face = head_width / (1 + 2 * spec.margin)
    half = max(head_width, FIGURE_WIDTH_SHARE * walker.height) / 2
    speed = (width + 2 * half) / walker.duration
    start_x, step = (width + half, -speed) if walker.leftwards else (-half, speed)
    y = walker.baseline * height - FACE_ABOVE_SHARE * walker.height
    start = Motion(start_x, y, step, face, growth=0.0, bob_px=0.0, bob_hz=0.0, bob_phase=0.0)
    first = math.ceil(walker.enter_at * spec.fps)
    last = math.floor((walker.enter_at + walker.duration) * spec.fps)
    boxes = {n: start.box(n / spec.fps - walker.enter_at) for n in range(first, last + 1)}
    partly = [n for n, box in boxes.items() if partly_in(box, spec.size)]
    fully = [n for n, box in boxes.items() if fully_in(box, spec.size)]
    if not fully:
        raise ValueError(f"{walker} is never wholly in a {width}×{height} frame")
    enters_at = fully[0] / spec.fps
    return Passage(
        camera_id=STREET_CAMERA,
        person=walker.person,
        enrolled=enrolled,
        enters_at=enters_at,
        leaves_at=fully[-1] / spec.fps,
        direction="right-to-left" if walker.leftwards else "left-to-right",
        pass_index=index,
        crossing=False,
        appears_at=partly[0] / spec.fps,
        disappears_at=partly[-1] / spec.fps,
        # A passage's motion starts where its face is first wholly in view.
        motion=replace(start, x=start_x + step * (enters_at - walker.enter_at)),
    )


def render_frames(
    looks: Mapping[str, np.ndarray],
    script: Sequence[Walker] = DEMO_SCRIPT,
    *,
    fps: float = FPS,
    size: tuple[int, int] = FRAME_SIZE,
    seconds: float | None = None,
) -> list[np.ndarray]:
    """Every frame of the scripted street, BGR."""
    spec = scene_spec(script, fps=fps, size=size, seconds=seconds)
    heads = head_sized(looks, script)
    return list(frames(heads, scripted_passages(script, spec, heads), spec))


def build_street_video(
    path: Path,
    engine: FaceEngine,
    script: Sequence[Walker] = DEMO_SCRIPT,
    *,
    fps: float = FPS,
    size: tuple[int, int] = FRAME_SIZE,
) -> Path:
    """The demo's street scene, written to `path` (an .avi: Motion-JPEG)."""
    heads = head_sized(street_looks(portraits(engine)), script)
    spec = scene_spec(script, fps=fps, size=size)
    return write_video(path, frames(heads, scripted_passages(script, spec, heads), spec), fps)

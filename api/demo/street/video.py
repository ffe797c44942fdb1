"""Street videos on disk: writing frames as a file OpenCV reads back (Motion-JPEG in `.avi`,
MPEG-4 Part 2 in `.mp4`), checking a rendered stream's frame count and fps, and reading it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

import cv2
import numpy as np

from lfr_ledger.api.demo.street.drawing import frames
from lfr_ledger.api.demo.street.scene import Passage, SceneSpec

# `.mp4` as MPEG-4 Part 2 ('mp4v', which every OpenCV wheel can write; H.264 is not built in),
# `.avi` as Motion-JPEG (readable by every OpenCV build without codecs).
FOURCC = {".mp4": "mp4v", ".avi": "MJPG"}


def write_video(path: Path, images: Iterable[np.ndarray], fps: float) -> Path:
    """Write `images` (BGR uint8, all one size) to `path`, in the codec its suffix names."""
    fourcc = FOURCC.get(path.suffix.lower())
    if fourcc is None:
        raise ValueError(f"write .mp4 or .avi, not {path.suffix!r}")
    stream = iter(images)
    first = next(stream, None)
    if first is None:
        raise ValueError("no frames to write")
    path.parent.mkdir(parents=True, exist_ok=True)
    height, width = first.shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*fourcc), fps, (width, height))
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {fourcc} to {path}")
    try:
        writer.write(first)
        for image in stream:
            writer.write(image)
    finally:
        writer.release()
    return path


def video_info(path: Path, *, decode: bool = False) -> tuple[int, float]:
    """(frame count, fps) as OpenCV reports them; with `decode`, the count of frames decoded."""
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise RuntimeError(f"OpenCV cannot open {path}")
        fps = float(capture.get(cv2.CAP_PROP_FPS))
        if not decode:
            return int(capture.get(cv2.CAP_PROP_FRAME_COUNT)), fps
        count = 0
        while capture.grab():
            count += 1
        return count, fps
    finally:
        capture.release()


def render_camera(
    path: Path,
    portraits: Mapping[str, np.ndarray],
    passages: Sequence[Passage],
    spec: SceneSpec,
) -> Path:
    """Write one camera's stream to `path` (`.mp4` or `.avi`). Checks that OpenCV reads back the
    exact frame count and fps, and raises otherwise."""
    write_video(path, frames(portraits, passages, spec), spec.fps)
    count, fps = video_info(path)
    if count != spec.frame_count or abs(fps - spec.fps) > 1e-6:
        raise RuntimeError(
            f"{path} reads back as {count} frames at {fps} fps, "
            f"not {spec.frame_count} at {spec.fps}"
        )
    return path


def read_frames(path: Path) -> Iterator[np.ndarray]:
    """The decoded frames of a rendered stream."""
    capture = cv2.VideoCapture(str(path))
    try:
        while True:
            ok, image = capture.read()
            if not ok:
                return
            yield image
    finally:
        capture.release()

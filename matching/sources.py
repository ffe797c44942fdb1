"""Frame sources: what a camera sees, with the moment each frame was captured.

A source is any OpenCV `VideoCapture` URL (a file, an RTSP stream, a webcam index such as "0")
or a folder of images read in sorted order. Live sources stamp each frame with the clock at the
moment it is read. A recorded source (file or folder) can instead be replayed "as if live": its
frames are stamped by a simulated clock that starts at a given moment and advances by 1/fps per
frame, so a replay from the same start stamps every frame exactly as before — which is what makes
a restarted runner derive the same alert ids.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np

from lfr_ledger.domain.clock import utcnow

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})

# A recorded source that does not say its rate (some containers, any folder) plays at this.
DEFAULT_FPS = 10.0


class Frame(NamedTuple):
    """One frame, BGR uint8, and when it was captured. Unpacks as `(image, captured_at)`."""

    image: np.ndarray
    captured_at: datetime


class SourceError(RuntimeError):
    """The source cannot be opened or read."""


@dataclass
class FrameSource:
    """Frames from `url` (a `VideoCapture` URL, a webcam index, or a folder of images).

    `start` set: frames are stamped `start + n / fps` (a recorded video replayed as if live);
    otherwise each frame is stamped by `clock` when read. `realtime` paces a recorded source at
    its frame rate, so a replay never runs ahead of the wall clock. `max_frames` stops early.

    `drop_stale` (default: on for live sources) reads the source on its own thread, stamping each
    frame as it arrives, and hands the runner only the newest: a runner slower than the camera
    then skips frames instead of falling ever further behind (skipped frames are not analysed,
    so their faces are not counted as processed).
    """

    url: str
    start: datetime | None = None
    fps: float | None = None
    realtime: bool = False
    clock: Callable[[], datetime] = utcnow
    max_frames: int | None = None
    drop_stale: bool | None = None
    # Frames skipped so far (`drop_stale`): a newer one arrived before the runner took it.
    dropped: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if self.start is not None and self.start.tzinfo is None:
            raise ValueError("a simulated start time must carry a time zone")
        if self.fps is not None and self.fps <= 0:
            raise ValueError("fps must be positive")

    @property
    def is_folder(self) -> bool:
        return Path(self.url).is_dir()

    @property
    def is_live(self) -> bool:
        """A stream or a camera (not a file or a folder): stamped by the clock, never paced."""
        return not (self.is_folder or Path(self.url).is_file())

    def __iter__(self) -> Iterator[Frame]:
        return self.frames()

    def frames(self) -> Iterator[Frame]:
        drop_stale = self.is_live if self.drop_stale is None else self.drop_stale
        if drop_stale and self.start is None and not self.is_folder:
            return self._newest_frames()
        return self._every_frame()

    def _every_frame(self) -> Iterator[Frame]:
        images, fps = self._open()
        period = 1.0 / fps
        started_wall = time.monotonic()
        for n, image in enumerate(images):
            if self.max_frames is not None and n >= self.max_frames:
                return
            if self.start is not None:
                captured_at = self.start + timedelta(seconds=n * period)
            else:
                captured_at = self.clock()
            if self.realtime and not self.is_live:
                # Hold the frame back until its moment has come, as a camera would deliver it.
                delay = started_wall + n * period - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            yield Frame(image, captured_at)

    def _open(self) -> tuple[Iterator[np.ndarray], float]:
        if self.is_folder:
            return self._folder_images(), self.fps or DEFAULT_FPS
        capture = _open_capture(self.url)
        reported = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
        fps = self.fps or (reported if 0 < reported < 1000 else DEFAULT_FPS)
        return self._capture_images(capture), fps

    def _folder_images(self) -> Iterator[np.ndarray]:
        paths = sorted(p for p in Path(self.url).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not paths:
            raise SourceError(f"{self.url} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
        for path in paths:
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                raise SourceError(f"{path} is not a readable image")
            yield image

    def _capture_images(self, capture: cv2.VideoCapture) -> Iterator[np.ndarray]:
        try:
            while True:
                ok, image = capture.read()
                if not ok or image is None:
                    return
                yield image
        finally:
            capture.release()

    def _newest_frames(self) -> Iterator[Frame]:
        capture = _open_capture(self.url)
        slot: list[Frame | None] = [None]
        ended = threading.Event()
        arrived = threading.Condition()

        def grab() -> None:
            try:
                while not ended.is_set():
                    ok, image = capture.read()
                    if not ok or image is None:
                        return
                    frame = Frame(image, self.clock())  # stamped on arrival
                    with arrived:
                        if slot[0] is not None:
                            self.dropped += 1
                        slot[0] = frame
                        arrived.notify()
            finally:
                with arrived:
                    ended.set()
                    arrived.notify()

        grabber = threading.Thread(target=grab, name=f"grab:{self.url}", daemon=True)
        grabber.start()
        yielded = 0
        try:
            while self.max_frames is None or yielded < self.max_frames:
                with arrived:
                    while slot[0] is None and not ended.is_set():
                        arrived.wait(1.0)
                    frame, slot[0] = slot[0], None
                if frame is None:
                    return
                yielded += 1
                yield frame
        finally:
            ended.set()
            grabber.join(5.0)
            if not grabber.is_alive():  # a read blocked on a dead stream keeps the capture
                capture.release()


def _open_capture(url: str) -> cv2.VideoCapture:
    target: int | str = int(url) if url.isdigit() else url
    capture = cv2.VideoCapture(target)
    if not capture.isOpened():
        capture.release()
        raise SourceError(f"cannot open video source {url!r}")
    return capture

"""Frame sources: what a camera sees, with the moment each frame was captured.

A source is any OpenCV `VideoCapture` URL (a file, an RTSP or HTTP stream, a webcam index such as
"0") or a folder of images read in sorted order. Live sources stamp each frame with the clock at
the moment it is read. A recorded source (file or folder) can instead be replayed "as if live": its
frames are stamped by a simulated clock that starts at a given moment and advances by 1/fps per
frame, so a replay from the same start stamps every frame exactly as before — which is what makes
a restarted runner derive the same alert ids.

A live source survives the street: when a read fails (the network dropped, the camera rebooted)
it is closed and opened again with exponential backoff, from `backoff_initial_seconds`, doubling
after each failed attempt up to `backoff_max_seconds`, until frames come again or, if
`give_up_after_seconds` is set, until it has been lost that long (the iterator then raises
`SourceLost`). The time it was down is a `SourceGap`, open while it is down and closed by the
first frame after; the loss and the recovery are logged, with credentials in the URL masked.
Only the first open is not retried: a source that never opened is a wrong URL, said at once.

Each source counts, for the runner's heartbeat: `offered` (frames read from it), `dropped` (read
but never handed over: a newer frame replaced it, or the iteration ended first) and `gaps`. They
are written by the thread that reads the source and may be read from any other; `counts()` reads
all three at one moment. Once an iteration has ended, `offered` is the frames it yielded plus
`dropped`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np

from lfr_ledger.domain.clock import utcnow
from lfr_ledger.domain.commands.camera_health import clean_error_text

logger = logging.getLogger("lfr.matching")

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})

# A recorded source that does not say its rate (some containers, any folder) plays at this.
DEFAULT_FPS = 10.0


class Frame(NamedTuple):
    """One frame, BGR uint8, and when it was captured. Unpacks as `(image, captured_at)`."""

    image: np.ndarray
    captured_at: datetime


@dataclass(frozen=True)
class SourceGap:
    """A time a live source was lost: from the failed read (`started_at`) to the first frame
    read again (`ended_at`, None while it is still down). Both from the source's `clock`."""

    started_at: datetime
    ended_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.ended_at is None

    @property
    def seconds(self) -> float | None:
        """How long it lasted; None while open."""
        if self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()


@dataclass(frozen=True)
class SourceCounts:
    """A source's counters read at one moment (`FrameSource.counts()`)."""

    offered: int
    dropped: int
    gaps: tuple[SourceGap, ...]


class SourceError(RuntimeError):
    """The source cannot be opened or read."""


class SourceLost(SourceError):
    """A live source stayed lost for `give_up_after_seconds`: reconnecting stopped."""


@dataclass
class FrameSource:
    """Frames from `url` (a `VideoCapture` URL, a webcam index, or a folder of images).

    `start` set: frames are stamped `start + n / fps` (a recorded video replayed as if live);
    otherwise each frame is stamped by `clock` when read. `realtime` paces a recorded source at
    its frame rate, so a replay never runs ahead of the wall clock. `max_frames` stops early.

    `drop_stale` (default: on for live sources) reads the source on its own thread, stamping each
    frame as it arrives, and hands the runner only the newest: a runner slower than the camera
    then skips frames instead of falling ever further behind (skipped frames are not analysed,
    so their faces are not counted as processed; they are counted in `dropped`). With `realtime`
    a recorded file read this way is a camera played back: each frame is delivered (and
    stamped) at its moment, and the runner gets the newest, as from a live camera.

    `reconnect` (default: on for live sources) reopens a source whose read failed, or which
    cannot be opened again, after `backoff_initial_seconds`, doubling up to
    `backoff_max_seconds`; `give_up_after_seconds` (default: never) ends the iteration with
    `SourceLost` once it has been lost that long, by `clock`. `sleep` waits between attempts
    (default: a wait that ends early when the iteration is closed); tests pass their own.
    `network_timeout_seconds` bounds how long opening or reading a network stream (a URL
    with a scheme) may block: a stream that stalls without closing (a link gone quiet) is
    then lost after that long, not after OpenCV's own 30 s.
    """

    url: str
    start: datetime | None = None
    fps: float | None = None
    realtime: bool = False
    clock: Callable[[], datetime] = utcnow
    max_frames: int | None = None
    drop_stale: bool | None = None
    reconnect: bool | None = None
    backoff_initial_seconds: float = 0.5
    backoff_max_seconds: float = 30.0
    give_up_after_seconds: float | None = None
    network_timeout_seconds: float | None = None
    sleep: Callable[[float], object] | None = None
    # Frames read from the source, whether or not the runner took them.
    offered: int = field(default=0, init=False)
    # Frames read but never handed over: a newer one arrived first (`drop_stale`), or the
    # iteration ended with it unclaimed.
    dropped: int = field(default=0, init=False)
    # The times the source was lost, oldest first; the last is open while it is still down.
    # Appended to (and its last item replaced) in place: `counts()` gives a copy to keep.
    gaps: list[SourceGap] = field(default_factory=list, init=False)
    # Guards the three counters: the reading thread writes them while the runner reads, and
    # `counts()` reads all three under it, so they agree with each other.
    _counters: threading.Lock = field(
        default_factory=threading.Lock, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if self.start is not None and self.start.tzinfo is None:
            raise ValueError("a simulated start time must carry a time zone")
        if self.fps is not None and self.fps <= 0:
            raise ValueError("fps must be positive")
        if not 0 < self.backoff_initial_seconds <= self.backoff_max_seconds:
            raise ValueError("backoff must start above zero and at most at its maximum")
        if self.give_up_after_seconds is not None and self.give_up_after_seconds < 0:
            raise ValueError("give_up_after_seconds cannot be negative")
        if self.network_timeout_seconds is not None and self.network_timeout_seconds <= 0:
            raise ValueError("network_timeout_seconds must be positive")

    @property
    def is_folder(self) -> bool:
        return Path(self.url).is_dir()

    @property
    def is_live(self) -> bool:
        """A stream or a camera (not a file or a folder): stamped by the clock, never paced."""
        return not (self.is_folder or Path(self.url).is_file())

    @property
    def reconnects(self) -> bool:
        """Whether a lost source is opened again (`reconnect`, by default live sources)."""
        return self.is_live if self.reconnect is None else self.reconnect

    @property
    def shown_url(self) -> str:
        """The URL as logs and errors show it: credentials masked, one line."""
        return clean_error_text(self.url) or "?"

    def counts(self) -> SourceCounts:
        """`offered`, `dropped` and `gaps` as they stand at one moment."""
        with self._counters:
            return SourceCounts(self.offered, self.dropped, tuple(self.gaps))

    def __iter__(self) -> Iterator[Frame]:
        return self.frames()

    def frames(self) -> Iterator[Frame]:
        drop_stale = self.is_live if self.drop_stale is None else self.drop_stale
        if drop_stale and self.start is None and not self.is_folder:
            return self._newest_frames()
        return self._every_frame()

    # --- counters (written by the one thread reading the source) -------------------------------

    def _count(self, *, offered: int = 0, dropped: int = 0) -> None:
        with self._counters:
            self.offered += offered
            self.dropped += dropped

    def _gap_opened(self, at: datetime) -> SourceGap:
        gap = SourceGap(started_at=at)
        with self._counters:
            self.gaps.append(gap)
        return gap

    def _gap_closed(self, gap: SourceGap, at: datetime) -> SourceGap:
        closed = SourceGap(started_at=gap.started_at, ended_at=at)
        with self._counters:
            # The open gap is always the last: one is opened only when none is open.
            self.gaps[-1] = closed
        return closed

    # --- every frame, in order --------------------------------------------------------------------

    def _every_frame(self) -> Iterator[Frame]:
        frames, fps = self._open()
        if self.realtime and not self.is_live:
            frames = self._played_back(frames, fps)
        period = 1.0 / fps
        n = 0
        try:
            # The bound is checked before reading, so no frame is read that is not yielded.
            while self.max_frames is None or n < self.max_frames:
                frame = next(frames, None)
                if frame is None:
                    return
                self._count(offered=1)
                if self.start is not None:
                    frame = Frame(frame.image, self.start + timedelta(seconds=n * period))
                n += 1
                yield frame
        finally:
            frames.close()

    def _open(self) -> tuple[Generator[Frame, None, None], float]:
        if self.is_folder:
            return self._folder_frames(), self.fps or DEFAULT_FPS
        capture = self._first_capture()
        return self._reads(capture, stop=None), self._frame_rate(capture)

    def _frame_rate(self, capture: cv2.VideoCapture) -> float:
        reported = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
        return self.fps or (reported if 0 < reported < 1000 else DEFAULT_FPS)

    def _played_back(
        self, reads: Generator[Frame, None, None], fps: float
    ) -> Generator[Frame, None, None]:
        """A recorded source's frames, each held back to its moment, as a camera would deliver
        it, and stamped then (not when decoded early)."""
        started = time.monotonic()
        try:
            for n, frame in enumerate(reads):
                delay = started + n / fps - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                yield Frame(frame.image, self.clock())
        finally:
            reads.close()

    def _folder_frames(self) -> Generator[Frame, None, None]:
        paths = sorted(p for p in Path(self.url).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not paths:
            raise SourceError(f"{self.url} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
        for path in paths:
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                raise SourceError(f"{path} is not a readable image")
            yield Frame(image, self.clock() if self.start is None else self.start)

    def _first_capture(self) -> cv2.VideoCapture:
        capture = _try_open(self.url, self.network_timeout_seconds)
        if capture is None:
            raise SourceError(f"cannot open video source {self.shown_url!r}")
        return capture

    # --- reading, and reconnecting ------------------------------------------------------------

    def _reads(
        self, capture: cv2.VideoCapture, *, stop: threading.Event | None
    ) -> Generator[Frame, None, None]:
        """Frames from an opened capture, each stamped by `clock` when read, until it ends (a
        file, or a source that does not reconnect), `stop` is set, or the source is given up
        (`SourceLost`). Owns the capture: releases it however it ends."""
        current: cv2.VideoCapture | None = capture
        gap: SourceGap | None = None
        delay = self.backoff_initial_seconds
        attempts = 0
        try:
            while stop is None or not stop.is_set():
                if current is not None:
                    ok, image = current.read()
                    if ok and image is not None:
                        captured_at = self.clock()
                        if gap is not None:
                            self._recovered(self._gap_closed(gap, captured_at), attempts)
                            gap, delay, attempts = None, self.backoff_initial_seconds, 0
                        yield Frame(image, captured_at)
                        continue
                    current.release()
                    current = None
                    if not self.reconnects:
                        return  # the end of a file, or a source told not to reconnect
                if gap is None:
                    gap = self._gap_opened(self.clock())
                    logger.warning(
                        "video source %s lost; reconnecting (backoff %.1f s to %.1f s)",
                        self.shown_url,
                        self.backoff_initial_seconds,
                        self.backoff_max_seconds,
                    )
                wait = self._next_wait(gap, delay)
                if wait is None:
                    logger.error(
                        "video source %s lost since %s; gave up after %d attempt(s)",
                        self.shown_url,
                        gap.started_at.isoformat(timespec="seconds"),
                        attempts,
                    )
                    raise SourceLost(
                        f"video source {self.shown_url!r} lost for more than "
                        f"{self.give_up_after_seconds:g} s; gave up reconnecting"
                    )
                self._wait(wait, stop)
                if stop is not None and stop.is_set():
                    return
                attempts += 1
                current = _try_open(self.url, self.network_timeout_seconds)
                if current is None:
                    logger.debug(
                        "video source %s: attempt %d to reopen failed", self.shown_url, attempts
                    )
                # Grows whether the open or the first read after it fails: only a frame resets it.
                delay = min(delay * 2, self.backoff_max_seconds)
        finally:
            if current is not None:
                current.release()

    def _next_wait(self, gap: SourceGap, delay: float) -> float | None:
        """How long to wait before the next attempt; None once the source is to be given up."""
        if self.give_up_after_seconds is None:
            return delay
        lost_for = (self.clock() - gap.started_at).total_seconds()
        remaining = self.give_up_after_seconds - lost_for
        if remaining <= 0:
            return None
        # The last attempt comes at the deadline, not a whole backoff after it.
        return min(delay, remaining)

    def _wait(self, seconds: float, stop: threading.Event | None) -> None:
        if self.sleep is not None:
            self.sleep(seconds)
        elif stop is not None:
            stop.wait(seconds)  # a closed iteration ends the wait at once
        else:
            time.sleep(seconds)

    def _recovered(self, gap: SourceGap, attempts: int) -> None:
        logger.info(
            "video source %s back after %.1f s (%d attempt(s)); lost since %s",
            self.shown_url,
            gap.seconds or 0.0,
            attempts,
            gap.started_at.isoformat(timespec="seconds"),
        )

    # --- only the newest frame ------------------------------------------------------------------

    def _newest_frames(self) -> Iterator[Frame]:
        stopping = threading.Event()  # the runner is done: the grabber ends
        capture = self._first_capture()  # the first open raises here
        reads = self._reads(capture, stop=stopping)
        if self.realtime and not self.is_live:
            reads = self._played_back(reads, self._frame_rate(capture))
        slot: list[Frame | None] = [None]
        failure: list[SourceError | None] = [None]
        finished = threading.Event()
        arrived = threading.Condition()

        def grab() -> None:
            try:
                for frame in reads:  # stamped on arrival, by `_reads`
                    with arrived:
                        unclaimed = slot[0] is not None or stopping.is_set()
                        self._count(offered=1, dropped=1 if unclaimed else 0)
                        if not stopping.is_set():
                            slot[0] = frame
                            arrived.notify()
            except SourceError as error:  # given up: the runner hears it after the last frame
                failure[0] = error
            except Exception as error:  # said on the runner's side too, not lost on this thread
                failure[0] = SourceError(
                    f"video source {self.shown_url!r} failed: {type(error).__name__}"
                )
                logger.exception("video source %s: reading failed", self.shown_url)
            finally:
                reads.close()  # releases the capture on this thread, which owns it
                with arrived:
                    finished.set()
                    arrived.notify()

        grabber = threading.Thread(target=grab, name=f"grab:{self.shown_url}", daemon=True)
        grabber.start()
        yielded = 0
        try:
            while self.max_frames is None or yielded < self.max_frames:
                with arrived:
                    while slot[0] is None and not finished.is_set():
                        arrived.wait(1.0)
                    frame, slot[0] = slot[0], None
                if frame is None:
                    if failure[0] is not None:
                        raise failure[0]
                    return
                yielded += 1
                yield frame
        finally:
            with arrived:
                stopping.set()
                if slot[0] is not None:  # read, never taken
                    slot[0] = None
                    self._count(dropped=1)
            # A read blocked on a dead stream returns by OpenCV's read timeout; the grabber
            # then releases the capture itself.
            grabber.join(5.0)


def _try_open(url: str, timeout_seconds: float | None = None) -> cv2.VideoCapture | None:
    if url.isdigit():
        capture = cv2.VideoCapture(int(url))  # a webcam: no network to time out
    elif timeout_seconds is not None and "://" in url:
        ms = max(1, round(timeout_seconds * 1000))
        timeouts = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, ms]
        capture = cv2.VideoCapture(url, cv2.CAP_ANY, timeouts)
    else:
        capture = cv2.VideoCapture(url)
    if not capture.isOpened():
        capture.release()
        return None
    return capture

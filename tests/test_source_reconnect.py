"""Live sources that survive the street (issue 14): a real MJPEG stream over HTTP, read by
OpenCV's FFmpeg backend, is killed mid-stream and served again on the same port; the source
reconnects with capped exponential backoff, records the gap, and its counters add up.

The server is this file's own (multipart/x-mixed-replace of JPEGs made with `cv2.imencode`), on
127.0.0.1: nothing is downloaded. Every wait is bounded (a give-up deadline, a frame count and
the timeout mark), so a source that never comes back fails the test instead of hanging it."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import numpy as np
import pytest

from lfr_ledger.matching.pipeline.sources import (
    Frame,
    FrameSource,
    SourceError,
    SourceGap,
    SourceLost,
)

pytestmark = pytest.mark.timeout(30)

# Each server run paints its frames one grey, so a frame tells which run sent it.
FIRST_RUN, SECOND_RUN = 60, 190
# Fast enough that a consumer sleeping between frames falls behind (and so drops some).
SERVER_FPS = 50.0


def jpeg(grey: int) -> bytes:
    ok, encoded = cv2.imencode(".jpg", np.full((120, 160, 3), grey, dtype=np.uint8))
    assert ok
    return encoded.tobytes()


def run_of(frame: Frame) -> int:
    """Which server run sent the frame (JPEG blurs a flat grey by a unit or two at most)."""
    mean = float(frame.image.mean())
    return FIRST_RUN if abs(mean - FIRST_RUN) < 10 else SECOND_RUN


class _Stream(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass  # the test's output stays the test's

    def do_GET(self) -> None:
        server = self.server
        server.connections.append(self.connection)
        first = len(server.connections) == 1
        image = server.jpeg if first else server.later_jpeg
        self.send_response(200)
        self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
        self.end_headers()
        part = (
            b"--frame\r\nContent-Type: image/jpeg\r\n"
            + f"Content-Length: {len(image)}\r\n\r\n".encode()
            + image
            + b"\r\n"
        )
        sent = 0
        try:
            while not server.killed.is_set():
                if first and sent == server.stall_after:
                    server.killed.wait()  # a link gone quiet: open, and nothing more
                    return
                self.wfile.write(part)
                self.wfile.flush()
                sent += 1
                server.killed.wait(1 / SERVER_FPS)
        except OSError:
            pass  # killed under its feet: the connection is gone


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, port: int, image: bytes, later: bytes | None, stall_after: int | None
    ) -> None:
        # The first connection gets `image` (and, with `stall_after`, stalls after that many
        # frames); any later one gets `later`, so a frame tells which connection sent it.
        self.jpeg, self.later_jpeg = image, later or image
        self.stall_after = stall_after
        self.killed = threading.Event()
        self.connections: list[socket.socket] = []
        super().__init__(("127.0.0.1", port), _Stream)  # allow_reuse_address: same port again


class MjpegServer:
    """`http://127.0.0.1:<port>/stream.mjpg`: started, killed (every connection cut, as a
    dead link would) and started again on the same port."""

    def __init__(self) -> None:
        self.port = 0
        self._server: _Server | None = None

    def url(self, credentials: str = "") -> str:
        return f"http://{credentials}127.0.0.1:{self.port}/stream.mjpg"

    def start(
        self, grey: int, *, later_grey: int | None = None, stall_after: int | None = None
    ) -> None:
        later = None if later_grey is None else jpeg(later_grey)
        server = _Server(self.port, jpeg(grey), later, stall_after)
        self.port = server.server_address[1]
        threading.Thread(target=server.serve_forever, name="mjpeg", daemon=True).start()
        self._server = server

    def kill(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.killed.set()
        server.shutdown()
        server.server_close()
        for connection in server.connections:
            with contextlib.suppress(OSError):  # already closed by its handler
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()


@pytest.fixture
def stream() -> Iterator[MjpegServer]:
    server = MjpegServer()
    server.start(FIRST_RUN)
    try:
        yield server
    finally:
        server.kill()


def recording_sleep(delays: list[float], scale: float = 1.0) -> Callable[[float], None]:
    """A sleep that writes down each backoff delay, and sleeps `scale` of it for real."""

    def sleep(seconds: float) -> None:
        delays.append(seconds)
        time.sleep(seconds * scale)

    return sleep


def a_free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_opencv_here_reads_an_http_mjpeg_stream(stream: MjpegServer) -> None:
    """The premise of this file: this opencv-python build's FFmpeg reads the stream."""
    capture = cv2.VideoCapture(stream.url())
    try:
        assert capture.isOpened()
        assert capture.getBackendName() == "FFMPEG"
        ok, image = capture.read()
        assert ok and image.shape == (120, 160, 3)
    finally:
        capture.release()


@pytest.mark.parametrize("drop_stale", [True, False], ids=["newest-frame", "every-frame"])
def test_a_stream_killed_mid_way_reconnects_with_capped_backoff_and_one_gap(
    stream: MjpegServer, drop_stale: bool, caplog: pytest.LogCaptureFixture
) -> None:
    delays: list[float] = []
    source = FrameSource(
        stream.url(credentials="cam:hunter2@"),
        drop_stale=drop_stale,
        backoff_initial_seconds=0.05,
        backoff_max_seconds=0.4,
        give_up_after_seconds=10.0,  # the bound if it never came back: SourceLost, not a hang
        sleep=recording_sleep(delays),
    )
    assert source.is_live and source.reconnects
    frames = source.frames()
    taken: list[Frame] = []
    restart = threading.Timer(1.2, stream.start, args=(SECOND_RUN,))
    with caplog.at_level(logging.INFO, logger="lfr.matching"):
        try:
            for frame in frames:
                taken.append(frame)
                if len(taken) == 10:
                    killed_after = frame.captured_at
                    stream.kill()
                    restart.start()  # the same port, 1.2 s later
                if sum(run_of(f) == SECOND_RUN for f in taken) >= 10:
                    break
                if drop_stale:
                    time.sleep(0.05)  # slower than the camera: the stale frames are dropped
        finally:
            frames.close()  # type: ignore[attr-defined]
            restart.cancel()

    runs = [run_of(f) for f in taken]
    # Frames flow again, from the second run only once it is up; in capture order throughout.
    assert runs.count(SECOND_RUN) == 10
    assert runs == sorted(runs)
    assert [f.captured_at for f in taken] == sorted(f.captured_at for f in taken)
    back = next(f for f in taken if run_of(f) == SECOND_RUN)

    # Exactly one gap, closed by the first frame read again.
    counts = source.counts()
    assert len(counts.gaps) == 1, counts.gaps
    gap = counts.gaps[0]
    assert gap.ended_at is not None and not gap.is_open
    assert killed_after <= gap.started_at < gap.ended_at
    if drop_stale:  # the first frame back may itself have been replaced before it was taken
        assert gap.ended_at <= back.captured_at
    else:
        assert gap.ended_at == back.captured_at
    assert 0.8 < (gap.seconds or 0) < 5.0  # down for the 1.2 s the server was

    # The backoff doubled from 0.05 s and stopped at its 0.4 s cap; nothing waited once back.
    assert len(delays) >= 5, delays
    assert delays == [min(0.05 * 2**i, 0.4) for i in range(len(delays))]
    assert sum(delays[:-1]) < 1.2 + 0.5

    # Every frame read was either handed over or dropped; only the newest-frame path drops.
    assert counts.offered == len(taken) + counts.dropped
    assert (counts.offered, counts.dropped) == (source.offered, source.dropped)
    if drop_stale:
        assert counts.dropped > 0
    else:
        assert counts.dropped == 0

    # The loss and the recovery are logged, the URL's credentials masked.
    messages = [r.getMessage() for r in caplog.records if r.name == "lfr.matching"]
    assert any("lost; reconnecting" in m for m in messages), messages
    assert any(" back after " in m for m in messages), messages
    assert "hunter2" not in caplog.text
    assert "http://***@127.0.0.1" in caplog.text


def test_a_source_that_never_opened_fails_at_once() -> None:
    """A wrong URL is the user's mistake to hear now, not a drop to wait out."""
    delays: list[float] = []
    source = FrameSource(
        f"http://cam:hunter2@127.0.0.1:{a_free_port()}/stream.mjpg",
        sleep=recording_sleep(delays),
        give_up_after_seconds=60.0,
    )
    assert source.reconnects
    started = time.monotonic()
    for frames in (source.frames(), FrameSource(source.url, drop_stale=False).frames()):
        with pytest.raises(SourceError) as refused:
            next(frames)
        assert not isinstance(refused.value, SourceLost)
        assert "hunter2" not in str(refused.value)
        assert "http://***@127.0.0.1" in str(refused.value)
    assert time.monotonic() - started < 5.0
    assert delays == []
    assert source.counts().gaps == () and source.offered == 0


def test_a_stream_that_stalls_without_closing_is_lost_after_the_network_timeout() -> None:
    """The street's usual failure: the link goes quiet but nothing closes the connection."""
    server = MjpegServer()
    server.start(FIRST_RUN, later_grey=SECOND_RUN, stall_after=10)
    delays: list[float] = []
    source = FrameSource(
        server.url(),
        drop_stale=False,
        network_timeout_seconds=0.5,
        backoff_initial_seconds=0.05,
        give_up_after_seconds=10.0,
        sleep=recording_sleep(delays),
    )
    frames = source.frames()
    taken: list[Frame] = []
    try:
        for frame in frames:
            taken.append(frame)
            if sum(run_of(f) == SECOND_RUN for f in taken) >= 5:
                break
    finally:
        frames.close()  # type: ignore[attr-defined]
        server.kill()
    runs = [run_of(f) for f in taken]
    assert runs == [FIRST_RUN] * 10 + [SECOND_RUN] * 5  # the stalled connection, then a new one
    (gap,) = source.counts().gaps
    assert gap.ended_at == taken[10].captured_at
    quiet = (gap.started_at - taken[9].captured_at).total_seconds()
    assert 0.4 < quiet < 3.0, quiet  # lost after the 0.5 s timeout, not OpenCV's 30 s
    assert delays[0] == 0.05 and len(delays) <= 3  # found again at once (or nearly: a busy CI)
    assert source.offered == 15 and source.dropped == 0


class SteppedClock:
    """A clock moved only by the source's own (recorded) sleeps, and a little by each read."""

    def __init__(self) -> None:
        self.now = datetime(2025, 6, 2, 10, 0, tzinfo=UTC)
        self.delays: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            self.now += timedelta(milliseconds=1)
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.delays.append(seconds)
            self.now += timedelta(seconds=seconds)


@pytest.mark.parametrize("drop_stale", [True, False], ids=["newest-frame", "every-frame"])
def test_a_source_lost_for_longer_than_give_up_after_ends_the_iteration(
    stream: MjpegServer, drop_stale: bool
) -> None:
    clock = SteppedClock()
    source = FrameSource(
        stream.url(),
        drop_stale=drop_stale,
        clock=clock,
        sleep=clock.sleep,
        backoff_initial_seconds=0.5,
        backoff_max_seconds=30.0,
        give_up_after_seconds=3.0,
    )
    frames = source.frames()
    taken = [next(frames) for _ in range(3)]
    stream.kill()  # and never again
    with pytest.raises(SourceLost, match="gave up reconnecting"):
        for frame in frames:  # what was read before the kill, then the end
            taken.append(frame)
    # 0.5, 1.0, then only the 1.5 s left of the 3 s: the last attempt falls on the deadline.
    assert clock.delays == pytest.approx([0.5, 1.0, 1.5], abs=0.01)  # each read ticks 1 ms
    counts = source.counts()
    assert len(counts.gaps) == 1 and counts.gaps[0].is_open  # still down when it gave up
    assert counts.gaps[0].started_at > taken[-1].captured_at
    assert counts.offered == len(taken) + counts.dropped


def test_files_do_not_reconnect_and_the_backoff_must_make_sense() -> None:
    assert FrameSource(__file__).reconnects is False  # a file (not a video, but a file)
    assert FrameSource("rtsp://cam/stream").reconnects is True
    assert FrameSource("0").reconnects is True  # a webcam index
    assert FrameSource("rtsp://cam/stream", reconnect=False).reconnects is False
    with pytest.raises(ValueError, match="backoff"):
        FrameSource("rtsp://cam/stream", backoff_initial_seconds=5, backoff_max_seconds=1)
    with pytest.raises(ValueError, match="give_up"):
        FrameSource("rtsp://cam/stream", give_up_after_seconds=-1)
    assert SourceGap(datetime(2025, 6, 2, tzinfo=UTC)).seconds is None

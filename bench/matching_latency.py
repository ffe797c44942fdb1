"""Alert latency: from a frame's capture to its alert being durable in the event log.

In-process on the embedded SQLite store (hash chain on, key vault on), the real sface pack, the
demo's street video (640×480, 1–3 faces a frame, two of the seven people enrolled). Each frame is
stamped as captured at the moment it is handed to the runner, as a camera delivers it; the alert
is durable when `CaseLedger.raise_alert` returns (its transaction committed). The cool-down is
set to a microsecond so that every frame showing an enrolled person raises an alert: every such
frame is a latency sample. Each sample's latency is split into the frame's analysis (detect,
gate, align, embed every face in it), and the rest (index search, crop JPEG, the command: vault
key, sealing, event with hash chain, commit).

Goal (DESIGN.md): p99 ≤ 250 ms on CPU.

    python bench/matching_latency.py [--passes N]

`bench/matching.py` also calls `measure(context)` and files the figures under `alert_latency`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from bench.common import write_result
from lfr_ledger.api.bootstrap import build_ledger
from lfr_ledger.api.demo.street import (
    DEMO_SCRIPT,
    ENROLLED,
    FPS,
    FRAME_SIZE,
    encode_jpeg,
    portraits,
    render_frames,
    street_looks,
)
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.matching.engine import DetectedFace, Face, FaceEngine, load_engine
from lfr_ledger.matching.enrolment import enrol_from_image
from lfr_ledger.matching.index.follower import WatchlistIndex
from lfr_ledger.matching.live_terms import LedgerWatch
from lfr_ledger.matching.runner import MatchRunner, RunnerConfig
from lfr_ledger.matching.sinks import AlertClaim, FacesCounted, LedgerSink
from lfr_ledger.matching.sources import Frame
from tests.builders import (
    ADMIN,
    AO,
    AUTHORITY,
    COMPILER,
    OPERATOR,
    PLANNER,
    matcher_for,
    plan,
    subject,
)

GOAL_P99_MS = 250.0


class PreciseClock:
    """UTC wall time with `perf_counter` resolution, so sub-millisecond steps are seen."""

    def __init__(self) -> None:
        self._wall = datetime.now(UTC)
        self._base = time.perf_counter()

    def __call__(self) -> datetime:
        return self._wall + timedelta(seconds=time.perf_counter() - self._base)


class TimedEngine:
    """The engine, timing each frame's detection and each batch of embeddings (the runner
    embeds on its worker thread, so CPU is measured per thread)."""

    def __init__(self, engine: FaceEngine) -> None:
        self.engine = engine
        self.model_id = engine.model_id
        self.embedding_dim = engine.embedding_dim
        self.detect_ms = 0.0
        self.embed_ms = 0.0
        self.frames_ms: list[float] = []
        self.frames_cpu_ms: list[float] = []

    @property
    def last_ms(self) -> float:
        """The latest frame's detection and the latest batch's embedding."""
        return self.detect_ms + self.embed_ms

    def detect(self, image_bgr: np.ndarray) -> list[DetectedFace]:
        return self.engine.detect(image_bgr)

    def find_faces(self, image_bgr: np.ndarray) -> list[DetectedFace]:
        started, cpu_started = time.perf_counter(), time.thread_time()
        faces = self.engine.find_faces(image_bgr)
        self.detect_ms = (time.perf_counter() - started) * 1000
        self.frames_ms.append(self.detect_ms)
        self.frames_cpu_ms.append((time.thread_time() - cpu_started) * 1000)
        return faces

    def embed(self, image_bgr: np.ndarray, face: DetectedFace) -> np.ndarray:
        return self.engine.embed(image_bgr, face)

    def embed_faces(
        self, image_bgr: np.ndarray, faces: Sequence[DetectedFace]
    ) -> list[Face | None]:
        started = time.perf_counter()
        found = self.engine.embed_faces(image_bgr, faces)
        self.embed_ms = (time.perf_counter() - started) * 1000
        return found

    def analyse(self, image_bgr: np.ndarray) -> list[Face]:
        return self.engine.analyse(image_bgr)


@dataclass
class Sample:
    latency_ms: float
    analyse_ms: float
    command_ms: float


class TimedSink:
    def __init__(self, inner: LedgerSink, engine: TimedEngine, clock: PreciseClock) -> None:
        self.inner = inner
        self.engine = engine
        self.clock = clock
        self.samples: list[Sample] = []

    def raise_alert(self, claim: AlertClaim) -> uuid.UUID:
        started = time.perf_counter()
        alert_id = self.inner.raise_alert(claim)
        durable = self.clock()
        self.samples.append(
            Sample(
                latency_ms=(durable - claim.captured_at).total_seconds() * 1000,
                analyse_ms=self.engine.last_ms,
                command_ms=(time.perf_counter() - started) * 1000,
            )
        )
        return alert_id

    def report_faces_counted(self, report: FacesCounted) -> uuid.UUID:
        return self.inner.report_faces_counted(report)


def _live_deployment(ledger: CaseLedger, engine: FaceEngine, now: datetime) -> uuid.UUID:
    ledger.adopt_policy(ADMIN)
    operation = ledger.open_operation(PLANNER, name="Bench", force="NP", purpose="latency")
    deployment = ledger.propose_deployment(
        PLANNER,
        plan(
            operation,
            ledger.policy.version,
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(hours=3),
            model_id=engine.model_id,
        ),
    )
    ledger.authorise_deployment(AO, deployment, authority_ref="AUTH-BENCH", **AUTHORITY)
    photos = portraits(engine)
    for i, person in enumerate(ENROLLED):
        enrol_from_image(
            ledger, engine, COMPILER, deployment, subject(i), encode_jpeg(photos[person])
        )
    ledger.review_watchlist(AO, deployment, confirmed_count=len(ENROLLED), not_excessive=True)
    ledger.start_deployment(OPERATOR, deployment)
    return deployment


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)

    def pct(p: float) -> float:
        return float(np.percentile(ordered, p, method="linear"))

    return {
        "min": round(ordered[0], 1),
        "p50": round(pct(50), 1),
        "p90": round(pct(90), 1),
        "p99": round(pct(99), 1),
        "max": round(ordered[-1], 1),
        "mean": round(statistics.fmean(ordered), 1),
    }


def measure_latency(engine: FaceEngine, workdir: Path, *, passes: int = 2) -> dict[str, Any]:
    settings = Settings(data_dir=workdir / f"latency-{uuid.uuid4().hex[:8]}")
    clock = PreciseClock()
    ledger = build_ledger(settings, clock=clock)
    index = WatchlistIndex.open(settings)
    try:
        deployment = _live_deployment(ledger, engine, clock())
        frames = render_frames(street_looks(portraits(engine)), DEMO_SCRIPT, fps=FPS)
        timed = TimedEngine(engine)
        sink = TimedSink(LedgerSink(ledger, matcher_for(deployment)), timed, clock)
        config = RunnerConfig(
            cooldown=timedelta(microseconds=1), count_interval=timedelta(seconds=10)
        )
        wall_started = time.perf_counter()
        for _ in range(passes):

            def camera() -> Iterator[Frame]:
                # Stamped as the camera hands the frame over: the runner takes the newest
                # frame when it is ready, so no frame waits in a queue.
                for image in frames:
                    yield Frame(image, clock())

            runner = MatchRunner(
                deployment_id=deployment,
                camera_id="cam-1",
                engine=timed,
                index=index,
                sink=sink,
                watch=LedgerWatch(ledger, deployment),
                config=config,
                clock=clock,
                refresh=lambda: index.sync(ledger),
            )
            runner.run(camera())
        elapsed = time.perf_counter() - wall_started
    finally:
        index.close()
        ledger.close()
        close_vault = getattr(ledger.vault, "close", None)
        if close_vault is not None:
            close_vault()
    latency = [s.latency_ms for s in sink.samples]
    figures = _percentiles(latency)
    return {
        "what": "frame captured -> alert durable (raise_alert committed), in-process, SQLite",
        "store": "SQLite (WAL) with hash chain and key vault",
        "frame_size": f"{FRAME_SIZE[0]}x{FRAME_SIZE[1]}",
        "frames_per_pass": len(frames),
        "passes": passes,
        "alerts": len(latency),
        "latency_ms": figures,
        "analyse_ms_of_alert_frames": _percentiles([s.analyse_ms for s in sink.samples]),
        "command_ms": _percentiles([s.command_ms for s in sink.samples]),
        "detect_ms_all_frames": _percentiles(timed.frames_ms),
        # CPU time of the detecting thread: the work itself, whatever the contention. Near the
        # wall time means the CPU was ours.
        "detect_cpu_ms_all_frames": _percentiles(timed.frames_cpu_ms),
        "frames_per_s": round(len(timed.frames_ms) / elapsed, 2),
        "goal_p99_ms": GOAL_P99_MS,
        "goal_met": bool(figures) and figures["p99"] <= GOAL_P99_MS,
        "load_average_1m": round(os.getloadavg()[0], 2),
        "analyse_share_of_p50": round(
            _percentiles([s.analyse_ms for s in sink.samples]).get("p50", 0.0)
            / max(figures.get("p50", 1.0), 1e-9),
            3,
        ),
        "limits": (
            "The frame's analysis (YuNet detection over the whole frame, then SFace on the "
            "faces its tracks choose) is most of the latency (analyse_share_of_p50); the rest "
            "is the command "
            "(vault key, sealing, chained event, SQLite commit), the crop JPEG and the search. "
            "A camera faster than the runner's frame rate adds queueing unless the source "
            "drops stale frames (here each frame is taken when the runner is ready). Frame "
            "decoding is not counted. CPU-bound: the figures scale with contention from other "
            "processes (load_average_1m on a machine with machine.cpus cores)."
        ),
    }


def measure(context: Any) -> dict[str, Any]:
    """For `bench/matching.py`: its engine and work directory."""
    return measure_latency(context.engine, Path(context.workdir))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--passes", type=int, default=2)
    parser.add_argument("--pack", default="sface")
    args = parser.parse_args(argv)
    engine = load_engine(pack=args.pack, model_dir=Settings.from_env().model_dir)
    with tempfile.TemporaryDirectory() as tmp:
        result = measure_latency(engine, Path(tmp), passes=args.passes)
    result = {"pack": args.pack, "model_id": engine.model_id, **result}
    path = write_result("matching_latency", result)
    print(path.read_text())


if __name__ == "__main__":
    main()

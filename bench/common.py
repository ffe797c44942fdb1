"""Shared by the benchmarks: where results go and what machine produced them."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from lfr_ledger.domain.clock import utcnow

# Debian's Chromium as the console's tests and bench/console.py launch it: the flags keep it from
# calling Google's hosts, which this machine's network refuses.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]

if TYPE_CHECKING:  # the benchmarks that meter no engine load no vision libraries
    from lfr_ledger.matching.engines.faces import DetectedFace, Face, FaceEngine

# Where results are written: `bench/results/`, unless LFR_BENCH_RESULTS names another folder
# (a short trial run must not overwrite the figures the README quotes).
RESULTS = Path(os.environ.get("LFR_BENCH_RESULTS") or Path(__file__).resolve().parent / "results")
PG_URL = os.environ.get("LFR_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


def machine() -> dict[str, Any]:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
        dirty = subprocess.run(
            # Results and docs are what a run of `make bench` itself rewrites.
            [
                "git",
                "status",
                "--porcelain",
                "--untracked-files=no",
                "--",
                ".",
                ":!bench/results",
                ":!*.md",
            ],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except OSError:
        commit, dirty = "", ""
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        # A figure from uncommitted code or a busy machine says so: the reader judges it.
        "commit": f"{commit}+uncommitted" if dirty else commit,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average_1_5_15m": [round(load, 2) for load in os.getloadavg()],
    }


def write_result(name: str, result: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **result}, indent=2) + "\n")
    return path


class StepClock:
    """A clock the generator moves by hand: the ledger records each event at the simulated
    moment it stands for."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class PreciseClock:
    """The ledger's own clock (`utcnow`, wall time) with `perf_counter` resolution, so
    sub-millisecond steps are seen."""

    def __init__(self) -> None:
        self._wall = utcnow()
        self._base = time.perf_counter()

    def __call__(self) -> datetime:
        return self._wall + timedelta(seconds=time.perf_counter() - self._base)


FILLER_BATCH = 5_000
FILLER_STATE_BYTES = 160  # about an encoded domain event's size


def record_filler(recorder: Any, n: int, topic: str) -> None:
    """`n` single-event records of `topic`, `FILLER_BATCH` to a transaction, through the chained
    recorder: history to measure the log's own work against, without the case ledger's
    aggregates."""
    from eventsourcing.persistence import StoredEvent

    for start in range(0, n, FILLER_BATCH):
        recorder.insert_events(
            [
                StoredEvent(
                    originator_id=uuid.uuid4(),
                    originator_version=1,
                    topic=topic,
                    state=os.urandom(FILLER_STATE_BYTES),
                )
                for _ in range(min(FILLER_BATCH, n - start))
            ]
        )


def percentiles(values: Sequence[float]) -> dict[str, float]:
    """n, min, p50, p90, p99, max and mean (linear interpolation), rounded to 0.1."""
    if not values:
        return {}
    ordered = sorted(values)

    def pct(p: float) -> float:
        return round(float(np.percentile(ordered, p, method="linear")), 1)

    return {
        "n": len(ordered),
        "min": round(ordered[0], 1),
        "p50": pct(50),
        "p90": pct(90),
        "p99": pct(99),
        "max": round(ordered[-1], 1),
        "mean": round(statistics.fmean(ordered), 1),
    }


class MeteredEngine:
    """The engine, timing the two calls the runner makes: the wall time of each, and the CPU
    time of the thread that made it (the runner detects on one thread and embeds on another)."""

    def __init__(self, engine: FaceEngine) -> None:
        self.engine = engine
        self.model_id = engine.model_id
        self.embedding_dim = engine.embedding_dim
        self.detect_ms: list[float] = []
        self.detect_cpu_ms: list[float] = []
        self.embed_ms: list[float] = []
        self.embed_cpu_ms: list[float] = []

    @property
    def last_ms(self) -> float:
        """The latest frame's detection and the latest batch's embedding."""
        return (self.detect_ms[-1] if self.detect_ms else 0.0) + (
            self.embed_ms[-1] if self.embed_ms else 0.0
        )

    def detect(self, image_bgr: np.ndarray) -> list[DetectedFace]:
        return self.engine.detect(image_bgr)

    def find_faces(self, image_bgr: np.ndarray) -> list[DetectedFace]:
        started, cpu_started = time.perf_counter(), time.thread_time()
        faces = self.engine.find_faces(image_bgr)
        self.detect_ms.append((time.perf_counter() - started) * 1000)
        self.detect_cpu_ms.append((time.thread_time() - cpu_started) * 1000)
        return faces

    def find_faces_in(
        self, image_bgr: np.ndarray, regions: Sequence[tuple[float, float, float, float]]
    ) -> list[DetectedFace]:
        """Timed as `find_faces`; an engine that cannot search regions searches the whole
        frame."""
        find_in = getattr(self.engine, "find_faces_in", None)
        if find_in is None:
            return self.find_faces(image_bgr)
        started, cpu_started = time.perf_counter(), time.thread_time()
        faces: list[DetectedFace] = find_in(image_bgr, regions)
        self.detect_ms.append((time.perf_counter() - started) * 1000)
        self.detect_cpu_ms.append((time.thread_time() - cpu_started) * 1000)
        return faces

    def embed(self, image_bgr: np.ndarray, face: DetectedFace) -> np.ndarray:
        return self.engine.embed(image_bgr, face)

    def embed_faces(
        self, image_bgr: np.ndarray, faces: Sequence[DetectedFace]
    ) -> list[Face | None]:
        started, cpu_started = time.perf_counter(), time.thread_time()
        found = self.engine.embed_faces(image_bgr, faces)
        self.embed_ms.append((time.perf_counter() - started) * 1000)
        self.embed_cpu_ms.append((time.thread_time() - cpu_started) * 1000)
        return found

    def analyse(self, image_bgr: np.ndarray) -> list[Face]:
        return self.engine.analyse(image_bgr)

"""The van benchmark's runs (`bench/van.py`): one mode on some cameras of the rendered streams,
into the real ledger, measured and judged.

The watchlist: the enrolled people enrolled through the ledger from their portraits, and
synthetic unit vectors in the same deployment's index to make 10,000 entries (search cost
depends on how many entries there are, not on who they are; none of them can be alerted on, and
a claim on one would be counted as a false alert).

With `competing_load`, a separate process spins on one core for the whole run (pinned to it,
standing in for the console and a busy API on the van's machine): its CPU is not counted in the
run's core-seconds, and frames may drop, but no enrolled pass may be missed.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import MeteredEngine, PreciseClock, percentiles
from bench.van_streams import Streams
from lfr_ledger.api.demo.sample_deployment import live_around_now, matcher_for
from lfr_ledger.api.demo.street.people import DEFAULT_ENROLLED, encode_jpeg
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.alert import AlertClaim
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.values import Camera
from lfr_ledger.matching.engines.plugins import load_engine
from lfr_ledger.matching.index.follower import WatchlistIndex
from lfr_ledger.matching.node.assembly import InProcessLedger, assemble_matcher
from lfr_ledger.matching.pipeline.config import RunnerConfig
from lfr_ledger.matching.pipeline.ports import AlertSink, FacesCounted, RunnerHooks
from lfr_ledger.matching.pipeline.regions import GatingConfig
from lfr_ledger.matching.pipeline.runner import MatchRunner
from lfr_ledger.matching.pipeline.sources import FrameSource
from lfr_ledger.matching.pipeline.summary import RunSummary
from lfr_ledger.matching.pipeline.tracking import TrackingConfig

DETECT_SIDE = 640
# Shorter than the scene's 10 s between two passes of one person, longer than any one pass.
COOLDOWN = timedelta(seconds=6)
# An alert belongs to a pass if its frame lies within the pass (face partly in view), give or
# take the reader's stamping jitter.
SLACK_S = 0.3
GOALS = {"core_s_per_s": 1.0, "dropped_frames": 0, "latency_p99_ms": 250.0, "recall": 1.0}


@dataclass
class TimedSink:
    """The ledger, with each alert's latency from its frame's capture to its being durable."""

    inner: AlertSink
    clock: PreciseClock
    latencies_ms: list[float] = field(default_factory=list)
    writes_ms: list[float] = field(default_factory=list)  # the ledger's share of each
    refused: int = 0

    def raise_alert(self, claim: AlertClaim) -> uuid.UUID:
        started = time.perf_counter()
        try:
            alert_id = self.inner.raise_alert(claim)
        except Exception:
            self.refused += 1
            raise
        self.writes_ms.append((time.perf_counter() - started) * 1000)
        self.latencies_ms.append((self.clock() - claim.captured_at).total_seconds() * 1000)
        return alert_id

    def report_faces_counted(self, report: FacesCounted) -> uuid.UUID:
        return self.inner.report_faces_counted(report)


def fill_watchlist(
    index: WatchlistIndex, deployment: uuid.UUID, model_id: str, dim: int, size: int
) -> None:
    rng = np.random.default_rng(14)
    count = size - index.count(deployment)
    vectors = rng.standard_normal((count, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index.load_vectors(deployment, model_id, ((uuid.uuid4(), v) for v in vectors))


@dataclass
class CameraRun:
    camera: str
    source: FrameSource
    engine: MeteredEngine
    runner: MatchRunner | None = None
    summary: RunSummary | None = None
    first_frame_at: datetime | None = None
    error: BaseException | None = None


def run_mode(
    mode: str,
    streams: Streams,
    cameras: Sequence[str],
    ledger: CaseLedger,
    settings: Settings,
    clock: PreciseClock,
    model_dir: Path,
    watchlist: int,
    *,
    competing_load: bool = False,
) -> dict[str, Any]:
    """`mode`: `tracked` (today's runner) or `baseline` (the runner before tracking: the whole
    frame searched, every face in every frame embedded)."""
    tracked = mode == "tracked"
    first_engine = load_engine(model_dir=model_dir, threads=1, opencv_threads=1)
    photos = [encode_jpeg(streams.portraits[person]) for person in DEFAULT_ENROLLED]
    deployment, enrolled = live_around_now(
        ledger, first_engine, photos, cameras=tuple(Camera(c, f"van {c}") for c in cameras)
    )
    people = dict(zip(enrolled, DEFAULT_ENROLLED, strict=True))
    with WatchlistIndex.open(settings) as index:
        index.sync(ledger)
        fill_watchlist(
            index, deployment, first_engine.model_id, first_engine.embedding_dim, watchlist
        )
        entries = index.count(deployment)
    link = InProcessLedger(ledger, matcher_for(deployment), settings)
    sink = TimedSink(link.sink(), clock)
    config = RunnerConfig(
        cooldown=COOLDOWN,
        count_interval=timedelta(seconds=10),
        heartbeat_every_seconds=10.0,
        tracking=TrackingConfig() if tracked else TrackingConfig(every_sighting=True),
        gating=GatingConfig() if tracked else None,
    )
    runs = []
    for camera in cameras:
        engine = load_engine(
            model_dir=model_dir,
            threads=1,
            opencv_threads=1,
            detector_max_side=DETECT_SIDE if tracked else None,
        )
        source = FrameSource(
            str(streams.videos[camera]), realtime=True, drop_stale=True, clock=clock
        )
        runs.append(CameraRun(camera, source, MeteredEngine(engine)))

    def work(run: CameraRun) -> None:
        with assemble_matcher(
            link,
            deployment,
            run.camera,
            run.engine,
            config=config,
            sink=sink,
            clock=clock,
            hooks=RunnerHooks(on_frame=lambda frame: _first_frame(run, frame.captured_at)),
        ) as matcher:
            run.runner = runner = matcher.runner
            try:
                run.summary = runner.run(run.source.frames())
            except BaseException as error:  # reported, never hidden
                run.error = error

    load_before = os.getloadavg()
    with spinning(competing_load):
        usage_before = resource.getrusage(resource.RUSAGE_SELF)
        wall_started = time.perf_counter()
        threads = [threading.Thread(target=work, args=(run,), name=run.camera) for run in runs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall_s = time.perf_counter() - wall_started
        usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_s = (usage.ru_utime - usage_before.ru_utime) + (usage.ru_stime - usage_before.ru_stime)
    for run in runs:
        if run.error is not None:
            raise RuntimeError(f"camera {run.camera} failed") from run.error

    video_s = streams.spec.seconds
    stream_s = video_s * len(runs)  # seconds of video, all cameras together
    per_camera = {}
    for run in runs:
        assert run.summary is not None
        per_camera[run.camera] = {
            "frames_offered": run.source.offered,
            "frames_processed": run.summary.frames,
            "frames_dropped": run.source.dropped,
            "detections": run.summary.detections,
            "faces_processed": run.summary.faces,
            "embeddings": run.summary.embeddings,
            "frames_searched_whole": run.summary.whole_frames,
            "second_looks_shed": run.summary.shed,
            "alerts": len(run.summary.alerts),
        }
    judged = judge(runs, streams, people)
    detect_cpu = sum(sum(r.engine.detect_cpu_ms) for r in runs) / 1000
    embed_cpu = sum(sum(r.engine.embed_cpu_ms) for r in runs) / 1000
    faces = sum(r.summary.faces for r in runs if r.summary)
    embeddings = sum(r.summary.embeddings for r in runs if r.summary)
    dropped = sum(r.source.dropped for r in runs)
    processed = sum(r.summary.frames for r in runs if r.summary)
    latency = percentiles(sink.latencies_ms)
    result = {
        "mode": mode,
        "cameras": len(runs),
        "competing_load": "one process spinning, pinned to core 0" if competing_load else None,
        "detect_side": DETECT_SIDE if tracked else None,
        "watchlist_entries": entries,
        "video_seconds_per_camera": video_s,
        "wall_seconds": round(wall_s, 2),
        "per_camera": per_camera,
        "frames_dropped": dropped,
        "core_s_per_s": round(cpu_s / video_s, 3),
        "core_s_per_camera_second": round(cpu_s / stream_s, 3),
        # Steadier than the above on a busy machine, where fewer frames are processed.
        "core_ms_per_frame_processed": round(1000 * cpu_s / processed, 2) if processed else None,
        "model_core_s_per_s": {
            "detection": round(detect_cpu / video_s, 3),
            "refine_align_embed": round(embed_cpu / video_s, 3),
            "total": round((detect_cpu + embed_cpu) / video_s, 3),
        },
        "embeddings_per_track": round(embeddings / faces, 2) if faces else None,
        "alert_latency_ms": latency,
        "alert_write_ms": percentiles(sink.writes_ms),
        **judged,
        "claims_refused": sink.refused,
        "load_average_1m": round(os.getloadavg()[0], 2),
        "load_average_before": [round(v, 2) for v in load_before],
        "load_average_after": [round(v, 2) for v in os.getloadavg()],
    }
    result["goals_met"] = {
        "core_s_per_s": result["core_s_per_s"] <= GOALS["core_s_per_s"],
        "dropped_frames": dropped == GOALS["dropped_frames"],
        "latency_p99_ms": bool(latency) and latency["p99"] <= GOALS["latency_p99_ms"],
        "recall": judged["recall"] == GOALS["recall"] and judged["false_alerts"] == 0,
    }
    return result


@contextmanager
def spinning(on: bool) -> Iterator[None]:
    """A process busy on core 0 for the duration (when `on`)."""
    if not on:
        yield
        return
    code = "import os\nos.sched_setaffinity(0, {0})\nwhile True:\n    pass\n"
    busy = subprocess.Popen([sys.executable, "-c", code])
    try:
        yield
    finally:
        busy.kill()
        busy.wait()


def _first_frame(run: CameraRun, at: datetime) -> None:
    if run.first_frame_at is None:
        run.first_frame_at = at


def judge(
    runs: Sequence[CameraRun], streams: Streams, people: Mapping[uuid.UUID, str]
) -> dict[str, Any]:
    """Recall: enrolled passages alerted exactly once; false alerts: alerts on no passage of
    that person on that camera. Stream time of an alert is its frame's stamp less the first
    frame's (the reader never drops the first frame)."""
    alerted: dict[tuple[str, int], int] = defaultdict(int)
    false_alerts = 0
    for run in runs:
        assert run.summary is not None and run.first_frame_at is not None
        passages = [p for p in streams.passages[run.camera] if p.enrolled]
        for claim in run.summary.alerts:
            t = (claim.captured_at - run.first_frame_at).total_seconds()
            person = people.get(claim.entry_id)
            hits = [
                i
                for i, p in enumerate(passages)
                if p.person == person and p.appears_at - SLACK_S <= t <= p.disappears_at + SLACK_S
            ]
            if not hits:
                false_alerts += 1
            for i in hits:
                alerted[(run.camera, i)] += 1
    enrolled = [
        (run.camera, i)
        for run in runs
        for i, _ in enumerate(p for p in streams.passages[run.camera] if p.enrolled)
    ]
    once = sum(1 for key in enrolled if alerted.get(key) == 1)
    return {
        "enrolled_passes": len(enrolled),
        "passes_alerted_once": once,
        "passes_missed": sum(1 for key in enrolled if key not in alerted),
        "missed": [
            {"camera": camera, "person": p.person, "in_view_s": [p.appears_at, p.disappears_at]}
            for camera, i in enrolled
            if (camera, i) not in alerted
            for p in [[q for q in streams.passages[camera] if q.enrolled][i]]
        ],
        "passes_alerted_twice_or_more": sum(1 for key in enrolled if alerted.get(key, 0) > 1),
        "recall": round(once / len(enrolled), 4) if enrolled else None,
        "false_alerts": false_alerts,
        "passers_by": sum(len(streams.passages[run.camera]) for run in runs),
    }

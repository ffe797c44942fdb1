"""A whole LFR van in real time (issue 14): cameras at 10 fps, 1280 × 720, people walking past,
a 10,000-entry watchlist, the real ledger recording alerts — the tracked runner beside the
runner as it was before tracking, on the same streams, in one run.

Each camera is a rendered street (`api/demo/street/`, checked by `bench/van_scene.py`: the seven
sample people, four of them enrolled, up to three crossing at a time, some crossing paths)
written to a video file and replayed as a live camera: a reader thread decodes each frame at its
moment, stamps it with the clock and keeps only the newest, so a runner that cannot keep up drops
frames instead of queueing them (`FrameSource`, `realtime` with `drop_stale`). One runner per
camera, each on its own thread with its own engine (onnxruntime and OpenCV on one thread each, so
cameras share the cores rather than fight over them).

The watchlist: the enrolled people enrolled through the ledger from their portraits, and
synthetic unit vectors in the same deployment's index to make 10,000 entries (search cost
depends on how many entries there are, not on who they are; none of them can be alerted on, and
a claim on one would be counted as a false alert).

Reported per mode: frames offered / processed / dropped per camera; CPU core-seconds used per
second of video (the whole process: decoding, detection, embedding, search, the ledger), and the
share in the models (detection; refinement, alignment and embedding); embeddings per track;
alert latency (frame captured → alert durable) p50/p99; recall (each enrolled passer-by alerted
exactly once per pass) and false alerts. Modes:

- `tracked`: today's runner — faces found on the frame shrunk to 640 px, followed as tracks,
  compared when first seen and when materially better, refined at full resolution.
- `baseline`: the runner before tracking — the whole frame searched, every face in every frame
  embedded.

    python bench/van.py [--seconds 60] [--cameras 2] [--stretch-cameras 4] [--watchlist 10000]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from bench.common import MeteredEngine, PreciseClock, percentiles, write_result
from lfr_ledger.api.bootstrap import build_ledger
from lfr_ledger.api.demo.sample_deployment import (
    ADMIN,
    AO,
    AUTHORITY,
    COMPILER,
    OPERATOR,
    PLANNER,
    SIGNAGE,
    matcher_for,
    plan,
    register_documents,
    subject,
)
from lfr_ledger.api.demo.street.people import (
    DEFAULT_ENROLLED,
    SAMPLE_PEOPLE,
    encode_jpeg,
    scene_portraits,
)
from lfr_ledger.api.demo.street.plan import plan_passages
from lfr_ledger.api.demo.street.scene import Passage, SceneSpec
from lfr_ledger.api.demo.street.video import render_camera
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.alert import AlertClaim
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.values import Camera
from lfr_ledger.matching.engines.enrolment import enrol_from_image
from lfr_ledger.matching.engines.faces import FaceEngine
from lfr_ledger.matching.engines.plugins import load_engine
from lfr_ledger.matching.index.follower import WatchlistIndex
from lfr_ledger.matching.node.assembly import InProcessLedger, assemble_matcher
from lfr_ledger.matching.pipeline.config import RunnerConfig
from lfr_ledger.matching.pipeline.ports import AlertSink, FacesCounted, RunnerHooks
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
    refused: int = 0

    def raise_alert(self, claim: AlertClaim) -> uuid.UUID:
        try:
            alert_id = self.inner.raise_alert(claim)
        except Exception:
            self.refused += 1
            raise
        self.latencies_ms.append((self.clock() - claim.captured_at).total_seconds() * 1000)
        return alert_id

    def report_faces_counted(self, report: FacesCounted) -> uuid.UUID:
        return self.inner.report_faces_counted(report)


@dataclass(frozen=True)
class Streams:
    spec: SceneSpec
    videos: dict[str, Path]  # camera id -> video file
    passages: dict[str, list[Passage]]
    portraits: dict[str, np.ndarray]


def render_streams(workdir: Path, spec: SceneSpec, cameras: int, engine: FaceEngine) -> Streams:
    portraits = scene_portraits(engine, spec)
    videos, passages = {}, {}
    for n in range(1, cameras + 1):
        camera = f"cam-{n}"
        passages[camera] = plan_passages(camera, SAMPLE_PEOPLE, DEFAULT_ENROLLED, spec)
        videos[camera] = render_camera(workdir / f"{camera}.mp4", portraits, passages[camera], spec)
    return Streams(spec, videos, passages, portraits)


def live_deployment(
    ledger: CaseLedger,
    engine: FaceEngine,
    cameras: Sequence[str],
    portraits: Mapping[str, np.ndarray],
) -> tuple[uuid.UUID, dict[uuid.UUID, str]]:
    """A live deployment with the enrolled people on its watchlist; entry id -> person."""
    now = ledger.clock()
    operation = ledger.open_operation(PLANNER, name="Van bench", force="demo", purpose="bench")
    deployment = ledger.propose_deployment(
        PLANNER,
        plan(
            operation,
            ledger.policy.version,
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(hours=3),
            model_id=engine.model_id,
            cameras=tuple(Camera(c, f"van {c}") for c in cameras),
        ),
    )
    ledger.authorise_deployment(AO, deployment, authority_ref="AUTH-VAN", **AUTHORITY)
    people = {}
    for i, person in enumerate(DEFAULT_ENROLLED):
        photo = encode_jpeg(portraits[person])
        entry = enrol_from_image(ledger, engine, COMPILER, deployment, subject(i), photo)
        people[entry] = person
    ledger.review_watchlist(AO, deployment, confirmed_count=len(people), not_excessive=True)
    ledger.confirm_signage(OPERATOR, deployment, **SIGNAGE)
    ledger.start_deployment(OPERATOR, deployment)
    return deployment, people


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
) -> dict[str, Any]:
    tracked = mode == "tracked"
    first_engine = load_engine(model_dir=model_dir, threads=1, opencv_threads=1)
    deployment, people = live_deployment(ledger, first_engine, cameras, streams.portraits)
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
            "alerts": len(run.summary.alerts),
        }
    judged = judge(runs, streams, people)
    detect_cpu = sum(sum(r.engine.detect_cpu_ms) for r in runs) / 1000
    embed_cpu = sum(sum(r.engine.embed_cpu_ms) for r in runs) / 1000
    faces = sum(r.summary.faces for r in runs if r.summary)
    embeddings = sum(r.summary.embeddings for r in runs if r.summary)
    dropped = sum(r.source.dropped for r in runs)
    latency = percentiles(sink.latencies_ms)
    result = {
        "mode": mode,
        "cameras": len(runs),
        "detect_side": DETECT_SIDE if tracked else None,
        "watchlist_entries": entries,
        "video_seconds_per_camera": video_s,
        "wall_seconds": round(wall_s, 2),
        "per_camera": per_camera,
        "frames_dropped": dropped,
        "core_s_per_s": round(cpu_s / video_s, 3),
        "core_s_per_camera_second": round(cpu_s / stream_s, 3),
        "model_core_s_per_s": {
            "detection": round(detect_cpu / video_s, 3),
            "refine_align_embed": round(embed_cpu / video_s, 3),
            "total": round((detect_cpu + embed_cpu) / video_s, 3),
        },
        "embeddings_per_track": round(embeddings / faces, 2) if faces else None,
        "alert_latency_ms": latency,
        **judged,
        "claims_refused": sink.refused,
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    result["goals_met"] = {
        "core_s_per_s": result["core_s_per_s"] <= GOALS["core_s_per_s"],
        "dropped_frames": dropped == GOALS["dropped_frames"],
        "latency_p99_ms": bool(latency) and latency["p99"] <= GOALS["latency_p99_ms"],
        "recall": judged["recall"] == GOALS["recall"] and judged["false_alerts"] == 0,
    }
    return result


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
        "passes_alerted_twice_or_more": sum(1 for key in enrolled if alerted.get(key, 0) > 1),
        "recall": round(once / len(enrolled), 4) if enrolled else None,
        "false_alerts": false_alerts,
        "passers_by": sum(len(streams.passages[run.camera]) for run in runs),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="stream length per camera")
    parser.add_argument("--cameras", type=int, default=2)
    parser.add_argument(
        "--stretch-cameras", type=int, default=4, help="also run the tracked runner on this "
        "many cameras (0: skip)"
    )  # fmt: skip
    parser.add_argument("--watchlist", type=int, default=10_000)
    parser.add_argument(
        "--baseline-seconds",
        type=float,
        default=None,
        help="stream length for the baseline (default: --seconds)",
    )
    args = parser.parse_args(argv)
    settings_dir = Path(tempfile.mkdtemp(prefix="van-bench-"))
    model_dir = Settings.from_env().model_dir
    spec = SceneSpec(seconds=args.seconds)
    most = max(args.cameras, args.stretch_cameras)
    probe = load_engine(model_dir=model_dir)
    started = time.perf_counter()
    streams = render_streams(settings_dir / "streams", spec, most, probe)
    render_s = time.perf_counter() - started
    clock = PreciseClock()
    settings = Settings(data_dir=settings_dir / "ledger")
    ledger = build_ledger(settings, clock=clock)
    ledger.adopt_policy(ADMIN)
    register_documents(ledger)
    cameras = [f"cam-{n}" for n in range(1, args.cameras + 1)]
    results: dict[str, Any] = {}
    try:
        results["tracked"] = run_mode(
            "tracked", streams, cameras, ledger, settings, clock, model_dir, args.watchlist
        )
        print(f"tracked: {results['tracked']['core_s_per_s']} core-s/s", file=sys.stderr)
        baseline_streams = streams
        if args.baseline_seconds is not None:
            baseline_streams = replace(streams, spec=replace(spec, seconds=args.baseline_seconds))
        results["baseline"] = run_mode(
            "baseline", baseline_streams, cameras, ledger, settings, clock, model_dir,
            args.watchlist,
        )  # fmt: skip
        if args.stretch_cameras:
            stretch = [f"cam-{n}" for n in range(1, args.stretch_cameras + 1)]
            results["stretch"] = run_mode(
                "tracked", streams, stretch, ledger, settings, clock, model_dir, args.watchlist
            )
    finally:
        ledger.close()
    tracked, baseline = results["tracked"], results["baseline"]
    result = {
        "what": (
            f"{args.cameras} cameras at {spec.fps:g} fps, {spec.size[0]}x{spec.size[1]}, "
            f"{spec.seconds:g} s each, replayed live (newest frame only) into the real ledger "
            "(SQLite, chain, vault), one runner thread per camera"
        ),
        "scene": {
            "seconds": spec.seconds,
            "fps": spec.fps,
            "size": list(spec.size),
            "face_px": list(spec.face_px),
            "enrolled": list(DEFAULT_ENROLLED),
            "render_seconds": round(render_s, 1),
        },
        "goals": GOALS,
        **results,
        "ratios": {
            "core_s_per_s_baseline_over_tracked": round(
                baseline["core_s_per_s"] / tracked["core_s_per_s"], 2
            ),
            "embeddings_per_track_baseline_over_tracked": (
                round(baseline["embeddings_per_track"] / tracked["embeddings_per_track"], 2)
                if tracked["embeddings_per_track"] and baseline["embeddings_per_track"]
                else None
            ),
        },
    }
    path = write_result("van", result)
    print(path.read_text())


if __name__ == "__main__":
    main()

"""Matching throughput on CPU: end-to-end `analyse` beside the bare model-inference ceiling, and
watchlist search as a share of the per-face cost.

- Bare inference: the pack's two model files run directly and nothing else — YuNet through
  `cv2.FaceDetectorYN` on each frame, the SFace onnxruntime session on the frame's face crops
  (aligned and blob-packed beforehand, outside the clock), with the engine's own thread settings.
- End-to-end: `engine.analyse(frame)` — detect, quality gate, align, embed, normalise.
Both run over the same frames, in interleaved rounds of one run, so a noisy neighbour slows both
alike; the goal is end-to-end ≥ 0.85 × bare (DESIGN.md, Performance).
- Search: a deployment of 1,000 / 10,000 / 100,000 synthetic unit vectors (timing does not
  depend on who they are), probed with the real embeddings of the frames' faces; time per probe
  for the runner's path (`search_many`, one call per frame), single-probe `search`, and the
  vec0 SQL k-NN underneath, each as a share of the end-to-end per-face cost (goal ≤ 5 % at
  10,000).
- `alert_latency` is measured by `bench/matching_latency.py` when present: a module with
  `measure(context: MatchingBench) -> dict`; otherwise the key is null.

    python bench/matching.py [--rounds R] [--sizes 1000,10000,100000] [--pack sface]
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cv2
import numpy as np

from bench.common import write_result
from lfr_ledger.config.settings import Settings
from lfr_ledger.matching.engines.insightface_engine import InsightFaceEngine
from lfr_ledger.matching.engines.plugins import load_engine
from lfr_ledger.matching.engines.recogniser import default_threads, ort_session
from lfr_ledger.matching.index.follower import WatchlistIndex
from lfr_ledger.matching.packs.samples import VARIANTS, astronaut_bgr, insightface_image

SEARCH_GOAL = 0.05
RATIO_GOAL = 0.85


@dataclass
class MatchingBench:
    """What one run measures on, shared with further sections (alert latency)."""

    engine: InsightFaceEngine
    frames: list[np.ndarray]
    settings: Settings
    workdir: Path
    results: dict[str, Any] = field(default_factory=dict)


def bench_frames() -> list[np.ndarray]:
    """Eight frames of one size (as a video's are): the six-person group photo and variants of
    it, and two frames with the astronaut's portrait on a plain background."""
    group = insightface_image("t1.jpg")
    height, width = group.shape[:2]
    pick = dict(VARIANTS)
    frames = [
        group,
        np.ascontiguousarray(group[:, ::-1]),
        pick["brighter"](group),
        pick["blur-1.5"](group),
        pick["jpeg-40"](group),
        pick["noise-8"](group),
    ]
    astronaut = astronaut_bgr()
    for x in (100, 600):
        canvas = np.full((height, width, 3), 120, np.uint8)
        canvas[100 : 100 + astronaut.shape[0], x : x + astronaut.shape[1]] = astronaut
        frames.append(canvas)
    return [np.ascontiguousarray(f) for f in frames]


# --- inference ----------------------------------------------------------------------------------


class BareInference:
    """The pack's detector and recogniser sessions alone, on inputs prepared in advance."""

    def __init__(self, engine: InsightFaceEngine, frames: Sequence[np.ndarray]) -> None:
        pack = engine.pack
        height, width = frames[0].shape[:2]
        self.detector = cv2.FaceDetectorYN.create(
            str(pack.detector), "", (width, height), 0.5, 0.3, 5000
        )
        self.session = ort_session(pack.recogniser)
        self.input_name = self.session.get_inputs()[0].name
        batch = self.session.get_inputs()[0].shape[0]
        self.batchable = not (isinstance(batch, int) and batch == 1)
        recogniser = engine.recogniser
        size = recogniser.input_size
        self.blobs: list[np.ndarray] = []
        for frame in frames:
            crops = [recogniser.align(frame, face.detection) for face in engine.analyse(frame)]
            blob = cv2.dnn.blobFromImages(
                crops,
                1.0 / recogniser.input_std,
                (size, size),
                (recogniser.input_mean,) * 3,
                swapRB=True,
            )
            self.blobs.append(np.asarray(blob, np.float32))

    def run(self, frames: Sequence[np.ndarray]) -> int:
        faces = 0
        for frame, blob in zip(frames, self.blobs, strict=True):
            self.detector.detect(frame)
            if len(blob) == 0:
                continue
            if self.batchable:
                self.session.run(None, {self.input_name: blob})
            else:
                for one in blob:
                    self.session.run(None, {self.input_name: one[np.newaxis]})
            faces += len(blob)
        return faces


def inference_figures(bench: MatchingBench, rounds: int) -> dict[str, Any]:
    engine, frames = bench.engine, bench.frames
    bare = BareInference(engine, frames)
    # Warm both paths (first runs allocate).
    bare.run(frames)
    for frame in frames:
        engine.analyse(frame)
    bare_seconds = e2e_seconds = 0.0
    bare_faces = e2e_faces = 0
    for round_ in range(rounds):
        # Alternating which goes first keeps any warm-cache advantage from favouring one.
        for bare_turn in (True, False) if round_ % 2 else (False, True):
            started = time.perf_counter()
            if bare_turn:
                bare_faces += bare.run(frames)
                bare_seconds += time.perf_counter() - started
            else:
                for frame in frames:
                    e2e_faces += len(engine.analyse(frame))
                e2e_seconds += time.perf_counter() - started
    bare_rate, e2e_rate = bare_faces / bare_seconds, e2e_faces / e2e_seconds
    return {
        "frames": len(frames),
        "frame_size": f"{frames[0].shape[1]}x{frames[0].shape[0]}",
        "faces_per_pass": e2e_faces // rounds,
        "rounds": rounds,
        "threads": {"onnxruntime": default_threads(), "opencv": cv2.getNumThreads()},
        "bare_inference_faces_per_s": round(bare_rate, 2),
        "end_to_end_faces_per_s": round(e2e_rate, 2),
        "end_to_end_ratio": round(e2e_rate / bare_rate, 3),
        "ratio_goal": RATIO_GOAL,
        "per_face_ms_end_to_end": round(1000 / e2e_rate, 3),
        "per_frame_ms_end_to_end": round(1000 * e2e_seconds / (rounds * len(frames)), 3),
    }


# --- search -------------------------------------------------------------------------------------


def probes_by_frame(bench: MatchingBench) -> list[np.ndarray]:
    """Each frame's face embeddings, (n, dim): what the runner searches per frame."""
    out = []
    for frame in bench.frames:
        faces = bench.engine.analyse(frame)
        if faces:
            out.append(np.stack([f.embedding for f in faces]))
    return out


def _timed(repeats: int, body: Callable[[], int]) -> float:
    """Seconds per probe: the median over `repeats` passes of `body`, which returns how many
    probes it searched."""
    per_probe = []
    for _ in range(repeats):
        started = time.perf_counter()
        probes = body()
        per_probe.append((time.perf_counter() - started) / probes)
    return statistics.median(per_probe)


def search_at(
    bench: MatchingBench,
    size: int,
    by_frame: Sequence[np.ndarray],
    per_face_ms: float,
    repeats: int,
    rng: np.random.Generator,
) -> dict[str, float]:
    """Search timings for one deployment of `size` synthetic entries."""
    engine = bench.engine
    model_id = engine.model_id
    probes = np.concatenate(by_frame)
    path = bench.workdir / f"index-{size}.sqlite"
    deployment = uuid.uuid4()
    population = rng.standard_normal((size, engine.embedding_dim)).astype(np.float32)
    population /= np.linalg.norm(population, axis=1, keepdims=True)
    started = time.perf_counter()
    with WatchlistIndex(path) as index:
        index.load_vectors(deployment, model_id, ((uuid.uuid4(), v) for v in population))
    build_s = time.perf_counter() - started

    with WatchlistIndex(path) as index, WatchlistIndex(path, in_memory=False) as vec0:
        started = time.perf_counter()
        index.search(deployment, probes[0], model_id=model_id)
        first_ms = 1000 * (time.perf_counter() - started)

        def per_frame() -> int:
            for batch in by_frame:
                index.search_many(deployment, batch, model_id=model_id)
            return len(probes)

        def single() -> int:
            for probe in probes:
                index.search(deployment, probe, model_id=model_id)
            return len(probes)

        def sql() -> int:
            for probe in probes:
                vec0.search(deployment, probe, model_id=model_id)
            return len(probes)

        per_frame_ms = 1000 * _timed(repeats, per_frame)
        single_ms = 1000 * _timed(repeats, single)
        vec0_ms = 1000 * _timed(max(1, repeats // 2) if size >= 100_000 else repeats, sql)
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    return {
        "index_build_s": round(build_s, 2),
        "first_search_after_open_ms": round(first_ms, 3),
        "per_probe_ms": round(per_frame_ms, 4),
        "share_of_per_face_cost": round(per_frame_ms / per_face_ms, 4),
        "single_probe_search_ms": round(single_ms, 4),
        "single_probe_share": round(single_ms / per_face_ms, 4),
        "vec0_knn_per_probe_ms": round(vec0_ms, 4),
        "vec0_knn_share": round(vec0_ms / per_face_ms, 4),
    }


def search_figures(
    bench: MatchingBench, sizes: Sequence[int], per_face_ms: float, repeats: int = 7
) -> dict[str, Any]:
    by_frame = probes_by_frame(bench)
    rng = np.random.default_rng(2021)
    figures: dict[str, Any] = {}
    for size in sizes:
        figures[str(size)] = search_at(bench, size, by_frame, per_face_ms, repeats, rng)
        print(f"search at {size}: {figures[str(size)]}", flush=True)
    return {
        "probes": sum(len(b) for b in by_frame),
        "dimension": bench.engine.embedding_dim,
        "path": "in-memory copy of the vec0 rows (search_many per frame); vec0 k-NN beside it",
        "share_goal_at_10000": SEARCH_GOAL,
        "by_watchlist_size": figures,
    }


# --- the run ------------------------------------------------------------------------------------


def alert_latency(bench: MatchingBench) -> dict[str, Any] | None:
    """Alert latency from `bench/matching_latency.py` (`measure(bench) -> dict`), if present."""
    try:
        module = importlib.import_module("bench.matching_latency")
    except ModuleNotFoundError as error:
        if error.name != "bench.matching_latency":
            raise
        return None
    result: dict[str, Any] = module.measure(bench)
    return result


def run(
    *, pack: str, rounds: int, sizes: Sequence[int], settings: Settings, workdir: Path
) -> dict[str, Any]:
    engine = load_engine(pack=pack, model_dir=settings.model_dir)
    assert isinstance(engine, InsightFaceEngine)
    bench = MatchingBench(engine, bench_frames(), settings, workdir)
    results: dict[str, Any] = {
        "pack": pack,
        "model_id": engine.model_id,
        # Every figure here is CPU-bound: say how busy the machine was.
        "load_average_1m_at_start": round(os.getloadavg()[0], 2),
    }
    results["inference"] = inference_figures(bench, rounds)
    print(f"inference: {results['inference']}", flush=True)
    per_face = results["inference"]["per_face_ms_end_to_end"]
    results["search"] = search_figures(bench, sizes, per_face)
    bench.results = results
    results["alert_latency"] = alert_latency(bench)
    results["load_average_1m_at_end"] = round(os.getloadavg()[0], 2)
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--pack", default="sface")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--sizes", default="1000,10000,100000")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    with tempfile.TemporaryDirectory() as tmp:
        results = run(
            pack=args.pack,
            rounds=args.rounds,
            sizes=sizes,
            settings=Settings.from_env(),
            workdir=Path(tmp),
        )
    print(write_result("matching", results))


if __name__ == "__main__":
    main()

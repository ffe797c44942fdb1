"""Checks the van benchmark's street (`lfr_ledger.api.demo.street`, issue 14): renders camera
streams of the seven real sample people walking across a drawn street, and measures with the
engine what `bench/van.py` relies on.

The street itself (its plan, pixels, truth and videos) is production code the live demo draws
too; see `api/demo/street/plan.py` for the promises a plan keeps.

    python bench/van_scene.py [--seconds 20] [--out DIR] [--check]

`--check` renders two cameras, decodes them and measures what the benchmark relies on:
detection of every face in view, genuine and impostor similarities, the video round trip and
the render time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cv2

from lfr_ledger.api.demo.street.drawing import frames
from lfr_ledger.api.demo.street.people import (
    DEFAULT_ENROLLED,
    SAMPLE_PEOPLE,
    enrolment_embeddings,
    scene_portraits,
)
from lfr_ledger.api.demo.street.plan import plan_passages
from lfr_ledger.api.demo.street.scene import Box, Passage, SceneSpec, mask_ellipse
from lfr_ledger.api.demo.street.truth import truth
from lfr_ledger.api.demo.street.video import read_frames, render_camera, video_info
from lfr_ledger.matching.engines.faces import FaceEngine
from lfr_ledger.matching.pipeline.tracking import iou


def _on_someone(box: Box, passages: Sequence[Passage], spec: SceneSpec, t: float) -> bool:
    """Whether the box's centre lies on a passer-by's sprite (inside its mask's ellipse)."""
    x, y = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    for passage in passages:
        if passage.may_show(t):
            cx, cy, ax, ay = mask_ellipse(passage.face_box(t), spec.margin)
            if ((x - cx) / ax) ** 2 + ((y - cy) / ay) ** 2 <= 1:
                return True
    return False


# OpenCV Zoo's published cosine threshold for SFace; the policy's own (0.50, floor 0.45) is higher.
OPENCV_SFACE_THRESHOLD = 0.363


def check(
    engine: FaceEngine,
    spec: SceneSpec,
    *,
    cameras: Sequence[str] = ("cam-a", "cam-b"),
    enrolled: Sequence[str] = DEFAULT_ENROLLED,
    workdir: Path,
    min_iou: float = 0.3,
) -> dict[str, Any]:
    """Render each camera to .mp4, decode it, and measure on the decoded frames what the van
    benchmark relies on.

    - detection: per passage, the share of its fully-in-view frames where `engine.detect` gives a
      box with IoU ≥ `min_iou` to the truth box (all frames, and frames ≥ 80 % unoccluded);
      detections centred on no passer-by are strays (false faces in the street or the masks);
    - similarity (`engine.analyse`, against templates enrolled from the un-pasted portraits):
      genuine for enrolled passers-by, per frame and as each passage's best frame; impostor for
      non-enrolled passers-by against the enrolled templates, with the closest pairs;
    - the round trip (decoded frame count and fps) and the render time.
    """
    from lfr_ledger.domain.policy import Policy

    limits = Policy.load().thresholds_for(engine.model_id)
    thresholds = {
        "opencv": OPENCV_SFACE_THRESHOLD,
        "policy_floor": limits.threshold_floor,
        "policy_default": limits.default_threshold,
    }
    portraits = scene_portraits(engine, spec)
    templates = enrolment_embeddings(engine, portraits)
    rates: list[float] = []
    clear_rates: list[float] = []
    genuine: list[float] = []
    genuine_clear: list[float] = []
    best_genuine: list[float] = []
    impostor: list[float] = []
    pairs: dict[str, float] = {}
    stray = 0
    psnr: list[float] = []
    report: dict[str, Any] = {"spec": {"seconds": spec.seconds, "fps": spec.fps}, "cameras": {}}
    for camera in cameras:
        passages = plan_passages(camera, SAMPLE_PEOPLE, enrolled, spec)
        path = workdir / f"{camera}.mp4"
        started = time.perf_counter()
        render_camera(path, portraits, passages, spec)
        render_s = time.perf_counter() - started
        decoded, fps = video_info(path, decode=True)
        hits: dict[int, list[bool]] = {id(p): [] for p in passages}
        clear: dict[int, list[bool]] = {id(p): [] for p in passages}
        best: dict[int, float] = {id(p): -1.0 for p in passages if p.enrolled}
        originals = frames(portraits, passages, spec)
        for index, image in enumerate(read_frames(path)):
            psnr.append(float(cv2.PSNR(next(originals), image)))
            t = index / spec.fps
            detected = engine.detect(image)
            expected = truth(passages, spec, index)
            for face_truth in expected:
                found = any(iou(d.bbox, face_truth.bbox) >= min_iou for d in detected)
                hits[id(face_truth.passage)].append(found)
                if face_truth.visible >= 0.8:
                    clear[id(face_truth.passage)].append(found)
            # A head half in view may be detected too; a stray is a detection on no passer-by.
            stray += sum(1 for d in detected if not _on_someone(d.bbox, passages, spec, t))
            for face in engine.analyse(image):
                owner = max(expected, key=lambda f: iou(face.bbox, f.bbox), default=None)
                if owner is None or iou(face.bbox, owner.bbox) < min_iou:
                    continue
                if owner.passage.enrolled:
                    score = float(face.embedding @ templates[owner.person])
                    genuine.append(score)
                    if owner.visible >= 0.8:
                        genuine_clear.append(score)
                    best[id(owner.passage)] = max(best[id(owner.passage)], score)
                    continue
                for person in enrolled:
                    score = float(face.embedding @ templates[person])
                    impostor.append(score)
                    key = f"{owner.person} vs {person}"
                    pairs[key] = max(pairs.get(key, -1.0), score)
        rates += [sum(h) / len(h) for h in hits.values() if h]
        clear_rates += [sum(h) / len(h) for h in clear.values() if h]
        best_genuine += list(best.values())
        report["cameras"][camera] = {
            "passages": len(passages),
            "passes": len({p.pass_index for p in passages}),
            "crossing_passes": len({p.pass_index for p in passages if p.crossing}),
            "render_seconds": round(render_s, 2),
            "render_ms_per_frame": round(1000 * render_s / spec.frame_count, 1),
            "file_bytes": path.stat().st_size,
            "decoded_frames": decoded,
            "expected_frames": spec.frame_count,
            "fps": fps,
        }
    closest = sorted(pairs.items(), key=lambda kv: -kv[1])[:3]
    report.update(
        {
            "detection_rate_per_passage": {
                "min": round(min(rates), 3),
                "mean": round(statistics.fmean(rates), 3),
                "min_where_80pct_visible": round(min(clear_rates), 3),
            },
            "stray_detections": stray,
            "decoded_psnr_db": {
                "min": round(min(psnr), 1),
                "mean": round(statistics.fmean(psnr), 1),
            },
            "thresholds": thresholds,
            "genuine_per_frame": _summary(genuine),
            "genuine_per_frame_80pct_visible": _summary(genuine_clear),
            "genuine_best_frame_per_passage": _summary(best_genuine),
            "impostor_non_enrolled_vs_enrolled": _summary(impostor),
            "closest_impostor_pairs": {k: round(v, 3) for k, v in closest},
            "impostor_frames_at_or_above": {
                name: sum(1 for s in impostor if s >= value) for name, value in thresholds.items()
            },
            "genuine_frames_80pct_visible_below": {
                name: sum(1 for s in genuine_clear if s < value)
                for name, value in thresholds.items()
            },
        }
    )
    return report


def _summary(values: Sequence[float]) -> dict[str, float | int]:
    if not values:
        return {"n": 0}
    ordered = sorted(values)
    return {
        "n": len(ordered),
        "min": round(ordered[0], 3),
        "p05": round(ordered[int(0.05 * (len(ordered) - 1))], 3),
        "median": round(statistics.median(ordered), 3),
        "max": round(ordered[-1], 3),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--enrolled",
        default=",".join(DEFAULT_ENROLLED),
        help="comma-separated sample people on the watchlist (default: %(default)s)",
    )
    parser.add_argument("--out", type=Path, default=None, help="write cam-a.mp4, cam-b.mp4 here")
    parser.add_argument("--check", action="store_true", help="measure the scene with the engine")
    parser.add_argument(
        "--detect-side",
        type=int,
        default=None,
        help="run the detector on frames shrunk to this longest side (the engine's max_side)",
    )
    args = parser.parse_args(argv)
    if args.out is None and not args.check:
        parser.error("give --out DIR to keep the videos, or --check to measure them")
    from lfr_ledger.matching.engines.plugins import load_engine

    spec = SceneSpec(seconds=args.seconds, seed=args.seed)
    enrolled = tuple(name.strip() for name in args.enrolled.split(",") if name.strip())
    engine = load_engine(detector_max_side=args.detect_side)
    with tempfile.TemporaryDirectory() as scratch:
        workdir = args.out or Path(scratch)
        if args.check:
            report = check(engine, spec, enrolled=enrolled, workdir=workdir)
            header = {"enrolled": enrolled, "detect_side": args.detect_side}
            print(json.dumps({**header, **report}, indent=2))
            return
        portraits = scene_portraits(engine, spec)
        for camera in ("cam-a", "cam-b"):
            passages = plan_passages(camera, SAMPLE_PEOPLE, enrolled, spec)
            path = render_camera(workdir / f"{camera}.mp4", portraits, passages, spec)
            print(f"{path}: {len(passages)} passages")


if __name__ == "__main__":
    main()

"""The van benchmark's camera streams: rendered once per scene and kept.

Rendering a minute of 1280 × 720 street takes about 12 s a camera; the streams are a function of
the scene's spec, the camera, its passages and the portraits, so they are cached under
`var/van-streams/<key>/`, the key a hash of all four (a changed renderer that keeps them equal
would reuse a stale file: delete the folder, or pass `--no-cache`).
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lfr_ledger.api.demo.street.people import DEFAULT_ENROLLED, SAMPLE_PEOPLE, scene_portraits
from lfr_ledger.api.demo.street.plan import plan_passages
from lfr_ledger.api.demo.street.scene import Passage, SceneSpec
from lfr_ledger.api.demo.street.video import render_camera, video_info
from lfr_ledger.matching.engines.faces import FaceEngine

CACHE_DIR = Path(__file__).resolve().parent.parent / "var" / "van-streams"


@dataclass(frozen=True)
class Streams:
    spec: SceneSpec
    videos: dict[str, Path]  # camera id -> video file
    passages: dict[str, list[Passage]]
    portraits: dict[str, np.ndarray]
    rendered: int  # how many of the videos were rendered now (the rest came from the cache)


def _key(
    spec: SceneSpec, camera: str, passages: list[Passage], portraits: dict[str, np.ndarray]
) -> str:
    digest = hashlib.sha256(repr((spec, camera, passages)).encode())
    for person in sorted(portraits):
        digest.update(person.encode())
        digest.update(np.ascontiguousarray(portraits[person]).tobytes())
    return digest.hexdigest()[:20]


def render_streams(
    workdir: Path, spec: SceneSpec, cameras: int, engine: FaceEngine, *, cache: bool = True
) -> Streams:
    """Each camera's stream, from the cache when an identical one was rendered before."""
    portraits = scene_portraits(engine, spec)
    videos, passages = {}, {}
    rendered = 0
    for n in range(1, cameras + 1):
        camera = f"cam-{n}"
        passages[camera] = plan_passages(camera, SAMPLE_PEOPLE, DEFAULT_ENROLLED, spec)
        kept = CACHE_DIR / _key(spec, camera, passages[camera], portraits) / f"{camera}.mp4"
        if cache and kept.is_file() and video_info(kept)[0] == spec.frame_count:
            videos[camera] = kept
            continue
        path = render_camera(workdir / f"{camera}.mp4", portraits, passages[camera], spec)
        rendered += 1
        if cache:
            kept.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, kept.with_suffix(".tmp"))
            kept.with_suffix(".tmp").replace(kept)
        videos[camera] = kept if cache else path
    return Streams(spec, videos, passages, portraits, rendered)

"""Enrolment memory: peak resident memory, time and faces embedded for the largest photos
enrolment accepts, each enrolled in a fresh process through the engine the API loads.

- `one-face-normal`: the astronaut's portrait at 512 × 512, for the baseline;
- `one-face-24mp`: the portrait scaled to 1400 px on a grey 6000 × 4000 JPEG (24 MP, the most
  `check_image_header` accepts), its face about 250 px across;
- `close-up-24mp`: the portrait scaled to 3800 px on the same canvas, its face about 820 px
  across (refused as faceless before issue 23: the detector, run on every pixel, missed it);
- `many-faces-23mp`: the seven sample portraits tiled 42 × 30 (1,260 faces of about 70 px) into
  a 5712 × 4080 JPEG (23.3 MP, 5.7 MB), which must be refused as several faces.

Each case runs in its own process (`--worker`): the engine is loaded first, the kernel's peak
RSS is reset (`/proc/self/clear_refs`), then one `template_from_image` runs and its peak
(`VmHWM`) and the RSS still held after it (`VmRSS`) are read. Faces embedded are counted by
wrapping the REAL recogniser's `embed_aligned`. A second enrolment, of `one-face-24mp`, follows
in the same process, as the next request to the same server would.

    python bench/enrolment_memory.py            # LFR_BENCH_RESULTS=/tmp/x for a trial run
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cv2
import numpy as np

from bench.common import write_result

CASES = ("one-face-normal", "one-face-24mp", "close-up-24mp", "many-faces-23mp")


def one_face(side: int, canvas: tuple[int, int] | None = None) -> np.ndarray:
    from lfr_ledger.matching.packs.samples import astronaut_bgr

    portrait = cv2.resize(astronaut_bgr(), (side, side), interpolation=cv2.INTER_CUBIC)
    if canvas is None:
        return portrait
    width, height = canvas
    image = np.full((height, width, 3), 128, np.uint8)
    left, top = (width - side) // 2, (height - side) // 2
    image[top : top + side, left : left + side] = portrait
    return image


def many_faces(columns: int = 42, rows: int = 30, cell: int = 136) -> np.ndarray:
    from lfr_ledger.matching.engines.plugins import load_engine
    from lfr_ledger.matching.packs.samples import sample_identities

    people = list(sample_identities(load_engine()).values())
    tiles = [cv2.resize(p, (cell, cell), interpolation=cv2.INTER_AREA) for p in people]
    image = np.empty((rows * cell, columns * cell, 3), np.uint8)
    for row in range(rows):
        for column in range(columns):
            tile = tiles[(row * columns + column) % len(tiles)]
            image[row * cell : (row + 1) * cell, column * cell : (column + 1) * cell] = tile
    return image


def write_images(folder: Path) -> dict[str, Path]:
    images = {
        "one-face-normal": one_face(512),
        "one-face-24mp": one_face(1400, canvas=(6000, 4000)),
        "close-up-24mp": one_face(3800, canvas=(6000, 4000)),
        "many-faces-23mp": many_faces(),
    }
    paths = {}
    for name, image in images.items():
        ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])
        assert ok
        paths[name] = folder / f"{name}.jpg"
        paths[name].write_bytes(encoded.tobytes())
    return paths


def status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak() -> bool:
    """Resets the kernel's peak RSS (`VmHWM`) to the current RSS, so the peak read next is the
    enrolment's own, not the engine load's (`ru_maxrss` cannot be reset)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def enrol(engine: Any, image: bytes) -> str:
    from lfr_ledger.domain.errors import InvalidInput
    from lfr_ledger.matching.engines.enrolment import template_from_image

    try:
        template_from_image(engine, image)
    except InvalidInput as refused:
        return f"refused {refused.kind}: {refused.detail}"
    return "template"


def measured(engine: Any, image: bytes, embedded: list[int]) -> dict[str, Any]:
    embedded[0] = 0
    exact = reset_peak()
    resident = status_mb("VmRSS")
    started = time.perf_counter()
    outcome = enrol(engine, image)
    seconds = time.perf_counter() - started
    peak = (
        status_mb("VmHWM") if exact else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    )
    return {
        "bytes": len(image),
        "seconds": round(seconds, 2),
        "faces_embedded": embedded[0],
        "outcome": outcome,
        "rss_mb_before": round(resident),
        "peak_rss_mb": round(peak),
        "peak_growth_mb": round(peak - resident),
        "peak_is_the_enrolments_own": exact,
        "rss_mb_after": round(status_mb("VmRSS")),
    }


def worker(image_path: Path, again_path: Path) -> dict[str, Any]:
    """One enrolment of `image_path` then one of `again_path`, in this fresh process."""
    from lfr_ledger.config.settings import Settings
    from lfr_ledger.matching.engines.enrolment import engine_for_model
    from lfr_ledger.matching.engines.model_packs import SFACE_PACK, load_pack

    settings = Settings.from_env()
    model_id = load_pack(settings.model_dir, SFACE_PACK).model_id
    engine = engine_for_model(settings.model_dir, model_id)
    recogniser = engine.recogniser  # type: ignore[attr-defined]
    embedded = [0]
    real = recogniser.embed_aligned

    def counting(crops: Any) -> np.ndarray:
        embedded[0] += len(crops)
        return real(crops)

    recogniser.embed_aligned = counting
    result = measured(engine, image_path.read_bytes(), embedded)
    result["next_enrolment"] = measured(engine, again_path.read_bytes(), embedded)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--worker", nargs=2, type=Path, metavar=("IMAGE", "NEXT"))
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(*args.worker)))
        return
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder:
        paths = write_images(Path(folder))
        for name in CASES:
            run = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--worker",
                    str(paths[name]),
                    str(paths["one-face-24mp"]),
                ],
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
            if run.returncode != 0:
                results[name] = {"error": run.stderr[-2000:]}
            else:
                results[name] = json.loads(run.stdout.strip().splitlines()[-1])
            print(name, json.dumps(results[name]), flush=True)
    print(write_result("enrolment_memory", {"cases": results}))


if __name__ == "__main__":
    main()

"""The int8 sface variant beside the fp32 pack: recogniser ms per face and the drift gate, for
every quantisation recipe in `matching/packs/quantise.py`, in one run.

- Gate set: the seven sample people (six faces of insightface's `t1.jpg`, the astronaut), each
  portrait and its 12 variants, aligned by the fp32 pack's detector: 91 crops, 4,095 pairs.
- Calibration (static recipes only): other crops of the same people — each portrait mirrored and
  the compound small+blur+JPEG variant — so no gate image is calibrated on.
- Speed: each recogniser's onnxruntime session on the same prepared crops, one face per run (as
  `embed`) and six per run (a frame of the group photo, as `analyse`), with 1 and 2 intra-op
  threads, in interleaved rounds so a noisy neighbour slows every model alike; the int8/fp32
  ratio is taken per round. The detector is not timed: the int8 pack holds the fp32 YuNet file
  unchanged (it runs in OpenCV's DNN module, not onnxruntime).

    python bench/int8.py [--rounds R] [--recipes fc-dynamic,all-dynamic,...]
    python bench/int8.py --write-faces DIR   # the gate set's images, for `lfr models quantise`
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cv2
import numpy as np
import onnxruntime

from bench.common import write_result
from lfr_ledger.config.settings import Settings
from lfr_ledger.matching.engines.insightface_engine import InsightFaceEngine
from lfr_ledger.matching.engines.model_packs import INT8_DRIFT_BOUND, SFACE_PACK
from lfr_ledger.matching.engines.recogniser import Recogniser, ort_session
from lfr_ledger.matching.packs.drift_gate import (
    FaceCrops,
    crops_of,
    drift_report,
    write_face_folder,
)
from lfr_ledger.matching.packs.quantise import DEFAULT_RECIPE, RECIPES, quantise_recogniser
from lfr_ledger.matching.packs.samples import COMPOUND, sample_identities, variants

Images = dict[str, list[tuple[str, np.ndarray]]]


def sample_faces(engine: InsightFaceEngine) -> tuple[Images, Images]:
    """The gate set's images and the held-out calibration images, per person."""
    portraits = sample_identities(engine)
    gate = {who: [("portrait", image), *variants(image)] for who, image in portraits.items()}
    name, make = COMPOUND
    calibration = {
        who: [("mirrored", np.ascontiguousarray(image[:, ::-1])), (name, make(image))]
        for who, image in portraits.items()
    }
    return gate, calibration


def cpu_flags() -> list[str]:
    """The CPU features int8 kernels depend on (VNNI, AMX), as the kernel reports them."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return []
    lines = [line for line in text.splitlines() if line.startswith("flags")]
    flags = lines[0].split(":", 1)[1].split() if lines else []
    wanted = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8")
    return [flag for flag in wanted if flag in flags]


def time_recognisers(
    paths: dict[str, Path], crops: np.ndarray, *, rounds: int, threads: int, batch: int
) -> dict[str, Any]:
    """ms per face for each model, rounds interleaved; int8/fp32 ratio per round."""
    sessions = {name: ort_session(path, threads=threads) for name, path in paths.items()}
    # Prepared outside the clock, as the recogniser does (RGB, mean 0, std 1, NCHW).
    size = crops.shape[1]
    blob = cv2.dnn.blobFromImages(list(crops[:batch]), 1.0, (size, size), (0, 0, 0), swapRB=True)
    runs = max(1, 12 // batch)
    for session in sessions.values():
        session.run(None, {"data": blob})  # warm-up: first runs allocate
    per_round: dict[str, list[float]] = {name: [] for name in sessions}
    for _ in range(rounds):
        for name, session in sessions.items():
            started = time.perf_counter()
            for _ in range(runs):
                session.run(None, {"data": blob})
            per_round[name].append((time.perf_counter() - started) * 1000 / (runs * batch))
    result: dict[str, Any] = {
        name: {"ms_per_face": round(statistics.median(times), 2)}
        for name, times in per_round.items()
    }
    for name, times in per_round.items():
        if name != "fp32":
            ratios = [t / f for t, f in zip(times, per_round["fp32"], strict=True)]
            result[name]["ratio_to_fp32"] = round(statistics.median(ratios), 3)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--recipes", default=",".join(RECIPES))
    parser.add_argument("--write-faces", type=Path, default=None)
    args = parser.parse_args()

    load_at_start = [round(v, 2) for v in os.getloadavg()]
    model_dir = Settings.from_env().model_dir
    engine = InsightFaceEngine(model_dir=model_dir, pack=SFACE_PACK)
    gate_images, calibration_images = sample_faces(engine)
    if args.write_faces is not None:
        write_face_folder(gate_images, args.write_faces)
        print(f"wrote the gate set's images to {args.write_faces}", file=sys.stderr)
        return
    gate_set = crops_of(engine, gate_images, "sample people: each portrait and its 12 variants")
    calibration: FaceCrops = crops_of(
        engine, calibration_images, "sample people: each portrait mirrored, and small+blur+jpeg"
    )
    fp32_path = engine.pack.recogniser
    fp32 = Recogniser(fp32_path, ort_session(fp32_path), input_mean=0.0, input_std=1.0)

    recipes: dict[str, Any] = {}
    paths = {"fp32": fp32_path}
    with tempfile.TemporaryDirectory(prefix="lfr-int8-bench-") as tmp:
        for name in args.recipes.split(","):
            recipe = RECIPES[name]
            path = Path(tmp) / f"{name}.onnx"
            started = time.perf_counter()
            quantisation = quantise_recogniser(fp32_path, path, recipe, calibration=calibration)
            seconds = time.perf_counter() - started
            int8 = Recogniser(path, ort_session(path), input_mean=0.0, input_std=1.0)
            report = drift_report(fp32, int8, gate_set)
            print(f"{name}: {report.summary()}", file=sys.stderr)
            recipes[name] = {
                "function": quantisation["function"],
                "parameters": quantisation["parameters"],
                "calibration": quantisation["calibration"],
                "quantised_nodes": len(quantisation["quantised_nodes"]),
                "int8_weights": quantisation["int8_weights"],
                "float_weights": quantisation["float_weights"],
                "file_bytes": path.stat().st_size,
                "quantise_seconds": round(seconds, 2),
                "gate": report.to_dict(),
                "verdict": "accepted" if report.accepted else "refused",
            }
            paths[name] = path
        speed = {
            f"threads_{threads}_batch_{batch}": time_recognisers(
                paths, gate_set.crops, rounds=args.rounds, threads=threads, batch=batch
            )
            for threads in (1, 2)
            for batch in (1, 6)
        }
    for setting, models in speed.items():
        print(setting, {name: row["ms_per_face"] for name, row in models.items()}, file=sys.stderr)

    chosen = recipes.get(DEFAULT_RECIPE.name)
    path = write_result(
        "int8",
        {
            "benchmark": "int8 sface recogniser vs fp32: drift gate and ms per face",
            "command": " ".join(["python bench/int8.py", *sys.argv[1:]]),
            "load_average_at_start": load_at_start,
            "cpu_flags": cpu_flags(),
            "load_average_at_end": [round(v, 2) for v in os.getloadavg()],
            "onnxruntime": onnxruntime.__version__,
            "gate_set": gate_set.description,
            "calibration_set": calibration.description,
            "drift_bound": INT8_DRIFT_BOUND,
            "fp32_recogniser_bytes": fp32_path.stat().st_size,
            "detector": "not quantised: the int8 pack holds the fp32 YuNet file unchanged",
            "default_recipe": DEFAULT_RECIPE.name,
            "verdict": None if chosen is None else chosen["verdict"],
            "recipes": recipes,
            "speed": speed,
        },
    )
    print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()

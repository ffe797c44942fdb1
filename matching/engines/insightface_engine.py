"""The built-in engine: a verified model pack run by InsightFace 2.1 components on onnxruntime
(CPU): frame → detect → quality gate → align (5 landmarks) → embed, for either pack kind:

- `sface`: YuNet through `cv2.FaceDetectorYN` (`detectors.py`), SFace through InsightFace's
  `ArcFaceONNX` with the pack's input mean/std (0/1: the int8 export makes InsightFace guess
  127.5, which silently ruins embeddings);
- `insightface` (buffalo_l): the usual SCRFD + ArcFace.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from lfr_ledger.matching.engines.detectors import ScrfdDetector, YuNetDetector
from lfr_ledger.matching.engines.faces import DetectedFace, Detector, Face, QualityGate
from lfr_ledger.matching.engines.model_packs import ModelPack, default_model_dir, open_verified_pack
from lfr_ledger.matching.engines.recogniser import Recogniser, ort_session


class InsightFaceEngine:
    """The default engine: a verified model pack run by InsightFace components on onnxruntime."""

    def __init__(
        self,
        model_dir: Path | None = None,
        pack: str = "sface",
        *,
        gate: QualityGate | None = None,
        threads: int | None = None,
        detector_threshold: float = 0.5,
        detector_max_side: int | None = None,
        opencv_threads: int | None = None,
    ) -> None:
        """Load and verify `model_dir/pack`; refuses a pack whose files fail their checksums.

        `threads` sets onnxruntime's intra-op threads (default `default_threads()`).
        `opencv_threads`, if given, calls `cv2.setNumThreads`, which is process-wide.
        """
        if opencv_threads is not None:
            cv2.setNumThreads(opencv_threads)
        self.pack: ModelPack = open_verified_pack(model_dir or default_model_dir(), pack)
        recogniser_session = ort_session(self.pack.recogniser, threads=threads)
        recogniser = Recogniser(
            self.pack.recogniser,
            recogniser_session,
            input_mean=self.pack.recogniser_input_mean,
            input_std=self.pack.recogniser_input_std,
        )
        detector: Detector
        if self.pack.kind == "sface":
            detector = YuNetDetector(
                self.pack.detector,
                score_threshold=detector_threshold,
                max_side=detector_max_side,
            )
        else:
            detector = ScrfdDetector(
                self.pack.detector,
                ort_session(self.pack.detector, threads=threads),
                score_threshold=detector_threshold,
            )
        if recogniser.embedding_dim != self.pack.embedding_dim:
            raise ValueError(
                f"pack {pack!r} promises {self.pack.embedding_dim}-d embeddings, "
                f"its recogniser gives {recogniser.embedding_dim}"
            )
        self._init(self.pack.model_id, detector, recogniser, gate or QualityGate())
        self._warm_up()

    def _init(
        self, model_id: str, detector: Detector, recogniser: Recogniser, gate: QualityGate
    ) -> None:
        self.model_id = model_id
        self.embedding_dim = recogniser.embedding_dim
        self.gate = gate
        self.detector = detector
        self.recogniser = recogniser

    def _warm_up(self) -> None:
        """One run of each network on a blank input: onnxruntime plans its memory on the first
        run (about 0.4 s for SFace here), which would otherwise fall on the first face seen."""
        self.detector.detect(np.zeros((240, 320, 3), np.uint8))
        size = self.recogniser.input_size
        self.recogniser.embed_aligned([np.zeros((size, size, 3), np.uint8)])

    @classmethod
    def from_parts(
        cls,
        model_id: str,
        detector: Detector,
        recogniser: Recogniser,
        gate: QualityGate | None = None,
    ) -> InsightFaceEngine:
        """An engine over components built elsewhere (tests, benchmarks, custom packs)."""
        engine = cls.__new__(cls)
        engine._init(model_id, detector, recogniser, gate or QualityGate())
        return engine

    def detect(self, image_bgr: np.ndarray) -> list[DetectedFace]:
        return self.detector.detect(_checked(image_bgr))

    def find_faces(self, image_bgr: np.ndarray) -> list[DetectedFace]:
        return [face for face in self.detect(image_bgr) if self.gate.admits(face)]

    def find_faces_in(
        self, image_bgr: np.ndarray, regions: Sequence[tuple[float, float, float, float]]
    ) -> list[DetectedFace]:
        """`find_faces` inside `regions` only (frame pixels, not overlapping): the runner's
        motion gate (`pipeline/regions.py`). A detector that cannot search regions searches the
        whole frame."""
        image = _checked(image_bgr)
        detect_in = getattr(self.detector, "detect_in", None)
        found = detect_in(image, regions) if detect_in is not None else self.detect(image)
        return [face for face in found if self.gate.admits(face)]

    def embed(self, image_bgr: np.ndarray, face: DetectedFace) -> np.ndarray:
        """One face's unit-length embedding; raises if the model gives a degenerate vector."""
        (found,) = self.embed_faces(image_bgr, [face])
        if found is None:
            raise ValueError("the recogniser produced a zero or non-finite embedding")
        return found.embedding

    def embed_faces(
        self, image_bgr: np.ndarray, faces: Sequence[DetectedFace]
    ) -> list[Face | None]:
        image = _checked(image_bgr)
        refined = [self.detector.refine(image, face) if face.coarse else face for face in faces]
        aligned = [face for face in refined if face is not None]
        if not aligned:
            return [None] * len(faces)
        vectors = iter(
            self.recogniser.embed_aligned([self.recogniser.align(image, f) for f in aligned])
        )
        result: list[Face | None] = []
        for face in refined:
            if face is None:
                result.append(None)
                continue
            vector = next(vectors)
            result.append(Face(face, vector) if np.isfinite(vector).all() else None)
        return result

    def analyse(self, image_bgr: np.ndarray) -> list[Face]:
        """Detect, gate, refine, align and embed every face in one frame (one recogniser run)."""
        image = _checked(image_bgr)
        return [face for face in self.embed_faces(image, self.find_faces(image)) if face]


def _checked(image_bgr: np.ndarray) -> np.ndarray:
    if image_bgr.dtype != np.uint8 or image_bgr.ndim != 3 or image_bgr.shape[2] != 3:
        raise ValueError(
            f"expected a BGR uint8 image of shape (H, W, 3), got {image_bgr.dtype} "
            f"{image_bgr.shape}"
        )
    return image_bgr

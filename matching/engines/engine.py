"""Face engines: frame → detect → quality gate → align (5 landmarks) → embed.

Engines are plugins found under the entry-point group `lfr.engines`. A plugin is a callable
(usually a class) accepting `model_dir=`, `pack=` and engine-specific keyword options, returning
an object that satisfies `FaceEngine`. The built-in `InsightFaceEngine` runs InsightFace 2.1
components on onnxruntime (CPU) for either pack kind:

- `sface`: YuNet through `cv2.FaceDetectorYN` (InsightFace would route YuNet to SCRFD, wrongly),
  SFace through InsightFace's `ArcFaceONNX` with the pack's input mean/std (0/1: the int8 export
  makes InsightFace guess 127.5, which silently ruins embeddings);
- `insightface` (buffalo_l): the usual SCRFD + ArcFace.

An engine holds per-call state (each detector network's input size): `detect`/`find_faces` may
run on one thread while `embed_faces` runs on another (the runner's pipeline does this; they
share no network), but neither may run on two threads at once: give each runner its own engine.
"""

from __future__ import annotations

import importlib.metadata
import math
import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import cv2
import numpy as np

from lfr_ledger.matching.engines.model_packs import ModelPack, default_model_dir, open_verified_pack

ENGINE_GROUP = "lfr.engines"

# insightface's norm_crop calls skimage's deprecated `SimilarityTransform.estimate` on every face;
# the warning is known (scikit-image is pinned below 2.2) and would otherwise flood the logs.
warnings.filterwarnings(
    "ignore",
    message=r"`estimate` is deprecated",
    category=FutureWarning,
    module=r"insightface\.utils\.face_align",
)


def default_threads() -> int:
    """onnxruntime intra-op threads: every core, up to four (a 2-core box gets 2).

    Models this small scale poorly past a few threads, and the video decoder needs a core too.
    """
    return max(1, min(4, os.cpu_count() or 1))


# eq=False: fields hold arrays, whose `==` is elementwise; faces compare by identity.
@dataclass(frozen=True, eq=False)
class DetectedFace:
    """A face the detector found, in the frame's pixel coordinates."""

    bbox: tuple[float, float, float, float]  # x1, y1, x2, y2
    score: float
    # (5, 2) float32: eye, eye, nose tip, mouth corner, mouth corner, image-left first in each
    # pair — the order insightface's `norm_crop` maps onto the ArcFace template.
    landmarks: np.ndarray = field(repr=False)
    # Found on a shrunk frame: good enough to track, too coarse to align (see `YuNetDetector`).
    coarse: bool = False

    @property
    def size_px(self) -> float:
        """The shorter side of the box: what a minimum-face-size rule is measured against."""
        x1, y1, x2, y2 = self.bbox
        return min(x2 - x1, y2 - y1)


@dataclass(frozen=True, eq=False)
class Face:
    """A face that passed the quality gate, with its L2-normalised embedding."""

    detection: DetectedFace
    embedding: np.ndarray = field(repr=False)  # (embedding_dim,) float32, unit length

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        return self.detection.bbox

    @property
    def score(self) -> float:
        return self.detection.score


@dataclass(frozen=True)
class QualityGate:
    """Faces too small or too doubtful to compare are discarded before embedding.

    `min_face_px` is the shorter side of the detector's box in frame pixels; `min_detector_score`
    is the detector's own confidence.
    """

    min_face_px: float = 32.0
    min_detector_score: float = 0.7

    def admits(self, face: DetectedFace) -> bool:
        return face.size_px >= self.min_face_px and face.score >= self.min_detector_score


def region(
    box: tuple[float, float, float, float], shape: tuple[int, ...], margin: float = 0.0
) -> tuple[int, int, int, int]:
    """`box` grown by `margin` of its size on every side and clipped to an image of `shape`,
    as whole pixels: left, top, right, bottom."""
    x1, y1, x2, y2 = box
    mx, my = (x2 - x1) * margin, (y2 - y1) * margin
    height, width = shape[:2]
    return (
        max(0, math.floor(x1 - mx)),
        max(0, math.floor(y1 - my)),
        min(width, math.ceil(x2 + mx)),
        min(height, math.ceil(y2 + my)),
    )


def nearest_face(faces: Sequence[DetectedFace], point: tuple[float, float]) -> DetectedFace | None:
    """The face whose box centre lies nearest `point` (x, y); None if there is none."""
    if not faces:
        return None

    def distance(face: DetectedFace) -> float:
        x1, y1, x2, y2 = face.bbox
        return ((x1 + x2) / 2 - point[0]) ** 2 + ((y1 + y2) / 2 - point[1]) ** 2

    return min(faces, key=distance)


@runtime_checkable
class FaceEngine(Protocol):
    """What the matcher needs from an engine. Images are BGR uint8 (H, W, 3), as OpenCV reads."""

    model_id: str
    embedding_dim: int

    def detect(self, image_bgr: np.ndarray) -> list[DetectedFace]: ...

    def find_faces(self, image_bgr: np.ndarray) -> list[DetectedFace]:
        """The faces worth following: detected, and admitted by the quality gate."""
        ...

    def embed(self, image_bgr: np.ndarray, face: DetectedFace) -> np.ndarray: ...

    def embed_faces(
        self, image_bgr: np.ndarray, faces: Sequence[DetectedFace]
    ) -> list[Face | None]:
        """Each face aligned and embedded (coarse ones refined first), in one recogniser run;
        None where a face could not be refined or gave a degenerate embedding."""
        ...

    def analyse(self, image_bgr: np.ndarray) -> list[Face]: ...


class Detector(Protocol):
    def detect(self, image_bgr: np.ndarray) -> list[DetectedFace]: ...

    def refine(self, image_bgr: np.ndarray, face: DetectedFace) -> DetectedFace | None:
        """A coarse face's box and landmarks found again at full resolution (called only for
        faces this detector marked `coarse`)."""
        ...


# --- detectors ----------------------------------------------------------------------------------


class YuNetDetector:
    """YuNet through `cv2.FaceDetectorYN`, optionally on a frame shrunk to `max_side`.

    Shrinking bounds the cost on HD frames (YuNet's cost grows with pixels) but costs landmark
    precision, and alignment error moves SFace's similarities a lot: on the sample group photo,
    detecting at half size dropped one person's genuine score from 0.83 to 0.51. So faces found on
    a shrunk frame are marked `coarse`, and `refine` finds each again in a full-resolution crop
    around it (box plus `REFINE_MARGIN`) before it is aligned: a few milliseconds a face, paid only
    for the faces being embedded.
    """

    REFINE_MARGIN = 0.6

    def __init__(
        self,
        model_path: Path,
        *,
        score_threshold: float = 0.5,
        nms_threshold: float = 0.3,
        max_side: int | None = None,
    ) -> None:
        # Two networks: `refine` runs on the embedding side of the runner's pipeline while
        # `detect` runs on the next frame, and one network's input size is per-call state.
        self._frames = _YuNet(model_path, score_threshold, nms_threshold)
        self._crops = _YuNet(model_path, score_threshold, nms_threshold)
        self._max_side = max_side

    def detect(self, image_bgr: np.ndarray) -> list[DetectedFace]:
        height, width = image_bgr.shape[:2]
        scale = 1.0
        small = image_bgr
        if self._max_side is not None and max(height, width) > self._max_side:
            scale = self._max_side / max(height, width)
            small = cv2.resize(
                image_bgr,
                (max(1, round(width * scale)), max(1, round(height * scale))),
                interpolation=cv2.INTER_AREA,
            )
        return self._frames.run(small, scale=scale, offset=(0.0, 0.0))

    def refine(self, image_bgr: np.ndarray, face: DetectedFace) -> DetectedFace | None:
        """`face` found again in the full-resolution crop around it; None if it is not there."""
        if not face.coarse:
            return face
        left, top, right, bottom = region(face.bbox, image_bgr.shape, self.REFINE_MARGIN)
        if right - left < 8 or bottom - top < 8:
            return None
        found = self._crops.run(
            image_bgr[top:bottom, left:right], scale=1.0, offset=(float(left), float(top))
        )
        if not found:
            return None
        # The crop may show a neighbour too: the face is the one nearest where it was found.
        x1, y1, x2, y2 = face.bbox
        return nearest_face(found, ((x1 + x2) / 2, (y1 + y2) / 2))


class _YuNet:
    """One `cv2.FaceDetectorYN` and the input size it was last set to."""

    def __init__(self, model_path: Path, score_threshold: float, nms_threshold: float) -> None:
        self.size = (320, 320)
        self.net = cv2.FaceDetectorYN.create(
            str(model_path), "", self.size, score_threshold, nms_threshold, 5000
        )

    def run(
        self, image_bgr: np.ndarray, *, scale: float, offset: tuple[float, float]
    ) -> list[DetectedFace]:
        size = (image_bgr.shape[1], image_bgr.shape[0])
        if size != self.size:
            self.net.setInputSize(size)
            self.size = size
        _, rows = self.net.detect(image_bgr)
        if rows is None:
            return []
        # Columns: x, y, w, h, 5 × (x, y) landmarks, score.
        coords = np.asarray(rows[:, :14], dtype=np.float32) / np.float32(scale)
        if offset != (0.0, 0.0):  # x, y of the box and of each landmark; not w, h
            coords[:, [0, 4, 6, 8, 10, 12]] += np.float32(offset[0])
            coords[:, [1, 5, 7, 9, 11, 13]] += np.float32(offset[1])
        faces = []
        for row, score in zip(coords, rows[:, 14], strict=True):
            x, y, w, h = (float(v) for v in row[:4])
            faces.append(
                DetectedFace(
                    bbox=(x, y, x + w, y + h),
                    score=float(score),
                    landmarks=np.array(row[4:14], dtype=np.float32).reshape(5, 2),
                    coarse=scale != 1.0,
                )
            )
        return faces


class ScrfdDetector:
    """InsightFace's SCRFD (buffalo_l's det_10g) at one fixed input size."""

    def __init__(
        self,
        model_path: Path,
        session: Any,
        *,
        score_threshold: float = 0.5,
        input_size: tuple[int, int] = (640, 640),
    ) -> None:
        from insightface.model_zoo.scrfd import SCRFD

        self._model = SCRFD(model_file=str(model_path), session=session)
        # One explicit size: insightface 2.1 otherwise runs a second 128×128 pass on every frame.
        self._model.prepare(0, input_size=input_size, det_thresh=score_threshold)
        self._input_size = input_size

    def detect(self, image_bgr: np.ndarray) -> list[DetectedFace]:
        boxes, landmarks = self._model.detect(image_bgr, input_size=self._input_size)
        faces = []
        for i in range(boxes.shape[0]):
            x1, y1, x2, y2, score = (float(v) for v in boxes[i, :5])
            if landmarks is None:
                continue  # without landmarks the face cannot be aligned, so cannot be compared
            faces.append(
                DetectedFace(
                    bbox=(x1, y1, x2, y2),
                    score=score,
                    landmarks=np.asarray(landmarks[i], dtype=np.float32),
                )
            )
        return faces

    def refine(self, image_bgr: np.ndarray, face: DetectedFace) -> DetectedFace | None:
        return face  # SCRFD always runs on the whole frame: its landmarks are never coarse


# --- recogniser ---------------------------------------------------------------------------------


class Recogniser:
    """Aligned 112×112 crops → unit-length embeddings, through InsightFace's `ArcFaceONNX`."""

    def __init__(
        self,
        model_path: Path,
        session: Any,
        *,
        input_mean: float | None = None,
        input_std: float | None = None,
    ) -> None:
        from insightface.model_zoo.arcface_onnx import ArcFaceONNX

        self._model = ArcFaceONNX(model_file=str(model_path), session=session)
        if input_mean is not None:
            self._model.input_mean = input_mean
        if input_std is not None:
            self._model.input_std = input_std
        self.input_size: int = int(self._model.input_size[0])
        self.embedding_dim = int(self._model.output_shape[-1])
        batch = self._model.input_shape[0]
        # A fixed batch of 1 (as many exports have) means one run per face.
        self._batchable = not (isinstance(batch, int) and batch == 1)

    @property
    def input_mean(self) -> float:
        return float(self._model.input_mean)

    @property
    def input_std(self) -> float:
        return float(self._model.input_std)

    def align(self, image_bgr: np.ndarray, face: DetectedFace) -> np.ndarray:
        from insightface.utils.face_align import norm_crop

        aligned: np.ndarray = norm_crop(image_bgr, face.landmarks, image_size=self.input_size)
        return aligned

    def embed_aligned(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        """(n, dim) float32 rows of unit length; a row that cannot be normalised is NaN."""
        if not crops:
            return np.empty((0, self.embedding_dim), np.float32)
        if self._batchable:
            raw = self._model.get_feat(list(crops))
        else:
            raw = np.concatenate([self._model.get_feat([crop]) for crop in crops])
        raw = np.asarray(raw, dtype=np.float32).reshape(len(crops), -1)
        norms = np.linalg.norm(raw, axis=1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            normed = raw / np.where(norms > 0, norms, np.nan)
        return np.asarray(normed, dtype=np.float32)


# --- the engine ---------------------------------------------------------------------------------


def ort_session(model_path: Path, *, threads: int | None = None) -> Any:
    """A CPU onnxruntime session with a bounded thread pool."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or default_threads()
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    return ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])


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


# --- loading ------------------------------------------------------------------------------------


EngineFactory = Callable[..., FaceEngine]


def engine_factory(name: str) -> EngineFactory:
    """The `lfr.engines` entry point called `name`; the built-in engine if none is installed."""
    for entry_point in importlib.metadata.entry_points(group=ENGINE_GROUP):
        if entry_point.name == name:
            factory: EngineFactory = entry_point.load()
            return factory
    if name == "insightface":
        # Running from a source tree that was never pip-installed: no entry points exist.
        return InsightFaceEngine
    known = sorted({ep.name for ep in importlib.metadata.entry_points(group=ENGINE_GROUP)})
    raise LookupError(f"no face engine {name!r} in entry-point group {ENGINE_GROUP} ({known})")


def load_engine(
    name: str = "insightface",
    pack: str = "sface",
    model_dir: Path | None = None,
    **options: Any,
) -> FaceEngine:
    """Build engine `name` over `model_dir/pack` (model dir defaults to `LFR_MODEL_DIR`)."""
    factory = engine_factory(name)
    return factory(model_dir=model_dir or default_model_dir(), pack=pack, **options)

"""The recogniser: aligned crops to unit-length embeddings through InsightFace's `ArcFaceONNX`,
on a CPU onnxruntime session with a bounded thread pool."""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lfr_ledger.matching.engines.faces import DetectedFace

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

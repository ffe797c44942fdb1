"""Real-face samples for tests and the demo, from images already installed with our dependencies.

Seven identities: the six people in insightface's `t1.jpg` and scikit-image's astronaut (Eileen
Collins, a NASA public-domain photo). `variants` makes same-identity images (scale, blur,
brightness, contrast, rotation, JPEG) so genuine and impostor similarities can be measured offline.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Callable

import cv2
import numpy as np

from lfr_ledger.matching.engines.faces import DetectedFace, FaceEngine, nearest_face
from lfr_ledger.matching.pipeline.crops import portrait

Variant = tuple[str, Callable[[np.ndarray], np.ndarray]]


def insightface_image(name: str = "t1.jpg") -> np.ndarray:
    """A photo shipped inside the insightface wheel (`insightface/data/images/`), as BGR."""
    resource = importlib.resources.files("insightface") / "data" / "images" / name
    data = np.frombuffer(resource.read_bytes(), dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"insightface/data/images/{name} is not a readable image")
    return image


def astronaut_bgr() -> np.ndarray:
    from skimage import data

    rgb = data.astronaut()
    return np.ascontiguousarray(rgb[:, :, ::-1])


def central_face(faces: list[DetectedFace], image: np.ndarray) -> DetectedFace | None:
    """The detected face nearest the image centre: the subject of a portrait crop."""
    return nearest_face(faces, (image.shape[1] / 2, image.shape[0] / 2))


def sample_identities(engine: FaceEngine, margin: float = 0.5) -> dict[str, np.ndarray]:
    """Portraits of the seven sample people, keyed `t1-0` … `t1-5` (left to right), `astronaut`."""
    group = insightface_image("t1.jpg")
    found = sorted(engine.detect(group), key=lambda face: face.bbox[0])
    if len(found) != 6:
        raise RuntimeError(f"expected six faces in t1.jpg, the detector found {len(found)}")
    people = {f"t1-{i}": portrait(group, face, margin) for i, face in enumerate(found)}
    astronaut = astronaut_bgr()
    face = central_face(engine.detect(astronaut), astronaut)
    if face is None:
        raise RuntimeError("the detector found no face in the astronaut photo")
    people["astronaut"] = portrait(astronaut, face, margin)
    return people


def _scale(factor: float) -> Callable[[np.ndarray], np.ndarray]:
    def apply(image: np.ndarray) -> np.ndarray:
        size = (round(image.shape[1] * factor), round(image.shape[0] * factor))
        interpolation = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
        return cv2.resize(image, size, interpolation=interpolation)

    return apply


def _blur(sigma: float) -> Callable[[np.ndarray], np.ndarray]:
    return lambda image: cv2.GaussianBlur(image, (0, 0), sigma)


def _light(gain: float, offset: float) -> Callable[[np.ndarray], np.ndarray]:
    return lambda image: cv2.convertScaleAbs(image, alpha=gain, beta=offset)


def _rotate(degrees: float) -> Callable[[np.ndarray], np.ndarray]:
    def apply(image: np.ndarray) -> np.ndarray:
        height, width = image.shape[:2]
        matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
        return cv2.warpAffine(image, matrix, (width, height), borderMode=cv2.BORDER_REPLICATE)

    return apply


def _jpeg(quality: int) -> Callable[[np.ndarray], np.ndarray]:
    def apply(image: np.ndarray) -> np.ndarray:
        ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
        decoded = cv2.imdecode(encoded, cv2.IMREAD_COLOR) if ok else None
        if decoded is None:
            raise RuntimeError("JPEG re-encoding failed")
        return np.asarray(decoded)

    return apply


def _noise(sigma: float, seed: int) -> Callable[[np.ndarray], np.ndarray]:
    def apply(image: np.ndarray) -> np.ndarray:
        noise = np.random.default_rng(seed).normal(0.0, sigma, image.shape)
        return np.clip(image + noise, 0, 255).astype(np.uint8)

    return apply


# One degradation each, at strengths a watchlist probe plausibly shows.
VARIANTS: tuple[Variant, ...] = (
    ("scale-0.6", _scale(0.6)),
    ("scale-1.6", _scale(1.6)),
    ("blur-1.5", _blur(1.5)),
    ("blur-3", _blur(3.0)),
    ("brighter", _light(1.0, 50)),
    ("darker", _light(0.6, -10)),
    ("low-contrast", _light(0.5, 64)),
    ("rotate+12", _rotate(12)),
    ("rotate-12", _rotate(-12)),
    ("jpeg-40", _jpeg(40)),
    ("jpeg-15", _jpeg(15)),
    ("noise-8", _noise(8.0, seed=8)),
)

# Several degradations at once: harsher than any one variant, kept apart because one small,
# blurred, re-compressed probe falls below the sample set's impostor maximum (see the tests).
COMPOUND: Variant = ("small+blur+jpeg", lambda image: _jpeg(30)(_blur(1.0)(_scale(0.5)(image))))


def variants(image: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """Twelve same-identity variants of a portrait, named after what was done to it."""
    return [(name, np.ascontiguousarray(make(image))) for name, make in VARIANTS]

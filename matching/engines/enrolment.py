"""Enrolment from an image: the photo a watchlist manager supplies becomes the entry's template.

The image must decode and show exactly one face that passes the engine's quality gate; anything
else is refused before the ledger is touched, so a refusal writes no event and creates no key.
One request's memory is bounded: the header is checked before decoding (at most 24 MP, 72 MB
decoded), faces are counted on a copy at most 2048 px long before anything is embedded, and
only the one face is embedded (a photo of a thousand faces once asked onnxruntime for gigabytes).
The template is the face's unit-length float32 embedding, sealed under the entry's key with the
image itself: it never reaches the event log in clear.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any
from uuid import UUID

import cv2
import numpy as np
from PIL import Image

from lfr_ledger.domain.actors import Actor
from lfr_ledger.domain.application import CaseLedger, Enrolment
from lfr_ledger.domain.errors import InvalidInput
from lfr_ledger.matching.engines.faces import (
    DetectedFace,
    Face,
    FaceEngine,
    QualityGate,
    nearest_face,
    region,
)
from lfr_ledger.matching.engines.model_packs import ModelPackError, list_packs, load_pack
from lfr_ledger.matching.engines.plugins import load_engine


class EnrolmentImageRefused(InvalidInput):
    """The enrolment image cannot give a template; the message says why."""

    kind = "enrolment-image-refused"
    title = "Enrolment image refused"
    field = "image"


class UnreadableImage(EnrolmentImageRefused):
    kind = "unreadable-image"
    title = "Image cannot be read"


class NoUsableFace(EnrolmentImageRefused):
    kind = "no-usable-face"
    title = "No usable face in the image"


class SeveralFaces(EnrolmentImageRefused):
    kind = "several-faces"
    title = "More than one face in the image"


class ImageTooLarge(EnrolmentImageRefused):
    kind = "image-too-large"
    title = "Image too large"


# A custody photograph is a few megapixels. The bounds are checked from the header, before any
# pixel is decoded: a 1 MB PNG can claim 20,000 × 20,000 pixels and need 1.2 GB to decode.
MAX_PIXELS = 24_000_000
MAX_SIDE = 8192

# Faces are counted on a copy at most this long: the detector's memory grows with its input's
# pixels (OpenCV's YuNet kept 1.4 GB after a 24 MP photo, 140 MB after a 2048 px copy). YuNet
# finds faces from about 24 px, so on a 6000 px photo a bystander under about 70 px is no
# longer counted (docs/decisions.md, issue 23).
WORKING_SIDE = 2048
# The one face is found again in a crop of the full image this much larger than its box on
# every side, shrunk until the face is at most REFINE_FACE_PX (YuNet finds faces up to about
# 300 px surely; the aligned crop is 112 px).
REFINE_MARGIN = 0.5
REFINE_FACE_PX = 256
REFINE_SHIFTS = ((16, 0), (0, 16), (16, 16))
# After a detection on an input longer than this, the detector is run once on a small image.
RELEASE_ABOVE_SIDE = 640


def check_image_header(image_bytes: bytes) -> tuple[int, int]:
    """(width, height) as the file's header declares them, refused beyond the bounds or when
    no known image format's header can be read."""
    too_large = ImageTooLarge(
        f"at most {MAX_SIDE} pixels a side and {MAX_PIXELS // 1_000_000} megapixels in all are "
        "accepted: send a smaller copy"
    )
    try:
        with Image.open(io.BytesIO(image_bytes)) as header:  # reads the header only
            width, height = header.size
    except Image.DecompressionBombError:  # Pillow's own, far higher bound
        raise too_large from None
    except (OSError, ValueError):
        raise UnreadableImage(
            f"the {len(image_bytes)} bytes given are not an image that can be read "
            "(JPEG, PNG, WebP, TIFF, BMP …)"
        ) from None
    if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
        raise ImageTooLarge(f"the image is {width} × {height} pixels; {too_large.detail}")
    return width, height


def decode_image(image_bytes: bytes) -> np.ndarray:
    """The image as BGR uint8, or `UnreadableImage`. EXIF orientation is applied by OpenCV."""
    if not image_bytes:
        raise UnreadableImage("the image is empty")
    check_image_header(image_bytes)
    try:
        image = cv2.imdecode(np.frombuffer(image_bytes, dtype=np.uint8), cv2.IMREAD_COLOR)
    except cv2.error:
        image = None
    if image is None or image.size == 0:
        raise UnreadableImage(
            f"the {len(image_bytes)} bytes given are not an image OpenCV can read "
            "(JPEG, PNG, WebP, TIFF, BMP …)"
        )
    return np.ascontiguousarray(image)


def template_from_image(engine: FaceEngine, image_bytes: bytes) -> tuple[bytes, str]:
    """The template (little-endian float32 bytes) of the one face in the image, and the id of
    the model that computed it.

    Faces are counted on a copy at most `WORKING_SIDE` pixels long, by detection alone, and a
    photo with several is refused before anything is embedded; only the one face is embedded.
    """
    image = decode_image(image_bytes)
    working, scale = _working_copy(image)
    working_side = max(working.shape[:2])
    try:
        detected = [_at_full_size(face, scale) for face in engine.detect(working)]
        del working
        gate = _gate(engine)
        admitted = [face for face in detected if gate.admits(face)]
        if len(admitted) > 1:
            raise SeveralFaces(
                f"the image shows {len(admitted)} faces; enrolment needs exactly one "
                "(crop the image to the subject)"
            )
        if not admitted:
            raise NoUsableFace(_no_face_message(gate, len(detected)))
        face = _embed_one(engine, image, admitted[0], reduced=scale != 1.0)
    finally:
        if working_side > RELEASE_ABOVE_SIDE:
            _release_detector(engine)
    if face is None:
        raise NoUsableFace(
            "the one face found could not be aligned and compared (not found again at full "
            "resolution, or no usable embedding): send a sharper or closer photo of the subject"
        )
    embedding = np.asarray(face.embedding, dtype="<f4")
    return embedding.tobytes(), engine.model_id


def _working_copy(image: np.ndarray) -> tuple[np.ndarray, float]:
    """The image shrunk to at most `WORKING_SIDE` on its long side, and the factor applied."""
    height, width = image.shape[:2]
    if max(height, width) <= WORKING_SIDE:
        return image, 1.0
    scale = WORKING_SIDE / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA), scale


def _at_full_size(face: DetectedFace, scale: float) -> DetectedFace:
    """A face found on the working copy, in the full image's pixels: the quality gate's
    minimum size is a property of the photo, not of the copy it was counted on."""
    if scale == 1.0:
        return face
    x1, y1, x2, y2 = face.bbox
    return DetectedFace(
        bbox=(x1 / scale, y1 / scale, x2 / scale, y2 / scale),
        score=face.score,
        landmarks=(face.landmarks / np.float32(scale)).astype(np.float32),
        coarse=True,
    )


def _gate(engine: FaceEngine) -> QualityGate:
    gate = getattr(engine, "gate", None)
    return gate if isinstance(gate, QualityGate) else QualityGate()


def _embed_one(
    engine: FaceEngine, image: np.ndarray, face: DetectedFace, *, reduced: bool
) -> Face | None:
    """The one face embedded. Landmarks from a reduced copy are too coarse to align (see
    `YuNetDetector`), so the face is found again in a crop of the full image around it, shrunk
    only as far as `REFINE_FACE_PX`: YuNet misses faces much larger than that (a 820 px face
    in a 24 MP portrait was not found at all), and the aligned crop is 112 px anyway."""
    if not reduced:  # found on the image itself: the engine refines its own coarse faces
        (found,) = engine.embed_faces(image, [face])
        return found
    left, top, right, bottom = region(face.bbox, image.shape, REFINE_MARGIN)
    crop = image[top:bottom, left:right]
    shrink = min(1.0, REFINE_FACE_PX / max(face.size_px, 1.0))
    if shrink < 1.0:
        size = (max(1, round(crop.shape[1] * shrink)), max(1, round(crop.shape[0] * shrink)))
        crop = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
    crop = np.ascontiguousarray(crop)
    x1, y1, x2, y2 = face.bbox
    again = _found_again(
        engine, crop, ((x1 + x2) / 2 - left) * shrink, ((y1 + y2) / 2 - top) * shrink
    )
    if again is None:
        return None
    (found,) = engine.embed_faces(crop, [again])
    return found


def _found_again(engine: FaceEngine, crop: np.ndarray, x: float, y: float) -> DetectedFace | None:
    """The face nearest (x, y) in `crop`, its landmarks averaged over detections of the crop
    shifted by `REFINE_SHIFTS`: one detection's landmarks move by a pixel or so with the face's
    place on the detector's grid: crops of one 24 MP photo a few pixels apart gave templates
    as far apart as 0.984 in cosine, and the averaged one lies within 0.99 of each."""
    first = nearest_face(engine.detect(crop), (x, y))
    if first is None:
        return None
    landmarks = [first.landmarks]
    for dx, dy in REFINE_SHIFTS:
        shifted = nearest_face(
            engine.detect(np.ascontiguousarray(crop[dy:, dx:])), (x - dx, y - dy)
        )
        if shifted is not None and _same_place(first, shifted, dx, dy):
            landmarks.append(shifted.landmarks + np.array([dx, dy], np.float32))
    return DetectedFace(
        bbox=first.bbox,
        score=first.score,
        landmarks=np.mean(landmarks, axis=0).astype(np.float32),
    )


def _same_place(face: DetectedFace, shifted: DetectedFace, dx: int, dy: int) -> bool:
    """Whether `shifted`, found in the crop moved by (dx, dy), is `face` and not a neighbour."""
    x1, y1, x2, y2 = face.bbox
    sx1, sy1, sx2, sy2 = shifted.bbox
    off = abs((sx1 + sx2) / 2 + dx - (x1 + x2) / 2) + abs((sy1 + sy2) / 2 + dy - (y1 + y2) / 2)
    return off < face.size_px / 4


def _release_detector(engine: FaceEngine) -> None:
    """OpenCV's DNN detector keeps buffers sized to its last input (about 140 MB after a
    2048 px copy, 1.4 GB after a 24 MP photo): one detection on a small blank image gives them
    back, so an enrolment leaves no more resident than it found."""
    engine.detect(np.zeros((RELEASE_ABOVE_SIDE // 2, RELEASE_ABOVE_SIDE, 3), np.uint8))


def _no_face_message(gate: QualityGate, detected: int) -> str:
    rule = f" (min {gate.min_face_px:g} px, score {gate.min_detector_score:g})"
    if detected == 0:
        return f"no face passed the quality gate{rule}: the detector found no face at all"
    return (
        f"no face passed the quality gate{rule}: the detector found {detected} "
        f"face{'s' if detected != 1 else ''}, too small or too uncertain to compare"
    )


def enrol_from_image(
    ledger: CaseLedger,
    engine: FaceEngine,
    actor: Actor,
    deployment_id: UUID,
    enrolment: Enrolment,
    image_bytes: bytes,
) -> UUID:
    """Enrols a subject with the image and the template computed from it."""
    template, model_id = template_from_image(engine, image_bytes)
    return ledger.enrol(
        actor,
        deployment_id,
        enrolment,
        image=image_bytes,
        template=template,
        model_id=model_id,
    )


def engine_for_model(model_dir: Path, model_id: str, **options: Any) -> FaceEngine:
    """The default engine over the pack in `model_dir` that computes `model_id`: a deployment
    names its model, and only that model's templates are comparable with its probes."""
    for name in list_packs(model_dir):
        try:
            pack = load_pack(model_dir, name)
        except ModelPackError:
            continue
        if pack.model_id == model_id:
            return load_engine(pack=name, model_dir=model_dir, **options)
    raise ModelPackError(
        f"no model pack in {model_dir} computes {model_id!r} (run `lfr models list`; the sface "
        "pack comes from `lfr models fetch`)"
    )

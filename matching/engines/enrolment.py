"""Enrolment from an image: the photo a watchlist manager supplies becomes the entry's template.

The image must decode and show exactly one face that passes the engine's quality gate; anything
else is refused before the ledger is touched, so a refusal writes no event and creates no key.
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
from lfr_ledger.matching.engines.faces import FaceEngine, QualityGate
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
    the model that computed it."""
    image = decode_image(image_bytes)
    faces = engine.analyse(image)
    if len(faces) > 1:
        raise SeveralFaces(
            f"the image shows {len(faces)} faces; enrolment needs exactly one "
            "(crop the image to the subject)"
        )
    if not faces:
        raise NoUsableFace(_no_face_message(engine, image))
    embedding = np.asarray(faces[0].embedding, dtype="<f4")
    return embedding.tobytes(), engine.model_id


def _no_face_message(engine: FaceEngine, image: np.ndarray) -> str:
    gate = getattr(engine, "gate", None)
    rule = ""
    if isinstance(gate, QualityGate):
        rule = f" (min {gate.min_face_px:g} px, score {gate.min_detector_score:g})"
    # Only on refusal: a second detection says whether the face was absent or too poor.
    detected = len(engine.detect(image))
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

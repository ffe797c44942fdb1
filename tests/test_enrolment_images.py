"""Enrolment from an image: exactly one usable face gives a template; anything else is refused
with a typed error (an `InvalidInput`, so HTTP 422) before the ledger writes anything."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from uuid import UUID

import cv2
import numpy as np
import pytest

from lfr_ledger.api.demo.sample_deployment import COMPILER, MODEL, authorised, subject
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.errors import InvalidInput
from lfr_ledger.matching.engines.enrolment import (
    EnrolmentImageRefused,
    NoUsableFace,
    SeveralFaces,
    UnreadableImage,
    enrol_from_image,
    template_from_image,
)
from lfr_ledger.matching.engines.insightface_engine import InsightFaceEngine
from lfr_ledger.matching.packs.samples import insightface_image, sample_identities


def encode(image: np.ndarray, ext: str = ".png") -> bytes:
    ok, encoded = cv2.imencode(ext, image)
    assert ok
    return encoded.tobytes()


def skimage_bgr(name: str) -> np.ndarray:
    from skimage import data

    rgb = getattr(data, name)()
    return np.ascontiguousarray(rgb[:, :, ::-1])


@pytest.fixture(scope="module")
def portrait(sface_engine: InsightFaceEngine) -> np.ndarray:
    return sample_identities(sface_engine)["astronaut"]


def event_count(ledger: CaseLedger) -> int:
    return ledger.recorder.max_notification_id() or 0


@pytest.fixture
def keys_created(ledger: CaseLedger, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[UUID]]:
    created: list[UUID] = []
    original = ledger.vault.create_key

    def spy(key_id: UUID) -> None:
        created.append(key_id)
        original(key_id)

    monkeypatch.setattr(ledger.vault, "create_key", spy)
    yield created


REFUSALS = [
    ("malformed", lambda: b"\xff\xd8\xff\xe0 not really a JPEG", UnreadableImage, "not an image"),
    ("empty", lambda: b"", UnreadableImage, "empty"),
    (
        "blank",
        lambda: encode(np.full((480, 640, 3), 200, np.uint8)),
        NoUsableFace,
        r"no face passed the quality gate \(min 32 px, score 0.7\): the detector found no face",
    ),
    (
        "no-face",
        lambda: encode(skimage_bgr("coffee"), ".jpg"),
        NoUsableFace,
        r"no face passed the quality gate \(min 32 px, score 0.7\)",
    ),
    (
        "several-faces",
        lambda: encode(insightface_image("t1.jpg"), ".jpg"),
        SeveralFaces,
        "the image shows 6 faces; enrolment needs exactly one",
    ),
]


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [r[1:] for r in REFUSALS],
    ids=[r[0] for r in REFUSALS],
)
def test_refused_images_write_nothing(
    ledger: CaseLedger,
    keys_created: list[UUID],
    sface_engine: InsightFaceEngine,
    make: object,
    error: type[EnrolmentImageRefused],
    message: str,
) -> None:
    assert callable(make)
    image_bytes = make()
    deployment = authorised(ledger)
    before = event_count(ledger)
    with pytest.raises(error, match=message) as refused:
        enrol_from_image(ledger, sface_engine, COMPILER, deployment, subject(1), image_bytes)
    assert isinstance(refused.value, InvalidInput)
    assert event_count(ledger) == before
    assert keys_created == []
    assert ledger.deployment(deployment).entry_ids == []


def test_faces_too_small_for_the_quality_gate_are_named_as_such(
    sface_engine: InsightFaceEngine,
    portrait: np.ndarray,
) -> None:
    # Shrunk until the face is detected but below the gate's 32 px.
    small = cv2.resize(portrait, None, fx=0.2, fy=0.2, interpolation=cv2.INTER_AREA)
    canvas = np.full((240, 240, 3), 128, np.uint8)
    canvas[: small.shape[0], : small.shape[1]] = small
    assert sface_engine.detect(canvas), "the shrunk face should still be detected"
    with pytest.raises(NoUsableFace, match=r"detector found 1 face, too small or too uncertain"):
        template_from_image(sface_engine, encode(canvas))


def test_one_face_gives_a_sealed_template(
    ledger: CaseLedger,
    sface_engine: InsightFaceEngine,
    portrait: np.ndarray,
) -> None:
    image_bytes = encode(portrait, ".jpg")
    template, model_id = template_from_image(sface_engine, image_bytes)
    assert model_id == MODEL
    vector = np.frombuffer(template, "<f4")
    assert vector.shape == (sface_engine.embedding_dim,)
    assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-4)

    deployment = authorised(ledger)
    entry_id = enrol_from_image(ledger, sface_engine, COMPILER, deployment, subject(1), image_bytes)
    revealed = ledger.reveal_entry(entry_id)
    assert revealed.image == image_bytes
    assert revealed.template == template
    assert ledger.watchlist_entry(entry_id).model_id == MODEL
    # Neither the template nor the image is in clear in the event log: the stored state holds
    # bytes as base64, so look inside the decoded event's bytes.
    notifications = ledger.recorder.select_notifications(0, 1000, inclusive_of_start=False)
    events = [ledger.mapper.to_domain_event(n) for n in notifications]
    [event] = [e for e in events if getattr(e, "sealed_template", None) is not None]
    assert template[:30] not in event.sealed_template
    assert image_bytes[300:330] not in event.sealed_image
    assert base64.b64encode(template).decode()[:40] not in b"".join(
        n.state for n in notifications
    ).decode("utf-8", "replace")

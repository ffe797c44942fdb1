"""Issue 10, defect 4: malformed requests get a 400 problem naming what is wrong, and write
nothing; none reaches a parser that would answer 500."""

from __future__ import annotations

import base64
import io
import os
import struct
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pytest
from litestar.testing import TestClient
from PIL import Image as PILImage

from lfr_ledger.api.app import create_app
from lfr_ledger.api.auth import SESSION_COOKIE, issue_token
from lfr_ledger.api.body_guard import MAX_DEPTH, json_depth
from lfr_ledger.api.demo.sample_deployment import OPERATOR
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.values import Decision
from lfr_ledger.eventlog.vault import PEPPER_ID
from tests.conftest import Clock
from tests.test_api import Api, assert_problem, sqlite_api  # noqa: F401
from tests.test_invariants import live


@pytest.fixture(scope="module")
def refusing_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """One app (embedded store) shared by this module's tests that only send what must be
    refused (building an app costs more than such a test): none of them writes (those that
    could check it), so none sees another's traces. A test that writes builds its own
    (`sqlite_api`, `live_api`)."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("hostile") / "var")
    with TestClient(create_app(settings)) as client:
        yield Api(client, settings)


def _head(api: Api) -> int:
    return int(api.client.app.state["services"].ledger.recorder.max_notification_id() or 0)


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"[" * 1000 + b"]" * 1000, f"nests deeper than {MAX_DEPTH} levels"),
        (b'{"name": "\xff\xfe", "force": "demo", "purpose": "x"}', "not valid UTF-8"),
    ],
    ids=["nested-1000-deep", "invalid-utf8"],
)
def test_malformed_json_bodies_are_400_problems(
    refusing_api: Api,
    body: bytes,
    detail: str,
) -> None:
    before = _head(refusing_api)
    headers = {**refusing_api.h("planner"), "content-type": "application/json"}
    response = refusing_api.client.post("/operations", headers=headers, content=body)
    assert detail in assert_problem(response, 400)["detail"]
    assert _head(refusing_api) == before


def test_depth_counts_brackets_outside_strings_only() -> None:
    assert json_depth(b'{"a": [1, {"b": "[[[[{{{{"}]}') == 3
    assert json_depth(b'"\\"[[["') == 0
    assert json_depth(b"") == 0


@pytest.mark.parametrize("value", ["²", "٣", "9223372036854775808", "-1", "1e3"])
def test_a_bad_last_event_id_is_a_400_problem(
    refusing_api: Api,
    value: str,
) -> None:
    headers = [
        (b"authorization", refusing_api.h("operator")["Authorization"].encode()),
        (b"last-event-id", value.encode()),
    ]
    response = refusing_api.client.get(
        "/alerts/stream", params={"deployment_id": str(uuid.uuid4())}, headers=headers
    )
    assert "Last-Event-ID" in assert_problem(response, 400)["detail"]


def test_a_last_event_id_beyond_64_bits_in_the_query_is_a_400_problem(
    refusing_api: Api,
) -> None:
    response = refusing_api.client.get(
        "/alerts/stream",
        params={"deployment_id": str(uuid.uuid4()), "last_event_id": str(2**63)},
        headers=refusing_api.h("operator"),
    )
    assert "last_event_id" in assert_problem(response, 400)["detail"]


@pytest.mark.parametrize("value", ["0.5", "1700000000", "0001-01-01T00:00:00+00:30"])
def test_a_period_bound_outside_the_ledgers_window_is_a_400_problem(
    refusing_api: Api,
    value: str,
) -> None:
    # A bare number used to be read as seconds since 1970 and accepted as a time.
    response = refusing_api.get("/oversight/access-review", "oversight", params={"to": value})
    detail = assert_problem(response, 400)["detail"]
    assert "to must be an ISO 8601 time" in detail or "to must lie between 2000 and 2099" in detail


# --- issue 23, item 7: small defects found by probing ----------------------------------------


def jpeg(size: tuple[int, int] = (48, 48)) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", size, (120, 90, 60)).save(out, "JPEG")
    return out.getvalue()


@dataclass
class Live:
    api: Api
    ledger: CaseLedger
    clock: Clock
    deployment: UUID
    entries: list[UUID]

    def alert(self, entry: int = 0, **changes: Any) -> Any:
        body = {
            "camera_id": "cam-1",
            "entry_id": str(self.entries[entry]),
            "similarity": 0.9,
            "captured_at": self.clock.now.isoformat(),
            **changes,
        }
        return self.api.post(
            f"/deployments/{self.deployment}/alerts",
            "matcher",
            body,
            claims={"deployment_id": str(self.deployment)},
        )


@pytest.fixture
def live_api(settings: Settings, clock: Clock) -> Iterator[Live]:
    app = create_app(settings, clock=clock)
    with TestClient(app) as client:
        ledger = app.state.services.ledger
        deployment, entries = live(ledger, clock)
        yield Live(Api(client, settings), ledger, clock, deployment, entries)


def test_an_alert_id_taken_by_another_records_key_is_a_409_that_writes_nothing(
    live_api: Live,
) -> None:
    """(a) A matcher's alert id equal to a key the vault already holds (another alert's notes
    or images, an entry's, the pseudonymisation key) used to answer 500 with a crop, and
    without one to set the alert's erasure up to shred someone else's key."""
    live = live_api
    ledger = live.ledger
    crop = base64.b64encode(jpeg()).decode()
    first = live.alert(face_crop=crop)
    assert first.status_code == 201, first.text
    alert = UUID(first.json()["id"])
    ledger.adjudicate(OPERATOR, alert, Decision.MATCH, "same face")
    notes = ledger.notes_key_id(alert)
    taken = {
        "another alert's notes": notes,
        "an entry's": live.entries[1],
        "the pseudonymisation": PEPPER_ID,
    }
    for what, key_id in taken.items():
        for with_crop in ({"face_crop": crop}, {}):
            before = _head(live.api)
            response = live.alert(1, alert_id=str(key_id), **with_crop)
            problem = assert_problem(response, 409, "conflict")
            assert str(key_id) in problem["detail"], what
            assert _head(live.api) == before, what
    assert ledger.vault.has_key(notes) and ledger.vault.has_key(alert)
    assert ledger.reveal_face_crop(alert) == jpeg()


def test_a_nul_in_a_static_file_name_is_a_404(refusing_api: Api) -> None:
    """(b) A NUL byte reached the file system's stat and answered 500."""
    for path in ("/console/static/console.js%00.png", "/console/static/%00"):
        assert_problem(refusing_api.client.get(path), 404)
    assert refusing_api.client.get("/console/static/console.js").status_code == 200


def png_claiming(width: int, height: int) -> bytes:
    """A well-formed PNG header declaring `width` × `height` pixels, with one tiny chunk of
    data: a few hundred bytes that would need gigabytes to decode."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def gif() -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (32, 32)).save(out, "GIF")
    return out.getvalue()


@pytest.mark.parametrize(
    ("crop", "detail"),
    [
        (os.urandom(7_500_000), "not a JPEG or PNG image"),
        (b"\xff\xd8\xff\xe0" + os.urandom(4096), "cannot be decoded"),
        (jpeg()[:200], "cannot be decoded"),
        (gif(), "not a JPEG or PNG image"),
        (png_claiming(5000, 100), "5000 × 100 pixels"),
        (png_claiming(8000, 8000), "8000 × 8000 pixels"),
        (png_claiming(20_000, 20_000), "a face crop has at most 16,777,216"),
    ],
    ids=[
        "random-7.5MB",
        "jpeg-magic-then-noise",
        "truncated-jpeg",
        "gif",
        "png-too-wide",
        "png-64-megapixels",
        "png-400-megapixels",
    ],
)
def test_a_face_crop_that_is_not_a_jpeg_or_png_image_is_a_422_naming_it(
    live_api: Live, crop: bytes, detail: str
) -> None:
    """(c) A face crop was sealed whatever its bytes (7.5 MB of random bytes accepted)."""
    before = _head(live_api.api)
    alert_id = uuid.uuid4()
    response = live_api.alert(face_crop=base64.b64encode(crop).decode(), alert_id=str(alert_id))
    problem = assert_problem(response, 422, "face-crop-refused")
    assert detail in problem["detail"]
    assert [e["field"] for e in problem["errors"]] == ["face_crop"]
    assert _head(live_api.api) == before
    assert not live_api.ledger.vault.has_key(alert_id), "a refusal creates no key"


def test_a_jpeg_or_png_face_crop_is_kept(live_api: Live) -> None:
    out = io.BytesIO()
    PILImage.new("RGB", (40, 52), (10, 200, 30)).save(out, "PNG")
    for crop in (jpeg(), out.getvalue()):
        response = live_api.alert(face_crop=base64.b64encode(crop).decode())
        assert response.status_code == 201, response.text
        assert live_api.ledger.reveal_face_crop(UUID(response.json()["id"])) == crop


@pytest.mark.parametrize(
    "sub",
    [
        "PC-1\nrole: admin",
        "<script>alert(1)</script>",
        "PC 1",
        "PC-1\x00",
        "=HYPERLINK(1)",
        "x" * 129,
        "PC\u2011\u0031",
    ],
    ids=["newline", "markup", "space", "nul", "formula", "too-long", "non-ascii"],
)
def test_a_token_subject_outside_the_actor_id_shape_is_refused(
    refusing_api: Api,
    sub: str,
) -> None:
    """(e) A token's `sub` with a newline or markup was stored as the actor's id in the log."""
    api = refusing_api
    before = _head(api)
    body = {"name": "Op", "force": "demo", "purpose": "p"}
    response = api.client.post("/operations", headers=api.h("planner", sub=sub), json=body)
    problem = assert_problem(response, 401, "unauthenticated")
    assert "subject (sub)" in problem["detail"]
    assert _head(api) == before
    # A console session is opened only from a token the same verifier accepts.
    token = issue_token(api.settings, role="planner", sub=sub)
    signed_in = api.client.post("/console/sign-in", json={"token": token})
    assert_problem(signed_in, 401, "unauthenticated")
    assert SESSION_COOKIE not in signed_in.cookies


@pytest.mark.parametrize(
    "sub", ["PC-3381", "auth0|5f7c8ec7c33c6c004bbafe82", "jane.doe@force.police.uk", "x"]
)
def test_staff_and_identity_provider_subjects_are_actor_ids(
    sqlite_api: Api,  # noqa: F811
    sub: str,
) -> None:
    api = sqlite_api
    body = {"name": "Op", "force": "demo", "purpose": "p"}
    assert api.post("/policy/adopt", "admin").status_code in (200, 201)
    response = api.client.post("/operations", headers=api.h("planner", sub=sub), json=body)
    assert response.status_code == 201, response.text
    token = issue_token(api.settings, role="planner", sub=sub)
    signed_in = api.client.post("/console/sign-in", json={"token": token})
    assert signed_in.status_code == 200, signed_in.text

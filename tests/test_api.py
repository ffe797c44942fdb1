"""The HTTP API in process, on SQLite and on the real PostgreSQL server."""

from __future__ import annotations

import logging
import stat
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from litestar import Litestar, get
from litestar.testing import TestClient

from lfr_ledger.api.app import create_app
from lfr_ledger.api.auth import TokenVerifier, issue_token, load_or_create_secret, secret_path
from lfr_ledger.api.cli import token as token_cli
from lfr_ledger.api.demo.sample_deployment import (
    AUTHORITY,
    DOCUMENTS,
    DOCUMENTS_APPROVED,
    DOCUMENTS_REVIEW_BY,
)
from lfr_ledger.api.guards import check_table_covers
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.actors import Role
from lfr_ledger.domain.values import AlertStatus

PROBLEM = "application/problem+json"
AO = {"rank": "superintendent"}


class Api:
    def __init__(self, client: TestClient[Litestar], settings: Settings) -> None:
        self.client = client
        self.settings = settings

    def h(self, role: str, sub: str | None = None, **claims: Any) -> dict[str, str]:
        token = issue_token(self.settings, role=role, sub=sub or f"{role}-1", **claims)
        return {"Authorization": f"Bearer {token}"}

    def post(self, path: str, role: str, body: Any = None, **kw: Any) -> Any:
        headers = {**self.h(role, **kw.pop("claims", {})), **kw.pop("headers", {})}
        return self.client.post(path, headers=headers, json=body)

    def get(self, path: str, role: str, **kw: Any) -> Any:
        headers = {**self.h(role, **kw.pop("claims", {})), **kw.pop("headers", {})}
        return self.client.get(path, headers=headers, **kw)


def assert_problem(response: Any, status: int, kind: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status
    if kind:
        assert body["type"] == f"urn:lfr-ledger:problem:{kind}", body
    return body


@pytest.fixture
def api(settings: Settings) -> Iterator[Api]:
    app = create_app(settings)
    with TestClient(app) as client:
        yield Api(client, settings)


@pytest.fixture
def sqlite_api(tmp_path: Path) -> Iterator[Api]:
    settings = Settings(data_dir=tmp_path / "var")
    with TestClient(create_app(settings)) as client:
        yield Api(client, settings)


def register_documents(api: Api) -> None:
    """The documents the sample cites (DPIA-1, EIA-1, its APD, equality evidence), by an admin."""
    for kind, reference, title in DOCUMENTS:
        body = {
            "kind": kind,
            "reference": reference,
            "version": "1.0",
            "title": title,
            "approved_on": DOCUMENTS_APPROVED.isoformat(),
            "review_by": DOCUMENTS_REVIEW_BY.isoformat(),
        }
        registered = api.post("/governance/documents", "admin", body)
        assert registered.status_code == 201, registered.text


def trained(api: Api, *people: tuple[str, str]) -> None:
    """The operator and officer these tests sign in as (or `people`: staff number, course)
    hold current LFR training, as the policy requires to adjudicate and to engage."""
    today = api.client.app.state.services.ledger.clock().date()
    for person, course in people or (
        ("operator-1", "lfr_operator"),
        ("officer-1", "lfr_engagement"),
    ):
        days = {
            "completed_on": str(today - timedelta(days=30)),
            "expires_on": str(today + timedelta(days=3 * 365)),
        }
        done = api.post("/training", "admin", {"person": person, "course": course, **days})
        assert done.status_code == 201, done.text


def deployment(api: Api) -> tuple[str, str]:
    version = api.post("/policy/adopt", "admin").json()["version"]
    trained(api)
    register_documents(api)
    op = api.post("/operations", "planner", {"name": "Op", "force": "demo", "purpose": "p"}).json()
    start = datetime.now(UTC) - timedelta(minutes=1)
    body = {
        "operation_id": op["id"],
        "location": {"name": "Gold Street", "town": "Kettering", "location_type": "town_centre"},
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=2)).isoformat(),
        "purpose": "Locate wanted people",
        "intelligence_case": "IC-1",
        "watchlist_categories": ["wanted_by_courts"],
        "cameras": [{"id": "cam-1", "name": "mast"}],
        "controlling_force": "demo",
        "equipment_owner_force": "demo",
        "dpia_ref": "DPIA-1",
        "eia_ref": "EIA-1",
        "policy_ref": version,
        # A day's notice: the policy's minimum_notice_hours.
        "public_notice": {
            "method": "signage",
            "issued_at": (start - timedelta(days=1)).isoformat(),
        },
    }
    created = api.post("/deployments", "planner", body)
    assert created.status_code == 201, created.text
    return op["id"], created.json()["id"]


ENROLMENT = {
    "subject_ref": "SUBJ-0001",
    "name": "Jordan Prentice",
    "category": "wanted_by_courts",
    "legal_basis": "DPA 2018 s.35",
    "rationale": "Wanted on warrant for failing to appear",
    "offence": "failing to appear",
    "image_source": "custody image",
}


def test_case_flow_logs_personal_reads_and_seals_history(api: Api) -> None:
    _, dep = deployment(api)
    got = api.get(f"/deployments/{dep}", "planner").json()
    policy = api.client.app.state.services.ledger.policy
    assert got["model_id"] == policy.default_model
    assert got["threshold"] == policy.thresholds_for(policy.default_model).default_threshold
    assert (
        api.post(
            f"/deployments/{dep}/authorisation",
            "authorising_officer",
            {"authority_ref": "AUTH-1", **AUTHORITY},
            claims=AO,
        ).status_code
        == 200
    )
    entry = api.post(f"/deployments/{dep}/watchlist/entries", "watchlist_manager", ENROLMENT)
    assert entry.status_code == 201, entry.text
    entry_id = entry.json()["id"]

    assert_problem(
        api.get(f"/watchlist/entries/{entry_id}", "authorising_officer"), 400, "purpose-required"
    )
    read = api.get(
        f"/watchlist/entries/{entry_id}",
        "authorising_officer",
        headers={"X-Purpose": "watchlist review"},
    )
    assert read.status_code == 200 and read.json()["name"] == "Jordan Prentice"
    read = api.get(f"/watchlist/entries/{entry_id}", "oversight", params={"purpose": "audit"})
    assert read.status_code == 200

    log = api.get("/audit/consultations", "oversight").json()["consultations"]
    assert [(c["record"], c["purpose"], c["actor_id"]) for c in log] == [
        (f"watchlist_entry:{entry_id}", "watchlist review", "authorising_officer-1"),
        (f"watchlist_entry:{entry_id}", "audit", "oversight-1"),
    ]

    review = api.post(
        f"/deployments/{dep}/watchlist/review",
        "authorising_officer",
        {"confirmed_count": 1, "not_excessive": True},
        claims=AO,
    )
    assert review.status_code == 200 and review.json()["entry_count"] == 1
    signs = {"signs": "Two A-boards", "locations": "Both ends of Gold Street"}
    assert api.post(f"/deployments/{dep}/signage", "operator", signs).status_code == 200
    assert api.post(f"/deployments/{dep}/start", "operator").json()["status"] == "live"
    alert = api.post(
        f"/deployments/{dep}/alerts",
        "matcher",
        {
            "camera_id": "cam-1",
            "entry_id": entry_id,
            "similarity": 0.55,
            "captured_at": datetime.now(UTC).isoformat(),
        },
        claims={"deployment_id": dep},
    )
    assert alert.status_code == 201, alert.text
    alert_id = alert.json()["id"]
    decided = api.post(
        f"/alerts/{alert_id}/adjudication", "operator", {"decision": "match", "reason": "same face"}
    )
    assert decided.json() == {"id": alert_id, "status": "adjudicated"}
    listed = api.get(f"/deployments/{dep}/alerts", "operator").json()["alerts"]
    assert [
        (a["id"], a["entry_id"], a["camera_id"], a["similarity"], a["status"]) for a in listed
    ] == [(alert_id, entry_id, "cam-1", 0.55, "adjudicated")]

    history = api.get(
        f"/deployments/{dep}/history", "oversight", headers={"X-Purpose": "annual audit"}
    )
    assert history.status_code == 200
    text = history.text
    assert "Jordan" not in text and "SUBJ-0001" not in text and "[sealed]" in text
    topics = [e["topic"] for e in history.json()["events"]]
    assert topics[0] == "lfr/Deployment.Proposed"
    assert {"lfr/WatchlistEntry.Enrolled", "lfr/Alert.Raised", "lfr/Alert.Adjudicated"} <= set(
        topics
    )
    ids = [e["notification_id"] for e in history.json()["events"]]
    assert ids == sorted(ids)
    summary = api.get(f"/deployments/{dep}/summary", "analyst").json()
    assert summary["totals"]["alerts"] == 1


def test_idempotency_replays_and_refuses_reuse(api: Api) -> None:
    api.post("/policy/adopt", "admin")
    body = {"name": "Op", "force": "demo", "purpose": "p"}
    key = {"Idempotency-Key": "op-2025-0001"}
    first = api.post("/operations", "planner", body, headers=key)
    again = api.post("/operations", "planner", body, headers=key)
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers["idempotency-replayed"] == "true"
    assert_problem(
        api.post("/operations", "planner", {**body, "name": "X"}, headers=key),
        422,
        "idempotency-key-reused",
    )
    assert_problem(
        api.post("/operations", "planner", body, headers={"Idempotency-Key": "a b"}), 400
    )


def test_validation_errors_name_the_field(sqlite_api: Api) -> None:
    api = sqlite_api
    problem = assert_problem(
        api.post("/operations", "planner", {"name": "x", "force": "demo"}), 400, "validation"
    )
    assert "purpose" in problem["detail"]
    _, dep = deployment(api)
    naive = api.post(
        f"/deployments/{dep}/faces-counted",
        "matcher",
        {
            "camera_id": "cam-1",
            "period_start": "2025-06-02T10:00:00",
            "period_end": "2025-06-02T11:00:00",
            "count": 1,
        },
        claims={"deployment_id": dep},
    )
    assert "period_start" in assert_problem(naive, 400)["detail"]
    wrong = api.post(
        f"/deployments/{dep}/threshold",
        "authorising_officer",
        {"threshold": 0.1, "reason": "testing"},
        claims=AO,
    )
    assert_problem(wrong, 422, "policy-violation")
    rank = api.post(
        f"/deployments/{dep}/authorisation",
        "authorising_officer",
        {"authority_ref": "A", **AUTHORITY},
        claims={"rank": "inspector"},
    )
    assert_problem(rank, 403, "not-permitted")
    assert_problem(api.get(f"/deployments/{dep}x", "planner"), 404)
    assert_problem(api.client.delete("/operations", headers=api.h("planner")), 405)
    assert_problem(
        api.get("/operations/00000000-0000-0000-0000-000000000000/summary", "analyst"), 404
    )


def test_image_enrolment_computes_a_sealed_template(sqlite_api: Api) -> None:
    """Real faces through the real sface pack (fetched at set-up by `make test`)."""
    import base64

    import cv2

    from lfr_ledger.matching.packs.fetch import fetch_sface
    from lfr_ledger.matching.packs.samples import astronaut_bgr, insightface_image

    fetch_sface(sqlite_api.settings.model_dir)
    api = sqlite_api
    _, dep = deployment(api)

    def enrol(image: bytes, n: int) -> Any:
        body = {**ENROLMENT, "subject_ref": f"PNC-IMG-{n}", "image": base64.b64encode(image)}
        body["image"] = body["image"].decode()
        return api.post(f"/deployments/{dep}/watchlist/entries", "watchlist_manager", body)

    def jpeg(image: Any) -> bytes:
        return bytes(cv2.imencode(".jpg", image)[1])

    def events() -> int:
        count: int = api.get("/audit/verify", "oversight").json()["events_checked"]
        return count

    before = events()
    assert_problem(enrol(b"not an image at all", 1), 422, "unreadable-image")
    group = assert_problem(enrol(jpeg(insightface_image("t1.jpg")), 2), 422, "several-faces")
    assert "exactly one" in group["detail"]
    assert events() == before, "a refused enrolment writes nothing"
    created = enrol(jpeg(astronaut_bgr()), 3)
    assert created.status_code == 201, created.text
    entry = api.get(
        f"/watchlist/entries/{created.json()['id']}",
        "watchlist_manager",
        headers={"X-Purpose": "check the enrolment"},
    ).json()
    assert entry["has_template"] is True


def test_body_size_is_limited(sqlite_api: Api) -> None:
    api = sqlite_api
    big = b'{"name": "' + b"x" * (15 * 1024 * 1024) + b'"}'
    for extra in ({}, {"Idempotency-Key": "big-1"}):
        response = api.client.post(
            "/operations",
            content=big,
            headers={
                **api.h("planner"),
                "Content-Type": "application/json",
                **extra,
            },
        )
        assert_problem(response, 413)


def test_authentication_failures_are_401_problems(sqlite_api: Api) -> None:
    api = sqlite_api
    assert_problem(api.client.get("/audit/verify"), 401, "unauthenticated")
    expired = issue_token(api.settings, role="oversight", sub="x", now=time.time() - 7200)
    body = assert_problem(
        api.client.get("/audit/verify", headers={"Authorization": f"Bearer {expired}"}), 401
    )
    assert "expired" in body["detail"]
    forged = jwt.encode(
        {"sub": "x", "role": "oversight", "exp": time.time() + 60}, "w" * 40, algorithm="HS256"
    )
    assert_problem(
        api.client.get("/audit/verify", headers={"Authorization": f"Bearer {forged}"}), 401
    )
    bogus = jwt.encode(
        {"sub": "x", "role": "king", "exp": time.time() + 60},
        load_or_create_secret(api.settings),
        algorithm="HS256",
    )
    assert_problem(
        api.client.get("/audit/verify", headers={"Authorization": f"Bearer {bogus}"}), 401
    )
    assert api.client.get("/health").json() == {"status": "ok"}


def test_internal_errors_say_nothing_and_log_only_the_type(
    sqlite_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = sqlite_api
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep()
    logging.getLogger("lfr.api").addHandler(handler)
    services = api.client.app.state.services

    def explode(*_: Any, **__: Any) -> None:
        raise RuntimeError("subject Jordan Prentice, SUBJ-0001")

    monkeypatch.setattr(services.ledger, "open_operation", explode)
    try:
        response = api.post("/operations", "planner", {"name": "n", "force": "f", "purpose": "p"})
    finally:
        logging.getLogger("lfr.api").removeHandler(handler)
    body = assert_problem(response, 500, "internal")
    assert "Jordan" not in response.text and "Traceback" not in response.text
    assert body["request_id"] == response.headers["x-request-id"]
    messages = [r.getMessage() for r in records]
    assert any("RuntimeError" in m and body["request_id"] in m for m in messages)
    assert not any("Jordan" in m for m in messages)
    assert all(r.exc_info is None for r in records)


def test_openapi_documents_every_route_and_problem(sqlite_api: Api) -> None:
    doc = sqlite_api.client.get("/schema/openapi.json").json()
    assert "Problem" in doc["components"]["schemas"]
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if path in ("/health", "/health/live", "/health/ready", "/metrics"):  # public
                continue
            if path == "/public" or path.startswith("/public/"):  # the feed: no sign-in
                assert not ({"401", "403"} & set(op["responses"])), (method, path)
                continue
            codes = set(op["responses"])
            assert {"401", "403"} <= codes, (method, path)
            if method == "post":
                names = {p["name"] for p in op.get("parameters", [])}
                assert "Idempotency-Key" in names, path


def _resolved(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """A schema with its `$ref` (and a nullable `oneOf` around one) followed."""
    while True:
        if "$ref" in schema:
            schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
        elif "oneOf" in schema:
            schema = next(s for s in schema["oneOf"] if s.get("type") != "null")
        else:
            return schema


def _reply_schema(doc: dict[str, Any], path: str) -> dict[str, Any]:
    content = doc["paths"][path]["get"]["responses"]["200"]["content"]
    return _resolved(doc, content["application/json"]["schema"])


def test_openapi_types_every_field_analysts_and_oversight_receive(sqlite_api: Api) -> None:
    doc = sqlite_api.client.get("/schema/openapi.json").json()

    def typed(schema: dict[str, Any], where: str) -> None:
        # Every property has a type (or a typed reference); no bare "object" stands for data.
        choices = [s for s in schema.get("oneOf", ()) if s.get("type") != "null"]
        if len(choices) > 1:  # one shape per kind, e.g. per event topic: each is typed
            for choice in choices:
                typed(choice, where)
            return
        schema = _resolved(doc, schema)
        if schema.get("type") == "array":
            typed(schema["items"], where + "[]")
            return
        if schema.get("type") == "object" and where.count(".") < 6:
            # Only an event that has no fields of its own (its topic says it all) is empty.
            assert schema.get("properties") or schema.get("title") == "NoFields", (
                f"{where} is an untyped object"
            )
            assert not schema.get("additionalProperties"), f"{where} is an open object"
            for name, prop in schema["properties"].items():
                typed(prop, f"{where}.{name}")

    summary = _reply_schema(doc, "/deployments/{deployment_id}/summary")
    assert {"totals", "by_camera", "by_category", "by_day", "watchlist_size"} <= set(
        summary["properties"]
    )
    totals = _resolved(doc, summary["properties"]["totals"])
    assert "false_alert_rate_per_faces" in totals["properties"]
    operation = _reply_schema(doc, "/operations/{operation_id}/summary")
    assert {"by_deployment", "by_town", "totals"} <= set(operation["properties"])
    alerts = _reply_schema(doc, "/deployments/{deployment_id}/alerts")
    row = _resolved(doc, _resolved(doc, alerts["properties"]["alerts"])["items"])
    assert _resolved(doc, row["properties"]["status"])["enum"] == [s.value for s in AlertStatus]
    for path in (
        "/deployments/{deployment_id}/summary",
        "/operations/{operation_id}/summary",
        "/deployments/{deployment_id}/alerts",
        "/deployments/{deployment_id}/history",
        "/publication/deployments",
        "/audit/verify",
        "/audit/consultations",
    ):
        content = doc["paths"][path]["get"]["responses"]["200"]["content"]
        typed(content["application/json"]["schema"], path)


# --- tokens and keys ----------------------------------------------------------------------


def test_secret_is_generated_once_with_private_mode(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var")
    first = load_or_create_secret(settings)
    assert load_or_create_secret(settings) == first and len(first) >= 40
    assert stat.S_IMODE(secret_path(settings).stat().st_mode) == 0o600
    configured = Settings(data_dir=tmp_path / "var", jwt_secret="c" * 40)
    assert load_or_create_secret(configured) == "c" * 40


@pytest.mark.parametrize("kind", ["ed25519", "rsa"])
def test_public_key_of_an_identity_provider(tmp_path: Path, kind: str) -> None:
    key: Any = (
        ed25519.Ed25519PrivateKey.generate()
        if kind == "ed25519"
        else rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = tmp_path / "idp.pem"
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    settings = Settings(data_dir=tmp_path / "var", jwt_public_key=public)
    verifier = TokenVerifier.from_settings(settings)
    token = issue_token(settings, role="operator", sub="PC-1", private_key_pem=private)
    assert verifier.actor(token).role == Role.OPERATOR
    hs = issue_token(
        Settings(data_dir=tmp_path / "var", jwt_secret="s" * 40), role="operator", sub="PC-1"
    )
    with pytest.raises(Exception, match=r"401|signature"):
        verifier.actor(hs)


def test_token_command_prints_a_token_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import argparse

    monkeypatch.setenv("LFR_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("LFR_JWT_SECRET", raising=False)
    parser = argparse.ArgumentParser()
    token_cli.register(parser.add_subparsers())
    args = parser.parse_args(
        ["token", "--role", "matcher", "--sub", "van-1", "--deployment", "d-1", "--ttl", "5"]
    )
    assert args.handler(args) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    actor = TokenVerifier.from_settings(Settings.from_env()).actor(out.strip())
    assert (actor.id, actor.role, actor.deployment_id) == ("van-1", Role.MATCHER, "d-1")
    bad = parser.parse_args(["token", "--role", "matcher", "--sub", "van-1"])
    assert bad.handler(bad) == 2


def test_route_table_must_cover_every_route(tmp_path: Path) -> None:
    @get("/unlisted", sync_to_thread=False)
    def unlisted() -> str:
        return "x"

    with pytest.raises(RuntimeError, match="unlisted"):
        check_table_covers(Litestar(route_handlers=[unlisted]))


def test_openapi_documents_the_constraints_of_list_items(sqlite_api: Api) -> None:
    """Issue 10, defect 12: each watchlist category (and offence, and condition) is bounded."""
    schemas = sqlite_api.client.get("/schema/openapi.json").json()["components"]["schemas"]

    def prop(struct: str, field: str) -> dict[str, Any]:
        [name] = [k for k in schemas if k.endswith(struct)]
        return dict(schemas[name]["properties"][field]["items"])

    assert prop("DeploymentIn", "watchlist_categories")["pattern"] == "^[A-Za-z0-9._:-]+$"
    assert prop("DeploymentIn", "watchlist_categories")["maxLength"] == 64
    assert prop("OutcomeIn", "offences")["maxLength"] == 200
    assert prop("OutcomeIn", "conditions")["maxLength"] == 200


def test_options_lists_every_method_of_a_path(sqlite_api: Api) -> None:
    """Issue 10, defect 12: OPTIONS on a deployment's alerts used to omit POST."""
    alerts = sqlite_api.client.options(f"/deployments/{uuid.uuid4()}/alerts")
    assert (alerts.status_code, alerts.headers["allow"]) == (204, "GET, OPTIONS, POST")
    one = sqlite_api.client.options(f"/deployments/{uuid.uuid4()}")
    assert one.headers["allow"] == "GET, OPTIONS"

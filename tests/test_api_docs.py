"""The API's documentation (issue 13): Swagger UI served offline by the app itself, and an
OpenAPI document that describes every field, names every closed list, says which routes need a
purpose, and shows the live stream as server-sent events."""

from __future__ import annotations

import re
from collections.abc import Iterator
from enum import Enum
from html.parser import HTMLParser
from typing import Any

import jsonschema_rs
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from lfr_ledger.api import docs
from lfr_ledger.api.app import SECURITY_HEADERS, create_app
from lfr_ledger.api.auth import issue_token
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.values import (
    AlertStatus,
    ComplianceResult,
    Confirmation,
    Decision,
    DeploymentStatus,
    EntryStatus,
    OutcomeType,
)

PROBLEM = "application/problem+json"
DOCS_PAGES = ("/schema", "/schema/swagger")
METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def docs_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("docs") / "var")


@pytest.fixture(scope="module")
def client(docs_settings: Settings) -> Iterator[TestClient[Litestar]]:
    with TestClient(create_app(docs_settings)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def doc(client: TestClient[Litestar]) -> dict[str, Any]:
    response = client.get("/schema/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                yield method, path, op


def _schemas(doc: dict[str, Any]) -> dict[str, Any]:
    schemas: dict[str, Any] = doc["components"]["schemas"]
    return schemas


# --- the document ----------------------------------------------------------------------------


def test_every_property_of_every_component_has_a_description(doc: dict[str, Any]) -> None:
    undescribed = [
        f"{name}.{prop}"
        for name, schema in _schemas(doc).items()
        for prop, spec in (schema.get("properties") or {}).items()
        if not str(spec.get("description", "")).strip()
    ]
    assert undescribed == []


def test_every_operation_has_a_summary(doc: dict[str, Any]) -> None:
    missing = [f"{m.upper()} {p}" for m, p, op in operations(doc) if not op.get("summary")]
    assert missing == []


def test_a_component_is_described_by_its_own_class_not_by_a_property(
    doc: dict[str, Any],
) -> None:
    """Litestar copies the first referring property's description onto the component; the
    component must read as the class's docstring instead."""
    schemas = _schemas(doc)
    assert schemas["AlertOut"]["description"].startswith("An alert without personal data")
    assert schemas["AlertStatus"]["description"].startswith("Where an alert stands")
    assert schemas["Problem"]["description"].startswith("RFC 9457 problem details")
    # The property keeps its own description beside the reference.
    alert = schemas["AlertTimeline"]["properties"]["alert"]
    assert alert["description"] == "The alert as it stands now"


def test_closed_lists_are_enums(doc: dict[str, Any]) -> None:
    schemas = _schemas(doc)
    listed: list[set[Any]] = []

    def collect(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("enum"), list):
                listed.append({v for v in node["enum"] if v is not None})
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    collect(doc)
    closed: tuple[type[Enum], ...] = (
        Decision,
        Confirmation,
        OutcomeType,
        AlertStatus,
        DeploymentStatus,
        ComplianceResult,
        EntryStatus,
    )
    for enum in closed:
        assert {m.value for m in enum} in listed, enum.__name__
    for enum in (Decision, Confirmation, OutcomeType, AlertStatus, ComplianceResult):
        assert schemas[enum.__name__]["enum"] == [m.value for m in enum]

    def values(struct: str, field: str) -> list[Any]:
        found: list[Any] = schemas[struct]["properties"][field]["enum"]
        return found

    assert values("WatchlistEntryOut", "status") == [m.value for m in EntryStatus]
    assert values("WatchlistRow", "status") == [m.value for m in EntryStatus]
    assert values("DeploymentOut", "status") == [m.value for m in DeploymentStatus]
    assert values("DeploymentRow", "status") == [m.value for m in DeploymentStatus]
    assert values("AlertOut", "decision") == [*(m.value for m in Decision), None]
    state = schemas["AlertOut"]["properties"]["outcomes"]["items"]["enum"]
    assert state == [m.value for m in OutcomeType]


def test_policy_lists_say_where_their_values_come_from(doc: dict[str, Any]) -> None:
    """Lists the policy sets are not enums (a force's policy may differ): their descriptions
    send the reader to GET /policy and name the default policy's values."""
    deployment = _schemas(doc)["DeploymentIn"]["properties"]
    categories = deployment["watchlist_categories"]["description"]
    assert "GET /policy" in categories and "wanted_by_courts" in categories
    location = _schemas(doc)["LocationIn"]["properties"]["location_type"]["description"]
    assert "GET /policy" in location and "town_centre" in location
    category = _schemas(doc)["EnrolmentIn"]["properties"]["category"]["description"]
    assert "GET /policy" in category and "test_subject" in category


def test_every_example_is_valid_for_its_field(doc: dict[str, Any]) -> None:
    """Examples feed Swagger UI's forms and the fuzzer's explicit cases: each must pass the
    constraints of the field it illustrates."""
    checked = 0
    for name, schema in _schemas(doc).items():
        for prop, spec in (schema.get("properties") or {}).items():
            examples = spec.get("examples") or []
            if not examples:
                continue
            validator = jsonschema_rs.Draft202012Validator(
                {**spec, "components": doc["components"]}, validate_formats=True
            )
            for example in examples:
                errors = [e.message for e in validator.iter_errors(example)]
                assert errors == [], (name, prop, example, errors)
                checked += 1
    assert checked > 50


def test_the_alert_stream_is_documented_as_server_sent_events(doc: dict[str, Any]) -> None:
    op = doc["paths"]["/alerts/stream"]["get"]
    ok = op["responses"]["200"]
    assert list(ok["content"]) == ["text/event-stream"]
    assert "alert.raised" in ok["description"] and "AlertOut" in ok["description"]
    example = next(iter(ok["content"]["text/event-stream"]["examples"].values()))["value"]
    assert "event: alert.raised\nid: " in example
    assert "text/event-stream" in op["description"]
    # Errors stay problems.
    assert list(op["responses"]["404"]["content"]) == [PROBLEM]


def test_a_purpose_is_documented_as_header_or_query(doc: dict[str, Any]) -> None:
    """OpenAPI cannot say "one of these two": neither is marked required, and both the
    parameters and the route say that one of the two is."""
    purpose_routes = []
    for method, path, op in operations(doc):
        params = {p["name"]: p for p in op.get("parameters", [])}
        if "X-Purpose" not in params and "purpose" not in params:
            continue
        purpose_routes.append(f"{method.upper()} {path}")
        header, query = params["X-Purpose"], params["purpose"]
        assert (header["in"], query["in"]) == ("header", "query")
        assert not header["required"] and not query["required"]
        assert "`purpose`" in header["description"] and "one of the two" in header["description"]
        assert "X-Purpose" in query["description"] and "one of the two" in query["description"]
        assert "Purpose required" in op["description"], path
        assert "one of the two is required" in op["description"], path
    assert sorted(purpose_routes) == [
        "GET /alerts/{alert_id}/face-crop",
        "GET /deployments/{deployment_id}/history",
        "GET /oversight/bundles/{deployment_id}",
        "GET /oversight/equality",
        "GET /oversight/equality/trend",
        "GET /subject-access",
        "GET /watchlist/entries/{entry_id}",
        "GET /watchlist/entries/{entry_id}/image",
    ]


def test_a_purpose_route_refuses_without_either(
    client: TestClient[Litestar], docs_settings: Settings
) -> None:
    token = issue_token(docs_settings, role="watchlist_manager", sub="wm-1")
    response = client.get(
        "/watchlist/entries/5f0c3a52-8d1e-4c6f-9b7a-2e4d6f8a0b1c",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 400
    assert response.json()["type"] == "urn:lfr-ledger:problem:purpose-required"


# --- the pages -------------------------------------------------------------------------------


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str]] = []
        self.inline_scripts = 0
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        for name in ("src", "href"):
            if found.get(name) is not None and tag in ("script", "link", "img", "a"):
                self.refs.append((tag, str(found[name])))
        if tag == "script":
            self._in_script = True
            if not found.get("src"):
                self.inline_scripts += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_scripts += 1


@pytest.mark.parametrize("page", DOCS_PAGES)
def test_the_docs_page_loads_only_its_own_files(client: TestClient[Litestar], page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    # The app's Content-Security-Policy, unchanged: the page needs nothing more.
    csp = dict(SECURITY_HEADERS)[b"content-security-policy"].decode()
    assert response.headers["content-security-policy"] == csp
    assert not re.search(r"https?://|//[a-z]", response.text, re.IGNORECASE)
    tags = _Tags()
    tags.feed(response.text)
    assert tags.inline_scripts == 0
    scripts = [ref for tag, ref in tags.refs if tag == "script"]
    styles = [ref for tag, ref in tags.refs if tag == "link"]
    assert "/schema/static/swagger-ui-bundle.js" in scripts
    assert "/schema/static/docs-init.js" in scripts
    assert "/schema/static/swagger-ui.css" in styles
    for _, ref in tags.refs:
        assert ref.startswith("/schema/"), ref
        served = client.get(ref)
        assert served.status_code == 200, ref
        assert served.content, ref


def test_the_initialiser_names_no_other_host(client: TestClient[Litestar]) -> None:
    init = client.get("/schema/static/docs-init.js")
    assert init.headers["content-type"].startswith("text/javascript")
    assert "validatorUrl: null" in init.text
    assert "persistAuthorization: false" in init.text
    assert not re.search(r"https?://", init.text)


@pytest.mark.parametrize(
    "path",
    [
        "/schema/redoc",
        "/schema/elements",
        "/schema/rapidoc",
        "/schema/scalar",
        "/schema/openapi.yaml",
        "/schema/oauth2-redirect.html",
        "/schema/static/nothing.js",
        "/schema/static/..%2Fdocs.py",
        "/schema/no/such/page",
    ],
)
def test_unknown_schema_paths_are_problems(client: TestClient[Litestar], path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == 404 and body["type"].startswith("urn:lfr-ledger:problem:")


def test_without_swagger_ui_installed_the_assets_say_what_to_install(
    client: TestClient[Litestar], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(docs, "swagger_ui_dir", lambda: None)
    monkeypatch.setattr(docs, "ASSETS", docs._Assets())
    response = client.get("/schema/static/swagger-ui-bundle.js")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith(PROBLEM)
    assert docs.SWAGGER_UI_DISTRIBUTION in response.json()["detail"]
    # The page still loads, and tells the reader where the document is.
    page = client.get("/schema")
    assert page.status_code == 200 and 'id="docs-missing"' in page.text


def test_swagger_ui_is_installed_from_the_registry_package() -> None:
    folder = docs.swagger_ui_dir()
    assert folder is not None, f"install {docs.SWAGGER_UI_DISTRIBUTION} (make setup)"
    for name in docs.PACKAGE_ASSETS:
        assert (folder / name).is_file(), name


def test_the_figures_descriptions_name_real_fields() -> None:
    """The figures' descriptions are kept apart from their structs (projections/): a renamed
    or removed field must not leave a description behind."""
    import msgspec

    from lfr_ledger.api.schemas.statistics import FIGURE_DESCRIPTIONS, FIGURE_ENUMS

    for table in (FIGURE_DESCRIPTIONS, FIGURE_ENUMS):
        for struct, fields in table.items():
            names = {f.encode_name for f in msgspec.structs.fields(struct)}
            assert set(fields) <= names, (struct.__name__, set(fields) - names)

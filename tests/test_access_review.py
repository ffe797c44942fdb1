"""Access review (who consulted or disclosed what), and the HTTP routes of retention and
oversight: legal holds, retention runs, subject access, equality, access review. Both backends."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from litestar.testing import TestClient

import lfr_ledger.api.app
import lfr_ledger.api.guards
from lfr_ledger.api.auth import issue_token
from lfr_ledger.api.controllers.oversight import ACCESS_ROWS as OVERSIGHT_ROWS
from lfr_ledger.api.controllers.oversight import PERSONAL_DATA_ROUTES, OversightController
from lfr_ledger.api.controllers.retention import ACCESS_ROWS as RETENTION_ROWS
from lfr_ledger.api.controllers.retention import RetentionController
from lfr_ledger.api.demo.sample_deployment import OFFICER, OVERSIGHT
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.actors import Actor, Role
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.values import Confirmation
from lfr_ledger.oversight.access_review import access_review
from tests.conftest import Clock
from tests.test_retention import cli_env, ran_deployment  # noqa: F401

DPO = Actor("DPO-1", Role.OVERSIGHT)


def test_filters_by_actor_record_and_period(ledger: CaseLedger, clock: Clock) -> None:
    first = ledger.record_consultation(OFFICER, record="alert:A-1", purpose="court file")
    clock.advance(hours=2)
    ledger.record_consultation(OVERSIGHT, record="deployment_history:D-9", purpose="audit")
    ledger.record_disclosure(DPO, recipient="CPS", record="alert:A-1", legal_basis="s.35")
    clock.advance(days=1)
    ledger.record_consultation(OVERSIGHT, record="alert:A-2", purpose="complaint")

    everything = access_review(ledger)
    assert [r.kind for r in everything.records] == [
        "consultation",
        "consultation",
        "disclosure",
        "consultation",
    ]
    assert everything.records[0].id == first and everything.records[0].actor_role == "officer"
    by_ico = access_review(ledger, actor_id=OVERSIGHT.id)
    assert [r.record for r in by_ico.records] == ["deployment_history:D-9", "alert:A-2"]
    about_a1 = access_review(ledger, record="A-1")
    assert [(r.kind, r.actor_id) for r in about_a1.records] == [
        ("consultation", OFFICER.id),
        ("disclosure", DPO.id),
    ]
    assert about_a1.records[1].recipient == "CPS" and about_a1.records[1].legal_basis == "s.35"
    day_two = access_review(ledger, start=clock.now - timedelta(hours=1))
    assert [r.record for r in day_two.records] == ["alert:A-2"]
    first_day = access_review(ledger, end=clock.now - timedelta(hours=1))
    assert len(first_day.records) == 3
    page = access_review(ledger, limit=2)
    assert len(page.records) == 2 and page.next_after is not None
    rest = access_review(ledger, after=page.next_after)
    assert [r.record for r in rest.records] == ["alert:A-1", "alert:A-2"]


def test_cli_access_review(
    ledger: CaseLedger,
    cli_env: None,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    import lfr_ledger.api.cli

    ledger.record_consultation(OFFICER, record="alert:A-1", purpose="court file")
    ledger.record_disclosure(DPO, recipient="CPS", record="alert:A-1", legal_basis="s.35")
    assert lfr_ledger.api.cli.main(["access-review", "--by", DPO.id]) == 0
    out = capsys.readouterr().out
    assert "disclosure" in out and "to CPS" in out and "court file" not in out


# --- HTTP -------------------------------------------------------------------------------------


class Api:
    def __init__(self, client: TestClient[Any], settings: Settings) -> None:
        self.client = client
        self.settings = settings

    def headers(self, role: str, **claims: Any) -> dict[str, str]:
        token = issue_token(self.settings, role=role, sub=f"{role}-1", **claims)
        return {"Authorization": f"Bearer {token}"}

    def post(self, path: str, role: str, body: Any = None, **claims: Any) -> Any:
        return self.client.post(path, headers=self.headers(role, **claims), json=body)

    def get(self, path: str, role: str, params: dict[str, Any] | None = None) -> Any:
        return self.client.get(path, headers=self.headers(role), params=params)


@pytest.fixture
def http(ledger: CaseLedger, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    """The app with this feature's controllers and guard rows, until app.py and guards.py
    list them."""
    real = lfr_ledger.api.app.Litestar

    def with_feature(**kwargs: Any) -> Any:
        handlers = list(kwargs.pop("route_handlers"))
        mine = [c for c in (RetentionController, OversightController) if c not in handlers]
        return real(route_handlers=[*handlers, *mine], **kwargs)

    monkeypatch.setattr(lfr_ledger.api.app, "Litestar", with_feature)
    for key, roles in {**RETENTION_ROWS, **OVERSIGHT_ROWS}.items():
        monkeypatch.setitem(lfr_ledger.api.guards.ACCESS, key, roles)
    monkeypatch.setattr(
        lfr_ledger.api.guards,
        "PERSONAL_DATA",
        lfr_ledger.api.guards.PERSONAL_DATA | PERSONAL_DATA_ROUTES,
    )
    app = lfr_ledger.api.app.create_app(settings, ledger=ledger)
    with TestClient(app) as client:
        yield Api(client, settings)


def test_http_legal_hold_retention_and_oversight_reads(
    http: Api, ledger: CaseLedger, clock: Clock
) -> None:
    scene = ran_deployment(ledger, clock, alerts=2, confirmed=Confirmation.CONFIRMED)
    held, free = scene.alert_ids
    ao = {"rank": "superintendent"}
    hold = {"reason": "evidence for trial", "proceedings_ref": "T2025/0042"}
    assert http.post(f"/alerts/{held}/legal-hold", "operator", hold).status_code == 403
    placed = http.post(f"/alerts/{held}/legal-hold", "authorising_officer", hold, **ao)
    assert placed.status_code == 200, placed.text
    # The proceedings reference is sealed: the reply (kept for a retry) never repeats it.
    assert placed.json()["under_legal_hold"] and placed.json()["proceedings_ref"] == "[sealed]"
    assert "T2025/0042" not in placed.text
    again = http.post(f"/alerts/{held}/legal-hold", "authorising_officer", hold, **ao)
    assert again.status_code == 409

    assert scene.ended_at is not None
    clock.now = scene.ended_at + timedelta(days=40)
    assert http.post("/retention/run", "oversight").status_code == 403
    dry = http.post("/retention/run?dry_run=true", "admin").json()
    assert dry["dry_run"] and dry["alert_images_erased"] == [str(free)]
    assert ledger.reveal_face_crop(free) is not None
    ran = http.post("/retention/run", "admin").json()
    assert ran["watchlists_destroyed"] == [str(scene.deployment_id)]
    assert ran["alert_images_erased"] == [str(free)] and ran["held"] == [str(held)]
    assert http.post("/retention/run", "admin").json()["alert_images_erased"] == []
    released = http.post(
        f"/alerts/{held}/legal-hold/release",
        "authorising_officer",
        {"reason": "trial over"},
        **ao,
    )
    assert released.status_code == 200 and not released.json()["under_legal_hold"]
    assert http.post("/retention/run", "admin").json()["alert_images_erased"] == [str(held)]

    period = {"from": scene.ended_at.replace(hour=0).isoformat()}
    period["to"] = (scene.ended_at + timedelta(days=1)).isoformat()
    sar = {"subject_ref": "PNC-0000", **period}
    assert http.get("/subject-access", "oversight", sar).status_code == 400  # no purpose
    assert http.get("/subject-access", "analyst", {**sar, "purpose": "x"}).status_code == 403
    answer = http.get("/subject-access", "oversight", {**sar, "purpose": "SAR 17"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["on_watchlist"] and body["in_alert"]
    [entry] = body["entries"]
    assert entry["status"] == "destroyed" and entry["name"] == "[erased]"
    assert [a["image"] for a in entry["alerts"]] == ["erased", "erased"]

    ledger.record_perceived_demographics(OFFICER, free, {"perceived_sex": "male"})
    equality = http.get("/oversight/equality", "oversight", {"purpose": "panel"})
    assert equality.status_code == 200, equality.text
    sex = next(t for t in equality.json()["tables"] if t["field"] == "perceived_sex")
    male = next(g for g in sex["groups"] if g["value"] == "male")
    assert male["alerts"] == 1 and male["ci_high"] is not None  # oversight: no suppression
    assert http.get("/oversight/equality", "analyst", {"purpose": "x"}).status_code == 403

    review = http.get("/oversight/access-review", "oversight", {"actor_id": "oversight-1"})
    assert review.status_code == 200, review.text
    records = [r["record"] for r in review.json()["records"]]
    assert records[0].startswith("subject_access:") and records[1] == "equality:all"
    assert "PNC-0000" not in str(records)
    backwards = {"from": period["to"], "to": period["from"]}
    bad = http.get("/oversight/access-review", "oversight", backwards)
    assert bad.status_code == 400

"""Steps of a case recorded over HTTP by the roles that would take them."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import cv2
import httpx

from lfr_ledger.api.demo.sample_deployment import (
    AUTHORITY,
    DOCUMENTS,
    DOCUMENTS_APPROVED,
    DOCUMENTS_REVIEW_BY,
)
from lfr_ledger.api.demo.seed import (
    ADMIN,
    AUTHORISING_OFFICER,
    CATEGORIES,
    FORCE,
    MODEL,
    OFFICER,
    OPERATOR,
    PLANNER,
    THRESHOLD,
    WATCHLIST_MANAGER,
    seed_subject,
)
from lfr_ledger.domain.actors import Actor, Role
from lfr_ledger.matching.packs.samples import astronaut_bgr
from tests.e2e.conftest import Server

PROBLEM = "application/problem+json"


def now() -> datetime:
    return datetime.now(UTC)


def auth(server: Server, actor: Actor) -> dict[str, str]:
    claims = {"rank": actor.rank, "force": actor.force, "deployment_id": actor.deployment_id}
    return server.headers(actor.role.value, actor.id, **{k: v for k, v in claims.items() if v})


def matcher(deployment_id: str, number: int = 1) -> Actor:
    return Actor(f"matcher-van-{number}", Role.MATCHER, deployment_id=deployment_id)


def ok(response: httpx.Response, *statuses: int) -> Any:
    assert response.status_code in (statuses or (200, 201)), (
        response.status_code,
        response.text,
    )
    return response.json()


def is_problem(response: httpx.Response) -> bool:
    if not response.headers.get("content-type", "").startswith(PROBLEM):
        return False
    body = response.json()
    return {"type", "title", "status", "detail"} <= set(body) and body["status"] == (
        response.status_code
    )


def enrolment_body(deployment: int, index: int) -> dict[str, Any]:
    e = seed_subject(deployment, index)
    return {
        "subject_ref": e.subject_ref,
        "name": e.name,
        "category": e.category,
        "legal_basis": e.legal_basis,
        "rationale": e.rationale,
        "offence": e.offence,
        "image_source": e.image_source,
        "image_taken_on": e.image_taken_on.isoformat() if e.image_taken_on else None,
        "under_18": e.under_18,
    }


def adopt_policy(server: Server, client: httpx.Client) -> str:
    """The policy adopted, the governance documents the deployments below cite, and the LFR
    training of everyone the end-to-end tests decide or engage as."""
    body = ok(client.post("/policy/adopt", headers=auth(server, ADMIN)), 200)
    register_documents(server, client)
    train(server, client)
    return str(body["version"])


# The staff numbers the end-to-end tests sign in as to adjudicate, and to engage.
OPERATORS = (OPERATOR.id, "PC-0", "PC-1", "PC-1001", "PC-1002", "PC-1003", "PC-3001")
OFFICERS = (OFFICER.id, "PC-4418")


def train(server: Server, client: httpx.Client) -> None:
    """Each of them holds the course the default policy asks for, current today (recorded by
    the admin; sent again, it records the same completion again)."""
    today = now().date()
    days = {
        "completed_on": (today - timedelta(days=30)).isoformat(),
        "expires_on": (today + timedelta(days=3 * 365)).isoformat(),
    }
    people = [(p, "lfr_operator") for p in OPERATORS] + [(p, "lfr_engagement") for p in OFFICERS]
    for person, course in people:
        body = {"person": person, "course": course, **days}
        ok(client.post("/training", headers=auth(server, ADMIN), json=body), 201)


# What `deployment_body` and AUTHORITY cite: the seed's DPIA and EIA, the sample's APD and
# equality evidence.
CITED = {"dpia": "DPIA-LFR-2025-03", "eia": "EIA-LFR-2025-03"}


def register_documents(server: Server, client: httpx.Client) -> None:
    """Each registered by the admin, as version 1.0 (sent again, it records nothing)."""
    for kind, reference, title in DOCUMENTS:
        body = {
            "kind": kind,
            "reference": CITED.get(kind, reference),
            "version": "1.0",
            "title": title,
            "approved_on": DOCUMENTS_APPROVED.isoformat(),
            "review_by": DOCUMENTS_REVIEW_BY.isoformat(),
            "approved_by": "Chief Officer Group",
        }
        ok(client.post("/governance/documents", headers=auth(server, ADMIN), json=body), 201)


def register_evaluation(
    server: Server, client: httpx.Client, model_id: str, reference: str = "EVAL-E2E-1"
) -> str:
    """A current model evaluation of `model_id` in the governance register, registered by the
    admin, for a threshold change to cite as `evaluation_ref` (its digest names no report)."""
    today = now().date()
    body = {
        "kind": "model_evaluation",
        "reference": reference,
        "version": "1",
        "title": f"Evaluation of {model_id} on the force's own faces",
        "approved_on": (today - timedelta(days=30)).isoformat(),
        "review_by": (today + timedelta(days=365)).isoformat(),
        "model_id": model_id,
        "digest": "0" * 64,
    }
    ok(client.post("/governance/documents", headers=auth(server, ADMIN), json=body))
    return reference


def open_operation(server: Server, client: httpx.Client, name: str = "Operation Test") -> str:
    body = ok(
        client.post(
            "/operations",
            headers=auth(server, PLANNER),
            json={"name": name, "force": FORCE, "purpose": "Locate people wanted by the courts"},
        ),
        201,
    )
    return str(body["id"])


def deployment_body(
    operation_id: str,
    policy_version: str,
    *,
    location_name: str = "Abington Street",
    town: str = "Northampton",
    number: int = 0,
    minutes: int = 120,
) -> dict[str, Any]:
    start = now() - timedelta(minutes=1)
    return {
        "operation_id": operation_id,
        "location": {"name": location_name, "town": town, "location_type": "town_centre"},
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(minutes=minutes)).isoformat(),
        "purpose": "Locate wanted people and check compliance of managed offenders",
        "intelligence_case": f"NN-IC-2025-{100 + number}",
        "watchlist_categories": list(CATEGORIES),
        "threshold": THRESHOLD,
        "cameras": [{"id": "cam-1", "name": "van mast camera"}],
        "controlling_force": FORCE,
        "equipment_owner_force": FORCE,
        "dpia_ref": "DPIA-LFR-2025-03",
        "eia_ref": "EIA-LFR-2025-03",
        "policy_ref": policy_version,
        # A day's notice: the policy's minimum_notice_hours (24).
        "public_notice": {
            "method": "signage and force website",
            "issued_at": (start - timedelta(days=1)).isoformat(),
        },
        "model_id": MODEL,
    }


@dataclass
class Live:
    operation_id: str
    deployment_id: str
    entry_ids: list[str] = field(default_factory=list)
    starts_at: str = ""


def live_deployment(
    server: Server,
    client: httpx.Client,
    *,
    policy_version: str,
    operation_id: str | None = None,
    entries: int = 2,
    number: int = 0,
    location_name: str = "Abington Street",
    town: str = "Northampton",
    image: str | Sequence[str] | None = None,
    model_id: str | None = None,
    start: bool = True,
    enrolment: dict[str, Any] | None = None,
) -> Live:
    """Proposed, authorised, watchlist compiled and reviewed, signs confirmed, started: ready
    for alerts. `image` (base64) enrols every entry with that photograph, templated by
    `model_id`'s pack; a list of images enrols entry i with the i-th. `start=False`: reviewed
    and signs confirmed, not started. `enrolment`: fields added to every entry's enrolment."""
    operation_id = operation_id or open_operation(server, client)
    body = deployment_body(
        operation_id, policy_version, location_name=location_name, town=town, number=number
    )
    if model_id:
        body["model_id"] = model_id
    deployment_id = ok(client.post("/deployments", headers=auth(server, PLANNER), json=body))["id"]
    ok(
        client.post(
            f"/deployments/{deployment_id}/authorisation",
            headers=auth(server, AUTHORISING_OFFICER),
            json={"authority_ref": f"AUTH-LFR-2025-{100 + number}", **AUTHORITY},
        ),
        200,
    )
    live = Live(operation_id, deployment_id, starts_at=body["starts_at"])
    for i in range(entries):
        photo = image if image is None or isinstance(image, str) else image[i]
        live.entry_ids.append(
            ok(
                client.post(
                    f"/deployments/{deployment_id}/watchlist/entries",
                    headers={
                        **auth(server, WATCHLIST_MANAGER),
                        "Idempotency-Key": str(uuid.uuid4()),
                    },
                    json={
                        **enrolment_body(number, i),
                        **({"image": photo} if photo else {}),
                        **(enrolment or {}),
                    },
                ),
                201,
            )["id"]
        )
    ok(
        client.post(
            f"/deployments/{deployment_id}/watchlist/review",
            headers=auth(server, AUTHORISING_OFFICER),
            json={
                "confirmed_count": entries,
                "not_excessive": True,
                "note": "Proportionate to the intelligence case",
            },
        ),
        200,
    )
    # On the day, before going live, the operator confirms the signs (the policy's start gate).
    signage = {"signs": "Four A-boards", "locations": "Both ends of the street"}
    path = f"/deployments/{deployment_id}"
    ok(client.post(f"{path}/signage", headers=auth(server, OPERATOR), json=signage), 200)
    if start:
        ok(client.post(f"{path}/start", headers=auth(server, OPERATOR)), 200)
    return live


def raise_alert(
    server: Server,
    client: httpx.Client,
    live: Live,
    *,
    entry: int = 0,
    similarity: float = 0.8,
    alert_id: str | None = None,
) -> str:
    body: dict[str, Any] = {
        "camera_id": "cam-1",
        "entry_id": live.entry_ids[entry],
        "similarity": similarity,
        "captured_at": (now() - timedelta(seconds=1)).isoformat(),
    }
    if alert_id:
        body["alert_id"] = alert_id
    response = client.post(
        f"/deployments/{live.deployment_id}/alerts",
        headers=auth(server, matcher(live.deployment_id)),
        json=body,
    )
    return str(ok(response, 201)["id"])


def astronaut_jpeg(
    top: int = 0, bottom: int | None = None, left: int = 0, right: int | None = None
) -> str:
    """scikit-image's astronaut (a real face) as base64 JPEG, whole or cropped: the photograph
    the console's tests enrol and the crop their matcher sends."""
    done, data = cv2.imencode(".jpg", astronaut_bgr()[top:bottom, left:right])
    assert done
    return base64.b64encode(data.tobytes()).decode()


def heartbeat_with_a_lost_source(lost_since: datetime) -> dict[str, Any]:
    """A matcher's heartbeat for cam-1 whose video source has been lost since `lost_since`, with
    what the source gave over the interval."""
    return {
        "camera_id": "cam-1",
        "frames_per_second": 4.2,
        "faces_seen": 3,
        "frames_offered": 300,
        "frames_processed": 126,
        "frames_dropped": 174,
        "interval_seconds": 30.0,
        "last_error": None,
        "source_gaps": [{"started_at": lost_since.isoformat(), "ended_at": None}],
    }

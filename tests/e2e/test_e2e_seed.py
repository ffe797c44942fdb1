"""The seed operation, recorded entirely over HTTP by the roles that would record it (the man's
charge and bail, the man and the three women as perceived, each deployment reviewed, the
operation closed), then read back as an analyst: the published figures must come out exactly.
And the demo's own data (the seed, then the live demonstration) served by `lfr serve` and read
with `lfr stats`: the force's 2025 is exactly the press release's."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid5

from lfr_ledger.api.demo.seed import (
    AUTHORISING_OFFICER,
    OFFICER,
    OPERATOR,
    PLANNER,
    SEED_DEPLOYMENTS,
    WATCHLIST_SIZE,
    DemoClock,
    alert_entry,
    record_seed_operation,
)
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.alert import Outcome
from lfr_ledger.domain.records import LFR_NAMESPACE
from lfr_ledger.domain.values import OutcomeType
from lfr_ledger.matching.engines.insightface_engine import InsightFaceEngine
from tests.e2e.conftest import Server, start_server, stop_server
from tests.e2e.flows import (
    adopt_policy,
    auth,
    live_deployment,
    matcher,
    now,
    ok,
    open_operation,
)

LFR = str(Path(sys.executable).parent / "lfr")
RELEASED = {"deployments": 4, "alerts": 13, "arrests": 6, "compliance_checks": 7}


def outcome_body(o: Outcome) -> dict[str, object]:
    body: dict[str, object] = {"type": o.type.value}
    if o.type == OutcomeType.COMPLIANCE_CHECK:
        return body | {"conditions": list(o.conditions), "result": o.result}
    body["offences"] = list(o.offences)
    return body | ({"custody_ref": o.custody_ref} if o.custody_ref else {})


def test_seed_operation_over_http_gives_the_published_summary(server: Server) -> None:
    with server.client() as client:
        version = adopt_policy(server, client)
        operation_id = open_operation(server, client, "Operation Town Centres 2025")
        deployment_ids = []
        for number, seed in enumerate(SEED_DEPLOYMENTS):
            live = live_deployment(
                server,
                client,
                policy_version=version,
                operation_id=operation_id,
                entries=WATCHLIST_SIZE,
                number=number,
                location_name=seed.location_name,
                town=seed.town,
            )
            deployment_ids.append(live.deployment_id)
            van = auth(server, matcher(live.deployment_id, number + 1))
            for seq, alert in enumerate(seed.alerts):
                alert_id = str(
                    uuid5(LFR_NAMESPACE, f"seed-alert:{number}:{seq}:{live.deployment_id}")
                )
                body = {
                    "camera_id": alert.camera,
                    "entry_id": live.entry_ids[alert_entry(seq)],
                    "similarity": alert.similarity,
                    "captured_at": (now() - timedelta(seconds=1)).isoformat(),
                    "alert_id": alert_id,
                }
                url = f"/deployments/{live.deployment_id}/alerts"
                assert ok(client.post(url, headers=van, json=body), 201)["id"] == alert_id
                ok(
                    client.post(
                        f"/alerts/{alert_id}/adjudication",
                        headers=auth(server, OPERATOR),
                        json={"decision": "match", "reason": "Likeness confirmed on screen"},
                    ),
                    200,
                )
                officer = auth(server, OFFICER)
                ok(
                    client.post(
                        f"/alerts/{alert_id}/engagement",
                        headers=officer,
                        json={"engaged": True, "confirmed": "true"},
                    ),
                    200,
                )
                if alert.perceived_sex:
                    perceived = {"fields": {"perceived_sex": alert.perceived_sex}}
                    path = f"/alerts/{alert_id}/perceived-characteristics"
                    ok(client.post(path, headers=officer, json=perceived))
                for o in (alert.outcome, *alert.followed_by):
                    path = f"/alerts/{alert_id}/outcomes"
                    ok(client.post(path, headers=officer, json=outcome_body(o)), 200)
                ok(client.post(f"/alerts/{alert_id}/close", headers=officer), 200)
            # The seed's day of faces, in a deployment live for seconds: a count must lie in the
            # live time and be plausible for its length (issue 23), so it is reported over the
            # widest period the ledger accepts, the clock-skew tolerance either side.
            state = client.get(f"/deployments/{live.deployment_id}", headers=auth(server, OPERATOR))
            started = datetime.fromisoformat(ok(state, 200)["started_at"])
            ok(
                client.post(
                    f"/deployments/{live.deployment_id}/faces-counted",
                    headers=van,
                    json={
                        "camera_id": "cam-1",
                        "period_start": (started - timedelta(minutes=4)).isoformat(),
                        "period_end": (now() + timedelta(minutes=4)).isoformat(),
                        "count": seed.faces_processed,
                    },
                ),
                201,
            )
            ok(
                client.post(
                    f"/deployments/{live.deployment_id}/end", headers=auth(server, OPERATOR)
                ),
                200,
            )
            ok(
                client.post(
                    f"/deployments/{live.deployment_id}/review",
                    headers=auth(server, AUTHORISING_OFFICER),
                    json={
                        "objectives_met": "met",
                        "objectives_statement": f"{len(seed.alerts)} alerts, each followed up",
                        "issues": "none",
                        "community_impact": "none recorded",
                        "lessons": "carried into the force's own deployments from 2026",
                    },
                ),
                200,
            )

        # Closed after its last deployment's review; a second close is refused.
        close = f"/operations/{operation_id}/close"
        closed = ok(client.post(close, headers=auth(server, PLANNER)), 200)
        assert closed["status"] == "closed"
        assert client.post(close, headers=auth(server, PLANNER)).status_code == 409

        analyst = server.headers("analyst", "ANL-0042")
        summary = ok(client.get(f"/operations/{operation_id}/summary", headers=analyst), 200)
        totals = summary["totals"]
        assert summary["status"] == "closed"
        assert summary["deployment_count"] == 4
        assert summary["towns"] == ["Kettering", "Northampton", "Wellingborough"]
        assert summary["watchlist_size"] == 4 * WATCHLIST_SIZE
        assert totals["faces_processed"] == 8412 + 6930 + 5287 + 4116
        assert totals["alerts"] == 13
        assert totals["adjudicated"] == 13
        assert totals["true_alerts"] == 13
        assert totals["false_alerts"] == 0
        assert totals["engagements"] == 13
        assert totals["confirmed_true"] == 13
        assert totals["arrests"] == 6
        assert totals["compliance_checks"] == 7
        assert totals["compliance_complied"] == 7
        assert totals["compliance_breach"] == 0
        # The man's charge and bail are counted as what they are, in no figure of the three.
        assert (totals["charges"], totals["bails"], totals["other_outcomes"]) == (1, 1, 0)
        by_deployment = {d["deployment_id"]: d for d in summary["by_deployment"]}
        for deployment_id, seed in zip(deployment_ids, SEED_DEPLOYMENTS, strict=True):
            assert by_deployment[deployment_id]["alerts"] == len(seed.alerts)
            assert by_deployment[deployment_id]["faces_processed"] == seed.faces_processed

        one = ok(client.get(f"/deployments/{deployment_ids[0]}/summary", headers=analyst), 200)
        assert one["totals"]["alerts"] == 4
        assert one["totals"]["arrests"] == 2

        published = client.get("/publication/deployments.csv", headers=analyst)
        assert published.status_code == 200
        assert published.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(published.text)))
        assert {r["deployment_id"] for r in rows} >= set(deployment_ids)

        # The analyst never reaches personal data or the history.
        assert (
            client.get(f"/deployments/{deployment_ids[0]}/history", headers=analyst).status_code
            == 403
        )


def figures(period: dict[str, Any]) -> dict[str, int]:
    return {k: period[k] for k in RELEASED}


def test_the_demo_data_served_gives_the_force_s_2025_as_released(
    tmp_path: Path,
    sface_engine: InsightFaceEngine,
) -> None:
    """The seed, then the live demonstration (2026, own van), recorded as `lfr demo` records
    them; then `lfr serve` on that data and `lfr stats` read 2025 as the release has it."""
    from lfr_ledger.api.bootstrap import build_ledger
    from lfr_ledger.api.demo.live import run_live_demo

    data_dir = tmp_path / "demo"
    settings = Settings(data_dir=data_dir)
    clock = DemoClock()
    ledger = build_ledger(settings, clock=clock)
    try:
        record_seed_operation(ledger, clock.set)
        run_live_demo(ledger, clock, settings, sface_engine, out=lambda _: None, fps=5.0,
                      size=(480, 360))  # fmt: skip
    finally:
        ledger.close()
    server = start_server(data_dir)
    try:
        analyst = server.headers("analyst", "ANL-0042")
        with server.client() as client:
            period = ok(client.get("/statistics/period?year=2025", headers=analyst), 200)
            later = ok(client.get("/statistics/period?year=2026", headers=analyst), 200)
            records = ok(client.get("/publication/deployments?year=2025", headers=analyst), 200)
            csv_2025 = client.get("/publication/deployments.csv?year=2025", headers=analyst)
    finally:
        stop_server(server)
    assert figures(period) == RELEASED
    assert period["mutual_aid_deployments"] == 4
    assert (later["deployments"], later["mutual_aid_deployments"]) == (1, 0)
    assert len(records) == 4
    assert sum(r["alerts"] for r in records) == 13
    assert sum(r["arrests"] for r in records) == 6
    assert sum(r["compliance_checks"] for r in records) == 7
    assert all(r["equipment_owner_force"] is None and r["mutual_aid"] for r in records)
    assert len(list(csv.DictReader(io.StringIO(csv_2025.text)))) == 4

    env = {k: v for k, v in os.environ.items() if not k.startswith("LFR_")}
    env["LFR_DATA_DIR"] = str(data_dir)

    def lfr(*args: str) -> str:
        done = subprocess.run(
            [LFR, *args], capture_output=True, text=True, env=env, timeout=120, check=False
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert figures(json.loads(lfr("stats", "period", "--year", "2025", "--json"))) == RELEASED
    rows = list(csv.DictReader(io.StringIO(lfr("stats", "publication", "--year", "2025"))))
    assert len(rows) == 4
    assert sum(int(r["alerts"]) for r in rows) == 13
    assert sum(int(r["arrests"]) for r in rows) == 6
    assert sum(int(r["compliance_checks"]) for r in rows) == 7

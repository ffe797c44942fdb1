"""The seed operation, recorded entirely over HTTP by the roles that would record it, then read
back as an analyst: the published figures must come out exactly."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from uuid import uuid5

from lfr_ledger.api.demo.seed import (
    AUTHORISING_OFFICER,
    OFFICER,
    OPERATOR,
    SEED_DEPLOYMENTS,
    WATCHLIST_SIZE,
    alert_entry,
)
from lfr_ledger.domain.records import LFR_NAMESPACE
from lfr_ledger.domain.values import OutcomeType
from tests.e2e.conftest import Server
from tests.e2e.flows import (
    adopt_policy,
    auth,
    live_deployment,
    matcher,
    now,
    ok,
    open_operation,
)


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
                ok(
                    client.post(
                        f"/alerts/{alert_id}/engagement",
                        headers=auth(server, OFFICER),
                        json={"engaged": True, "confirmed": "true"},
                    ),
                    200,
                )
                o = alert.outcome
                outcome: dict[str, object] = {"type": o.type.value}
                if o.type == OutcomeType.ARREST:
                    outcome |= {"offences": list(o.offences), "reference": o.reference}
                else:
                    outcome |= {"conditions": list(o.conditions), "result": o.result}
                ok(
                    client.post(
                        f"/alerts/{alert_id}/outcomes", headers=auth(server, OFFICER), json=outcome
                    ),
                    200,
                )
                ok(client.post(f"/alerts/{alert_id}/close", headers=auth(server, OFFICER)), 200)
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
                    json={"findings": "Deployed as authorised; no issues"},
                ),
                200,
            )

        analyst = server.headers("analyst", "ANL-0042")
        summary = ok(client.get(f"/operations/{operation_id}/summary", headers=analyst), 200)
        totals = summary["totals"]
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

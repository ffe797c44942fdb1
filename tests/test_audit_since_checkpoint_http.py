"""GET /audit/verify since the latest signed checkpoint, and with `?full=true` from the first
event (issue 15); oversight only, as before. Both backends."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from lfr_ledger.api.app import create_app
from lfr_ledger.api.auth import issue_token
from lfr_ledger.api.demo.sample_deployment import reviewed
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.eventlog.chain.wiring import resolve_events_table
from lfr_ledger.eventlog.checkpoint import read_checkpoint, sign_if_moved


def _rewrite_state(settings: Settings, notification_id: int) -> None:
    """A tamperer with database access alters one stored event."""
    table = resolve_events_table(settings)
    if settings.uses_postgres:
        import psycopg

        from tests.conftest import PG_URL

        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(
                f'UPDATE "{settings.postgres_schema}"."{table}" SET state = %s '
                "WHERE notification_id = %s",
                (b"{}", notification_id),
            )
        return
    import sqlite3

    db = sqlite3.connect(settings.events_path, isolation_level=None)
    try:
        db.execute(f"UPDATE {table} SET state = ? WHERE rowid = ?", (b"{}", notification_id))
    finally:
        db.close()


def test_verify_since_checkpoint_and_full_over_http(ledger: CaseLedger, settings: Settings) -> None:
    reviewed(ledger, entries=1)
    path = sign_if_moved(settings)
    assert path is not None
    covered = int(read_checkpoint(path)["last_id"])
    reviewed(ledger, entries=1)  # recorded after the checkpoint
    token = issue_token(settings, role="oversight", sub="ICO-1")
    oversight = {"Authorization": f"Bearer {token}"}
    operator = {"Authorization": f"Bearer {issue_token(settings, role='operator', sub='PC1')}"}

    def verify(client: TestClient[Any], query: str = "") -> dict[str, Any]:
        reply = client.get(f"/audit/verify{query}", headers=oversight)
        assert reply.status_code == 200, reply.text
        body: dict[str, Any] = reply.json()
        return body

    with TestClient(app=create_app(settings, ledger=ledger)) as client:
        since = verify(client)
        assert (since["ok"], since["full"], since["since_id"]) == (True, False, covered)
        assert 0 < since["events_checked"] <= since["last_id"] - covered
        assert since["checkpoint"]["previous_id"] is None  # the first checkpoint
        full = verify(client, "?full=true")
        assert (full["ok"], full["full"], full["since_id"]) == (True, True, None)
        assert full["events_checked"] == since["events_checked"] + read_checkpoint(path)["events"]
        for query in ("", "?full=true"):
            refused = client.get(f"/audit/verify{query}", headers=operator)
            assert refused.status_code == 403, query

        _rewrite_state(settings, 1)  # before the checkpoint: it vouches for event 1
        assert verify(client)["ok"] is True
        full = verify(client, "?full=true")
        assert (full["ok"], full["first_bad_id"], full["reason"]) == (False, 1, "altered")


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_checkpoint_whose_head_is_gone_fails_the_default_verify(
    ledger: CaseLedger, settings: Settings
) -> None:
    reviewed(ledger, entries=1)
    path = sign_if_moved(settings)
    assert path is not None
    covered = int(read_checkpoint(path)["last_id"])
    _rewrite_state(settings, covered)
    token = issue_token(settings, role="oversight", sub="ICO-1")
    with TestClient(app=create_app(settings, ledger=ledger)) as client:
        body = client.get("/audit/verify", headers={"Authorization": f"Bearer {token}"}).json()
    assert (body["ok"], body["first_bad_id"], body["since_id"]) == (False, covered, covered)
    assert body["checkpoint"]["extends"] is False

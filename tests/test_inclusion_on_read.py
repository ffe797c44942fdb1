"""Issue 23: every read of an event through the alert timeline, history and subject access
checks the event's link and its inclusion in the latest checkpoint's Merkle tree (events after
it: their chain to the head); a failure answers a clear problem, not the data, and raises the
integrity alarm oversight sees. Real ledger, both backends.

The story: a live deployment, alert a raised, adjudicated and closed, a checkpoint signed over
it; then alert b raised after the checkpoint.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from litestar.testing import TestClient

from lfr_ledger.api.app import create_app
from lfr_ledger.api.auth import issue_token
from lfr_ledger.api.demo.sample_deployment import OPERATOR, OVERSIGHT
from lfr_ledger.api.personal_data import PersonalData
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.alert import AlertTopic
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.records import IntegrityAlarm
from lfr_ledger.domain.values import Decision
from lfr_ledger.eventlog.chain.hashing import GENESIS, chain_hash
from lfr_ledger.eventlog.checkpoint import read_checkpoint, sign_if_moved
from lfr_ledger.eventlog.inclusion import FOUND_BY, IntegrityFailure
from tests.conftest import Clock
from tests.test_invariants import live, send_alert
from tests.test_tamper_kinds import LedgerDB


@dataclass
class Story:
    ledger: CaseLedger
    settings: Settings
    db: LedgerDB
    deployment: UUID
    entry: UUID
    a: UUID
    b: UUID
    a_adjudicated: int
    b_raised: int
    checkpoint_id: int


@pytest.fixture
def story(ledger: CaseLedger, settings: Settings, clock: Clock) -> Iterator[Story]:
    deployment, entries = live(ledger, clock)
    a = send_alert(ledger, deployment, entries[0], clock)
    ledger.adjudicate(OPERATOR, a, Decision.NO_MATCH, "a different person", ("subject",))
    ledger.close_alert(OPERATOR, a)
    path = sign_if_moved(settings)
    assert path is not None
    checkpoint = read_checkpoint(path)
    assert checkpoint["version"] == 3 and checkpoint["tree_size"] == checkpoint["last_id"]
    b = send_alert(ledger, deployment, entries[0], clock)
    db = LedgerDB(settings)
    rows = db.topics()
    adjudicated = next(nid for nid, topic in rows if topic == AlertTopic.ADJUDICATED)
    b_raised = [nid for nid, topic in rows if topic == AlertTopic.RAISED][-1]
    assert adjudicated < checkpoint["last_id"] < b_raised
    try:
        yield Story(
            ledger,
            settings,
            db,
            deployment,
            entries[0],
            a,
            b,
            adjudicated,
            b_raised,
            checkpoint["last_id"],
        )
    finally:
        db.close()


class Http:
    """One app over the story's ledger for the whole test (its shutdown closes the ledger)."""

    def __init__(self, s: Story) -> None:
        self.settings = s.settings
        self.client = TestClient(app=create_app(s.settings, ledger=s.ledger))

    def get(self, path: str, role: str) -> Any:
        token = issue_token(self.settings, role=role, sub=f"{role}-1")
        headers = {"Authorization": f"Bearer {token}", "X-Purpose": "IOPC review 7"}
        return self.client.get(path, headers=headers)


@pytest.fixture
def http(story: Story) -> Iterator[Http]:
    reader = Http(story)
    with reader.client:
        yield reader


def _alarmed(s: Story, nid: int | None, kind: str) -> IntegrityAlarm:
    table = s.db.events.split(".")[-1]
    alarm = s.ledger.integrity_alarm(IntegrityAlarm.id_for(table, nid, kind))
    assert alarm.found_by == FOUND_BY
    return alarm


def _refused(reply: Any, nid: int, kind: str) -> None:
    assert reply.status_code == 409, reply.text
    body = reply.json()
    assert body["type"].endswith(":integrity-failure")
    assert f"notification {nid} fails its integrity check ({kind})" in body["detail"]
    assert "a different person" not in reply.text and "alert" not in body


def _alter(s: Story, nid: int) -> None:
    state = s.db.state(nid)
    forged = state.replace(b'"decision":"no_match"', b'"decision":"match"')
    if forged == state:
        forged = state + b" "
    s.db.run("UPDATE {events} SET state = ? WHERE {id} = ?", (forged, nid))


def _rechain_from(s: Story, nid: int) -> None:
    """The insider's rewrite: every link from `nid` on recomputed, so the chain verifies."""
    rows = s.db.run(
        "SELECT {id}, topic, originator_id, originator_version, state FROM {events} ORDER BY {id}"
    )
    head = GENESIS
    for row_id, topic, originator, version, state in rows:
        head = chain_hash(head, row_id, topic, str(UUID(str(originator))), version, bytes(state))
        if row_id >= nid:
            s.db.run("UPDATE {chain} SET hash = ? WHERE notification_id = ?", (head, row_id))


def test_untouched_reads_pass_their_checks(story: Story, http: Http) -> None:
    assert http.get(f"/alerts/{story.a}", "operator").status_code == 200
    assert http.get(f"/alerts/{story.b}", "operator").status_code == 200
    history = http.get(f"/deployments/{story.deployment}/history", "oversight")
    assert history.status_code == 200, history.text
    reads = PersonalData(story.ledger, OVERSIGHT, settings=story.settings)
    now = datetime.now(UTC)
    found = reads.subject_access(
        "PNC-0000", start=now - timedelta(days=3650), end=now + timedelta(days=1), purpose="SAR"
    )
    assert found.in_alert


def test_an_event_altered_under_the_checkpoint_is_withheld_and_alarmed(
    story: Story, http: Http
) -> None:
    _alter(story, story.a_adjudicated)
    _refused(http.get(f"/alerts/{story.a}", "operator"), story.a_adjudicated, "altered")
    _refused(
        http.get(f"/deployments/{story.deployment}/history", "oversight"),
        story.a_adjudicated,
        "altered",
    )
    _alarmed(story, story.a_adjudicated, "altered")
    listed = http.get("/audit/alarms", "oversight").json()["alarms"]
    assert [(a["notification_id"], a["kind"], a["found_by"]) for a in listed] == [
        (story.a_adjudicated, "altered", FOUND_BY)
    ]
    # b's events are intact: its read still passes.
    assert http.get(f"/alerts/{story.b}", "operator").status_code == 200


def test_a_rewritten_past_is_not_in_the_signed_tree(story: Story, http: Http) -> None:
    """The insider edits a's adjudication and recomputes every link after it: each event
    hashes to its link again, but the link is no longer the leaf the checkpoint's root signs."""
    _alter(story, story.a_adjudicated)
    _rechain_from(story, story.a_adjudicated)
    # The proof of a's first event already fails: its neighbour's leaf changed under it.
    a_raised = story.a_adjudicated - 1
    _refused(http.get(f"/alerts/{story.a}", "operator"), a_raised, "not_included")
    _alarmed(story, a_raised, "not_included")
    # After the checkpoint, b no longer chains from its signed head.
    reply = http.get(f"/alerts/{story.b}", "operator")
    _refused(reply, story.checkpoint_id, "checkpoint_mismatch")


def test_an_event_after_the_checkpoint_is_checked_to_the_head(story: Story, http: Http) -> None:
    assert http.get(f"/alerts/{story.b}", "operator").status_code == 200  # remembered
    _alter(story, story.b_raised)
    _refused(http.get(f"/alerts/{story.b}", "operator"), story.b_raised, "altered")
    assert http.get(f"/alerts/{story.a}", "operator").status_code == 200


def test_subject_access_is_withheld_when_an_entry_event_fails(story: Story) -> None:
    entry_rows = story.db.run(
        "SELECT {id} FROM {events} WHERE originator_id = ? ORDER BY {id}",
        (story.db.originator(story.entry),),
    )
    first = entry_rows[0][0]
    _alter(story, first)
    reads = PersonalData(story.ledger, OVERSIGHT, settings=story.settings)
    now = datetime.now(UTC)
    with pytest.raises(IntegrityFailure) as refused:
        reads.subject_access(
            "PNC-0000",
            start=now - timedelta(days=3650),
            end=now + timedelta(days=1),
            purpose="SAR",
        )
    assert refused.value.notification_id == first and refused.value.reason == "altered"
    _alarmed(story, first, "altered")


def test_a_bundle_of_a_tampered_log_is_refused_and_alarmed(story: Story, http: Http) -> None:
    """A bundle re-hashes the whole log and signs a checkpoint extending the latest (its tree
    too): an altered event under the checkpoint refuses it, and raises the alarm."""
    _alter(story, story.a_adjudicated)
    reply = http.get(f"/oversight/bundles/{story.deployment}", "oversight")
    assert reply.status_code == 409, reply.text
    assert "refusing to sign a broken log" in reply.json()["detail"]
    alarm = _alarmed(story, None, "checkpoint_refused")
    assert f"first bad notification id {story.a_adjudicated}" in alarm.detail

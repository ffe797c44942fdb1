"""Issue 10, defect 5, and issue 23, probe item 7: free text that may identify a person (an
adjudication's reason, an outcome's note, conditions and reference, an offence, an entry's legal
basis and image source, a withdrawal's or a legal hold's reason and proceedings, a watchlist
review's note, a pause's reason, a consultation's stated purpose) is sealed under its record's
key: a byte scan of the stored events finds none of it, the readers that may see it still do,
and erasure erases it. Both backends."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest
from litestar.testing import TestClient

from lfr_ledger.api.app import create_app
from lfr_ledger.api.auth import issue_token
from lfr_ledger.api.bootstrap import build_retention
from lfr_ledger.api.demo.sample_deployment import (
    AO,
    COMPILER,
    OFFICER,
    OPERATOR,
    OVERSIGHT,
    SIGNAGE,
    WINDOW_END,
    WINDOW_START,
    authorised,
    proposed,
    reviewed,
    subject,
)
from lfr_ledger.api.personal_data import PersonalData
from lfr_ledger.api.schemas.event_fields import SEALED
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.alert import Outcome
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.errors import InvalidInput, InvalidTransition, NotPermitted
from lfr_ledger.domain.values import (
    ERASED,
    ComplianceResult,
    Confirmation,
    Decision,
    OutcomeType,
)
from lfr_ledger.eventlog.key_audit import missing_keys
from lfr_ledger.oversight.access_review import access_review
from lfr_ledger.projections.catch_up import catch_up
from tests.conftest import PG_URL, Clock
from tests.test_invariants import live, send_alert
from tests.test_retention import ran_deployment

# One name per field, each typed into the field it names: none may be stored in clear.
MARKERS = {
    "offence": "Zanzibar-Offence-Quillon",
    "withdrawal": "Zanzibar-Withdrawn-Ostrava",
    "adjudication": "Zanzibar-Reason-Marlowe",
    "note": "Zanzibar-Note-Pemberton",
    "hold": "Zanzibar-Hold-Fairweather",
    "release": "Zanzibar-Release-Oyelaran",
    "purpose": "Zanzibar-Purpose-Kowalczyk",
}


def stored_bytes(settings: Settings) -> bytes:
    """Everything the event store holds, as an attacker with the database would read it."""
    if not settings.uses_postgres:
        return b"".join(p.read_bytes() for p in Path(settings.data_dir).glob("events.sqlite*"))
    with psycopg.connect(PG_URL) as conn:
        rows = conn.execute(
            f'SELECT topic, state FROM "{settings.postgres_schema}".lfr_events'
        ).fetchall()
    return b"".join(topic.encode() + bytes(state) for topic, state in rows)


def test_free_text_never_reaches_the_event_store_in_clear(
    ledger: CaseLedger, settings: Settings, clock: Clock
) -> None:
    deployment, entries = live(ledger, clock)
    enrolment = subject(9)
    alert = send_alert(ledger, deployment, entries[0], clock)
    ledger.adjudicate(OPERATOR, alert, Decision.MATCH, MARKERS["adjudication"])
    ledger.record_engagement(OFFICER, alert, engaged=True, confirmed=Confirmation.CONFIRMED)
    ledger.record_outcome(OFFICER, alert, Outcome(OutcomeType.OTHER, note=MARKERS["note"]))
    ledger.place_legal_hold(AO, alert, reason=MARKERS["hold"], proceedings_ref="T1")
    ledger.release_legal_hold(AO, alert, MARKERS["release"])
    ledger.record_consultation(OVERSIGHT, record=f"alert:{alert}", purpose=MARKERS["purpose"])
    other = authorised(ledger)  # not live yet: its entry can be withdrawn
    entry = ledger.enrol(COMPILER, other, replace(enrolment, offence=MARKERS["offence"]))
    ledger.withdraw_entry(COMPILER, entry, MARKERS["withdrawal"])

    stored = stored_bytes(settings)
    assert stored, "the scan must read the store"
    found = [name for name, marker in MARKERS.items() if marker.encode() in stored]
    assert found == [], f"in clear in the event store: {found}"

    # Those who may read them still do.
    assert (
        ledger.reveal_text(entry, "offence", ledger.watchlist_entry(entry).offence)
        == (MARKERS["offence"])
    )
    [read] = [r for r in access_review(ledger).records if r.kind == "consultation"]
    assert read.purpose == MARKERS["purpose"]
    state = ledger.alert(alert)
    notes = ledger.notes_key_id(alert)
    assert ledger.reveal_text(notes, "outcome_note", state.outcomes[0].note) == MARKERS["note"]

    # Erasing the alert's images erases its notes with them.
    ledger.erase_alert_images(alert, rule="test rule")
    assert ledger.reveal_text(notes, "outcome_note", state.outcomes[0].note) == ERASED


# --- issue 23, probe item 7: the free text still in clear ---------------------------------------

# One name per field again, each typed into the field it names.
MORE = {
    "conditions": "Zanzibar-Condition-Abernethy",
    "reference": "Zanzibar-Custody-Braithwaite",
    "proceedings": "Zanzibar-Proceedings-Castellanos",
    "legal_basis": "Zanzibar-Basis-Dimitrov",
    "image_source": "Zanzibar-Source-Eriksen",
    "review_note": "Zanzibar-Review-Fontaine",
    "pause": "Zanzibar-Pause-Gallagher",
}


def in_clear(stored: bytes, *names: str) -> list[str]:
    """Which of the markers `names` `stored` holds, as bytes or as PostgreSQL's hex of bytea."""
    return [
        n for n in names if MORE[n].encode() in stored or MORE[n].encode().hex().encode() in stored
    ]


def database_bytes(settings: Settings) -> bytes:
    """Everything the ledger's database holds: the events, the read models, the vault and the
    idempotency store (every file of the data dir; on PostgreSQL every table of the schema, as
    text, bytea as hex)."""
    files = [p for p in Path(settings.data_dir).rglob("*") if p.is_file()]
    held = b"".join(p.read_bytes() for p in files)
    if not settings.uses_postgres:
        return held
    schema = settings.postgres_schema
    with psycopg.connect(PG_URL) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,)
        ).fetchall()
        for (table,) in tables:
            rows = conn.execute(f'SELECT t::text FROM "{schema}"."{table}" t').fetchall()
            held += "".join(str(r[0]) for r in rows).encode()
    assert tables, "the scan must read the schema"
    return held


def placed_hold(ledger: CaseLedger, alert: UUID) -> Any:
    return next(
        e for e in ledger.repository.event_store.get(alert) if type(e).__name__ == "LegalHoldPlaced"
    )


def checked_alert(ledger: CaseLedger, clock: Clock) -> UUID:
    """An alert on an entry subject to a court order, decided, engaged and checked: the
    compliance check names its conditions and the force's reference."""
    deployment, entries = live(ledger, clock, category="subject_to_court_order")
    alert = send_alert(ledger, deployment, entries[0], clock)
    ledger.adjudicate(OPERATOR, alert, Decision.MATCH, "same face")
    ledger.record_engagement(OFFICER, alert, engaged=True, confirmed=Confirmation.CONFIRMED)
    check = Outcome(
        OutcomeType.COMPLIANCE_CHECK,
        conditions=(MORE["conditions"], "curfew"),
        result=ComplianceResult.COMPLIED,
        reference=MORE["reference"],
    )
    ledger.record_outcome(OFFICER, alert, check)
    return alert


def test_outcome_conditions_reference_and_proceedings_are_sealed_under_the_notes_key(
    ledger: CaseLedger, settings: Settings, clock: Clock
) -> None:
    alert = checked_alert(ledger, clock)
    ledger.place_legal_hold(AO, alert, reason="trial", proceedings_ref=MORE["proceedings"])
    with pytest.raises(InvalidTransition) as kept:
        ledger.erase_alert_images(alert, rule="test rule")

    assert in_clear(stored_bytes(settings), "conditions", "reference", "proceedings") == []
    # The refusal says why without quoting the reference: errors reach logs and reports.
    assert MORE["proceedings"] not in str(kept.value) and "legal hold" in str(kept.value)

    # Who may read them still does.
    [outcome] = ledger.alert(alert).outcomes
    opened = ledger.reveal_outcome(alert, outcome)
    assert opened.conditions == (MORE["conditions"], "curfew")
    assert opened.reference == MORE["reference"]
    notes = ledger.notes_key_id(alert)
    hold = placed_hold(ledger, alert)
    assert ledger.reveal_text(notes, "proceedings_ref", hold.proceedings_ref) == MORE["proceedings"]

    # A correction that changes nothing is still refused, sealed text or not.
    with pytest.raises(InvalidInput, match="must change the outcome"):
        ledger.correct_outcome(OFFICER, alert, 0, opened, "same again")

    # Erasing the alert's notes erases them with the rest.
    ledger.release_legal_hold(AO, alert, "trial over")
    ledger.erase_alert_images(alert, rule="test rule")
    erased = ledger.reveal_outcome(alert, outcome)
    assert erased.conditions == (ERASED, ERASED) and erased.reference == ERASED
    assert ledger.reveal_text(notes, "proceedings_ref", hold.proceedings_ref) == ERASED
    assert missing_keys(ledger) == []


def test_an_entry_legal_basis_and_image_source_are_sealed_under_its_key(
    ledger: CaseLedger, settings: Settings
) -> None:
    deployment = proposed(ledger)
    enrolment = replace(
        subject(3), legal_basis=MORE["legal_basis"], image_source=MORE["image_source"]
    )
    entry = ledger.enrol(COMPILER, deployment, enrolment)

    assert in_clear(stored_bytes(settings), "legal_basis", "image_source") == []
    catch_up(settings)
    assert in_clear(database_bytes(settings), "legal_basis", "image_source") == []

    # Its readers, through the personal-data layer: the entry read and subject access.
    period = {"start": WINDOW_START - timedelta(days=1), "end": WINDOW_END + timedelta(days=1)}

    def read() -> list[tuple[str, str]]:
        opened = PersonalData(ledger, AO).entry(entry, purpose="reviewing the watchlist")
        [found] = (
            PersonalData(ledger, OVERSIGHT)
            .subject_access(enrolment.subject_ref, purpose="SAR 23", **period)
            .entries
        )
        return [
            (opened.legal_basis, opened.image_source),
            (found.legal_basis, found.image_source),
        ]

    assert read() == [(MORE["legal_basis"], MORE["image_source"])] * 2

    ledger.refuse_deployment(AO, deployment, "not necessary")
    ledger.destroy_watchlist(deployment, rule="test rule")
    assert read() == [(ERASED, ERASED)] * 2
    assert missing_keys(ledger) == []


def test_the_watchlist_review_note_and_pause_reasons_go_with_the_watchlist(
    ledger: CaseLedger, settings: Settings, clock: Clock
) -> None:
    deployment = authorised(ledger)
    ledger.enrol(COMPILER, deployment, subject(1))
    ledger.review_watchlist(
        AO, deployment, confirmed_count=1, not_excessive=True, note=MORE["review_note"]
    )
    clock.advance(hours=3)
    ledger.confirm_signage(OPERATOR, deployment, **SIGNAGE)
    ledger.start_deployment(OPERATOR, deployment)
    ledger.pause_deployment(OPERATOR, deployment, MORE["pause"])
    ledger.resume_deployment(OPERATOR, deployment)
    ledger.end_deployment(OPERATOR, deployment)

    assert in_clear(stored_bytes(settings), "review_note", "pause") == []
    catch_up(settings)
    assert in_clear(database_bytes(settings), "review_note", "pause") == []
    notes = ledger.deployment_notes_key_id(deployment)

    def read() -> list[str]:
        events = list(ledger.repository.event_store.get(deployment))
        reviewed = next(e for e in events if type(e).__name__ == "WatchlistReviewed")
        paused = next(e for e in events if type(e).__name__ == "Paused")
        return [
            ledger.reveal_text(notes, "watchlist_review_note", reviewed.note),
            ledger.reveal_text(notes, "pause_reason", paused.reason),
        ]

    assert read() == [MORE["review_note"], MORE["pause"]]
    ledger.destroy_watchlist(deployment, rule="test rule")
    assert read() == [ERASED, ERASED] and not ledger.vault.has_key(notes)
    assert missing_keys(ledger) == [], "the destruction is recorded: no key is missing unrecorded"


def test_a_deployment_notes_key_is_made_only_for_a_note_and_missed_when_gone_unrecorded(
    ledger: CaseLedger,
) -> None:
    deployment, _ = reviewed(ledger, 1)
    notes = ledger.deployment_notes_key_id(deployment)
    assert not ledger.vault.has_key(notes), "a review without a note seals nothing"
    with pytest.raises(NotPermitted):  # an operator does not review the watchlist
        ledger.review_watchlist(
            OPERATOR, deployment, confirmed_count=1, not_excessive=True, note="refused note"
        )
    assert not ledger.vault.has_key(notes), "a refused command leaves no key behind"
    ledger.review_watchlist(AO, deployment, confirmed_count=1, not_excessive=True, note="again")
    assert missing_keys(ledger) == []
    ledger.vault.shred(notes)
    [missing] = missing_keys(ledger)
    assert (missing.key_id, missing.record_id) == (notes, deployment)


def test_the_legal_hold_reply_kept_for_a_retry_holds_no_clear_proceedings_ref(
    ledger: CaseLedger, settings: Settings, clock: Clock
) -> None:
    alert = checked_alert(ledger, clock)
    with TestClient(create_app(settings, ledger=ledger)) as client:
        ao = issue_token(settings, role="authorising_officer", sub=AO.id, rank="superintendent")
        headers = {"Authorization": f"Bearer {ao}", "Idempotency-Key": "hold-23"}
        body = {"reason": "evidence for trial", "proceedings_ref": MORE["proceedings"]}
        placed = client.post(f"/alerts/{alert}/legal-hold", headers=headers, json=body)
        assert placed.status_code == 200, placed.text
        assert placed.json()["under_legal_hold"] and placed.json()["proceedings_ref"] == SEALED
        # A retry gets the first reply, as kept: the same bytes, and no reference in them.
        again = client.post(f"/alerts/{alert}/legal-hold", headers=headers, json=body)
        assert again.headers["idempotency-replayed"] == "true"
        assert again.content == placed.content
        kept = client.app.state["services"].idempotency.kept(AO.id, "hold-23")
        assert kept is not None and kept.body == placed.content
        assert MORE["proceedings"].encode() not in kept.body

        operator = issue_token(settings, role="operator", sub=OPERATOR.id)
        timeline = client.get(f"/alerts/{alert}", headers={"Authorization": f"Bearer {operator}"})
        assert timeline.status_code == 200, timeline.text
        assert in_clear(timeline.content, "conditions", "reference", "proceedings") == []

    catch_up(settings)  # the read models too
    held = database_bytes(settings)
    assert in_clear(held, "conditions", "reference", "proceedings") == []


@pytest.mark.parametrize("scan", [False, True], ids=["index", "scan"])
def test_a_crash_before_the_deployment_notes_key_is_shredded_is_repaired_by_the_next_run(
    ledger: CaseLedger,
    settings: Settings,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    scan: bool,
) -> None:
    scene = ran_deployment(ledger, clock, alerts=0, end=False)
    ledger.pause_deployment(OPERATOR, scene.deployment_id, MORE["pause"])
    ledger.end_deployment(OPERATOR, scene.deployment_id)
    notes = ledger.deployment_notes_key_id(scene.deployment_id)
    retention = build_retention(ledger, settings, scan=scan)
    clock.advance(hours=ledger.policy.watchlist_hours_after_end)
    real_shred = ledger.vault.shred
    monkeypatch.setattr(ledger.vault, "shred", lambda key_id: False)
    assert retention.run().watchlists_destroyed == [scene.deployment_id]
    monkeypatch.setattr(ledger.vault, "shred", real_shred)
    assert ledger.vault.has_key(notes)  # recorded, not yet shredded
    assert notes in retention.run().keys_shredded_late
    assert not ledger.vault.has_key(notes)

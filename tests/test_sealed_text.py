"""Issue 10, defect 5: free text that may identify a person (an adjudication's reason, an
outcome's note, an offence, a withdrawal's or a legal hold's reason, a consultation's stated
purpose) is sealed under its record's key: a byte scan of the stored events finds none of it,
the readers that may see it still do, and erasure erases it. Both backends."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import psycopg

from lfr_ledger.api.demo.sample_deployment import (
    AO,
    COMPILER,
    OFFICER,
    OPERATOR,
    OVERSIGHT,
    authorised,
    subject,
)
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.alert import Outcome
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.values import ERASED, Confirmation, Decision, OutcomeType
from lfr_ledger.oversight.access_review import access_review
from tests.conftest import PG_URL, Clock
from tests.test_invariants import live, send_alert

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

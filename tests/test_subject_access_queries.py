"""Subject access costs a fixed number of queries, however many watchlists the subject is on
(issue 28: a subject on ~440 watchlists of a national year answered in ≤ 1 s): the entries,
their deployments, their alerts and their keys are each read in one query for the whole
request, not one (or several) per entry. Counted as statements sent to every store the request
reads (the event log, the key vault, the subject index), on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bench.statement_count import Statements
from lfr_ledger.api.bootstrap import build_ledger, build_retention, build_subject_index
from lfr_ledger.api.demo.sample_deployment import AO, subject
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.eventlog.keyring import VaultError
from lfr_ledger.oversight.subject_access import subject_access
from lfr_ledger.projections.store import close_stores
from tests.conftest import Clock, opened_ledger
from tests.test_retention import ran_deployment

WHOLE = (datetime(2024, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
FEW, MANY = 3, 12
# Subject 0 is on MANY watchlists, subject 5 on FEW; each is alerted on every one.
ON_MANY, ON_FEW = 0, 5


@pytest.fixture
def counted_ledger(
    statements: Statements, settings: Settings, clock: Clock
) -> Iterator[CaseLedger]:
    with opened_ledger(settings, clock) as app:
        yield app
    close_stores()


def queries(
    statements: Statements, ledger: CaseLedger, settings: Settings, number: int
) -> tuple[int, dict[str, Any]]:
    """The statements one request sends, once the subject index is caught up (a request
    catches it up first: what it applies depends on the log, not on the subject)."""
    index = build_subject_index(settings)
    ref = subject(number).subject_ref
    subject_access(ledger, ref, start=WHOLE[0], end=WHOLE[1], index=index)
    with statements.counting() as sent:
        report = subject_access(ledger, ref, start=WHOLE[0], end=WHOLE[1], index=index)
    scanned = subject_access(ledger, ref, start=WHOLE[0], end=WHOLE[1])
    assert report.to_dict() == scanned.to_dict(), "the index answers as the scan"
    return len(sent), report.to_dict()


def test_the_queries_of_a_subject_access_request_do_not_grow_with_the_subjects_entries(
    statements: Statements, counted_ledger: CaseLedger, settings: Settings, clock: Clock
) -> None:
    ledger = counted_ledger
    scenes = []
    for number in range(FEW + MANY):
        first = ON_FEW if number < FEW else ON_MANY
        scenes.append(ran_deployment(ledger, clock, entries=1, alerts=1, first_subject=first))
        clock.advance(days=1)

    few, few_answer = queries(statements, ledger, settings, ON_FEW)
    many, many_answer = queries(statements, ledger, settings, ON_MANY)
    assert [len(e["alerts"]) for e in few_answer["entries"]] == [1] * FEW
    assert [len(e["alerts"]) for e in many_answer["entries"]] == [1] * MANY
    assert many == few, f"{FEW} entries: {few} statements; {MANY} entries: {many}"

    # Destroyed watchlists (each with the rule it was destroyed under), erased images and a
    # legal hold: the same count again.
    ledger.place_legal_hold(AO, scenes[-1].alert_ids[0], reason="trial", proceedings_ref="T/3")
    ended = scenes[-1].ended_at
    assert ended is not None
    clock.now = ended + timedelta(days=40)
    build_retention(ledger, settings).run()
    few_after, few_answer = queries(statements, ledger, settings, ON_FEW)
    many_after, many_answer = queries(statements, ledger, settings, ON_MANY)
    assert {e["status"] for e in many_answer["entries"]} == {"destroyed"}
    assert all(e["destruction_rule"] for e in few_answer["entries"] + many_answer["entries"])
    assert [a["legal_hold"] for e in many_answer["entries"] for a in e["alerts"]].count(True) == 1
    assert many_after == few_after, f"{FEW}: {few_after} statements; {MANY}: {many_after}"


def test_a_node_that_never_loaded_the_records_and_one_behind_another_answer_as_the_scan(
    ledger: CaseLedger, settings: Settings, clock: Clock
) -> None:
    """The records read in one query are replayed where this node holds none of them, and
    brought forward where it holds them but another node wrote since."""
    scenes = [ran_deployment(ledger, clock, entries=2, alerts=2, seed=s) for s in (1, 2, 3)]
    ref = subject(0).subject_ref
    other = build_ledger(settings, clock=clock)
    try:
        for node in (other, ledger):
            index = build_subject_index(settings)
            found = subject_access(node, ref, start=WHOLE[0], end=WHOLE[1], index=index)
            assert len(found.entries) == 3
            assert (
                found.to_dict() == subject_access(node, ref, start=WHOLE[0], end=WHOLE[1]).to_dict()
            )
        # The other node holds, destroys and erases; this one still holds what it loaded.
        other.place_legal_hold(AO, scenes[0].alert_ids[1], reason="trial", proceedings_ref="T/4")
        ended = scenes[-1].ended_at
        assert ended is not None
        clock.now = ended + timedelta(days=40)
        build_retention(other, settings).run()
        index = build_subject_index(settings)
        here = subject_access(ledger, ref, start=WHOLE[0], end=WHOLE[1], index=index).to_dict()
        there = subject_access(other, ref, start=WHOLE[0], end=WHOLE[1], index=index).to_dict()
        assert here == there == subject_access(other, ref, start=WHOLE[0], end=WHOLE[1]).to_dict()
        assert {e["status"] for e in here["entries"]} == {"destroyed"}
        assert [a["legal_hold"] for e in here["entries"] for a in e["alerts"]].count(True) == 1
    finally:
        other.close()
        close = getattr(other.vault, "close", None)
        if close:
            close()


def test_a_keyring_opens_what_it_read_and_refuses_a_key_it_was_not_asked_for(
    ledger: CaseLedger, clock: Clock
) -> None:
    scene = ran_deployment(ledger, clock, entries=2, alerts=1)
    kept, other = scene.entry_ids
    entry = ledger.watchlist_entries([kept])[kept]
    keys = ledger.vault.keyring([kept, scene.alert_ids[0]])
    assert ledger.reveal_loaded_entry(entry, keys=keys) == ledger.reveal_entry(kept)
    assert keys.has_key(scene.alert_ids[0])
    with pytest.raises(VaultError, match="not read into this keyring"):
        keys.has_key(other)
    ledger.vault.shred(kept)
    gone = ledger.vault.keyring([kept])
    assert not gone.has_key(kept)
    assert ledger.reveal_loaded_entry(entry, keys=gone).erased

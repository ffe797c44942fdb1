"""Reads checked at the write (issue 28, `domain/read_check.py`): a command decides on what its
node remembers, and the store refuses the write when another node changed what it read. Two
ledgers over the same SQLite file or PostgreSQL schema stand for two nodes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest

from lfr_ledger.api.bootstrap import build_ledger
from lfr_ledger.api.demo.sample_deployment import OPERATOR, matcher_for
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.alert import AlertClaim, AlertTopic
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.errors import ConcurrentWrite, InvalidTransition
from lfr_ledger.domain.read_check import StaleRead
from lfr_ledger.domain.values import Decision
from lfr_ledger.eventlog.tombstones import TombstoneJournal
from tests.conftest import Clock
from tests.test_invariants import live, send_alert


@pytest.fixture
def other_node(settings: Settings, clock: Clock) -> Iterator[CaseLedger]:
    node = build_ledger(settings, clock=clock)
    try:
        yield node
    finally:
        node.close()


def stored_topics(ledger: CaseLedger, aggregate_id: UUID) -> list[str]:
    return [type(e).__name__ for e in ledger.repository.event_store.get(aggregate_id)]


def alerts_of(ledger: CaseLedger) -> list[Any]:
    return list(ledger._scan([AlertTopic.RAISED]))


def test_the_store_checks_reads_on_both_backends(ledger: CaseLedger) -> None:
    assert ledger.checks_reads


def test_no_alert_after_another_node_ended_the_deployment(
    ledger: CaseLedger, other_node: CaseLedger, clock: Clock
) -> None:
    """Node A remembers the deployment live (it raised an alert on it); node B ends it; A's
    next alert is refused, as it would be on one node, and nothing is written."""
    deployment, entries = live(ledger, clock)
    first = send_alert(ledger, deployment, entries[0], clock)
    ledger.adjudicate(OPERATOR, first, Decision.MATCH, "same face")
    assert ledger.deployment(deployment).is_live
    other_node.end_deployment(OPERATOR, deployment)
    raised_before = len(alerts_of(ledger))
    with pytest.raises(InvalidTransition, match="alerts are raised only while it is live"):
        send_alert(ledger, deployment, entries[1], clock)
    assert len(alerts_of(ledger)) == raised_before


def test_two_nodes_adjudicating_one_alert_one_wins(
    ledger: CaseLedger, other_node: CaseLedger, clock: Clock
) -> None:
    """Both nodes remember the alert undecided; A decides first; B is refused as an operator
    who read the alert after A's decision is (the alert was already adjudicated)."""
    deployment, entries = live(ledger, clock)
    alert = send_alert(ledger, deployment, entries[0], clock)
    assert other_node.alert(alert).decision is None
    ledger.adjudicate(OPERATOR, alert, Decision.MATCH, "same face")
    with pytest.raises(InvalidTransition, match="already adjudicated"):
        other_node.adjudicate(OPERATOR, alert, Decision.INCONCLUSIVE, "another face")
    assert stored_topics(ledger, alert) == ["Raised", "Adjudicated"]
    assert ledger.alert(alert).decision == Decision.MATCH


def test_two_nodes_adjudicating_one_alert_at_once(
    ledger: CaseLedger, other_node: CaseLedger, clock: Clock
) -> None:
    """At the same moment: exactly one decision is recorded; the other operator is refused
    with a conflict or, read again, with the decision already made."""
    deployment, entries = live(ledger, clock)
    alert = send_alert(ledger, deployment, entries[0], clock)
    other_node.alert(alert)
    barrier = threading.Barrier(2)
    results: list[str] = []

    def decide(node: CaseLedger, decision: Decision) -> None:
        barrier.wait()
        try:
            node.adjudicate(OPERATOR, alert, decision, "seen")
            results.append("ok")
        except (ConcurrentWrite, InvalidTransition) as refused:
            results.append(type(refused).__name__)

    threads = [
        threading.Thread(target=decide, args=(ledger, Decision.MATCH)),
        threading.Thread(target=decide, args=(other_node, Decision.INCONCLUSIVE)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 2 and results.count("ok") == 1, results
    assert stored_topics(ledger, alert) == ["Raised", "Adjudicated"]


def test_a_refusal_on_remembered_state_is_asked_of_the_store(
    ledger: CaseLedger, other_node: CaseLedger, clock: Clock
) -> None:
    """Node A remembers the deployment paused; node B resumed it: A's alert is raised, not
    refused on what A remembered (a matcher's alert must not be lost to a stale cache)."""
    deployment, entries = live(ledger, clock)
    ledger.pause_deployment(OPERATOR, deployment, "van moved")
    assert other_node.deployment(deployment).status.value == "paused"
    other_node.resume_deployment(OPERATOR, deployment)
    alert = send_alert(ledger, deployment, entries[0], clock)
    assert stored_topics(ledger, alert) == ["Raised"]


def test_a_command_run_again_keeps_its_alert_key(
    ledger: CaseLedger, other_node: CaseLedger, clock: Clock, settings: Settings
) -> None:
    """Node B changed the deployment (paused and resumed it) after node A remembered it: A's
    first run is rolled back and runs again. The face crop's key, made again under the
    alert's id, must not be named by a tombstone (a restore would destroy it again)."""
    deployment, entries = live(ledger, clock)
    send_alert(ledger, deployment, entries[0], clock)
    other_node.pause_deployment(OPERATOR, deployment, "van moved")
    other_node.resume_deployment(OPERATOR, deployment)
    crop = b"\xff\xd8face\xff\xd9"
    claim = AlertClaim(
        deployment,
        camera_id="cam-1",
        entry_id=entries[1],
        similarity=0.9,
        captured_at=clock.now,
        face_crop=crop,
    )
    stale: list[StaleRead] = []
    insert = ledger.recorder.insert_events

    def noting_stale(*args: Any, **kwargs: Any) -> Any:
        try:
            return insert(*args, **kwargs)
        except StaleRead as error:
            stale.append(error)
            raise

    ledger.recorder.insert_events = noting_stale  # type: ignore[method-assign]
    alert = ledger.raise_alert(matcher_for(deployment), claim)
    assert len(stale) == 1, "the first run should have been refused as stale"
    assert ledger.reveal_face_crop(alert) == crop
    assert alert not in TombstoneJournal(settings.tombstones_path).key_ids()


def test_an_adjudication_reads_nothing_it_remembers(ledger: CaseLedger, clock: Clock) -> None:
    """The point of it: after a raise, the adjudication on the same node asks the store for
    no aggregate's events (the alert, its deployment, the operator's training)."""
    deployment, entries = live(ledger, clock)
    alert = send_alert(ledger, deployment, entries[0], clock)
    ledger.adjudicate(OPERATOR, alert, Decision.MATCH, "warm the training record")
    second = send_alert(ledger, deployment, entries[1], clock)
    reads: list[UUID] = []
    select = ledger.recorder.select_events

    def noting(originator_id: UUID, **kwargs: Any) -> Any:
        reads.append(originator_id)
        return select(originator_id, **kwargs)

    ledger.recorder.select_events = noting  # type: ignore[method-assign]
    ledger.adjudicate(OPERATOR, second, Decision.INCONCLUSIVE, "another face")
    assert reads == []


def test_a_deployment_ended_between_the_read_and_the_write_refuses_the_alert(
    ledger: CaseLedger, other_node: CaseLedger, clock: Clock
) -> None:
    """Node A does not remember the deployment (no cache): its raise reads it from the store,
    live. Node B ends it after that read and before A's write: the check at the write refuses
    the alert (catching up before deciding, as before issue 28, accepted it: the window between
    reading and writing)."""
    deployment, entries = live(ledger, clock)
    insert = ledger.recorder.insert_events
    ended = False

    def end_first(*args: Any, **kwargs: Any) -> Any:
        nonlocal ended
        if not ended:
            ended = True
            other_node.end_deployment(OPERATOR, deployment)
        return insert(*args, **kwargs)

    ledger.repository.cache = None
    ledger.recorder.insert_events = end_first  # type: ignore[method-assign]
    with pytest.raises(InvalidTransition, match="alerts are raised only while it is live"):
        send_alert(ledger, deployment, entries[0], clock)
    assert ended
    assert alerts_of(ledger) == []

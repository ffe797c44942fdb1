"""A matcher's resend of an alert that arrives while the first send is still being recorded
(on another API node, or on another thread of the same node) gets what any resend gets: the
same alert id, one alert recorded, its face crop sealed under the one key the alert names, and
no tombstone naming that key. The crop's key is made under the alert's own id, so before the fix
the second send found the key of the first and failed (`VaultError` from `create_key`, or a
refusal saying the id was another record's key) instead of answering as a resend."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any
from uuid import UUID, uuid4

import pytest

from lfr_ledger.api.bootstrap import build_ledger
from lfr_ledger.api.demo.sample_deployment import matcher_for
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.alert import AlertClaim, AlertTopic
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.errors import ConcurrentWrite
from lfr_ledger.eventlog.tombstones import TombstoneJournal
from tests.conftest import Clock
from tests.test_invariants import live, send_alert

CROP = b"\xff\xd8face\xff\xd9"
ROUNDS = 20
# A bound on every wait of the interleaving, never reached when the code under test answers.
HOLD = 10.0


@pytest.fixture(params=["two nodes", "one node"])
def second_node(
    request: pytest.FixtureRequest, ledger: CaseLedger, settings: Settings, clock: Clock
) -> Iterator[CaseLedger]:
    """Where the resend lands: another ledger on the same store, or the same ledger."""
    if request.param == "one node":
        yield ledger
        return
    node = build_ledger(settings, clock=clock)
    try:
        yield node
    finally:
        node.close()


def claim_for(deployment: UUID, entry: UUID, clock: Clock) -> AlertClaim:
    return AlertClaim(
        deployment,
        camera_id="cam-1",
        entry_id=entry,
        similarity=0.9,
        captured_at=clock.now,
        alert_id=uuid4(),
        face_crop=CROP,
    )


def send_twice(
    first: CaseLedger, second: CaseLedger, claim: AlertClaim, deployment: UUID
) -> list[object]:
    """The same claim sent from two threads released together; each answer or error."""
    barrier = threading.Barrier(2)
    answers: list[object] = [None, None]

    def send(index: int, node: CaseLedger) -> None:
        barrier.wait()
        try:
            answers[index] = node.raise_alert(matcher_for(deployment), claim)
        except Exception as error:  # the answer under test: any error is a failure
            answers[index] = error

    threads = [
        threading.Thread(target=send, args=(0, first), name="first"),
        threading.Thread(target=send, args=(1, second), name="second"),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=3 * HOLD)
        assert not thread.is_alive(), "a send never returned"
    return answers


def assert_recorded_once(
    ledger: CaseLedger, settings: Settings, claim: AlertClaim, answers: list[object]
) -> None:
    assert answers == [claim.alert_id, claim.alert_id], answers
    raised = [n for n in ledger._scan([AlertTopic.RAISED]) if n.originator_id == claim.alert_id]
    assert len(raised) == 1
    assert ledger.reveal_face_crop(claim.alert_id) == CROP
    assert claim.alert_id not in TombstoneJournal(settings.tombstones_path).key_ids()


def hold(
    target: Any, name: str, thread: str, before: Callable[[], None], after: Callable[[], None]
) -> None:
    """Wraps the real `target.name` so that, on the thread named `thread` only, `before` runs
    ahead of it and `after` once it returned: the hook that fixes one interleaving."""
    real = getattr(target, name)

    def held(*args: Any, **kwargs: Any) -> Any:
        if threading.current_thread().name != thread:
            return real(*args, **kwargs)
        before()
        try:
            return real(*args, **kwargs)
        finally:
            after()

    setattr(target, name, held)


def test_a_resend_while_the_first_is_being_written(
    ledger: CaseLedger, second_node: CaseLedger, settings: Settings, clock: Clock
) -> None:
    """The first send made the crop's key and is inside its write when the second looks at
    the vault: the second finds the key of an alert not yet recorded."""
    deployment, entries = live(ledger, clock)
    claim = claim_for(deployment, entries[0], clock)
    second_looked = threading.Event()
    # The first's write waits until the second has seen the first's key.
    hold(ledger.recorder, "insert_events", "first", lambda: second_looked.wait(HOLD), lambda: None)
    hold(second_node.vault, "has_key", "second", lambda: None, second_looked.set)
    second_started = threading.Event()
    hold(
        second_node,
        "_exists",
        "second",
        lambda: second_started.wait(HOLD),
        lambda: None,
    )
    # The second starts once the first has made the key (its vault write precedes its event's).
    hold(ledger.vault, "seal", "first", lambda: None, second_started.set)
    assert_recorded_once(
        ledger, settings, claim, send_twice(ledger, second_node, claim, deployment)
    )


def test_a_resend_between_the_vault_look_and_the_key(
    ledger: CaseLedger, second_node: CaseLedger, settings: Settings, clock: Clock
) -> None:
    """The second send saw no key, then the first was recorded whole before the second made
    its key: the second finds the key of an alert now recorded."""
    deployment, entries = live(ledger, clock)
    claim = claim_for(deployment, entries[0], clock)
    second_looked, first_done = threading.Event(), threading.Event()

    def looked_then_wait() -> None:
        second_looked.set()
        first_done.wait(HOLD)

    # The first starts once the second found no key; the second goes on once the first wrote.
    hold(ledger, "_exists", "first", lambda: second_looked.wait(HOLD), lambda: None)
    hold(second_node.vault, "has_key", "second", lambda: None, looked_then_wait)
    hold(ledger.recorder, "insert_events", "first", lambda: None, first_done.set)
    assert_recorded_once(
        ledger, settings, claim, send_twice(ledger, second_node, claim, deployment)
    )


def test_resends_at_the_same_moment(
    ledger: CaseLedger, second_node: CaseLedger, settings: Settings, clock: Clock
) -> None:
    """No interleaving forced: the same claim sent twice at once, `ROUNDS` times."""
    deployment, entries = live(ledger, clock)
    for _ in range(ROUNDS):
        claim = claim_for(deployment, entries[0], clock)
        answers = send_twice(ledger, second_node, claim, deployment)
        assert_recorded_once(ledger, settings, claim, answers)


def test_an_alert_id_that_is_another_records_key_is_still_refused(
    ledger: CaseLedger, clock: Clock
) -> None:
    """A key with no record under its id stays another record's once the wait for a first
    send is over: the alert is refused, nothing is written, and that key is left alone."""
    deployment, entries = live(ledger, clock)
    notes_key = ledger.notes_key_id(send_alert(ledger, deployment, entries[0], clock))
    ledger.resend_wait = 0.2
    claim = replace(claim_for(deployment, entries[1], clock), alert_id=notes_key)
    with pytest.raises(ConcurrentWrite, match="no alert was recorded under it"):
        ledger.raise_alert(matcher_for(deployment), claim)
    assert not ledger._exists(notes_key)
    assert ledger.vault.has_key(notes_key)

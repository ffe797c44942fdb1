"""Issue 28: the copy a command takes of a cached aggregate (`domain/repository.py`) shares the
attributes that hold immutable values (ids, times, strings, numbers) and deep-copies everything
else, so changing the copy never changes the cached aggregate."""

from __future__ import annotations

from copy import deepcopy

from lfr_ledger.api.demo.sample_deployment import OPERATOR
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.repository import copy_aggregate
from lfr_ledger.domain.values import Decision
from tests.conftest import Clock
from tests.test_invariants import live, send_alert


def test_a_copy_shares_immutable_values_and_nothing_changeable(
    ledger: CaseLedger, clock: Clock
) -> None:
    deployment_id, _ = live(ledger, clock)
    deployment = ledger.deployment(deployment_id, to_change=False)
    copied = copy_aggregate(deployment)
    assert type(copied) is type(deployment) and vars(copied) == vars(deepcopy(deployment))
    for name, value in vars(deployment).items():
        mine = vars(copied)[name]
        if isinstance(value, list | dict | set):
            assert mine is not value, name
    assert copied.id is deployment.id and copied.plan.purpose is deployment.plan.purpose
    assert vars(copied)["_created_on"] is vars(deployment)["_created_on"]  # a datetime, shared


def test_changing_a_commands_copy_leaves_the_cached_aggregate_as_it_was(
    ledger: CaseLedger, clock: Clock
) -> None:
    deployment, entries = live(ledger, clock)
    alert_id = send_alert(ledger, deployment, entries[0], clock)
    cached = ledger.alert(alert_id, to_change=False)
    before = deepcopy(vars(cached))
    mine = ledger.alert(alert_id)
    assert mine is not cached
    mine.adjudicate(decision=Decision.MATCH, reason="seen", actor=OPERATOR, occurred_at=clock.now)
    mine.false_alert_factors += ("x",)
    assert vars(cached) == before and cached.decision is None
    assert ledger.alert(alert_id, to_change=False) is cached  # nothing was saved

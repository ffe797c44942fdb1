"""The inclusion check of a read costs a fixed number of queries, however spread the events it
checks lie over the log (issue 28: a subject on ~440 watchlists of a national log has records
in thousands of Merkle blocks and runs of ids): the links with their predecessors', the events'
digests and the blocks' leaves are each read in one query for the whole read, not one (or
two) per run of nearby ids and one per block. Counted as statements sent to every store a
subject-access request through the query layer reads, on both backends.

Blocks of 8 leaves (not 1,024) so that a small log spreads a subject over many blocks.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

import pytest

from bench.statement_count import Statements
from lfr_ledger.api.bootstrap import build_subject_index
from lfr_ledger.api.demo.sample_deployment import OVERSIGHT, subject
from lfr_ledger.api.personal_data import PersonalData
from lfr_ledger.api.personal_data.integrity import checker_for
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.eventlog import merkle, tree
from lfr_ledger.eventlog.checkpoint import sign_if_moved
from lfr_ledger.projections.store import close_stores
from tests.conftest import Clock, opened_ledger
from tests.test_retention import ran_deployment

WHOLE = (datetime(2024, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
FEW, MANY = 2, 8
ON_MANY, ON_FEW, UNRELATED = 0, 5, 7
SMALL_BLOCK = 8
# Ids this close were read in one query (with those between) before issue 28.
RUN_GAP = 16


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(merkle, "BLOCK", SMALL_BLOCK)
    monkeypatch.setattr(tree, "BLOCK", SMALL_BLOCK)


@pytest.fixture
def counted_ledger(
    statements: Statements, small_blocks: None, settings: Settings, clock: Clock
) -> Iterator[CaseLedger]:
    with opened_ledger(settings, clock) as app:
        yield app
    close_stores()


def runs(ids: list[int]) -> int:
    """How many groups of ids lying at most RUN_GAP apart."""
    return len(ids[:1]) + sum(1 for a, b in pairwise(ids) if b - a > RUN_GAP)


def request(
    statements: Statements, ledger: CaseLedger, settings: Settings, number: int
) -> tuple[int, list[int]]:
    """The statements a subject-access request through the query layer sends, the second time
    (the first catches the subject index up and verifies the chain past the checkpoint: what
    they read depends on the log, not on the subject); and the ids its check read."""
    reads = PersonalData(ledger, OVERSIGHT, settings=settings)
    ref = subject(number).subject_ref
    index = build_subject_index(settings)

    def ask() -> Any:
        return reads.subject_access(ref, start=WHOLE[0], end=WHOLE[1], purpose="SAR", index=index)

    ask()
    with statements.counting() as sent:
        report = ask()
    read = [e.entry_id for e in report.entries] + [
        a.alert_id for e in report.entries for a in e.alerts
    ]
    checker = checker_for(ledger, settings)
    assert checker is not None
    return len(sent), checker.reader.ids_of(read)


def test_the_inclusion_check_of_a_subject_access_request_does_not_grow_with_the_spread(
    statements: Statements, counted_ledger: CaseLedger, settings: Settings, clock: Clock
) -> None:
    ledger = counted_ledger
    for number in range(MANY):
        if number < FEW:
            ran_deployment(ledger, clock, entries=1, alerts=1, first_subject=ON_FEW)
        ran_deployment(ledger, clock, entries=1, alerts=1, first_subject=ON_MANY)
        # Unrelated records between the subject's: its ids lie far more than RUN_GAP apart.
        ran_deployment(ledger, clock, entries=2, alerts=2, first_subject=UNRELATED)
        clock.advance(days=1)
    assert sign_if_moved(settings) is not None
    # Records after the checkpoint too: checked by their chain to the head.
    ran_deployment(ledger, clock, entries=1, alerts=1, first_subject=ON_FEW)
    ran_deployment(ledger, clock, entries=1, alerts=1, first_subject=ON_MANY)

    few, few_ids = request(statements, ledger, settings, ON_FEW)
    many, many_ids = request(statements, ledger, settings, ON_MANY)
    checker = checker_for(ledger, settings)
    assert checker is not None and checker._tree is not None
    stored = checker._tree[1]
    few_runs, many_runs = runs(few_ids), runs(many_ids)
    few_blocks, many_blocks = ({stored.block_of(i) for i in ids} for ids in (few_ids, many_ids))
    spread = (few_runs, len(few_blocks), many_runs, len(many_blocks))
    assert many_runs >= few_runs + MANY - FEW and len(many_blocks) > len(few_blocks), spread
    assert many == few, f"{few_runs} runs: {few} statements; {many_runs} runs: {many}"

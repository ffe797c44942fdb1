"""The inclusion check holds no database connection while it proves a block: a proof may read
another block (the tree's tail, which every block's path can cross) through the same pool, and a
chain reader of its own has a pool of one connection (`open_chain_reader`, as `bench/inclusion.py`
and the audit tools read). Found by the inclusion bench at 130,000 events on PostgreSQL, where
the check of one event waited for its own connection until the pool gave up (issue 28)."""

from __future__ import annotations

from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.eventlog.chain.wiring import open_chain_reader, resolve_events_table
from lfr_ledger.eventlog.checkpoint import sign_if_moved
from lfr_ledger.eventlog.inclusion import InclusionChecker, kept_checkpoints_source
from tests.conftest import Clock
from tests.test_inclusion_queries import SMALL_BLOCK, small_blocks  # noqa: F401
from tests.test_retention import ran_deployment


def test_events_in_many_blocks_are_proven_through_a_pool_of_one(
    small_blocks: None,  # noqa: F811
    ledger: CaseLedger,
    settings: Settings,
    clock: Clock,
) -> None:
    for _ in range(4):
        ran_deployment(ledger, clock, entries=2, alerts=2)
        clock.advance(days=1)
    assert sign_if_moved(settings) is not None
    table = resolve_events_table(settings)
    assert table is not None
    with open_chain_reader(settings, table) as reader:
        checker = InclusionChecker(reader, kept_checkpoints_source(settings))
        last = reader.bounds()
        assert last % SMALL_BLOCK, "the tree has a tail block, which the proofs read alone"
        ids = list(range(1, last + 1, 3))  # events in every block
        report = checker.check(ids)
    assert (report.events, report.in_checkpoint) == (len(ids), len(ids))

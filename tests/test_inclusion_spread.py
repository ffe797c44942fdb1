"""Issue 28: the inclusion check of a read whose events lie spread over the log (a subject on
many watchlists, unrelated records between), read in a fixed number of queries, finds and
names each tampering as the check of one run of nearby ids at a time did: an edited event, an
insider's rewrite under the checkpoint, a link deleted (the event's own, or its
predecessor's), an edited event after the checkpoint, a checkpoint moved on, and one edited in
its file. Blocks of 8 leaves, so that the subject's events lie in many Merkle blocks.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from uuid import UUID

import pytest

from lfr_ledger.api.personal_data.integrity import check_read, checker_for
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.eventlog.checkpoint import read_checkpoint, sign_if_moved
from lfr_ledger.eventlog.inclusion import IntegrityFailure
from lfr_ledger.eventlog.tree import StoredTree
from tests.conftest import Clock
from tests.test_inclusion_on_read import _rechain_from
from tests.test_inclusion_queries import small_blocks  # noqa: F401
from tests.test_retention import Scene, ran_deployment
from tests.test_tamper_kinds import LedgerDB

SPREAD = 6


@dataclass
class Spread:
    ledger: CaseLedger
    settings: Settings
    db: LedgerDB
    records: list[UUID]  # the subject's entries and alerts
    before: list[int]  # their events' ids under the checkpoint
    after: list[int]  # and after it
    last_id: int
    tree_size: int

    def check(self) -> tuple[int | None, str] | None:
        try:
            check_read(self.ledger, self.settings, originator_ids=self.records)
        except IntegrityFailure as failure:
            return failure.notification_id, failure.reason
        return None

    def block_of(self, nid: int) -> int:
        checker = checker_for(self.ledger, self.settings)
        assert checker is not None
        return StoredTree(checker.reader, self.tree_size).block_of(nid)

    def alter(self, nid: int) -> None:
        state = self.db.state(nid)
        self.db.run("UPDATE {events} SET state = ? WHERE {id} = ?", (state + b" ", nid))


def _records(scene: Scene) -> list[UUID]:
    return [*scene.entry_ids, *scene.alert_ids]


@pytest.fixture
def spread(
    small_blocks: None,  # noqa: F811
    ledger: CaseLedger,
    settings: Settings,
    clock: Clock,
) -> Iterator[Spread]:
    records: list[UUID] = []
    for _ in range(SPREAD):
        records += _records(ran_deployment(ledger, clock, entries=1, alerts=1))
        ran_deployment(ledger, clock, entries=2, alerts=2, first_subject=7)
        clock.advance(days=1)
    path = sign_if_moved(settings)
    assert path is not None
    checkpoint = read_checkpoint(path)
    records += _records(ran_deployment(ledger, clock, entries=1, alerts=1))
    ran_deployment(ledger, clock, entries=1, alerts=1, first_subject=7)
    checker = checker_for(ledger, settings)
    assert checker is not None
    ids = checker.reader.ids_of(records)
    last_id = int(checkpoint["last_id"])
    db = LedgerDB(settings)
    try:
        found = Spread(
            ledger,
            settings,
            db,
            records,
            [i for i in ids if i <= last_id],
            [i for i in ids if i > last_id],
            last_id,
            int(checkpoint["tree_size"]),
        )
        assert len({found.block_of(i) for i in found.before}) >= SPREAD
        yield found
    finally:
        db.close()


def test_an_untouched_spread_read_passes(spread: Spread) -> None:
    assert spread.check() is None
    report = check_read(spread.ledger, spread.settings, originator_ids=spread.records)
    assert report is not None
    assert (report.in_checkpoint, report.since_checkpoint) == (
        len(spread.before),
        len(spread.after),
    )


def test_an_edited_event_is_named(spread: Spread) -> None:
    edited = spread.before[len(spread.before) // 2]
    spread.alter(edited)
    assert spread.check() == (edited, "altered")


def test_a_rewritten_past_is_not_in_the_signed_tree(spread: Spread) -> None:
    """The insider's rewrite recomputes every link from the edited event to the head: each
    event hashes to its link again, but the tail of the tree (read from the links by every
    proof's path) no longer gives the signed root, so the first event checked fails."""
    edited = spread.before[len(spread.before) // 2]
    spread.alter(edited)
    _rechain_from(spread, edited)  # type: ignore[arg-type]
    assert spread.check() == (spread.before[0], "not_included")


def test_a_deleted_link_under_the_checkpoint_is_named(spread: Spread) -> None:
    blocks = [spread.block_of(i) for i in spread.before]
    # The subject's first event in a block of its own past the first: none before it shares it.
    gone = next(i for n, i in enumerate(spread.before) if n and blocks[n] != blocks[n - 1])
    spread.db.run("DELETE FROM {chain} WHERE notification_id = ?", (gone,))
    assert spread.check() == (gone, "deleted")


def test_a_deleted_link_before_one_of_its_events_shares_its_block_names_the_first(
    spread: Spread,
) -> None:
    """Its block then holds a leaf too few: the proof cannot be made, reported (as ever) on
    the first event checked against the tree."""
    blocks = [spread.block_of(i) for i in spread.before]
    gone = next(i for n, i in enumerate(spread.before) if n and blocks[n] == blocks[n - 1])
    spread.db.run("DELETE FROM {chain} WHERE notification_id = ?", (gone,))
    assert spread.check() == (spread.before[0], "not_included")


def test_an_edited_event_after_the_checkpoint_is_named(spread: Spread) -> None:
    assert spread.check() is None  # the chain past the checkpoint found intact, remembered
    edited = spread.after[len(spread.after) // 2]
    spread.alter(edited)
    assert spread.check() == (edited, "altered")


def test_a_predecessor_link_gone_after_the_checkpoint_is_named(spread: Spread) -> None:
    assert spread.check() is None
    later = next(i for i in reversed(spread.after) if i - 1 not in spread.after)
    spread.db.run("DELETE FROM {chain} WHERE notification_id = ?", (later - 1,))
    assert spread.check() == (later, "chain_missing")


def test_a_moved_checkpoint_holds_the_read_to_its_tree(spread: Spread, clock: Clock) -> None:
    assert spread.check() is None
    ran_deployment(spread.ledger, clock, entries=1, alerts=1, first_subject=7)
    path = sign_if_moved(spread.settings)
    assert path is not None
    moved = read_checkpoint(path)
    # Under the moved checkpoint now: a rewrite of them is no longer a chain from its head
    # but a tree that does not give its root.
    edited = spread.after[0]
    spread.alter(edited)
    _rechain_from(spread, edited)  # type: ignore[arg-type]
    assert spread.check() == (spread.before[0], "not_included")
    checker = checker_for(spread.ledger, spread.settings)
    assert checker is not None and checker._tree is not None
    assert checker._tree[1].size == int(moved["tree_size"])


def test_a_checkpoint_edited_in_its_file_refuses_the_read(spread: Spread) -> None:
    assert spread.check() is None
    path = sorted((spread.settings.data_dir / "checkpoints").glob("checkpoint-*.json"))[-1]
    checkpoint = json.loads(path.read_text())
    checkpoint["last_id"] = int(checkpoint["last_id"]) - 1
    # Replaced, as an insider would, so the folder's listing changes (what the source watches).
    edited = path.with_suffix(".edit")
    edited.write_text(json.dumps(checkpoint))
    os.replace(edited, path)
    assert spread.check() == (None, "checkpoint_refused")

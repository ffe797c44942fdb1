"""Verification: recompute the chain and name the first event that was altered, deleted,
inserted or reordered."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from itertools import product
from typing import Any, NamedTuple

from lfr_ledger.eventlog.chain.hashing import (
    DEFAULT_BATCH,
    GENESIS,
    MIN_ID,
    REORDER_WINDOW,
    link_hash,
)
from lfr_ledger.eventlog.chain.readers import ChainReader, DigestRow, LinkRow
from lfr_ledger.eventlog.chain.recorders import (
    ChainedPostgresApplicationRecorder,
    ChainedSQLiteApplicationRecorder,
)


@dataclass(frozen=True)
class ChainReport:
    """Outcome of a verification. `head`/`last_id` describe the verified prefix.

    `reason` is one of: "altered" (event content changed), "deleted", "inserted", "reordered"
    (content moved between ids), "chain_altered" (only the stored link changed), "chain_missing"
    (a genuine event lost its link), "checkpoint_mismatch" (the log no longer extends a checkpoint).
    """

    ok: bool
    events_checked: int
    head: str
    last_id: int
    first_bad_id: int | None = None
    reason: str | None = None
    detail: str = ""
    events_table: str = ""
    # Verification began after this id, from a signed checkpoint's head (0: from the first event).
    since_id: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        if self.ok:
            since = f" since id {self.since_id}" if self.since_id else ""
            return (
                f"OK: {self.events_checked} events verified{since}, last id {self.last_id}, "
                f"head {self.head}"
            )
        return f"TAMPERED: first bad notification id {self.first_bad_id} ({self.reason})"


class _Checkpoint(NamedTuple):
    last_id: int
    head: bytes


def _paged(
    fetch: Callable[[int, int], Sequence[Any]], batch: int, after: int = MIN_ID
) -> Iterator[Any]:
    while True:
        rows = fetch(after, batch)
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1][0]


def _merge(
    events: Iterator[DigestRow], links: Iterator[LinkRow]
) -> Iterator[tuple[int, DigestRow | None, LinkRow | None]]:
    """Full outer join on notification id of two id-ordered streams."""
    e = next(events, None)
    k = next(links, None)
    while e is not None or k is not None:
        if k is None or (e is not None and e.id < k.id):
            assert e is not None
            yield e.id, e, None
            e = next(events, None)
        elif e is None or k.id < e.id:
            yield k.id, None, k
            k = next(links, None)
        else:
            yield e.id, e, k
            e = next(events, None)
            k = next(links, None)


def _hash_row(prev: bytes, e: DigestRow) -> bytes:
    return link_hash(prev, e.id, e.topic, e.originator_id, e.originator_version, e.state_digest)


def _moved_here(prev: bytes, e: DigestRow, stored: bytes, candidates: Sequence[DigestRow]) -> bool:
    """Does some later row hold (part of) the content that was hashed at `e.id`?"""
    for c in candidates:
        for take_topic, take_origin, take_state in product((False, True), repeat=3):
            # Topics repeat across events, so a borrowed topic alone proves nothing moved;
            # states (timestamped) and (originator, version) pairs are unique to one event.
            if not (take_origin or take_state):
                continue
            h = link_hash(
                prev,
                e.id,
                c.topic if take_topic else e.topic,
                c.originator_id if take_origin else e.originator_id,
                c.originator_version if take_origin else e.originator_version,
                c.state_digest if take_state else e.state_digest,
            )
            if h == stored:
                return True
    return False


def _classify_mismatch(
    reader: ChainReader, e: DigestRow, link: LinkRow, prev: bytes, last_id: int, stop: int
) -> tuple[str, str]:
    """Why does the recomputed hash at `e.id` differ from the stored one? (failure path only)"""
    following = reader.links(e.id, stop, 1)
    nxt_link = following[0] if following else None
    if nxt_link is not None and nxt_link.prev_id == last_id:
        return "inserted", f"the next link ({nxt_link.id}) was chained onto {last_id}, not {e.id}"
    later = reader.digests(e.id, stop, REORDER_WINDOW)
    recomputed = _hash_row(prev, e)
    if (
        nxt_link is not None
        and later
        and later[0].id == nxt_link.id
        and _hash_row(recomputed, later[0]) == nxt_link.hash
    ):
        return "chain_altered", "the event is intact but its stored link was changed"
    if _moved_here(prev, e, link.hash, later):
        return "reordered", "content hashed at this id now appears at a later id"
    return "altered", "stored content no longer matches the hash recorded when it was written"


def _check_anchor(reader: ChainReader, anchor: _Checkpoint, stop: int) -> tuple[str, str] | None:
    """Does the log still pass through a signed (last_id, head)? None if so, else (reason, why).

    The stored link at `last_id` must hold the signed head, and the event stored there must
    still hash to it from its predecessor's stored link: SHA-256 cannot be steered to a given
    head, so this vouches for the event and the link before it too. Three rows, at any size."""
    nid = anchor.last_id
    if nid == 0:  # a checkpoint of the empty log: its head can only be the genesis hash
        return None if anchor.head == GENESIS else ("checkpoint_mismatch", "not the genesis hash")
    link = next(iter(reader.links(nid - 1, nid, 1)), None)
    event = next(iter(reader.digests(nid - 1, nid, 1)), None)
    if link is None and event is None:
        if nid > stop:
            return "deleted", "log truncated: it ends before the checkpointed id"
        return "deleted", "the checkpointed notification id is gone"
    if link is None:
        return "chain_missing", "the checkpointed event's link row was removed"
    if link.hash != anchor.head:
        return "checkpoint_mismatch", "the stored link no longer holds the checkpoint's head"
    if event is None:
        return "deleted", "link present but the checkpointed event row is gone"
    prev = GENESIS
    if link.prev_id:
        before = next(iter(reader.links(link.prev_id - 1, link.prev_id, 1)), None)
        if before is None:
            return "chain_missing", f"the link of {link.prev_id}, before the checkpoint, is gone"
        prev = before.hash
    if _hash_row(prev, event) != anchor.head:
        return "altered", "the checkpointed event no longer hashes to the checkpoint's head"
    return None


def verify_chain(
    source: ChainReader | ChainedSQLiteApplicationRecorder | ChainedPostgresApplicationRecorder,
    *,
    batch_size: int = DEFAULT_BATCH,
    checkpoint: tuple[int, bytes] | None = None,
    start: tuple[int, bytes] | None = None,
    until: int | None = None,
) -> ChainReport:
    """Recompute the chain, streaming both tables in id order, and stop at the first bad row.

    From genesis by default; with `start=(last_id, head)`, a signed checkpoint's, only after it,
    once the log is seen to pass through that head (the checkpoint vouches for what is before:
    the work is proportional to what is new). With `checkpoint=(last_id, head)` a verification
    from genesis also requires the log to pass through that head. With `until`, the rows after
    that id are left for later: the rolling re-verification re-hashes the log a slice at a time."""
    reader: ChainReader = (
        source.chain_reader()
        if isinstance(source, ChainedSQLiteApplicationRecorder | ChainedPostgresApplicationRecorder)
        else source
    )
    cp = _Checkpoint(*checkpoint) if checkpoint else None
    anchor = _Checkpoint(*start) if start else None
    # Rows committed after this point are ignored, so a concurrent writer never looks like an
    # insertion (each event and its link commit together, so both tables agree up to `stop`).
    stop = reader.bounds()
    # A slice ends at `until`; what lies beyond it still serves to name a bad row's kind.
    end = stop if until is None else min(stop, until)
    head, last_id, count = GENESIS, 0, 0
    since = 0
    if anchor is not None:
        head, last_id, since = anchor.head, anchor.last_id, anchor.last_id

    def bad(nid: int | None, reason: str, detail: str) -> ChainReport:
        return ChainReport(
            False, count, head.hex(), last_id, nid, reason, detail, reader.events_table, since
        )

    if anchor is not None:
        found = _check_anchor(reader, anchor, stop)
        if found is not None:
            return bad(anchor.last_id, *found)
    after = MIN_ID if anchor is None else anchor.last_id
    events = _paged(lambda a, n: reader.digests(a, end, n), batch_size, after)
    links = _paged(lambda a, n: reader.links(a, end, n), batch_size, after)

    for nid, e, link in _merge(events, links):
        if cp is not None and last_id < cp.last_id < nid:
            return bad(cp.last_id, "deleted", "the checkpointed notification id is gone")
        if e is None:
            return bad(nid, "deleted", "link present but its event row is gone")
        if link is None:
            nxt = reader.links(nid, stop, 1)
            if nxt and nxt[0].prev_id == nid:
                return bad(nid, "chain_missing", "the event's link row was removed")
            return bad(nid, "inserted", "event row has no link: it was not written by the ledger")
        if link.prev_id != last_id:
            if _hash_row(head, e) == link.hash:
                # The content still chains onto the previous link: only prev_id was edited.
                return bad(
                    nid,
                    "chain_altered",
                    f"the link's prev_id reads {link.prev_id}, but its hash chains onto "
                    f"{last_id}: the link row was edited",
                )
            if link.prev_id > last_id:
                if reader.event_exists(link.prev_id):
                    return bad(nid, "reordered", f"link expects {link.prev_id} before this id")
                return bad(link.prev_id, "deleted", f"id {link.prev_id} and its link were removed")
            first_inserted = reader.digests(link.prev_id, stop, 1)[0].id
            return bad(
                first_inserted,
                "inserted",
                f"link of {nid} was chained onto {link.prev_id}; later rows were added",
            )
        h = _hash_row(head, e)
        if h != link.hash:
            reason, detail = _classify_mismatch(reader, e, link, head, last_id, stop)
            return bad(nid, reason, detail)
        head, last_id, count = h, nid, count + 1
        if cp is not None and nid == cp.last_id and h != cp.head:
            return bad(nid, "checkpoint_mismatch", "the log does not extend the checkpoint here")

    if cp is not None and last_id < cp.last_id:
        return bad(cp.last_id, "deleted", "log truncated: it ends before the checkpointed id")
    return ChainReport(
        True, count, head.hex(), last_id, events_table=reader.events_table, since_id=since
    )

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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        if self.ok:
            return (
                f"OK: {self.events_checked} events verified, last id {self.last_id}, "
                f"head {self.head}"
            )
        return f"TAMPERED: first bad notification id {self.first_bad_id} ({self.reason})"


class _Checkpoint(NamedTuple):
    last_id: int
    head: bytes


def _paged(fetch: Callable[[int, int], Sequence[Any]], batch: int) -> Iterator[Any]:
    after = MIN_ID
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


def verify_chain(
    source: ChainReader | ChainedSQLiteApplicationRecorder | ChainedPostgresApplicationRecorder,
    *,
    batch_size: int = DEFAULT_BATCH,
    checkpoint: tuple[int, bytes] | None = None,
) -> ChainReport:
    """Recompute the chain from genesis, streaming both tables in id order, and stop at the first
    bad row. With `checkpoint=(last_id, head)` also require the log to pass through that head."""
    reader: ChainReader = (
        source.chain_reader()
        if isinstance(source, ChainedSQLiteApplicationRecorder | ChainedPostgresApplicationRecorder)
        else source
    )
    cp = _Checkpoint(*checkpoint) if checkpoint else None
    # Rows committed after this point are ignored, so a concurrent writer never looks like an
    # insertion (each event and its link commit together, so both tables agree up to `stop`).
    stop = reader.bounds()
    events = _paged(lambda after, n: reader.digests(after, stop, n), batch_size)
    links = _paged(lambda after, n: reader.links(after, stop, n), batch_size)

    head, last_id, count = GENESIS, 0, 0

    def bad(nid: int | None, reason: str, detail: str) -> ChainReport:
        return ChainReport(
            False, count, head.hex(), last_id, nid, reason, detail, reader.events_table
        )

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
    return ChainReport(True, count, head.hex(), last_id, events_table=reader.events_table)

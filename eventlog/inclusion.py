"""Inclusion on read: each event a read returns is checked before it is returned.

Two things are checked per event. Its link: the event as stored still hashes, from its
predecessor's stored link, to its own stored link. And that link's place in signed history:
an event at or before the latest checkpoint that signs a Merkle root must have its link at its
leaf of that tree (an RFC 9162 inclusion proof: one block's links and a path over block roots,
`tree.py`), and an event after it must chain from that checkpoint's signed head to the log's
head (re-hashed once, then from where the last check left off: the anchor is checked to still
hold the head found there, so the work follows what is new).

A read's cost in queries does not depend on how its events lie over the log (issue 28: a
subject's records in thousands of blocks of a national log): the links with their
predecessors', the events' digests, and the links of every block holding one of them are each
read in one query; the blocks are then proven one at a time, in id order.

`InclusionChecker.check` raises `IntegrityFailure` (a refusal the API answers as a problem,
never the data), naming the first event that fails and how. Ids and hashes only, no content.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

from lfr_ledger.domain.errors import DomainError
from lfr_ledger.eventlog.chain.hashing import GENESIS, link_hash
from lfr_ledger.eventlog.chain.readers import ChainReader
from lfr_ledger.eventlog.chain.verify import verify_chain
from lfr_ledger.eventlog.checkpoint import checkpoints_dir, kept_checkpoints, key_path
from lfr_ledger.eventlog.checkpoint_signature import (
    CheckpointError,
    check_signature,
    checkpoint_digest,
    tree_of,
)
from lfr_ledger.eventlog.merkle import ProofError, leaf_hash, root_from_inclusion
from lfr_ledger.eventlog.tree import StoredTree, TreeError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from lfr_ledger.config.settings import Settings

FOUND_BY = "inclusion_check"


class IntegrityFailure(DomainError):
    """A record read fails its integrity check: it is withheld, and the alarm raised."""

    kind = "integrity-failure"
    title = "Integrity check failed"

    def __init__(
        self, detail: str, *, events_table: str, notification_id: int | None, reason: str
    ) -> None:
        super().__init__(detail)
        self.events_table = events_table
        self.notification_id = notification_id
        self.reason = reason


@dataclass(frozen=True)
class Signed:
    """The checkpoint reads are held to: its last id, head, and tree."""

    name: str
    last_id: int
    head: bytes
    tree_size: int
    root: bytes
    digest: str


@dataclass(frozen=True)
class InclusionReport:
    events: int
    in_checkpoint: int  # proven in the checkpoint's tree
    since_checkpoint: int  # chained from its head to the log's head
    checkpoint: str | None


# The latest signed checkpoint (None without one), or a reason it cannot be trusted.
CheckpointSource = Callable[[str], "Signed | str | None"]


class InclusionChecker:
    """Checks events of one log against its latest rooted checkpoint; kept for the life of the
    process (the tree of a checkpoint, and how far past it the chain was found intact, are
    remembered between reads). Thread-safe: one check at a time."""

    def __init__(self, reader: ChainReader, checkpoints: CheckpointSource | None = None) -> None:
        self.reader = reader
        self.events_table = reader.events_table
        self._checkpoints = checkpoints
        self._lock = threading.Lock()
        self._tree: tuple[str, StoredTree] | None = None
        # Past the checkpoint (its digest, or "" without one): where the chain was found intact.
        self._verified: tuple[str, int, bytes] | None = None

    def check_originators(self, originator_ids: Iterable[UUID]) -> InclusionReport:
        """Every event of these aggregates (what reading them read)."""
        return self.check(self.reader.ids_of(sorted(set(originator_ids), key=str)))

    def check(self, notification_ids: Iterable[int]) -> InclusionReport:
        ids = sorted(set(notification_ids))
        with self._lock:
            signed = self._checkpoints(self.events_table) if self._checkpoints else None
            if isinstance(signed, str):
                raise self._failure(None, "checkpoint_refused", signed)
            before = [i for i in ids if signed is not None and i <= signed.last_id]
            after = [i for i in ids if signed is None or i > signed.last_id]
            if before:
                assert signed is not None
                self._in_tree(signed, before)
            if after:
                self._since(signed, after)
            if ids:
                self._own_links(ids)
        return InclusionReport(
            len(ids), len(before), len(after), signed.name if signed is not None else None
        )

    def _failure(self, nid: int | None, reason: str, why: str) -> IntegrityFailure:
        where = f"notification {nid}" if nid is not None else "the log"
        return IntegrityFailure(
            f"{where} fails its integrity check ({reason}): {why}; it is withheld and the "
            "integrity alarm raised (run `lfr audit verify --full`)",
            events_table=self.events_table,
            notification_id=nid,
            reason=reason,
        )

    def _in_tree(self, signed: Signed, ids: Sequence[int]) -> None:
        try:
            tree = self._tree_of(signed)
            tree.forget_leaves()  # the blocks read must be read now, not remembered
            in_block: dict[int, list[int]] = {}
            for nid in ids:
                in_block.setdefault(tree.block_of(nid), []).append(nid)
            # Blocks in id order, so the events are proven in id order, as one by one.
            with closing(tree.each_block(sorted(in_block))) as blocks:
                for block in blocks:
                    for nid in in_block[block]:
                        self._prove(tree, signed, nid)
        except (TreeError, ProofError) as e:
            raise self._failure(ids[0], "not_included", str(e)) from e

    def _prove(self, tree: StoredTree, signed: Signed, nid: int) -> None:
        found = tree.leaf_index(nid)
        if found is None:
            raise self._failure(nid, "deleted", "its link is gone from the log")
        index, link = found
        proven = root_from_inclusion(
            leaf_hash(link.hash), index, signed.tree_size, tree.inclusion_proof(index)
        )
        if proven != signed.root:
            raise self._failure(
                nid,
                "not_included",
                f"the links around leaf {index} no longer give the root checkpoint "
                f"{signed.name} (id {signed.last_id}) signed: it or a link beside it was "
                "rewritten",
            )

    def _tree_of(self, signed: Signed) -> StoredTree:
        if self._tree is None or self._tree[0] != signed.digest:
            self._tree = (signed.digest, StoredTree(self.reader, signed.tree_size))
        return self._tree[1]

    def _since(self, signed: Signed | None, ids: Sequence[int]) -> None:
        """The chain from the checkpoint's head (or the first event) to the log's head."""
        key = signed.digest if signed is not None else ""
        start = (signed.last_id, signed.head) if signed is not None else (0, GENESIS)
        if self._verified is not None and self._verified[0] == key:
            start = self._verified[1:]
        report = verify_chain(self.reader, start=start)
        if not report.ok:
            nid = report.first_bad_id
            raise self._failure(
                nid if nid is not None else ids[0],
                report.reason or "altered",
                report.detail or "the chain is broken after the checkpoint",
            )
        if report.last_id < ids[-1]:
            raise self._failure(ids[-1], "deleted", "the log ends before it")
        if report.last_id > start[0]:
            self._verified = (key, report.last_id, bytes.fromhex(report.head))

    def _own_links(self, ids: Sequence[int]) -> None:
        """Each event of `ids` (sorted) still hashes to its stored link from its predecessor's:
        the links (each with its predecessor's) and the events' digests read in one query
        each, however far apart the ids lie."""
        links = self.reader.links_of(ids)
        events = {e.id: e for e in self.reader.digests_of(ids)}
        for nid in ids:
            found, event = links.get(nid), events.get(nid)
            if found is None or event is None:
                raise self._failure(nid, "deleted", "its event or its link is gone")
            link, before = found
            prev = GENESIS
            if link.prev_id:
                if before is None or before.id != link.prev_id:
                    raise self._failure(nid, "chain_missing", "its predecessor's link is gone")
                prev = before.hash
            recomputed = link_hash(
                prev,
                event.id,
                event.topic,
                event.originator_id,
                event.originator_version,
                event.state_digest,
            )
            if recomputed != link.hash:
                raise self._failure(nid, "altered", "it no longer hashes to its stored link")


def kept_checkpoints_source(
    settings: Settings, public_key: Ed25519PublicKey | None = None
) -> CheckpointSource:
    """The latest checkpoint kept in `settings.data_dir` that signs a tree for the table,
    checked with the ledger's key (or `public_key`); re-read when the folder changes."""
    cache: dict[str, tuple[int, Signed | str | None]] = {}

    def latest(events_table: str) -> Signed | str | None:
        folder = checkpoints_dir(settings)
        try:
            stamp = os.stat(folder).st_mtime_ns
        except FileNotFoundError:
            return None
        held = cache.get(events_table)
        if held is not None and held[0] == stamp:
            return held[1]
        cache[events_table] = (stamp, _check(settings, public_key, events_table))
        return cache[events_table][1]

    return latest


def _check(
    settings: Settings, public_key: Ed25519PublicKey | None, events_table: str
) -> Signed | str | None:
    try:
        found = _latest_rooted(kept_checkpoints(settings, newest_first=True), events_table)
    except CheckpointError as e:
        return str(e)
    if found is None:
        return None
    key = public_key or _ledger_key(key_path(settings))
    problem = "no key to check it with" if key is None else check_signature(found, key)
    if problem is not None:
        return f"checkpoint at id {found.get('last_id')}: {problem}"
    try:
        return _signed(found)
    except ValueError:
        return f"checkpoint at id {found.get('last_id')}: malformed head"


def _latest_rooted(
    kept: Iterable[tuple[Any, dict[str, Any]]], events_table: str
) -> dict[str, Any] | None:
    for path, checkpoint in kept:
        if checkpoint.get("events_table") != events_table:
            continue
        if tree_of(checkpoint) is not None:
            return {**checkpoint, "_name": path.name}
        if checkpoint.get("version") not in (1, 2):
            return {**checkpoint, "_name": path.name}  # malformed: the signature check says how
    return None


def _signed(checkpoint: dict[str, Any]) -> Signed:
    tree = tree_of(checkpoint)
    assert tree is not None
    return Signed(
        name=str(checkpoint["_name"]),
        last_id=int(checkpoint["last_id"]),
        head=bytes.fromhex(checkpoint["head"]),
        tree_size=tree[0],
        root=tree[1],
        digest=checkpoint_digest(checkpoint),
    )


def _ledger_key(path: Any) -> Ed25519PublicKey | None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if not path.exists():
        return None
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    return loaded.public_key() if isinstance(loaded, Ed25519PrivateKey) else None

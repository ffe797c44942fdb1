"""How one link is computed: the hash over a stored event and its predecessor, and the
names of the chain tables. Pure functions; recorders, readers and bundles all use them."""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from typing import TYPE_CHECKING
from uuid import UUID

from eventsourcing.persistence import ProgrammingError

if TYPE_CHECKING:
    from eventsourcing.persistence import StoredEvent


GENESIS = bytes(32)
HASH_LEN = 32
CHAIN_SUFFIX = "_chain"
SQLITE_EVENTS_TABLE = "stored_events"
DEFAULT_BATCH = 10_000
# How far past a mismatching row the verifier looks for the row it was swapped with.
REORDER_WINDOW = 5_000
MIN_ID = -(2**63)

_Q = struct.Struct(">q")
_I = struct.Struct(">I")


def chain_hash(
    prev: bytes,
    notification_id: int,
    topic: str,
    originator_id: str,
    originator_version: int,
    state: bytes,
) -> bytes:
    """h_n = SHA-256(h_{n-1} ‖ id ‖ topic ‖ originator ‖ version ‖ SHA-256(state)).

    Integers are 8-byte big-endian, strings UTF-8 with a 4-byte length prefix, so no two different
    field tuples encode to the same bytes.
    """
    return link_hash(
        prev,
        notification_id,
        topic,
        originator_id,
        originator_version,
        hashlib.sha256(state).digest(),
    )


def link_hash(
    prev: bytes,
    notification_id: int,
    topic: str,
    originator_id: str,
    originator_version: int,
    state_digest: bytes,
) -> bytes:
    """`chain_hash` given SHA-256(state) rather than the state (the verifier streams digests)."""
    if len(prev) != HASH_LEN:
        raise ValueError(f"previous hash must be {HASH_LEN} bytes, got {len(prev)}")
    t = topic.encode()
    o = originator_id.encode()
    return hashlib.sha256(
        b"".join(
            (
                prev,
                _Q.pack(notification_id),
                _I.pack(len(t)),
                t,
                _I.pack(len(o)),
                o,
                _Q.pack(originator_version),
                state_digest,
            )
        )
    ).digest()


def canonical_originator(originator_id: UUID | str, id_type: str) -> str:
    """One text form per originator on both backends (SQLite stores UUIDs as bare hex)."""
    if isinstance(originator_id, UUID):
        return str(originator_id)
    if id_type == "uuid":
        return str(UUID(originator_id))
    return originator_id


def chain_table_name(events_table: str) -> str:
    name = events_table + CHAIN_SUFFIX
    if len(name) > 63:  # PostgreSQL silently truncates longer identifiers.
        raise ProgrammingError(f"Chain table name too long: {name}")
    return name


def chain_links(
    prev_id: int, prev_hash: bytes, ids: Sequence[int], events: Sequence[StoredEvent], id_type: str
) -> list[tuple[int, int, bytes]]:
    rows = []
    for nid, s in zip(ids, events, strict=True):
        prev_hash = chain_hash(
            prev_hash,
            nid,
            s.topic,
            canonical_originator(s.originator_id, id_type),
            s.originator_version,
            s.state,
        )
        rows.append((nid, prev_id, prev_hash))
        prev_id = nid
    return rows

"""How the vault keeps its keys wrapped: the stored row's format, the start-up check that the
KEK opens them, the wrapping of rows an earlier release stored raw, rotation, and a bounded
cache of unwrapped keys.

A stored row is either 32 bytes (a raw key, as releases before issue 27 stored it, wrapped at
the first start) or `0x02 | KEK id (8) | nonce (12) | AES-GCM(key) + tag (48)`: 69 bytes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from lfr_ledger.eventlog.kek import KEY_BYTES, Kek, KekError, KekLoader

WRAPPED = b"\x02"
HEADER = 1 + 8  # the version byte and the KEK's id
# Unwrapped keys kept in memory: enough for a deployment's alerts and a watchlist's entries.
# Each use still reads the key's row, so a key shredded by any node is gone at once (below).
CACHE_SIZE = 4096
BATCH = 500


class KeyStore(Protocol):
    def _get(self, key_id: UUID) -> bytes | None: ...

    def _census(self) -> dict[bytes, tuple[int, UUID]]:
        """Rows grouped by their first 9 bytes (b"" for a raw 32-byte row): each group's count
        and one of its key ids."""
        ...

    def _markers(self) -> dict[bytes, UUID]:
        """Each marker the rows hold (their first 9 bytes, b"" for a raw 32-byte row) with one
        of its key ids; read through the marker's index while every row has the same one, so a
        node's start does not grow with the keys held."""
        ...

    def _rows(self, after: UUID | None, limit: int) -> list[tuple[UUID, bytes]]: ...

    def _replace_many(self, changes: list[tuple[UUID, bytes, bytes]]) -> int:
        """Each (key_id, old, new): the row becomes `new` only if it still holds `old`, all in
        one transaction; a row deleted meanwhile stays deleted. The rows changed."""
        ...


@dataclass(frozen=True)
class Census:
    current: str
    by_kek: dict[str, int]
    raw: int


def describe_marker(marker: bytes) -> str:
    return "raw" if not marker else marker[1:].hex()


class KeyCustody:
    def __init__(self, store: KeyStore, kek: Kek) -> None:
        self.store = store
        self.kek = kek
        self._cache: OrderedDict[UUID, tuple[bytes, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def open(
        cls, store: KeyStore, kek: Kek | KekLoader, rotating_to: Kek | None = None
    ) -> KeyCustody:
        """The custody of `store`'s keys under `kek`, refused in one line if the vault holds
        keys that KEK did not wrap (or `rotating_to`, the target of a rotation being resumed);
        raw rows of an earlier release are wrapped here."""
        markers = store._markers()
        wrapped = {m: k for m, k in markers.items() if m}
        if not isinstance(kek, Kek):
            kek = kek(not wrapped)  # a new default KEK only for a vault that has none
        for marker in wrapped:
            if marker[:1] != WRAPPED:
                raise KekError(f"the vault holds keys in an unknown format ({marker[:1].hex()})")
        mine = WRAPPED + kek.kek_id
        allowed = {mine} | ({WRAPPED + rotating_to.kek_id} if rotating_to else set())
        if set(wrapped) - allowed:
            # Counted only for the refusal's message: a start that is refused may take its time.
            counts = store._census()
            foreign = {m[1:].hex(): n for m, (n, _) in counts.items() if m and m not in allowed}
            held = ", ".join(f"{n} under KEK {k}" for k, n in sorted(foreign.items()))
            raise KekError(
                f"the vault's keys are wrapped by another KEK ({held}) than {kek.description} "
                f"(KEK {kek.kek_id.hex()}): set LFR_KEK to the KEK they were wrapped with"
                + (" or finish `lfr keys rotate-kek`" if mine in wrapped else "")
            )
        custody = cls(store, kek)
        if mine in wrapped:
            stored = store._get(wrapped[mine])
            if stored is not None:  # shredded meanwhile: nothing to try
                kek.unwrap(wrapped[mine], stored[HEADER:])
        if b"" in markers:
            custody._rewrap(kek, only_raw=True)
            custody.purge()
        return custody

    def purge(self) -> None:
        """Lets the store drop the superseded rows' bytes (PostgreSQL keeps an updated row's
        old version in the table's pages until a vacuum; SQLite's secure_delete zeroes it)."""
        vacuum = getattr(self.store, "vacuum", None)
        if vacuum is not None:
            vacuum()

    def wrap(self, key_id: UUID, key: bytes) -> bytes:
        return WRAPPED + self.kek.kek_id + self.kek.wrap(key_id, key)

    def unwrap(self, key_id: UUID, stored: bytes) -> bytes:
        """The key a row holds. The cache answers only for the very bytes it unwrapped: the
        row is read on every use, so a shredded key (its row gone, on any node) is never
        served from memory, and a re-wrapped row is unwrapped afresh."""
        with self._lock:
            hit = self._cache.get(key_id)
            if hit is not None and hit[0] == stored:
                self._cache.move_to_end(key_id)
                return hit[1]
        if len(stored) == KEY_BYTES:
            return stored  # written raw by an earlier release after this node started
        if stored[:HEADER] != WRAPPED + self.kek.kek_id:
            raise KekError(
                f"the vault's key {key_id} is wrapped by KEK {stored[1:HEADER].hex()}, not "
                f"{self.kek.description}: was the KEK rotated without restarting this node?"
            )
        key = self.kek.unwrap(key_id, stored[HEADER:])
        with self._lock:
            self._cache[key_id] = (stored, key)
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return key

    def forget(self, key_id: UUID) -> None:
        with self._lock:
            self._cache.pop(key_id, None)

    def census(self) -> Census:
        counts: dict[str, int] = {}
        for marker, (n, _) in self.store._census().items():
            counts[describe_marker(marker)] = counts.get(describe_marker(marker), 0) + n
        raw = counts.pop("raw", 0)
        return Census(self.kek.kek_id.hex(), counts, raw)

    def rotate(self, new: Kek) -> tuple[int, int]:
        """Every row re-wrapped under `new`, a transaction per batch; returns (re-wrapped,
        already under `new`). Rows are only updated, never inserted: a key destroyed before or
        during the rotation stays destroyed. Events are not touched."""
        done, already = self._rewrap(new, only_raw=False)
        self.purge()
        self.kek = new
        with self._lock:
            self._cache.clear()
        return done, already

    def _rewrap(self, new: Kek, *, only_raw: bool) -> tuple[int, int]:
        target = WRAPPED + new.kek_id
        done = already = 0
        after: UUID | None = None
        while rows := self.store._rows(after, BATCH):
            after = rows[-1][0]
            changes: list[tuple[UUID, bytes, bytes]] = []
            for key_id, stored in rows:
                if stored[:HEADER] == target:
                    already += 1
                    continue
                if only_raw and len(stored) != KEY_BYTES:
                    continue
                if len(stored) == KEY_BYTES:
                    key = stored
                elif stored[:HEADER] == WRAPPED + self.kek.kek_id:
                    key = self.kek.unwrap(key_id, stored[HEADER:])
                else:
                    raise KekError(
                        f"the vault's key {key_id} is wrapped by KEK {stored[1:HEADER].hex()}, "
                        f"which neither the current nor the new KEK is"
                    )
                changes.append((key_id, stored, target + new.wrap(key_id, key)))
            if changes:
                done += self.store._replace_many(changes)
        return done, already

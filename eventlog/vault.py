"""The key vault behind crypto-shredding: one AES-256-GCM key per watchlist entry or alert.

Keys live outside the event log (a separate SQLite file, or a separate PostgreSQL table), each
wrapped by a key-encryption key that enters neither (`kek/`): a copy of the store opens nothing.
Deleting a key erases what it sealed from every copy of the log; `secure_delete` (SQLite)
and `VACUUM` (PostgreSQL) keep the deleted key's bytes from lingering in the key store.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from uuid import UUID, uuid4

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from lfr_ledger.eventlog.kek import Kek
from lfr_ledger.eventlog.kek.custody import Census, KeyCustody
from lfr_ledger.eventlog.keyring import FORMAT, NONCE, Keyring, VaultError, _aad, open_sealed
from lfr_ledger.eventlog.pseudonyms import legacy_spellings, normalised_subject_ref

# The pseudonymisation key for subject references; never shredded, so subject access
# requests can be answered after a watchlist is destroyed.
PEPPER_ID = UUID(int=0)
# Keys made ahead per durable transaction for records whose id is new (`fresh_key`): one fsync
# then serves this many commands instead of one each (issue 28).
STOCK_BATCH = 32
# Keys read by one statement of a keyring on SQLite: one statement for any request's records.
SQLITE_PARAMETERS = 10_000


class _Vault:
    """Sealing logic shared by both stores; subclasses only store and fetch rows. Every key is
    stored wrapped by the KEK (`kek/custody.py`), which never enters the store."""

    _custody: KeyCustody
    _stock_lock: threading.Lock
    _stock: list[tuple[UUID, bytes]]
    _issued: dict[UUID, bytes]

    # Told of each key before it is destroyed (the tombstone journal, `tombstones.py`), so a
    # restored backup that still holds it can destroy it again; set by the composition root.
    before_shred: Callable[[UUID], None] | None = None

    def _get(self, key_id: UUID) -> bytes | None:
        raise NotImplementedError

    def _put(self, key_id: UUID, key: bytes) -> None:
        raise NotImplementedError

    def _delete(self, key_id: UUID) -> bool:
        raise NotImplementedError

    def create_key(self, key_id: UUID) -> None:
        if key_id == PEPPER_ID:
            raise VaultError("that key id is reserved")
        self._put(key_id, self._custody.wrap(key_id, AESGCM.generate_key(bit_length=256)))

    @contextmanager
    def fresh_key(self) -> Iterator[UUID]:
        """The id of a new key, already durable in the store and never handed out before: for a
        record whose id is new (an access record), which then adds no vault write of its own.
        Keys are made `STOCK_BATCH` at a time in one transaction; those a crash leaves unused
        seal nothing and so reveal nothing (as a key made for a refused command). Within the
        block the key is served from memory without reading its row: no one else knows its id
        yet, so no one can have shredded it."""
        with self._stock_lock:
            if not self._stock:
                made = [(uuid4(), AESGCM.generate_key(bit_length=256)) for _ in range(STOCK_BATCH)]
                self._put_many([(i, self._custody.wrap(i, key)) for i, key in made])
                self._stock = made
            key_id, key = self._stock.pop()
            self._issued[key_id] = key
        try:
            yield key_id
        finally:
            self._issued.pop(key_id, None)

    def _discard_stock(self) -> None:
        """Deletes the keys made ahead and never handed out, at close: nothing names them, so
        no tombstone is written (a backup holding one holds a key that seals nothing)."""
        with self._stock_lock:
            unused, self._stock = [i for i, _ in self._stock], []
        for key_id in unused:
            self._custody.forget(key_id)
        try:
            if unused:
                self._delete_many(unused)
        except Exception:  # closing goes on: a spare left behind seals nothing
            pass

    def _put_many(self, rows: list[tuple[UUID, bytes]]) -> None:
        raise NotImplementedError

    def _delete_many(self, key_ids: list[UUID]) -> None:
        raise NotImplementedError

    def ensure_key(self, key_id: UUID) -> None:
        self.create_key_if_absent(key_id)

    def create_key_if_absent(self, key_id: UUID) -> bool:
        """Creates the key unless one exists; True if this call made it. One statement, so of
        two callers at once (on one node or two) exactly one is told it made the key."""
        if key_id == PEPPER_ID:
            raise VaultError("that key id is reserved")
        key = self._custody.wrap(key_id, AESGCM.generate_key(bit_length=256))
        return self._put_if_absent(key_id, key)

    def has_key(self, key_id: UUID) -> bool:
        return self._get(key_id) is not None

    def _key(self, key_id: UUID) -> bytes | None:
        issued = self._issued.get(key_id)
        if issued is not None:
            return issued
        stored = self._get(key_id)
        return None if stored is None else self._custody.unwrap(key_id, stored)

    def seal(self, key_id: UUID, field: str, plaintext: bytes) -> bytes:
        key = self._key(key_id)
        if key is None:
            raise VaultError(f"no key {key_id}: it was never created or was shredded")
        nonce = os.urandom(NONCE)
        return FORMAT + nonce + AESGCM(key).encrypt(nonce, plaintext, _aad(key_id, field))

    def unseal(self, key_id: UUID, field: str, sealed: bytes) -> bytes | None:
        key = self._key(key_id)
        return None if key is None else open_sealed(key_id, key, field, sealed)

    def keyring(self, key_ids: Collection[UUID]) -> Keyring:
        """The keys of `key_ids` as they stand, read in one query (`keyring.py`)."""
        wanted = list(dict.fromkeys(key_ids))
        return Keyring(wanted, self._get_many(wanted) if wanted else {}, self._custody.unwrap)

    def _get_many(self, key_ids: list[UUID]) -> dict[UUID, bytes]:
        raise NotImplementedError

    def shred(self, key_id: UUID) -> bool:
        if key_id == PEPPER_ID:
            raise VaultError("the pseudonymisation key is never shredded")
        if self.before_shred is not None and self.has_key(key_id):
            self.before_shred(key_id)
        self._custody.forget(key_id)
        self._issued.pop(key_id, None)
        return self._delete(key_id)

    def discard(self, key_id: UUID) -> None:
        """Deletes a key nothing recorded names (a command that was rolled back and runs again,
        which makes it anew), without a tombstone: a restore must not destroy the new key."""
        self._custody.forget(key_id)
        self._issued.pop(key_id, None)
        self._delete(key_id)

    def _pseudonym(self, text: str) -> str:
        pepper = self._key(PEPPER_ID)
        if pepper is None:
            self._put_if_absent(PEPPER_ID, self._custody.wrap(PEPPER_ID, os.urandom(32)))
            pepper = self._key(PEPPER_ID)
            assert pepper is not None
        return hmac.new(pepper, text.encode(), hashlib.sha256).hexdigest()

    def subject_digest(self, subject_ref: str) -> str:
        return self._pseudonym(normalised_subject_ref(subject_ref))

    def subject_digests(self, subject_ref: str) -> set[str]:
        return {self.subject_digest(subject_ref)} | {
            self._pseudonym(spelling) for spelling in legacy_spellings(subject_ref)
        }

    def _put_if_absent(self, key_id: UUID, key: bytes) -> bool:
        raise NotImplementedError

    @property
    def kek(self) -> Kek:
        return self._custody.kek

    def key_census(self) -> Census:
        """How many keys are wrapped under which KEK id (and how many still raw)."""
        return self._custody.census()

    def rotate_kek(self, new: Kek) -> tuple[int, int]:
        """Re-wraps every key under `new` (see `KeyCustody.rotate`); events are not touched."""
        return self._custody.rotate(new)

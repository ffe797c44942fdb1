"""Personal data is sealed (encrypted) under a key per record, held outside the event log.

Deleting a record's key erases that record's personal data from every copy of the log at
once, while the events themselves stay intact and the hash chain still verifies.
"""

from __future__ import annotations

from collections.abc import Collection
from contextlib import AbstractContextManager
from typing import Protocol
from uuid import UUID


class Keyring(Protocol):
    """Keys that open records' sealed fields: the vault itself, or the keys of many records
    read from it at once (`PersonalDataVault.keyring`)."""

    def unseal(self, key_id: UUID, field: str, sealed: bytes) -> bytes | None:
        """The plaintext, or None when the key was shredded."""
        ...

    def has_key(self, key_id: UUID) -> bool: ...


class PersonalDataVault(Protocol):
    """Holds one key per watchlist entry or alert; implemented by `eventlog/vault.py`."""

    def create_key(self, key_id: UUID) -> None: ...

    def fresh_key(self) -> AbstractContextManager[UUID]:
        """The id of a new key, already stored, for a record whose id may be that key's."""
        ...

    def ensure_key(self, key_id: UUID) -> None:
        """Creates the key unless it exists; safe when two commands race to create it."""
        ...

    def create_key_if_absent(self, key_id: UUID) -> bool:
        """Creates the key unless it exists; True if this call made it (of two callers at
        once, on one node or two, exactly one)."""
        ...

    def seal(self, key_id: UUID, field: str, plaintext: bytes) -> bytes:
        """Encrypts `plaintext` bound to (key_id, field), so sealed fields cannot be swapped."""
        ...

    def unseal(self, key_id: UUID, field: str, sealed: bytes) -> bytes | None:
        """The plaintext, or None when the key was shredded."""
        ...

    def shred(self, key_id: UUID) -> bool:
        """Destroys the key; True if a key was destroyed, False if it was already gone."""
        ...

    def discard(self, key_id: UUID) -> None:
        """Deletes a key that nothing recorded names, without a tombstone: its command was not
        recorded and runs again, making the key anew under the same id."""
        ...

    def has_key(self, key_id: UUID) -> bool: ...

    def keyring(self, key_ids: Collection[UUID]) -> Keyring:
        """The keys of `key_ids` read in one query, for a reader that opens the fields of many
        records in one request (subject access) without a read of the vault per field. They
        are as the vault held them at this call; asking it of a key it did not read fails."""
        ...

    def subject_digest(self, subject_ref: str) -> str:
        """A keyed, stable pseudonym of a subject reference, for subject-access look-ups that
        must still work after the entry's own key was shredded. References that differ only in
        Unicode normal form, case or width have the same pseudonym."""
        ...

    def subject_digests(self, subject_ref: str) -> set[str]:
        """Every pseudonym a record of this subject may carry: today's, and those an earlier
        release made before references were normalised."""
        ...


# Free text that may identify someone (a reason, a note, an offence, a stated purpose) is kept in
# its string field as this prefix and the base64 of its sealed bytes: the field keeps its type,
# so events written before sealing (in clear) still decode, and readers tell the two apart.
SEALED_TEXT = "sealed:v1:"


def is_sealed_text(value: object) -> bool:
    return isinstance(value, str) and value.startswith(SEALED_TEXT)

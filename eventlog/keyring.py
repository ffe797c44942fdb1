"""The sealed format (`FORMAT | nonce | AES-256-GCM(plaintext) + tag`, bound to the key's id and
the field's name), and a keyring: the keys of many records read from the vault in one query,
for a reader that opens the fields of every record a request concerns (subject access: each of
a subject's entries and alerts) without a read of the key store per field (issue 28).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT = b"\x01"
NONCE = 12


class VaultError(Exception):
    pass


def _aad(key_id: UUID, field: str) -> bytes:
    return key_id.bytes + field.encode()


def open_sealed(key_id: UUID, key: bytes, field: str, sealed: bytes) -> bytes:
    """The plaintext of `field` of record `key_id`, sealed under `key`."""
    if sealed[:1] != FORMAT:
        raise VaultError(f"sealed field {field} of {key_id} has an unknown format")
    nonce, body = sealed[1 : 1 + NONCE], sealed[1 + NONCE :]
    try:
        return AESGCM(key).decrypt(nonce, body, _aad(key_id, field))
    except InvalidTag:
        raise VaultError(f"sealed field {field} of {key_id} fails authentication") from None


class Keyring:
    """The keys of `read` as the vault held them when they were read (`rows`, still wrapped;
    each is unwrapped at its first use, so a record whose presence alone is asked costs no
    unwrapping). It serves the one request that read it: a key shredded meanwhile opens what it
    sealed here as it would have a moment earlier, never later in another request."""

    def __init__(
        self,
        read: Collection[UUID],
        rows: Mapping[UUID, bytes],
        unwrap: Callable[[UUID, bytes], bytes],
    ) -> None:
        self._read = frozenset(read)
        self._rows = rows
        self._unwrap = unwrap
        self._keys: dict[UUID, bytes] = {}

    def _row(self, key_id: UUID) -> bytes | None:
        if key_id not in self._read:
            # Absent because never asked for is not absent because shredded.
            raise VaultError(f"key {key_id} was not read into this keyring")
        return self._rows.get(key_id)

    def has_key(self, key_id: UUID) -> bool:
        return self._row(key_id) is not None

    def unseal(self, key_id: UUID, field: str, sealed: bytes) -> bytes | None:
        """As the vault's `unseal`: the plaintext, or None when the key was shredded."""
        row = self._row(key_id)
        if row is None:
            return None
        key = self._keys.get(key_id)
        if key is None:
            key = self._keys[key_id] = self._unwrap(key_id, row)
        return open_sealed(key_id, key, field, sealed)

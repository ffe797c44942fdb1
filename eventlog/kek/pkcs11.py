"""A KEK held by a PKCS#11 token (an HSM; SoftHSM2 in the tests): an AES-256 key that never
leaves it. The token encrypts and decrypts each data key with AES-GCM (C_Encrypt/C_Decrypt),
the key's id as associated data, so a wrapped key is the same shape as under a file KEK."""

from __future__ import annotations

import os
import threading
from typing import Any
from uuid import UUID

from lfr_ledger.config.kek_spec import KekSpec
from lfr_ledger.eventlog.kek import NONCE, Kek, KekError, wrap_aad

_libraries: dict[str, Any] = {}
_loading = threading.Lock()


def _library(module: str) -> Any:
    """One loaded module per process: C_Initialize may be called once per library."""
    import pkcs11

    with _loading:
        if module not in _libraries:
            if not os.path.exists(module):
                raise KekError(f"LFR_KEK's PKCS#11 module {module} is absent: install it")
            _libraries[module] = pkcs11.lib(module)
        return _libraries[module]


def _session(spec: KekSpec, pin: str, *, rw: bool = False) -> Any:
    import pkcs11

    lib = _library(str(spec.module))
    try:
        token = lib.get_token(token_label=spec.token)
    except pkcs11.exceptions.NoSuchToken:
        raise KekError(f"no PKCS#11 token labelled {spec.token!r} in {spec.module}") from None
    try:
        return token.open(user_pin=pin, rw=rw)
    except pkcs11.exceptions.UserAlreadyLoggedIn:
        # A login is the process's, not the session's: another KEK object (a rotation's old
        # and new key on one token) logged in already, and this session shares it.
        return token.open(rw=rw)
    except (pkcs11.exceptions.PinIncorrect, pkcs11.exceptions.PinLenRange):
        # The PIN itself is never repeated: not in a message, not in a log.
        raise KekError(f"token {spec.token!r} refused the PIN given for the KEK") from None
    except pkcs11.exceptions.PKCS11Error as error:
        raise KekError(f"token {spec.token!r} cannot be opened ({type(error).__name__})") from None


class TokenKek(Kek):
    def __init__(self, spec: KekSpec, pin: str) -> None:
        import pkcs11
        from pkcs11 import Mechanism, ObjectClass

        self.description = f"LFR_KEK {spec.describe()}"
        self._session = _session(spec, pin)
        try:
            self._key = self._session.get_key(object_class=ObjectClass.SECRET_KEY, label=spec.label)
        except pkcs11.exceptions.NoSuchKey:
            self._session.close()
            raise KekError(f"{self.description} is absent from the token") from None
        self._lock = threading.Lock()  # one operation at a time on a session
        self._pkcs11 = pkcs11
        self.kek_id = bytes(self._key.encrypt(bytes(16), mechanism=Mechanism.AES_ECB))[:8]

    def _gcm(self, nonce: bytes, key_id: UUID) -> dict[str, Any]:
        from pkcs11 import Mechanism
        from pkcs11.mechanisms import GCMParams

        return {
            "mechanism": Mechanism.AES_GCM,
            "mechanism_param": GCMParams(nonce, wrap_aad(key_id)),
        }

    def wrap(self, key_id: UUID, key: bytes) -> bytes:
        nonce = os.urandom(NONCE)
        with self._lock:
            return nonce + bytes(self._key.encrypt(key, **self._gcm(nonce, key_id)))

    def unwrap(self, key_id: UUID, wrapped: bytes) -> bytes:
        try:
            with self._lock:
                return bytes(
                    self._key.decrypt(wrapped[NONCE:], **self._gcm(wrapped[:NONCE], key_id))
                )
        except self._pkcs11.exceptions.PKCS11Error:
            raise KekError(f"{self.description} does not open the vault's key {key_id}") from None

    def close(self) -> None:
        self._session.close()


def open_token_kek(spec: KekSpec, pin: str) -> TokenKek:
    return TokenKek(spec, pin)


def create_token_key(spec: KekSpec, pin: str) -> None:
    """A new AES-256 KEK in the token under `spec.label`: sensitive and not extractable, so it
    never leaves the token; refused when a key already bears that label."""
    import pkcs11
    from pkcs11 import KeyType, MechanismFlag, ObjectClass

    with _session(spec, pin, rw=True) as session:
        try:
            session.get_key(object_class=ObjectClass.SECRET_KEY, label=spec.label)
        except pkcs11.exceptions.NoSuchKey:
            pass
        else:
            raise KekError(f"token {spec.token!r} already holds a key labelled {spec.label!r}")
        session.generate_key(
            KeyType.AES,
            256,
            label=spec.label,
            store=True,
            capabilities=MechanismFlag.ENCRYPT | MechanismFlag.DECRYPT,
            template={pkcs11.Attribute.SENSITIVE: True, pkcs11.Attribute.EXTRACTABLE: False},
        )

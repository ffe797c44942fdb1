"""The key-encryption key (KEK): what wraps every key of the vault, and never enters its store.

A data key is stored wrapped: AES-256-GCM under the KEK, with the key's id as associated data,
so a wrapped key moved onto another key's row fails to open (AES key wrap, RFC 3394, would not
bind it). The KEK comes from a file (`file.py`) or from a PKCS#11 token (`pkcs11.py`); either
is named by `LFR_KEK` (`config/kek_spec.py`), and its id, the first 8 bytes of AES-ECB of a
zero block under it (the standard key check value, widened), is what a stored row records so
that the wrong KEK is named at once, and the same key moved from a file into a token keeps it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from uuid import UUID

from lfr_ledger.config.kek_spec import KekSpec
from lfr_ledger.config.settings import Settings

KEY_BYTES = 32
NONCE = 12
WRAP_AAD = b"lfr-ledger vault key v2 "


class KekError(ValueError):
    """A KEK that is missing, unreadable, or does not open the vault's keys: the operator's to
    fix, so the command line says it in one line (a ValueError) and never with a traceback."""

    one_line = True


class Kek:
    """Wraps and unwraps 32-byte data keys; `kek_id` names it in every row it wraps."""

    kek_id: bytes  # 8 bytes
    description: str

    def wrap(self, key_id: UUID, key: bytes) -> bytes:
        """The nonce and the GCM ciphertext with its tag (12 + 48 bytes)."""
        raise NotImplementedError

    def unwrap(self, key_id: UUID, wrapped: bytes) -> bytes:
        """The data key; KekError when this KEK did not wrap it for this id."""
        raise NotImplementedError

    def close(self) -> None:
        pass


def wrap_aad(key_id: UUID) -> bytes:
    return WRAP_AAD + key_id.bytes


# Builds the KEK once the vault has said whether it already holds wrapped keys: the embedded
# default file may be made only for a vault that holds none (a new KEK would open nothing).
KekLoader = Callable[[bool], Kek]


def load_kek(settings: Settings, *, may_create: bool = False) -> Kek:
    """The KEK `settings` names: LFR_KEK, else the default key file beside the data folder,
    made (0600, never overwritten) only when `may_create`."""
    spec = settings.kek
    if spec is None:
        from lfr_ledger.eventlog.kek.file import create_kek_file, open_kek_file

        path = settings.default_kek_path
        if not path.exists() and may_create:
            try:
                create_kek_file(path)
            except KekError:
                pass  # another process made it meanwhile: it is this vault's KEK too
            except OSError as error:
                raise KekError(
                    f"cannot make the default KEK {path} beside the data folder "
                    f"({error.strerror}): set LFR_KEK (docs/operations.md, Key custody)"
                ) from None
        return open_kek_file(path, "the default key file (LFR_KEK unset)")
    return open_kek(spec, settings)


def open_kek(spec: KekSpec, settings: Settings) -> Kek:
    if spec.kind == "pkcs11":
        from lfr_ledger.eventlog.kek.pkcs11 import open_token_kek

        return open_token_kek(spec, read_pin(spec, settings))
    from lfr_ledger.eventlog.kek.file import open_kek_file

    return open_kek_file(kek_file_path(spec), f"LFR_KEK {spec.kind}")


def kek_file_path(spec: KekSpec) -> Path:
    assert spec.path is not None
    if spec.kind == "file":
        return spec.path
    credentials = os.environ.get("CREDENTIALS_DIRECTORY")
    if not credentials:
        raise KekError(
            f"LFR_KEK names systemd credential {spec.path}, but CREDENTIALS_DIRECTORY is unset: "
            f"add LoadCredential={spec.path}:/etc/lfr-ledger/kek to the unit, or use file:PATH"
        )
    return Path(credentials) / spec.path


def read_pin(spec: KekSpec, settings: Settings) -> str:
    """The token's PIN: the spec's pin-file, else LFR_KEK_PIN_FILE, else LFR_KEK_PIN."""
    pin_file = spec.pin_file or settings.kek_pin_file
    if pin_file is not None:
        try:
            pin = pin_file.read_text().strip()
        except OSError as error:
            raise KekError(
                f"the KEK's PIN file {pin_file} cannot be read ({error.strerror})"
            ) from None
        if not pin:
            raise KekError(f"the KEK's PIN file {pin_file} is empty")
        return pin
    if settings.kek_pin:
        return settings.kek_pin
    raise KekError(
        f"LFR_KEK names {spec.describe()} but no PIN is given: set LFR_KEK_PIN_FILE "
        "(a file only the service can read) or LFR_KEK_PIN"
    )

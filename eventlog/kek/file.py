"""A KEK held in a file: 32 random bytes, written as 64 hex digits, mode 0600, outside the
data folder. Wrapping is in-process AES-256-GCM (a few microseconds)."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from lfr_ledger.eventlog.kek import KEY_BYTES, NONCE, Kek, KekError, wrap_aad


def check_value(key: bytes) -> bytes:
    """The key's id: AES-ECB of a zero block, first 8 bytes (a token computes the same)."""
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return (encryptor.update(bytes(16)) + encryptor.finalize())[:8]


class FileKek(Kek):
    def __init__(self, key: bytes, description: str) -> None:
        self._aead = AESGCM(key)
        self.kek_id = check_value(key)
        self.description = description

    def wrap(self, key_id: UUID, key: bytes) -> bytes:
        nonce = os.urandom(NONCE)
        return nonce + self._aead.encrypt(nonce, key, wrap_aad(key_id))

    def unwrap(self, key_id: UUID, wrapped: bytes) -> bytes:
        try:
            return self._aead.decrypt(wrapped[:NONCE], wrapped[NONCE:], wrap_aad(key_id))
        except InvalidTag:
            raise KekError(f"{self.description} does not open the vault's key {key_id}") from None


def create_kek_file(path: Path) -> None:
    """A new KEK at `path`, readable by its owner alone from the first byte, and never over an
    existing file. Written aside, then linked into place: a process starting at the same moment
    finds either no file or a whole one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    aside = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}")
    fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(os.urandom(KEY_BYTES).hex() + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.link(aside, path)
    except FileExistsError:
        raise KekError(f"{path} already exists: a KEK is never overwritten") from None
    finally:
        aside.unlink(missing_ok=True)


def read_kek_file(path: Path, description: str) -> bytes:
    try:
        mode = path.stat().st_mode
        data = path.read_bytes()
    except FileNotFoundError:
        raise KekError(
            f"{description} {path} is absent: restore it from where the KEK is kept (without "
            "it the vault's keys open nothing), or set LFR_KEK"
        ) from None
    except OSError as error:
        raise KekError(
            f"{description} {path} cannot be read ({error.strerror}): make it readable by the "
            "user the service runs as, and by no one else (chmod 600)"
        ) from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KekError(f"{description} {path} can be read by other users: chmod 600 {path}")
    text = data.strip()
    if len(data) == KEY_BYTES:
        return data
    try:
        key = bytes.fromhex(text.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise KekError(
            f"{description} {path} is not a KEK (64 hex digits or 32 bytes): restore it from "
            "where the KEK is kept"
        )
    return key


def open_kek_file(path: Path, description: str) -> FileKek:
    return FileKek(read_kek_file(path, description), f"{description} {path}")

"""Ed25519-signed checkpoints of the hash chain: (last id, head) held outside the system.

The chain alone cannot reveal a tamperer who rewrites every link after the altered event, nor a
truncated tail. A checkpoint can: whoever holds it (and the public key) can later check that the
log still passes through that head at that id.

This module makes, keeps and checks checkpoints against the live log; the signed form itself and
the offline signature check are in `checkpoint_signature.py`.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from lfr_ledger.eventlog.chain.verify import ChainReport
from lfr_ledger.eventlog.chain.wiring import verify_ledger
from lfr_ledger.eventlog.checkpoint_signature import (
    CHECKPOINT_TYPE,
    CHECKPOINT_VERSION,
    CheckpointError,
    check_signature,
    key_id,
    sign,
)

if TYPE_CHECKING:
    from lfr_ledger.config.settings import Settings

KEY_FILE = "checkpoint_ed25519.pem"


def key_path(settings: Settings) -> Path:
    return settings.data_dir / "keys" / KEY_FILE


def load_or_create_signing_key(settings: Settings) -> Ed25519PrivateKey:
    """The ledger's checkpoint key, created on first use, readable by its owner only."""
    path = key_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # O_EXCL: two processes starting together must not overwrite each other's key.
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
        return key
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(loaded, Ed25519PrivateKey):
        raise CheckpointError(f"{path} does not hold an Ed25519 private key")
    return loaded


def make_checkpoint(
    settings: Settings,
    signing_key: Ed25519PrivateKey | None = None,
    *,
    events_table: str | None = None,
) -> dict[str, Any]:
    """Verify the whole log, then sign its head; a tampered log is never blessed."""
    key = signing_key or load_or_create_signing_key(settings)
    report = verify_ledger(settings, events_table=events_table)
    if not report.ok:
        raise CheckpointError(f"refusing to sign a broken log: {report.summary()}")
    checkpoint: dict[str, Any] = {
        "type": CHECKPOINT_TYPE,
        "version": CHECKPOINT_VERSION,
        "events_table": report.events_table,
        "last_id": report.last_id,
        "head": report.head,
        "events": report.events_checked,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "key_id": key_id(key.public_key()),
    }
    checkpoint["signature"] = sign(checkpoint, key)
    return checkpoint


def write_checkpoint(path: Path, checkpoint: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(checkpoint, indent=2, sort_keys=True) + "\n")


def checkpoints_dir(settings: Settings) -> Path:
    """Where this node keeps the checkpoints it signed, one file each, never overwritten."""
    return settings.data_dir / "checkpoints"


def save_checkpoint(settings: Settings, checkpoint: dict[str, Any]) -> Path:
    """Keeps `checkpoint` beside the earlier ones; the file is named by the id it covers."""
    path = checkpoints_dir(settings) / f"checkpoint-{int(checkpoint['last_id']):012d}.json"
    write_checkpoint(path, checkpoint)
    return path


def latest_checkpoint_path(settings: Settings) -> Path | None:
    found = sorted(checkpoints_dir(settings).glob("checkpoint-*.json"))
    return found[-1] if found else None


def sign_if_moved(settings: Settings) -> Path | None:
    """Signs and keeps a checkpoint when the log has grown since the latest one (the periodic
    job of `lfr serve`); None when nothing new was recorded."""
    latest = latest_checkpoint_path(settings)
    checkpoint = make_checkpoint(settings)
    if latest is not None and read_checkpoint(latest)["last_id"] == checkpoint["last_id"]:
        return None
    return save_checkpoint(settings, checkpoint)


def read_checkpoint(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise CheckpointError(f"cannot read checkpoint {path}: {e}") from e
    if not isinstance(data, dict):
        raise CheckpointError(f"{path} is not a checkpoint")
    return data


@dataclass(frozen=True)
class CheckpointReport:
    ok: bool
    signature_ok: bool
    extends: bool
    reason: str | None
    checkpoint_last_id: int | None
    checkpoint_head: str | None
    chain: ChainReport | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        if self.ok:
            return f"OK: the log extends checkpoint id {self.checkpoint_last_id}"
        if self.chain is not None and not self.chain.ok:
            return self.chain.summary()
        return f"CHECKPOINT REFUSED: {self.reason}"


def verify_checkpoint(
    settings: Settings,
    checkpoint: dict[str, Any],
    public_key: Ed25519PublicKey | None = None,
) -> CheckpointReport:
    """Signature valid AND the current log still passes through (last_id, head).

    `public_key` should come from outside the system (`lfr audit public-key` exported earlier);
    without it the ledger's own key is used, which proves less.
    """
    key = public_key or load_or_create_signing_key(settings).public_key()
    problem = check_signature(checkpoint, key)
    if problem is not None:
        return CheckpointReport(False, False, False, problem, None, None, None)
    last_id: int = checkpoint["last_id"]
    head: str = checkpoint["head"]
    try:
        head_bytes = bytes.fromhex(head)
    except ValueError:
        return CheckpointReport(False, True, False, "malformed head", last_id, head, None)
    chain = verify_ledger(
        settings,
        events_table=checkpoint["events_table"] or None,
        checkpoint=(last_id, head_bytes),
    )
    # Verification reaching the checkpointed id without a mismatch there means it matched.
    extends = chain.ok or (chain.last_id >= last_id and chain.reason != "checkpoint_mismatch")
    return CheckpointReport(chain.ok, True, extends, chain.reason, last_id, head, chain)

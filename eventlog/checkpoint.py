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
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from lfr_ledger.domain.clock import utcnow
from lfr_ledger.eventlog.chain.verify import ChainReport
from lfr_ledger.eventlog.chain.wiring import open_chain_reader, resolve_events_table, verify_ledger
from lfr_ledger.eventlog.checkpoint_signature import (
    CHECKPOINT_TYPE,
    CHECKPOINT_VERSION,
    CheckpointError,
    check_signature,
    key_id,
    previous_of,
    reference,
    sign,
    tree_of,
)
from lfr_ledger.eventlog.merkle import Frontier, ProofError
from lfr_ledger.eventlog.tree import BlockTable, grow

if TYPE_CHECKING:
    from lfr_ledger.config.settings import Settings

KEY_FILE = "checkpoint_ed25519.pem"


def key_path(settings: Settings) -> Path:
    return settings.data_dir / "keys" / KEY_FILE


def load_or_create_signing_key(settings: Settings) -> Ed25519PrivateKey:
    """The ledger's checkpoint key, created on first use, readable by its owner only."""
    return load_or_create_key(key_path(settings))


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    """The Ed25519 key kept at `path` (the ledger's, a witness's), created on first use."""
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
    full: bool = False,
) -> dict[str, Any]:
    """Verify the log, then sign its head; a tampered log is never blessed.

    The checkpoint extends the latest one this key signed for the same log: only the events
    after it are verified (its head checked against the stored link first), and it is named in
    the signed "previous" field. Without one, or with `full`, the whole log is verified (still
    required to pass through the predecessor's head). When nothing was recorded since the
    predecessor, the predecessor itself is returned: it already covers the head."""
    key = signing_key or load_or_create_signing_key(settings)
    table = resolve_events_table(settings, events_table)
    found = _predecessor(settings, key.public_key(), table)
    previous = found[1] if found else None
    anchor = (previous["last_id"], bytes.fromhex(previous["head"])) if previous else None
    if previous is None or full:
        report = verify_ledger(settings, events_table=table, checkpoint=anchor)
        events = report.events_checked
    elif table is None:
        report = verify_ledger(settings, events_table=previous["events_table"], start=anchor)
        events = 0
    else:
        report = verify_ledger(settings, events_table=table, start=anchor)
        events = int(previous["events"]) + report.events_checked
    if not report.ok:
        at_previous = previous is not None and report.first_bad_id == previous["last_id"]
        if previous is not None and (report.reason == "checkpoint_mismatch" or at_previous):
            raise CheckpointError(
                f"refusing to extend checkpoint id {previous['last_id']}: the log no longer "
                f"passes through its head ({report.summary()})"
            )
        raise CheckpointError(f"refusing to sign a broken log: {report.summary()}")
    if previous is not None and report.last_id == previous["last_id"]:
        return previous
    tree = _grow_tree(settings, report.events_table, previous, report.last_id, rebuild=full)
    checkpoint: dict[str, Any] = {
        "type": CHECKPOINT_TYPE,
        "version": CHECKPOINT_VERSION,
        "events_table": report.events_table,
        "last_id": report.last_id,
        "head": report.head,
        "events": events,
        "created_at": utcnow().isoformat(timespec="seconds"),
        "key_id": key_id(key.public_key()),
        "previous": reference(previous) if previous is not None else None,
        "tree_size": tree.size,
        "root": tree.root().hex(),
    }
    checkpoint["signature"] = sign(checkpoint, key)
    checkpoint["frontier"] = tree.to_hex()  # unsigned: the next checkpoint checks it folds
    return checkpoint


def _grow_tree(
    settings: Settings,
    events_table: str,
    previous: dict[str, Any] | None,
    through: int,
    *,
    rebuild: bool,
) -> Frontier:
    """The Merkle tree over the links through id `through`, and its new full blocks kept.

    Extended from the predecessor's frontier (once it folds to the predecessor's signed root),
    so the cost follows what was recorded since; rebuilt from the first link without a rooted
    predecessor, or with `rebuild` (`--full`), and then required to pass through the
    predecessor's root at its size: the links under a checkpoint cannot have changed."""
    signed = tree_of(previous) if previous is not None else None
    with open_chain_reader(settings, events_table) as reader:
        if signed is not None and not rebuild:
            assert previous is not None
            try:
                tree = Frontier.from_hex(signed[0], previous.get("frontier") or [])
            except ProofError as e:
                raise CheckpointError(
                    f"refusing to extend checkpoint id {previous['last_id']}: {e}"
                ) from e
            if tree.root() != signed[1]:
                raise CheckpointError(
                    f"refusing to extend checkpoint id {previous['last_id']}: its kept frontier "
                    "does not fold to its signed root (run with --full to rebuild the tree)"
                )
            blocks, _ = grow(reader, tree, previous["last_id"], through)
        else:
            tree = Frontier()
            blocks, matched = grow(reader, tree, 0, through, check=signed)
            if not matched:
                assert previous is not None and signed is not None
                raise CheckpointError(
                    f"refusing to extend checkpoint id {previous['last_id']}: the tree over "
                    f"today's links no longer has its signed root at size {signed[0]}"
                )
        BlockTable(reader).write(blocks)
    return tree


def _predecessor(
    settings: Settings, public_key: Ed25519PublicKey, events_table: str | None
) -> tuple[Path, dict[str, Any]] | None:
    """The latest checkpoint kept here that `public_key` signed for `events_table`.

    Another key's checkpoints (a rotated key, a stranger's) are no predecessor: the new one is
    then a first checkpoint. One that claims this key but fails its signature is refused
    rather than skipped: someone edited the folder, and extending an older one would hide it."""
    for path, checkpoint in kept_checkpoints(settings, newest_first=True):
        # No table left: any checkpoint of ours says a ledger existed, so it must be found.
        if events_table is not None and checkpoint.get("events_table") != events_table:
            continue
        if checkpoint.get("key_id") != key_id(public_key):
            return None
        problem = check_signature(checkpoint, public_key)
        if problem is not None:
            raise CheckpointError(f"refusing to extend {path.name}: {problem}")
        return path, checkpoint
    return None


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


def kept_checkpoints(
    settings: Settings, *, newest_first: bool = False
) -> Iterator[tuple[Path, dict[str, Any]]]:
    """The checkpoints kept here, read lazily in id order (file names sort by id)."""
    found = sorted(checkpoints_dir(settings).glob("checkpoint-*.json"), reverse=newest_first)
    for path in found:
        yield path, read_checkpoint(path)


def sign_if_moved(settings: Settings) -> Path | None:
    """Signs and keeps a checkpoint when the log has grown since the latest one (the periodic
    job of `lfr serve`); None when nothing new was recorded. It extends the latest one, so
    its cost follows what was recorded since, not the size of the log."""
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
    # True: the chain was recomputed from genesis through the checkpoint; False: only after it.
    full: bool = True
    name: str | None = None
    previous_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        if self.ok and self.chain is not None and not self.full:
            label = f" {self.name}" if self.name else ""
            return (
                f"OK: verified {self.chain.events_checked} events since checkpoint{label} "
                f"(id {self.checkpoint_last_id}), last id {self.chain.last_id}, "
                f"head {self.chain.head}"
            )
        if self.ok and self.chain is not None:
            return (
                f"{self.chain.summary()}; the log extends checkpoint id {self.checkpoint_last_id}"
            )
        if self.ok:
            return f"OK: the log extends checkpoint id {self.checkpoint_last_id}"
        if self.chain is not None and not self.chain.ok:
            return self.chain.summary()
        return f"CHECKPOINT REFUSED: {self.reason}"


def verify_checkpoint(
    settings: Settings,
    checkpoint: dict[str, Any],
    public_key: Ed25519PublicKey | None = None,
    *,
    full: bool = True,
    name: str | None = None,
) -> CheckpointReport:
    """Signature valid AND the current log still passes through (last_id, head).

    With `full` the chain is recomputed from genesis through the checkpoint; without, only the
    events after it are, once its head is found at its id (the stored link holds it and the
    event there still hashes to it): an event altered before the checkpoint is then not looked
    at, by design, since the signed head vouches for it. `public_key` should come from outside
    the system (`lfr audit public-key` exported earlier); without it the ledger's own key is
    used, which proves less. `name` labels the checkpoint in the summary (its file name).
    """
    key = public_key or load_or_create_signing_key(settings).public_key()
    problem = check_signature(checkpoint, key)
    previous = previous_of(checkpoint)
    previous_id = int(previous["last_id"]) if previous else None
    if problem is not None:
        return CheckpointReport(False, False, False, problem, None, None, None, full, name)
    last_id: int = checkpoint["last_id"]
    head: str = checkpoint["head"]
    try:
        head_bytes = bytes.fromhex(head)
    except ValueError:
        return CheckpointReport(
            False, True, False, "malformed head", last_id, head, None, full, name, previous_id
        )
    table = checkpoint["events_table"] or None
    if full:
        chain = verify_ledger(settings, events_table=table, checkpoint=(last_id, head_bytes))
        # Verification reaching the checkpointed id without a mismatch there means it matched.
        extends = chain.ok or (chain.last_id >= last_id and chain.reason != "checkpoint_mismatch")
    else:
        chain = verify_ledger(settings, events_table=table, start=(last_id, head_bytes))
        # Only a failure after the checkpoint's own id leaves the log passing through its head.
        extends = chain.ok or (chain.first_bad_id or 0) > last_id
    return CheckpointReport(
        chain.ok, True, extends, chain.reason, last_id, head, chain, full, name, previous_id
    )

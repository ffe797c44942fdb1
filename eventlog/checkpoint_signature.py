"""A checkpoint's signed form: which fields the signature covers, how keys are named and encoded,
and the signature check.

Kept apart from `checkpoint.py`, which verifies the live log before signing it and so needs the
database: an outside body checks a bundle's checkpoint offline, on its own machine, with no
database driver and no ledger, and the bundle verifier imports this module alone for it.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

CHECKPOINT_TYPE = "lfr-ledger/checkpoint"
# Version 2 names the checkpoint it extends ("previous"); version 1 files, signed before, stay
# readable and count as first checkpoints (verified from genesis when they were made). Version 3
# also signs the Merkle tree over the links (`merkle.py`): its size and root, so a rewritten past
# changes what was signed; versions 1 and 2 still verify, by their head alone.
CHECKPOINT_VERSION = 3
VERSIONS = (1, 2, 3)
# Fields covered by the signature; anything else in the file is ignored, nothing unsigned is used.
SIGNED_FIELDS = (
    "type",
    "version",
    "events_table",
    "last_id",
    "head",
    "events",
    "created_at",
    "key_id",
)
# "previous": null for a first checkpoint, else {"last_id", "head", "digest"} of the one it
# extends, so the checkpoints themselves form a chain an outside body can check.
SIGNED_FIELDS_V2 = (*SIGNED_FIELDS, "previous")
# "tree_size": leaves (events) in the tree, "root": its RFC 9162 root (hex). The frontier that
# lets the next checkpoint extend the tree is kept beside them, unsigned: it must fold to "root".
SIGNED_FIELDS_V3 = (*SIGNED_FIELDS_V2, "tree_size", "root")


class CheckpointError(Exception):
    """A checkpoint could not be made (the log does not verify) or read."""


def _raw_public(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public_key: Ed25519PublicKey) -> str:
    """Short fingerprint naming the key in a checkpoint (SHA-256 of the raw key, 16 hex)."""
    return hashlib.sha256(_raw_public(public_key)).hexdigest()[:16]


def public_key_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise CheckpointError("not an Ed25519 public key")
    return key


def _signed_fields(checkpoint: dict[str, Any]) -> tuple[str, ...]:
    version = checkpoint.get("version")
    if version == 1:
        return SIGNED_FIELDS
    return SIGNED_FIELDS_V2 if version == 2 else SIGNED_FIELDS_V3


def _signed_bytes(checkpoint: dict[str, Any]) -> bytes:
    body = {name: checkpoint[name] for name in _signed_fields(checkpoint)}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def checkpoint_digest(checkpoint: dict[str, Any]) -> str:
    """SHA-256 (hex) of what the signature covers: names one checkpoint in its successor."""
    return hashlib.sha256(_signed_bytes(checkpoint)).hexdigest()


def previous_of(checkpoint: dict[str, Any]) -> dict[str, Any] | None:
    """What a checkpoint says it extends; None for a first one (and every version 1 file)."""
    previous = checkpoint.get("previous") if checkpoint.get("version") != 1 else None
    return previous if isinstance(previous, dict) else None


def reference(checkpoint: dict[str, Any]) -> dict[str, Any]:
    """How a successor names `checkpoint` in its "previous" field."""
    return {
        "last_id": checkpoint["last_id"],
        "head": checkpoint["head"],
        "digest": checkpoint_digest(checkpoint),
    }


def sign(checkpoint: dict[str, Any], signing_key: Ed25519PrivateKey) -> str:
    """The signature over `checkpoint`'s SIGNED_FIELDS, base64, as the file stores it."""
    return base64.b64encode(signing_key.sign(_signed_bytes(checkpoint))).decode()


def check_signature(checkpoint: dict[str, Any], public_key: Ed25519PublicKey) -> str | None:
    """None when the checkpoint is well formed and signed by `public_key`, else why not."""
    if checkpoint.get("type") != CHECKPOINT_TYPE or checkpoint.get("version") not in VERSIONS:
        return "not an lfr-ledger checkpoint (version 1, 2 or 3)"
    missing = [
        name for name in (*_signed_fields(checkpoint), "signature") if name not in checkpoint
    ]
    if missing:
        return f"missing fields: {', '.join(missing)}"
    if checkpoint["key_id"] != key_id(public_key):
        return f"signed by unknown key {checkpoint['key_id']!r}"
    try:
        public_key.verify(base64.b64decode(checkpoint["signature"]), _signed_bytes(checkpoint))
    except (InvalidSignature, ValueError):
        return "bad signature"
    if not isinstance(checkpoint["last_id"], int) or not isinstance(checkpoint["head"], str):
        return "malformed last_id or head"
    previous = checkpoint.get("previous") if checkpoint["version"] != 1 else None
    if previous is not None and not (
        isinstance(previous, dict)
        and isinstance(previous.get("last_id"), int)
        and isinstance(previous.get("head"), str)
        and isinstance(previous.get("digest"), str)
        and previous["last_id"] < checkpoint["last_id"]
    ):
        return "malformed previous"
    if checkpoint["version"] >= 3 and tree_of(checkpoint) is None:
        return "malformed tree_size or root"
    return None


def tree_of(checkpoint: dict[str, Any]) -> tuple[int, bytes] | None:
    """The signed (tree size, root) of a version 3 checkpoint; None for earlier ones (or a
    malformed one, which `check_signature` refuses)."""
    size, root = checkpoint.get("tree_size"), checkpoint.get("root")
    if checkpoint.get("version") in (1, 2) or not isinstance(size, int) or size < 0:
        return None
    if not isinstance(root, str) or len(root) != 64:
        return None
    try:
        return size, bytes.fromhex(root)
    except ValueError:
        return None


def check_checkpoint_chain(
    checkpoints: Sequence[dict[str, Any]], public_key: Ed25519PublicKey
) -> str | None:
    """None when every checkpoint is signed by `public_key` and each one that extends another
    names one in `checkpoints` exactly (digest, id and head); else what is wrong. A first
    checkpoint (no "previous") starts a chain: it was made by verifying the log from genesis.
    Offline: needs neither the log nor a database."""
    by_digest: dict[str, dict[str, Any]] = {}
    for checkpoint in checkpoints:
        problem = check_signature(checkpoint, public_key)
        if problem is not None:
            return f"checkpoint at id {checkpoint.get('last_id')}: {problem}"
        by_digest[checkpoint_digest(checkpoint)] = checkpoint
    for checkpoint in checkpoints:
        previous = previous_of(checkpoint)
        if previous is None:
            continue
        extended = by_digest.get(previous["digest"])
        if extended is None:
            return (
                f"checkpoint at id {checkpoint['last_id']} extends one not among them "
                f"(id {previous['last_id']})"
            )
        if (extended["last_id"], extended["head"]) != (previous["last_id"], previous["head"]):
            return f"checkpoint at id {checkpoint['last_id']} misnames the one it extends"
        if extended["events_table"] != checkpoint["events_table"]:
            return f"checkpoint at id {checkpoint['last_id']} extends another log's checkpoint"
    return None

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
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

CHECKPOINT_TYPE = "lfr-ledger/checkpoint"
CHECKPOINT_VERSION = 1
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


def _signed_bytes(checkpoint: dict[str, Any]) -> bytes:
    body = {name: checkpoint[name] for name in SIGNED_FIELDS}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def sign(checkpoint: dict[str, Any], signing_key: Ed25519PrivateKey) -> str:
    """The signature over `checkpoint`'s SIGNED_FIELDS, base64, as the file stores it."""
    return base64.b64encode(signing_key.sign(_signed_bytes(checkpoint))).decode()


def check_signature(checkpoint: dict[str, Any], public_key: Ed25519PublicKey) -> str | None:
    """None when the checkpoint is well formed and signed by `public_key`, else why not."""
    if checkpoint.get("type") != CHECKPOINT_TYPE or checkpoint.get("version") != 1:
        return "not an lfr-ledger checkpoint (version 1)"
    missing = [name for name in (*SIGNED_FIELDS, "signature") if name not in checkpoint]
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
    return None

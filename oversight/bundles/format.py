"""The bundle's files and their canonical encoding, shared by the writer and the verifier."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

BUNDLE_TYPE = "lfr-ledger/oversight-bundle"
BUNDLE_VERSION = 1
EVENTS_FILE = "events.jsonl"
CHAIN_FILE = "chain.jsonl"
CHECKPOINT_FILE = "checkpoint.json"
KEY_FILE = "public_key.pem"
MANIFEST_FILE = "manifest.json"
HASHED_FILES = (EVENTS_FILE, CHAIN_FILE, CHECKPOINT_FILE, KEY_FILE)


class BundleError(Exception):
    """A bundle could not be written (empty ledger, output in the way, broken log)."""


def canonical(data: dict[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


def sign_manifest(manifest: dict[str, Any], key: Ed25519PrivateKey) -> None:
    body = {k: v for k, v in manifest.items() if k != "signature"}
    manifest["signature"] = base64.b64encode(key.sign(canonical(body))).decode()


def jsonl_line(data: dict[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode() + b"\n"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()

"""An evaluation report's signed file: written in one canonical form, signed with the ledger's
Ed25519 key (the checkpoint key: `eventlog/checkpoint.py` keeps it, `checkpoint_signature.py`
names it), and checked offline.

The signature covers the report without its `signature` member, as compact sorted JSON. The
file must also be exactly the canonical rendering of what it holds, so changing any byte of it
(a digit, a space, the order of two keys) fails the check, and the report's SHA-256, which the
governance register records, names one file only.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from lfr_ledger.eventlog.checkpoint_signature import key_id, public_key_pem

REPORT_TYPE = "lfr-ledger/model-evaluation"
REPORT_VERSION = 1
ALGORITHM = "Ed25519"


def _body_bytes(report: dict[str, Any]) -> bytes:
    body = {name: value for name, value in report.items() if name != "signature"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def render(report: dict[str, Any]) -> bytes:
    """The one form a report file takes: indented, sorted, UTF-8, one final newline."""
    text = json.dumps(report, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)
    return (text + "\n").encode()


def sign_report(report: dict[str, Any], signing_key: Ed25519PrivateKey) -> dict[str, Any]:
    """`report` with its signature: the key's id and public key, and the signature (base64)."""
    public_key = signing_key.public_key()
    unsigned = {name: value for name, value in report.items() if name != "signature"}
    signature = base64.b64encode(signing_key.sign(_body_bytes(unsigned))).decode()
    return {
        **unsigned,
        "signature": {
            "algorithm": ALGORITHM,
            "key_id": key_id(public_key),
            "public_key": public_key_pem(public_key),
            "value": signature,
        },
    }


def write_report(path: Path, report: dict[str, Any]) -> str:
    """Writes the signed report; returns its SHA-256 (hex), the digest the register records."""
    data = render(report)
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def report_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_report(data: bytes, public_key: Ed25519PublicKey) -> tuple[dict[str, Any] | None, str]:
    """The report and "" when `data` is a report signed by `public_key` and unaltered; else
    None (or the report, when only its signature fails) and why not."""
    try:
        report = json.loads(data.decode())
    except (UnicodeDecodeError, ValueError):
        return None, "not a JSON document (the file was altered or is not a report)"
    if not isinstance(report, dict) or report.get("type") != REPORT_TYPE:
        return None, f"not an lfr-ledger evaluation report ({REPORT_TYPE})"
    if report.get("version") != REPORT_VERSION:
        return None, f"report version {report.get('version')!r} is not {REPORT_VERSION}"
    signature = report.get("signature")
    if not isinstance(signature, dict) or not isinstance(signature.get("value"), str):
        return report, "the report is not signed"
    if signature.get("algorithm") != ALGORITHM:
        return report, f"signed with {signature.get('algorithm')!r}, not {ALGORITHM}"
    if signature.get("key_id") != key_id(public_key):
        # The embedded public key only says who claims to have signed; trust comes from outside.
        return report, f"signed by key {signature.get('key_id')!r}, not {key_id(public_key)}"
    try:
        public_key.verify(base64.b64decode(signature["value"]), _body_bytes(report))
    except (InvalidSignature, ValueError):
        return report, "bad signature: the report was altered after it was signed"
    if render(report) != data:
        return report, "the file is not as written (its bytes differ from the signed report)"
    return report, ""

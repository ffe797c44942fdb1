"""What a ledger and its witnesses agree on: the routes, the countersignature, and the rule a
witness applies before it countersigns.

The rule (RFC 9162 §2.1.4): a witness that holds a checkpoint of a ledger at tree size m with
root r_m countersigns a new one at size n ≥ m with root r_n only with a consistency proof from
(m, r_m) to (n, r_n), made by the ledger from its links. The proof is O(log n) hashes; it shows
the first m leaves are unchanged, so a rewritten past can never be witnessed again (the insider
would have to find a SHA-256 collision). The first checkpoint a witness sees of a ledger is
taken as it is, and pins the ledger's signing key.

Routes (JSON; refusals are problem details):
  GET  /v1/key                                  the witness's public key
  GET  /v1/ledgers/{name}                       the latest checkpoint witnessed (404: none)
  GET  /v1/ledgers/{name}/checkpoints?after_size=&limit=   witnessed, by size, countersigned
  POST /v1/ledgers/{name}/checkpoints           {checkpoint, public_key_pem, from_size,
                                                 consistency: [hex]} → 201 / 200 {cosignature}
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from lfr_ledger.eventlog.checkpoint_signature import checkpoint_digest, key_id, tree_of

COSIGNATURE_TYPE = "lfr-ledger/witness-cosignature"
# The statement a witness signs: the ledger's checkpoint as it was sent (its digest), the tree
# it signs, and when the witness saw it.
STATEMENT_FIELDS = (
    "type",
    "ledger",
    "events_table",
    "last_id",
    "tree_size",
    "root",
    "checkpoint_digest",
    "witnessed_at",
    "witness_key_id",
)
LEDGER_NAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# A witness's problem types, as the ledger reads them back.
INCONSISTENT = "inconsistent"  # the tree does not extend what the witness holds: tampering
SUPERSEDED = "superseded"  # older than the latest witnessed: nothing to do
STALE = "stale"  # the proof starts from another size than the witness holds: ask again
MAX_PAGE = 1000


def statement(
    ledger: str, checkpoint: dict[str, Any], witnessed_at: str, witness_key: Ed25519PublicKey
) -> dict[str, Any]:
    tree = tree_of(checkpoint)
    if tree is None:
        raise ValueError("only a checkpoint that signs a tree (version 3) is witnessed")
    return {
        "type": COSIGNATURE_TYPE,
        "ledger": ledger,
        "events_table": checkpoint["events_table"],
        "last_id": checkpoint["last_id"],
        "tree_size": tree[0],
        "root": tree[1].hex(),
        "checkpoint_digest": checkpoint_digest(checkpoint),
        "witnessed_at": witnessed_at,
        "witness_key_id": key_id(witness_key),
    }


def _statement_bytes(cosignature: dict[str, Any]) -> bytes:
    body = {name: cosignature[name] for name in STATEMENT_FIELDS}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def cosign(body: dict[str, Any], witness_key: Ed25519PrivateKey) -> dict[str, Any]:
    signature = base64.b64encode(witness_key.sign(_statement_bytes(body))).decode()
    return {**body, "signature": signature}


def check_cosignature(cosignature: dict[str, Any], witness_key: Ed25519PublicKey) -> str | None:
    """None when `cosignature` is a well-formed statement signed by `witness_key`."""
    missing = [n for n in (*STATEMENT_FIELDS, "signature") if n not in cosignature]
    if missing:
        return f"missing fields: {', '.join(missing)}"
    if cosignature["type"] != COSIGNATURE_TYPE:
        return "not a witness countersignature"
    if cosignature["witness_key_id"] != key_id(witness_key):
        return f"countersigned by unknown key {cosignature['witness_key_id']!r}"
    try:
        witness_key.verify(
            base64.b64decode(cosignature["signature"]), _statement_bytes(cosignature)
        )
    except (InvalidSignature, ValueError):
        return "bad countersignature"
    return None

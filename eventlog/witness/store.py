"""A witness's own store: the checkpoints it countersigned, per ledger, append-only (SQLite, in
the witness's own data directory, with triggers that refuse any UPDATE or DELETE), and its own
Ed25519 key. `submit` applies the rule of `protocol.py` and countersigns; the HTTP app around
it is `api/witness.py`."""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lfr_ledger.domain.clock import utcnow
from lfr_ledger.eventlog.checkpoint import load_or_create_key
from lfr_ledger.eventlog.checkpoint_signature import (
    CheckpointError,
    check_signature,
    checkpoint_digest,
    key_id,
    load_public_key,
    public_key_pem,
    tree_of,
)
from lfr_ledger.eventlog.merkle import ProofError, verify_consistency
from lfr_ledger.eventlog.witness.protocol import (
    INCONSISTENT,
    LEDGER_NAME,
    MAX_PAGE,
    STALE,
    SUPERSEDED,
    cosign,
    statement,
)

KEY_FILE = "witness_ed25519.pem"
DB_FILE = "witness.sqlite"

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS ledgers (name TEXT PRIMARY KEY, key_id TEXT NOT NULL, "
    "public_key_pem TEXT NOT NULL, events_table TEXT NOT NULL, first_seen_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS witnessed (ledger TEXT NOT NULL, tree_size INTEGER NOT NULL, "
    "root TEXT NOT NULL, last_id INTEGER NOT NULL, digest TEXT NOT NULL, "
    "checkpoint TEXT NOT NULL, cosignature TEXT NOT NULL, witnessed_at TEXT NOT NULL, "
    "PRIMARY KEY (ledger, tree_size))",
    *(
        f"CREATE TRIGGER IF NOT EXISTS {table}_append_only_{verb} BEFORE {verb} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, 'the witness store is append-only'); END"
        for table in ("ledgers", "witnessed")
        for verb in ("UPDATE", "DELETE")
    ),
)


class WitnessRefusal(Exception):
    """A submission the witness will not countersign; `kind` is its problem type."""

    def __init__(self, status: int, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.kind = kind
        self.detail = detail


@dataclass(frozen=True)
class Witnessed:
    ledger: str
    tree_size: int
    root: str
    last_id: int
    digest: str
    witnessed_at: str
    cosignature: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "ledger": self.ledger,
            "tree_size": self.tree_size,
            "root": self.root,
            "last_id": self.last_id,
            "checkpoint_digest": self.digest,
            "witnessed_at": self.witnessed_at,
            "cosignature": self.cosignature,
        }


class WitnessStore:
    def __init__(self, data_dir: Path, *, pinned: dict[str, str] | None = None) -> None:
        """`pinned`: ledger name → public key PEM the operator registered; with it, only those
        ledgers are witnessed (without, a ledger's first checkpoint pins its key)."""
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.key = load_or_create_key(data_dir / KEY_FILE)
        self.public_key = self.key.public_key()
        self.pinned = pinned
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(
            data_dir / DB_FILE, isolation_level=None, check_same_thread=False, timeout=30
        )
        self._conn.execute("PRAGMA journal_mode=WAL")
        for ddl in _SCHEMA:
            self._conn.execute(ddl)

    def close(self) -> None:
        self._conn.close()

    def key_document(self) -> dict[str, str]:
        return {
            "key_id": key_id(self.public_key),
            "public_key_pem": public_key_pem(self.public_key),
        }

    def latest(self, ledger: str) -> Witnessed | None:
        found = self.page(ledger, after_size=-1, limit=1, newest=True)
        return found[0] if found else None

    def page(
        self, ledger: str, *, after_size: int = -1, limit: int = MAX_PAGE, newest: bool = False
    ) -> list[Witnessed]:
        _check_name(ledger)
        order = "DESC" if newest else "ASC"
        with self._lock:
            rows = self._conn.execute(
                "SELECT ledger, tree_size, root, last_id, digest, witnessed_at, cosignature "
                f"FROM witnessed WHERE ledger = ? AND tree_size > ? ORDER BY tree_size {order} "
                "LIMIT ?",
                (ledger, after_size, max(1, min(limit, MAX_PAGE))),
            ).fetchall()
        return [_witnessed(r) for r in rows]

    def submit(self, ledger: str, body: Any) -> tuple[int, Witnessed]:
        """Countersigns the submitted checkpoint (201), or gives what is already held for it
        (200); WitnessRefusal otherwise."""
        _check_name(ledger)
        checkpoint, pem, from_size, proof = _parse(body)
        try:
            public_key = load_public_key(pem.encode())
        except (CheckpointError, ValueError) as e:
            raise WitnessRefusal(422, "malformed", f"public_key_pem: {e}") from None
        problem = check_signature(checkpoint, public_key)
        tree = tree_of(checkpoint)
        if problem is not None or tree is None:
            why = problem or "not a checkpoint that signs a tree (version 3)"
            raise WitnessRefusal(422, "bad-checkpoint", f"the checkpoint is refused: {why}")
        size, root = tree
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                found = self._submit(ledger, checkpoint, public_key, size, root, from_size, proof)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
        return found

    def _submit(
        self,
        ledger: str,
        checkpoint: dict[str, Any],
        public_key: Any,
        size: int,
        root: bytes,
        from_size: int,
        proof: list[bytes],
    ) -> tuple[int, Witnessed]:
        self._check_key(ledger, checkpoint, public_key)
        row = self._conn.execute(
            "SELECT tree_size, root FROM witnessed WHERE ledger = ? "
            "ORDER BY tree_size DESC LIMIT 1",
            (ledger,),
        ).fetchone()
        if row is not None:
            held_size, held_root = int(row[0]), bytes.fromhex(row[1])
            same = self._conn.execute(
                "SELECT ledger, tree_size, root, last_id, digest, witnessed_at, cosignature "
                "FROM witnessed WHERE ledger = ? AND tree_size = ? AND root = ?",
                (ledger, size, root.hex()),
            ).fetchone()
            if same is not None:  # sent again (a retry): what is held for it
                return 200, _witnessed(same)
            other = self._conn.execute(
                "SELECT root FROM witnessed WHERE ledger = ? AND tree_size = ?", (ledger, size)
            ).fetchone()
            if other is not None:
                raise WitnessRefusal(
                    409, INCONSISTENT, f"at tree size {size} the witness holds root {other[0]}"
                )
            if size < held_size:
                raise WitnessRefusal(
                    409, SUPERSEDED, f"the witness already holds a later tree (size {held_size})"
                )
            if from_size != held_size:
                raise WitnessRefusal(
                    409, STALE, f"the proof starts at size {from_size}; held: size {held_size}"
                )
            try:
                verify_consistency(held_size, size, held_root, root, proof)
            except ProofError as e:
                raise WitnessRefusal(
                    409,
                    INCONSISTENT,
                    f"the tree at size {size} does not extend the one witnessed at size "
                    f"{held_size} (root {held_root.hex()}): {e}",
                ) from None
        witnessed_at = utcnow().isoformat(timespec="seconds")
        cosignature = cosign(statement(ledger, checkpoint, witnessed_at, self.public_key), self.key)
        self._conn.execute(
            "INSERT INTO witnessed VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                ledger,
                size,
                root.hex(),
                checkpoint["last_id"],
                checkpoint_digest(checkpoint),
                json.dumps(checkpoint, sort_keys=True),
                json.dumps(cosignature, sort_keys=True),
                witnessed_at,
            ),
        )
        digest = checkpoint_digest(checkpoint)
        return 201, Witnessed(
            ledger, size, root.hex(), checkpoint["last_id"], digest, witnessed_at, cosignature
        )

    def _check_key(self, ledger: str, checkpoint: dict[str, Any], public_key: Any) -> None:
        """The ledger's key: the one the operator pinned, or the one its first checkpoint
        came with; a checkpoint under another key (or for another events table) is refused."""
        if self.pinned is not None:
            pem = self.pinned.get(ledger)
            if pem is None:
                raise WitnessRefusal(403, "unknown-ledger", f"this witness does not hold {ledger}")
            if key_id(load_public_key(pem.encode())) != key_id(public_key):
                raise WitnessRefusal(409, "wrong-key", f"{ledger} is pinned to another key")
        row = self._conn.execute(
            "SELECT key_id, events_table FROM ledgers WHERE name = ?", (ledger,)
        ).fetchone()
        if row is None:
            self._conn.execute(
                "INSERT INTO ledgers VALUES (?, ?, ?, ?, ?)",
                (
                    ledger,
                    key_id(public_key),
                    public_key_pem(public_key),
                    checkpoint["events_table"],
                    utcnow().isoformat(timespec="seconds"),
                ),
            )
            return
        if row[0] != key_id(public_key):
            raise WitnessRefusal(
                409,
                "wrong-key",
                f"{ledger}'s checkpoints are signed by key {row[0]}, not {key_id(public_key)}",
            )
        if row[1] != checkpoint["events_table"]:
            raise WitnessRefusal(409, "wrong-log", f"{ledger} is the log {row[1]}")


def _witnessed(row: Any) -> Witnessed:
    ledger, size, root, last_id, digest, at, cosignature = row
    return Witnessed(ledger, int(size), root, int(last_id), digest, at, json.loads(cosignature))


def _check_name(ledger: str) -> None:
    if not LEDGER_NAME.match(ledger):
        raise WitnessRefusal(400, "bad-ledger-name", "a ledger name is 1-64 of [A-Za-z0-9._-]")


def _parse(body: Any) -> tuple[dict[str, Any], str, int, list[bytes]]:
    if not isinstance(body, dict):
        raise WitnessRefusal(422, "malformed", "the body is a JSON object")
    checkpoint, pem = body.get("checkpoint"), body.get("public_key_pem")
    from_size, proof = body.get("from_size", 0), body.get("consistency", [])
    if not isinstance(checkpoint, dict) or not isinstance(pem, str):
        raise WitnessRefusal(422, "malformed", "checkpoint (object) and public_key_pem required")
    if not isinstance(from_size, int) or not isinstance(proof, list) or len(proof) > 128:
        raise WitnessRefusal(422, "malformed", "from_size (int) and consistency (hex list)")
    try:
        hashes = [bytes.fromhex(h) for h in proof]
    except (TypeError, ValueError):
        raise WitnessRefusal(422, "malformed", "consistency: a list of hex hashes") from None
    if any(len(h) != 32 for h in hashes):
        raise WitnessRefusal(422, "malformed", "consistency: 32-byte hashes")
    return checkpoint, pem, from_size, hashes

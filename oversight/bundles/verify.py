"""Verifying a bundle offline: recompute every link from genesis to the signed head and name the
first record that was altered, removed, inserted or moved. Needs no database and no keys but the
public one, so an outside body can run it on its own machine."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from lfr_ledger.eventlog.chain.hashing import GENESIS, HASH_LEN, chain_hash, link_hash
from lfr_ledger.eventlog.checkpoint_signature import (
    check_signature,
    key_id,
    load_public_key,
)
from lfr_ledger.oversight.bundles.format import (
    BUNDLE_TYPE,
    BUNDLE_VERSION,
    CHAIN_FILE,
    CHECKPOINT_FILE,
    EVENTS_FILE,
    HASHED_FILES,
    KEY_FILE,
    MANIFEST_FILE,
    canonical,
    sha256_file,
)


@dataclass(frozen=True)
class Tampered:
    """The first thing found wrong: which file, which line (1-based), which event."""

    file: str
    reason: str
    detail: str
    line: int | None = None
    notification_id: int | None = None


@dataclass
class BundleReport:
    ok: bool
    scope: dict[str, Any] = field(default_factory=dict)
    events_verified: int = 0
    links_verified: int = 0
    last_id: int | None = None
    head: str | None = None
    key_id: str | None = None
    trusted_key: bool = False
    first_bad: Tampered | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        if self.ok:
            trust = (
                "the key you supplied"
                if self.trusted_key
                else "the bundled key (supply a trusted one with --public-key)"
            )
            return (
                f"OK: {self.events_verified} events and {self.links_verified} chain links "
                f"verified up to id {self.last_id}, head {self.head}, signed by {trust}"
            )
        bad = self.first_bad
        assert bad is not None
        where = bad.file
        if bad.line is not None:
            where += f" line {bad.line}"
        if bad.notification_id is not None:
            where += f" (notification id {bad.notification_id})"
        return f"TAMPERED: {where}: {bad.reason}: {bad.detail}"


class _Bad(Exception):
    def __init__(self, tampered: Tampered) -> None:
        super().__init__(tampered.detail)
        self.tampered = tampered


def _fail(
    file: str, reason: str, detail: str, line: int | None = None, nid: int | None = None
) -> _Bad:
    return _Bad(Tampered(file, reason, detail, line, nid))


def _jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    name = path.name
    if not path.exists():
        raise _fail(name, "missing", "the file is not in the bundle")
    with path.open("rb") as f:
        for number, raw in enumerate(f, start=1):
            try:
                data = json.loads(raw)
            except ValueError:
                raise _fail(name, "malformed", "not a JSON line", number) from None
            if not isinstance(data, dict):
                raise _fail(name, "malformed", "not a JSON object", number)
            yield number, data


def _read_json(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise _fail(path.name, "missing", "the file is not in the bundle")
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise _fail(path.name, "malformed", f"cannot read it: {e}") from None
    if not isinstance(data, dict):
        raise _fail(path.name, "malformed", "not a JSON object")
    return data


class _Link:
    __slots__ = (
        "hash",
        "originator_id",
        "originator_version",
        "prev_hash",
        "state_sha256",
        "topic",
    )

    def __init__(
        self,
        topic: str,
        originator_id: str,
        originator_version: int,
        state_sha256: str,
        prev_hash: bytes,
        hash: bytes,
    ) -> None:
        self.topic = topic
        self.originator_id = originator_id
        self.originator_version = originator_version
        self.state_sha256 = state_sha256
        self.prev_hash = prev_hash
        self.hash = hash


def _check_manifest(manifest: dict[str, Any], key: Ed25519PublicKey) -> None:
    if manifest.get("type") != BUNDLE_TYPE or manifest.get("version") != BUNDLE_VERSION:
        raise _fail(MANIFEST_FILE, "malformed", "not an lfr-ledger oversight bundle (version 1)")
    signature = manifest.get("signature")
    if not isinstance(signature, str):
        raise _fail(MANIFEST_FILE, "unsigned", "the manifest has no signature")
    body = {k: v for k, v in manifest.items() if k != "signature"}
    try:
        key.verify(base64.b64decode(signature), canonical(body))
    except (InvalidSignature, ValueError):
        raise _fail(MANIFEST_FILE, "bad_signature", "the manifest's signature fails") from None


def _verify_chain_file(path: Path, last_id: int, head: str) -> tuple[dict[int, _Link], int]:
    links: dict[int, _Link] = {}
    prev_id, prev_hash = 0, GENESIS
    count = 0
    for number, row in _jsonl(path):
        try:
            nid = int(row["id"])
            claimed_prev = int(row["prev_id"])
            topic, originator = str(row["topic"]), str(row["originator_id"])
            version = int(row["originator_version"])
            digest = bytes.fromhex(str(row["state_sha256"]))
            stored = bytes.fromhex(str(row["hash"]))
        except (KeyError, TypeError, ValueError):
            raise _fail(
                CHAIN_FILE, "malformed", "a field is missing or malformed", number
            ) from None
        if len(digest) != HASH_LEN or len(stored) != HASH_LEN:
            raise _fail(CHAIN_FILE, "malformed", "a digest has the wrong length", number, nid)
        if nid <= prev_id:
            raise _fail(CHAIN_FILE, "reordered", f"id {nid} comes after id {prev_id}", number, nid)
        if claimed_prev != prev_id:
            if claimed_prev > prev_id:
                raise _fail(
                    CHAIN_FILE,
                    "deleted",
                    f"this link follows id {claimed_prev}, which is missing before it",
                    number,
                    claimed_prev,
                )
            raise _fail(
                CHAIN_FILE,
                "inserted",
                f"this link follows id {claimed_prev}, but id {prev_id} precedes it",
                number,
                nid,
            )
        computed = link_hash(prev_hash, nid, topic, originator, version, digest)
        if computed != stored:
            raise _fail(
                CHAIN_FILE,
                "altered",
                "the link does not recompute from its fields and the previous hash",
                number,
                nid,
            )
        links[nid] = _Link(topic, originator, version, digest.hex(), prev_hash, stored)
        prev_id, prev_hash = nid, stored
        count += 1
    if prev_id != last_id:
        raise _fail(
            CHAIN_FILE,
            "deleted" if prev_id < last_id else "inserted",
            f"the chain ends at id {prev_id}, the signed checkpoint at {last_id}",
            None,
            last_id if prev_id < last_id else prev_id,
        )
    if prev_hash.hex() != head:
        raise _fail(CHAIN_FILE, "altered", "the chain's head is not the signed head", None, prev_id)
    return links, count


def _verify_events_file(path: Path, links: dict[int, _Link], expected: list[int] | None) -> int:
    prev = 0
    seen: list[int] = []
    allowed = set(expected) if expected is not None else None
    for number, row in _jsonl(path):
        try:
            nid = int(row["id"])
            topic, originator = str(row["topic"]), str(row["originator_id"])
            version = int(row["originator_version"])
            if "state" in row:
                state = str(row["state"]).encode("utf-8")
            else:
                state = base64.b64decode(str(row["state_b64"]), validate=True)
            prev_hash = bytes.fromhex(str(row["prev_hash"]))
            stored = bytes.fromhex(str(row["hash"]))
        except (KeyError, TypeError, ValueError):
            raise _fail(
                EVENTS_FILE, "malformed", "a field is missing or malformed", number
            ) from None
        if nid <= prev:
            raise _fail(EVENTS_FILE, "reordered", f"id {nid} comes after id {prev}", number, nid)
        link = links.get(nid)
        if link is None:
            raise _fail(EVENTS_FILE, "inserted", "no link of the chain has this id", number, nid)
        if allowed is not None and nid not in allowed:
            raise _fail(EVENTS_FILE, "inserted", "the manifest does not list this id", number, nid)
        if (topic, originator, version) != (
            link.topic,
            link.originator_id,
            link.originator_version,
        ):
            raise _fail(
                EVENTS_FILE, "altered", "topic or originator differ from the chain", number, nid
            )
        if hashlib.sha256(state).hexdigest() != link.state_sha256:
            raise _fail(
                EVENTS_FILE, "altered", "the content does not hash to its chain link", number, nid
            )
        if prev_hash != link.prev_hash or stored != link.hash:
            raise _fail(EVENTS_FILE, "altered", "the line's chain link was changed", number, nid)
        # The independent implementation as well: what the ledger itself computes.
        if chain_hash(prev_hash, nid, topic, originator, version, state) != stored:
            raise _fail(
                EVENTS_FILE, "altered", "the event does not recompute its hash", number, nid
            )
        seen.append(nid)
        prev = nid
    wanted = expected if expected is not None else sorted(links)
    if seen != wanted:
        missing = sorted(set(wanted) - set(seen))
        if missing:
            raise _fail(EVENTS_FILE, "deleted", "an exported event is missing", None, missing[0])
    return len(seen)


def verify_bundle(bundle: Path, public_key: Ed25519PublicKey | None = None) -> BundleReport:
    """Checks a bundle offline. `public_key` should come from outside the bundle; without it
    the bundled key is used, which proves the bundle consistent but not who made it."""
    report = BundleReport(ok=False, trusted_key=public_key is not None)
    try:
        key_file = bundle / KEY_FILE
        if not key_file.is_file():
            raise _fail(KEY_FILE, "missing", "the file is not in the bundle")
        try:
            bundled = load_public_key(key_file.read_bytes())
        except Exception:
            raise _fail(KEY_FILE, "malformed", "not an Ed25519 public key (PEM)") from None
        key = public_key or bundled
        report.key_id = key_id(key)
        if key_id(bundled) != report.key_id:
            raise _fail(KEY_FILE, "untrusted_key", "the bundled key is not the key you supplied")
        manifest = _read_json(bundle / MANIFEST_FILE)
        _check_manifest(manifest, key)
        report.scope = dict(manifest.get("scope") or {})
        checkpoint = _read_json(bundle / CHECKPOINT_FILE)
        problem = check_signature(checkpoint, key)
        if problem is not None:
            raise _fail(CHECKPOINT_FILE, "bad_signature", problem)
        last_id, head = checkpoint["last_id"], checkpoint["head"]
        if (manifest.get("last_id"), manifest.get("head")) != (last_id, head):
            raise _fail(MANIFEST_FILE, "altered", "the manifest and the checkpoint disagree")
        report.last_id, report.head = last_id, head
        links, report.links_verified = _verify_chain_file(bundle / CHAIN_FILE, last_id, head)
        exported = manifest.get("exported_ids")
        expected = None if exported == "all" else [int(i) for i in exported or []]
        report.events_verified = _verify_events_file(bundle / EVENTS_FILE, links, expected)
        for name, digest in dict(manifest.get("files") or {}).items():
            path = bundle / name
            if not path.exists():
                raise _fail(name, "missing", "the file is not in the bundle")
            if sha256_file(path) != digest:
                raise _fail(name, "altered", "the file's SHA-256 is not the signed one")
        if set(manifest.get("files") or {}) != set(HASHED_FILES):
            raise _fail(MANIFEST_FILE, "malformed", "the manifest does not cover every file")
    except _Bad as bad:
        report.first_bad = bad.tampered
        return report
    report.ok = True
    return report


def bundle_files(bundle: Path) -> list[str]:
    """The bundle's files, for listing; anything else in the directory is not verified."""
    return sorted(p.name for p in bundle.iterdir() if p.is_file()) if bundle.is_dir() else []

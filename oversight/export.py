"""Oversight bundles: a signed, self-verifying export of the event log, checked offline.

A bundle is a directory:

- `events.jsonl` — the exported events in log order, one per line: notification `id`, `topic`,
  `originator_id`, `originator_version`, `state` (the stored bytes exactly, as UTF-8 text; or
  `state_b64` when they are not text), and the event's chain link `prev_hash` / `hash`. Sealed
  personal fields stay sealed: the bundle holds ciphertext, never keys.
- `chain.jsonl` — the whole chain up to the checkpoint, one link per line, for every event of the
  log (exported or not): `id`, `prev_id`, `topic`, `originator_id`, `originator_version`,
  `state_sha256` and `hash`. No content: the digest of the state stands for it. This is what lets
  a per-deployment bundle be verified alone: the chain is over the whole log, so each link is
  recomputed from genesis (h_n = SHA-256(h_{n-1} ‖ id ‖ topic ‖ originator ‖ version ‖
  SHA-256(state))) and must end at the signed head; each exported event's content must hash to
  its link's digest.
- `checkpoint.json` — an Ed25519-signed (last id, head) of the log, made when the bundle was
  (`eventlog/checkpoint.py`, the same format `lfr audit checkpoint` writes).
- `public_key.pem` — the checkpoint key. Verify with a key obtained independently
  (`lfr audit public-key`, kept outside the system); the bundled copy proves only consistency.
- `manifest.json` — scope, who exported it to whom, the exported ids, the SHA-256 of every
  other file, signed with the same key.

`verify_bundle` needs no database. It names the first tampered record: a line altered, removed,
inserted or moved in either file, a file changed, or a signature that fails. Every export is
itself logged as a disclosure (recipient, what) before the checkpoint is made, so the bundle's
own chain contains the record of its disclosure.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from eventsourcing.persistence import StoredEvent

from domain.actors import Actor
from domain.alert import AlertTopic
from domain.records import ConsultationTopic, DisclosureTopic, FaceCountTopic, PolicyVersion
from eventlog.chain.hashing import GENESIS, HASH_LEN, chain_hash, link_hash
from eventlog.chain.wiring import open_chain_reader, resolve_events_table
from eventlog.checkpoint import (
    check_signature,
    key_id,
    load_or_create_signing_key,
    load_public_key,
    make_checkpoint,
    public_key_pem,
)

if TYPE_CHECKING:
    from config.settings import Settings
    from domain.application import CaseLedger

BUNDLE_TYPE = "lfr-ledger/oversight-bundle"
BUNDLE_VERSION = 1
EVENTS_FILE = "events.jsonl"
CHAIN_FILE = "chain.jsonl"
CHECKPOINT_FILE = "checkpoint.json"
KEY_FILE = "public_key.pem"
MANIFEST_FILE = "manifest.json"
HASHED_FILES = (EVENTS_FILE, CHAIN_FILE, CHECKPOINT_FILE, KEY_FILE)
BATCH = 2000

# Events that name their deployment in a field rather than being one of its records.
_BY_DEPLOYMENT_FIELD = (AlertTopic.RAISED, FaceCountTopic.FACES_COUNTED)
# Access records are exported with a deployment when they name one of its records.
_ACCESS_RECORDS = (ConsultationTopic.RECORDED, DisclosureTopic.RECORDED)


class BundleError(Exception):
    """A bundle could not be written (empty ledger, output in the way, broken log)."""


def _canonical(data: dict[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


def _sign_manifest(manifest: dict[str, Any], key: Ed25519PrivateKey) -> None:
    body = {k: v for k, v in manifest.items() if k != "signature"}
    manifest["signature"] = base64.b64encode(key.sign(_canonical(body))).decode()


def _line(data: dict[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode() + b"\n"


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- writing ----------------------------------------------------------------------------------


class _DeploymentSelection:
    """Which events belong to one deployment: its own, its watchlist entries', its alerts' and
    face counts', its operation's, the policy version it cites, and access records naming any
    of those. Grows as the log is read in order (an alert is raised before anyone reads it)."""

    def __init__(self, ledger: CaseLedger, deployment_id: UUID) -> None:
        deployment = ledger.deployment(deployment_id)
        self.ledger = ledger
        self.deployment_id = deployment_id
        self.members: set[str] = {
            str(deployment_id),
            *(str(e) for e in deployment.entry_ids),
            str(deployment.plan.operation_id),
            str(PolicyVersion.id_for(deployment.policy_version)),
        }

    def _event(self, topic: str, originator: str, version: int, state: bytes) -> Any:
        return self.ledger.mapper.to_domain_event(
            StoredEvent(
                originator_id=UUID(originator),
                originator_version=version,
                topic=topic,
                state=state,
            )
        )

    def wants(self, topic: str, originator: str, version: int, state: bytes) -> bool:
        if originator in self.members:
            return True
        if topic in _BY_DEPLOYMENT_FIELD:
            event = self._event(topic, originator, version, state)
            if getattr(event, "deployment_id", None) == self.deployment_id:
                self.members.add(originator)
                return True
            return False
        if topic in _ACCESS_RECORDS:
            record = str(getattr(self._event(topic, originator, version, state), "record", ""))
            return any(member in record for member in self.members)
        return False


def export_bundle(
    ledger: CaseLedger,
    settings: Settings,
    out_dir: Path,
    *,
    actor: Actor,
    recipient: str,
    legal_basis: str,
    deployment_id: UUID | None = None,
    signing_key: Ed25519PrivateKey | None = None,
    events_table: str | None = None,
) -> dict[str, Any]:
    """Writes a bundle of one deployment (or, with `deployment_id=None`, of the whole log) into
    `out_dir`, which must not exist or be empty. Returns the signed manifest."""
    if out_dir.exists() and any(out_dir.iterdir()):
        raise BundleError(f"{out_dir} is not empty; choose a new directory for the bundle")
    table = resolve_events_table(settings, events_table)
    if table is None:
        raise BundleError("the ledger is empty: there is nothing to export")
    selection = _DeploymentSelection(ledger, deployment_id) if deployment_id else None
    what = f"audit_export:deployment:{deployment_id}" if deployment_id else "audit_export:all"
    # Logged before the checkpoint, so the bundle's chain carries its own disclosure record.
    disclosure_id = ledger.record_disclosure(
        actor, recipient=recipient, record=what, legal_basis=legal_basis
    )
    key = signing_key or load_or_create_signing_key(settings)
    checkpoint = make_checkpoint(settings, key, events_table=table)
    last_id: int = checkpoint["last_id"]

    out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    exported: list[int] = []
    links = 0
    with (
        open_chain_reader(settings, table) as reader,
        (out_dir / EVENTS_FILE).open("wb") as events_out,
        (out_dir / CHAIN_FILE).open("wb") as chain_out,
    ):
        after = 0
        prev_hash = GENESIS
        while after < last_id:
            events = reader.events(after, last_id, BATCH)
            chain = reader.links(after, last_id, BATCH)
            if not events:
                break
            # make_checkpoint verified this prefix: both tables agree id for id.
            if [e.id for e in events] != [k.id for k in chain]:
                raise BundleError("the log changed under the export; run it again")
            for e, link in zip(events, chain, strict=True):
                chain_out.write(
                    _line(
                        {
                            "id": e.id,
                            "prev_id": link.prev_id,
                            "topic": e.topic,
                            "originator_id": e.originator_id,
                            "originator_version": e.originator_version,
                            "state_sha256": hashlib.sha256(e.state).hexdigest(),
                            "hash": link.hash.hex(),
                        }
                    )
                )
                links += 1
                if selection is None or selection.wants(
                    e.topic, e.originator_id, e.originator_version, e.state
                ):
                    line: dict[str, Any] = {
                        "id": e.id,
                        "topic": e.topic,
                        "originator_id": e.originator_id,
                        "originator_version": e.originator_version,
                        "prev_hash": prev_hash.hex(),
                        "hash": link.hash.hex(),
                    }
                    try:
                        line["state"] = e.state.decode("utf-8")
                    except UnicodeDecodeError:
                        line["state_b64"] = base64.b64encode(e.state).decode()
                    events_out.write(_line(line))
                    exported.append(e.id)
                prev_hash = link.hash
            after = events[-1].id

    (out_dir / CHECKPOINT_FILE).write_text(json.dumps(checkpoint, indent=2, sort_keys=True) + "\n")
    (out_dir / KEY_FILE).write_text(public_key_pem(key.public_key()))
    manifest: dict[str, Any] = {
        "type": BUNDLE_TYPE,
        "version": BUNDLE_VERSION,
        "scope": {"deployment_id": str(deployment_id)} if deployment_id else {"all": True},
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "created_by": actor.id,
        "recipient": recipient,
        "legal_basis": legal_basis,
        "disclosure_id": str(disclosure_id),
        "events_table": table,
        "last_id": last_id,
        "head": checkpoint["head"],
        "links": links,
        "exported_ids": exported if deployment_id else "all",
        "events": len(exported),
        "files": {name: _sha256_file(out_dir / name) for name in HASHED_FILES},
        "key_id": key_id(key.public_key()),
    }
    _sign_manifest(manifest, key)
    (out_dir / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


# --- verifying --------------------------------------------------------------------------------


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
        key.verify(base64.b64decode(signature), _canonical(body))
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
            if _sha256_file(path) != digest:
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


__all__ = [
    "BundleError",
    "BundleReport",
    "Tampered",
    "bundle_files",
    "export_bundle",
    "link_hash",
    "verify_bundle",
]

"""Writing a bundle: select a deployment's events (or the whole log) with their chain links, log
the disclosure, make a checkpoint and sign the manifest. Needs the ledger's database."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eventsourcing.persistence import StoredEvent

from lfr_ledger.domain.actors import Actor
from lfr_ledger.domain.records import (
    NAMES_ITS_DEPLOYMENT,
    ConsultationTopic,
    DisclosureTopic,
    PolicyVersion,
)
from lfr_ledger.eventlog.chain.hashing import GENESIS
from lfr_ledger.eventlog.chain.wiring import open_chain_reader, resolve_events_table
from lfr_ledger.eventlog.checkpoint import load_or_create_signing_key, make_checkpoint
from lfr_ledger.eventlog.checkpoint_signature import key_id, public_key_pem
from lfr_ledger.oversight.bundles.format import (
    BUNDLE_TYPE,
    BUNDLE_VERSION,
    CHAIN_FILE,
    CHECKPOINT_FILE,
    EVENTS_FILE,
    HASHED_FILES,
    KEY_FILE,
    MANIFEST_FILE,
    BundleError,
    jsonl_line,
    sha256_file,
    sign_manifest,
)

if TYPE_CHECKING:
    from lfr_ledger.config.settings import Settings
    from lfr_ledger.domain.application import CaseLedger

BATCH = 2000
# Access records are exported with a deployment when they name one of its records.
_ACCESS_RECORDS = (ConsultationTopic.RECORDED, DisclosureTopic.RECORDED)


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
        if topic in NAMES_ITS_DEPLOYMENT:
            event = self._event(topic, originator, version, state)
            if getattr(event, "deployment_id", None) == self.deployment_id:
                self.members.add(originator)
                return True
            return False
        if topic in _ACCESS_RECORDS:
            record = str(getattr(self._event(topic, originator, version, state), "record", ""))
            # A disclosure's record is sealed under its own key (erased after retention).
            record = self.ledger.reveal_text(UUID(originator), "record", record)
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
    # A bundle is read from the first event on, so its checkpoint vouches for all of it.
    checkpoint = make_checkpoint(settings, key, events_table=table, full=True)
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
            # make_checkpoint(full=True) verified this prefix: both tables agree id for id.
            if [e.id for e in events] != [k.id for k in chain]:
                raise BundleError("the log changed under the export; run it again")
            for e, link in zip(events, chain, strict=True):
                chain_out.write(
                    jsonl_line(
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
                    events_out.write(jsonl_line(line))
                    exported.append(e.id)
                prev_hash = link.hash
            after = events[-1].id

    (out_dir / CHECKPOINT_FILE).write_text(json.dumps(checkpoint, indent=2, sort_keys=True) + "\n")
    (out_dir / KEY_FILE).write_text(public_key_pem(key.public_key()))
    manifest: dict[str, Any] = {
        "type": BUNDLE_TYPE,
        "version": BUNDLE_VERSION,
        "scope": {"deployment_id": str(deployment_id)} if deployment_id else {"all": True},
        "created_at": ledger.clock().astimezone(UTC).isoformat(timespec="seconds"),
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
        "files": {name: sha256_file(out_dir / name) for name in HASHED_FILES},
        "key_id": key_id(key.public_key()),
    }
    sign_manifest(manifest, key)
    (out_dir / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest

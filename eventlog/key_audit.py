"""The vault checked against the log: every key the log says exists must be in the vault.

A key is created with the first sealed field of its record and may only disappear through an
erasure the log records (a watchlist entry destroyed, an alert's images erased, a deployment's
watchlist destroyed). A key that is
missing without such an event is a silent erasure, by tampering or by a fault, and is reported
as a defect of the log's integrity, beside the hash chain's.

The check decodes the events it reads, and runs whatever the chain found: an event whose payload
no longer fits its topic (swapped, relabelled) is reported at its notification id as
"undecodable", never raised, so a tampered log is described rather than crashing the audit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID

from lfr_ledger.domain.alert import AlertTopic
from lfr_ledger.domain.alert.aggregate import carries_sealed_notes, legacy_notes_key_id
from lfr_ledger.domain.complaint import ComplaintTopic
from lfr_ledger.domain.deployment import DeploymentTopic
from lfr_ledger.domain.notification_log import notifications
from lfr_ledger.domain.records import ConsultationTopic, DisclosureTopic
from lfr_ledger.domain.sealing import is_sealed_text
from lfr_ledger.domain.watchlist import WatchlistEntryTopic

if TYPE_CHECKING:
    from eventsourcing.persistence import Notification

    from lfr_ledger.domain.application import CaseLedger

# The case ledger's events table on each backend (the library names PostgreSQL's after the
# application, "lfr"); the vault holds the keys of that log only.
LEDGER_TABLES = frozenset({"stored_events", "lfr_events"})

_TOPICS = (
    WatchlistEntryTopic.ENROLLED,
    WatchlistEntryTopic.DESTROYED,
    AlertTopic.RAISED,
    AlertTopic.IMAGES_ERASED,
    AlertTopic.DEMOGRAPHICS_PERCEIVED,
    AlertTopic.ADJUDICATED,
    AlertTopic.OUTCOME_RECORDED,
    AlertTopic.ADJUDICATION_CORRECTED,
    AlertTopic.OUTCOME_CORRECTED,
    AlertTopic.LEGAL_HOLD_PLACED,
    AlertTopic.LEGAL_HOLD_RELEASED,
    ConsultationTopic.RECORDED,
    ConsultationTopic.PURPOSE_DESTROYED,
    DisclosureTopic.RECORDED,
    DisclosureTopic.CONTENT_DESTROYED,
    DeploymentTopic.WATCHLIST_REVIEWED,
    DeploymentTopic.PAUSED,
    DeploymentTopic.WATCHLIST_DESTROYED,
    ComplaintTopic.RECORDED,
)
_NOTES_TOPICS = (
    AlertTopic.ADJUDICATED,
    AlertTopic.ADJUDICATION_CORRECTED,
    AlertTopic.OUTCOME_CORRECTED,
    AlertTopic.OUTCOME_RECORDED,
    AlertTopic.LEGAL_HOLD_PLACED,
    AlertTopic.LEGAL_HOLD_RELEASED,
)


# One rule for what sits under a notes key, the domain's (`erased_alert_keys` reads it too).
_carries_sealed_text = carries_sealed_notes


@dataclass(frozen=True)
class MissingKey:
    """A key the log says should exist, absent from the vault; `notification_id` is the event
    that created the need for it."""

    key_id: UUID
    record_id: UUID
    what: str
    notification_id: int
    kind: ClassVar[str] = "key_missing"

    def summary(self) -> str:
        return (
            f"the key of {self.what} {self.record_id} is missing from the vault, but no "
            f"erasure of it was recorded (created at notification {self.notification_id})"
        )


@dataclass(frozen=True)
class UndecodableEvent:
    """An event the vault check could not read as its topic says: its payload was swapped,
    relabelled or edited. `error` is the exception's type only (its message may quote the
    payload, which can hold personal data)."""

    notification_id: int
    topic: str
    error: str
    kind: ClassVar[str] = "undecodable"

    def summary(self) -> str:
        return (
            f"notification {self.notification_id} does not decode as its topic {self.topic} "
            f"({self.error}): its payload was changed"
        )


VaultFinding = MissingKey | UndecodableEvent


def missing_keys(ledger: CaseLedger) -> list[MissingKey]:
    """Keys the vault should hold and does not, in log order."""
    return [f for f in _audit(ledger) if isinstance(f, MissingKey)]


def audit_vault(
    ledger: CaseLedger, lost_erasures: frozenset[UUID] = frozenset()
) -> list[VaultFinding]:
    """Everything the vault check found, by notification id: keys missing unrecorded, and the
    events it could not decode (and so could not account for). A missing key in
    `lost_erasures` (the tombstone journal's, `tombstones.py`) is accounted for: `lfr restore`
    found it tombstoned, its erasure event lost with the events after the backup."""
    found = [
        f for f in _audit(ledger) if not (isinstance(f, MissingKey) and f.key_id in lost_erasures)
    ]
    return sorted(found, key=lambda f: f.notification_id)


def _audit(ledger: CaseLedger) -> list[VaultFinding]:
    expected: dict[UUID, MissingKey] = {}
    notes_keys: dict[UUID, UUID | None] = {}
    undecodable: list[VaultFinding] = []
    for n in notifications(ledger.recorder, _TOPICS):
        try:
            _account_for(ledger, n, expected, notes_keys)
        except Exception as e:  # a tampered payload can fail in any way: report, never raise
            undecodable.append(UndecodableEvent(n.id, n.topic, type(e).__name__))
            if n.topic == AlertTopic.RAISED:
                # Its notes key is unknowable: the undecodable finding speaks for it, and a
                # guess at its id would report a second, false, missing key.
                notes_keys[UUID(str(n.originator_id))] = None
    return undecodable + [m for m in expected.values() if not ledger.vault.has_key(m.key_id)]


def _account_for(
    ledger: CaseLedger,
    n: Notification,
    expected: dict[UUID, MissingKey],
    notes_keys: dict[UUID, UUID | None],
) -> None:
    """Notes the key that notification `n` says exists, or drops the one its erasure removed.
    `notes_keys`: each alert's notes key, as its Raised event named it (issue 28); an alert
    raised before names none, and its key's id is derived from its own; None: its Raised event
    could not be read."""
    record = UUID(str(n.originator_id))
    event: Any = ledger.mapper.to_domain_event(n)
    if n.topic == AlertTopic.RAISED and getattr(event, "notes_key", None) is not None:
        notes_keys[record] = UUID(str(event.notes_key))
    if n.topic == WatchlistEntryTopic.ENROLLED:
        expected[record] = MissingKey(record, record, "watchlist entry", n.id)
    elif n.topic == AlertTopic.RAISED and event.sealed_face_crop is not None:
        expected[record] = MissingKey(record, record, "alert images of", n.id)
    elif n.topic == AlertTopic.DEMOGRAPHICS_PERCEIVED:
        key = ledger.equality_key_id(record)
        expected[key] = MissingKey(key, record, "perceived characteristics of alert", n.id)
    elif n.topic == ConsultationTopic.RECORDED and is_sealed_text(event.purpose):
        expected[record] = MissingKey(record, record, "stated purpose of consultation", n.id)
    elif n.topic == DisclosureTopic.RECORDED and (
        is_sealed_text(event.recipient) or is_sealed_text(event.record)
    ):
        expected[record] = MissingKey(record, record, "recipient and record of disclosure", n.id)
    elif n.topic in (ConsultationTopic.PURPOSE_DESTROYED, DisclosureTopic.CONTENT_DESTROYED):
        # The access log's own retention (`retention.access_log_years`) shredded it.
        expected.pop(record, None)
    elif n.topic in _NOTES_TOPICS and _carries_sealed_text(event):
        if record in notes_keys and notes_keys[record] is None:
            return
        key = notes_keys.get(record) or legacy_notes_key_id(record)
        expected.setdefault(key, MissingKey(key, record, "notes of alert", n.id))
    elif n.topic in (WatchlistEntryTopic.DESTROYED, AlertTopic.IMAGES_ERASED):
        expected.pop(record, None)
        expected.pop(notes_keys.get(record) or legacy_notes_key_id(record), None)
    elif n.topic in (DeploymentTopic.WATCHLIST_REVIEWED, DeploymentTopic.PAUSED):
        if _carries_sealed_text(event):
            key = ledger.deployment_notes_key_id(record)
            expected.setdefault(key, MissingKey(key, record, "notes of deployment", n.id))
    elif n.topic == DeploymentTopic.WATCHLIST_DESTROYED:
        expected.pop(ledger.deployment_notes_key_id(record), None)
    elif n.topic == ComplaintTopic.RECORDED and is_sealed_text(event.sealed_summary):
        # No rule shreds a complaint's key yet: it must be there as long as the complaint.
        expected[record] = MissingKey(record, record, "summary and outcome of complaint", n.id)

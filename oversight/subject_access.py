"""Subject access: was this person on a watchlist, or in an alert, during a period?

Entries are found by the keyed digest of the subject reference, a clear field of every
`Enrolled` event; the digest's key (the vault's pseudonymisation key) is never shredded, so the
answer is the same before and after a watchlist is destroyed. What the answer can show changes:
the personal fields (name, reference, rationale, images) read `[erased]` once their key is gone,
while the metadata (deployment, dates, category, status, alerts and what was decided) stays.

Alert face crops show whoever the camera captured, who may not be the subject: a SAR export
includes a crop only where an engagement officer confirmed the identity.

Which entries and alerts concern the subject is read from an index the composition root hands
in (`SubjectRecords`: the `subject_index` projection, caught up to the log's head first), so a
request loads only those aggregates, in a fixed number of queries however many there are: the
entries, their deployments, the alerts and the keys are each read in one query for the whole
request (issue 28: a subject on ~440 watchlists of a national year). Without an index, the log
is scanned from its first event and each record read on its own: the reference the index is
tested against, minutes long on a national log.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from uuid import UUID

from lfr_ledger.domain.actors import Actor
from lfr_ledger.domain.alert import AlertTopic
from lfr_ledger.domain.alert.aggregate import Alert
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.notification_log import notifications
from lfr_ledger.domain.sealing import Keyring
from lfr_ledger.domain.subject_ref import SubjectRef
from lfr_ledger.domain.values import ERASED, Confirmation
from lfr_ledger.domain.watchlist import WatchlistEntryTopic
from lfr_ledger.oversight.reports import plain

# Image formats recognisable by their first bytes, for naming exported files.
_MAGIC = ((b"\xff\xd8\xff", "jpg"), (b"\x89PNG", "png"), (b"RIFF", "webp"), (b"BM", "bmp"))


@dataclass
class AlertFinding:
    alert_id: UUID
    deployment_id: UUID
    camera_id: str
    captured_at: datetime
    similarity: float
    threshold: float
    decision: str | None
    engaged: bool | None
    confirmed: str | None
    outcomes: list[str]
    closed: bool
    legal_hold: bool
    # "held", "erased" (by retention) or "none" (the matcher sent no image)
    image: str


@dataclass
class EntryFinding:
    entry_id: UUID
    deployment_id: UUID
    location: str
    window_start: datetime
    window_end: datetime
    deployment_status: str
    enrolled_at: datetime
    category: str
    legal_basis: str
    offence: str
    image_source: str
    status: str
    destroyed_at: datetime | None
    destruction_rule: str | None
    # Personal fields: `[erased]` once the entry's key is shredded.
    subject_ref: str
    name: str
    rationale: str
    image: str
    alerts: list[AlertFinding] = field(default_factory=list)


@dataclass
class SubjectAccessReport:
    subject_digest: str
    period_start: datetime
    period_end: datetime
    answered_at: datetime
    entries: list[EntryFinding] = field(default_factory=list)
    # The oversight body's remit the answer is held to; None when the reader sees every
    # deployment (`api/personal_data` filters the entries and sets it).
    remit: str | None = None

    @property
    def on_watchlist(self) -> bool:
        return bool(self.entries)

    @property
    def in_alert(self) -> bool:
        return any(e.alerts for e in self.entries)

    def to_dict(self) -> dict[str, Any]:
        data = plain(asdict(self))
        data["on_watchlist"] = self.on_watchlist
        data["in_alert"] = self.in_alert
        return data


class SubjectRecords(Protocol):
    """Where subject access finds what concerns a subject without scanning the log."""

    def records(self, subject_digests: Collection[str]) -> Mapping[UUID, Sequence[UUID]]:
        """Every entry enrolled under one of the digests, with the ids of the alerts raised
        against it in log order, up to the log's head."""
        ...


def _overlaps(start: datetime, end: datetime, period_start: datetime, period_end: datetime) -> bool:
    return start < period_end and period_start < end


def subject_access(
    ledger: CaseLedger,
    subject_ref: str,
    *,
    start: datetime,
    end: datetime,
    index: SubjectRecords | None = None,
) -> SubjectAccessReport:
    """Every watchlist entry of the subject whose deployment window overlaps [start, end), or
    that was enrolled in it, with every alert raised against those entries. This reads personal
    data: it is called through the query layer (`api/personal_data`), which logs the
    consultation first, and an import contract keeps other callers out. With `index`, only
    the subject's records are loaded; without, the log is scanned."""
    # The enrolment's rule: a reference no entry can hold since is refused, not answered
    # "not on a watchlist" (`InvalidInput` naming the code point, never the reference).
    ref = SubjectRef.parse(subject_ref)
    digest = ref.digest(ledger.vault)
    digests = ref.digests(ledger.vault)
    report = SubjectAccessReport(digest, start, end, ledger.clock())
    if index is None:
        found = _scan(ledger, digests, start, end)
    else:
        found = _from_index(ledger, index.records(digests), start, end)
    report.entries = sorted(found.values(), key=lambda f: (f.window_start, str(f.entry_id)))
    return report


def _in_period(deployment: Any, enrolled_at: datetime, start: datetime, end: datetime) -> bool:
    window = (deployment.plan.starts_at, deployment.plan.ends_at)
    return _overlaps(window[0], window[1], start, end) or start <= enrolled_at < end


def _from_index(
    ledger: CaseLedger, records: Mapping[UUID, Sequence[UUID]], start: datetime, end: datetime
) -> dict[UUID, EntryFinding]:
    """The answer from the subject's own records, each kind read in one query for them all:
    the entries, their deployments, the alerts of the entries in the period, and the keys of
    both. The rule an entry was destroyed under is the entry's own (`destruction_rule`)."""
    entries = ledger.watchlist_entries(records)
    deployments = ledger.deployments({e.deployment_id for e in entries.values()})
    concerned = [
        entry
        for entry in entries.values()
        if _in_period(deployments[entry.deployment_id], entry.enrolled_at, start, end)
    ]
    alert_ids = [a for entry in concerned for a in records[entry.id]]
    alerts = ledger.alerts(alert_ids)
    keys = ledger.vault.keyring([*(entry.id for entry in concerned), *alert_ids])
    found: dict[UUID, EntryFinding] = {}
    for entry in concerned:
        deployment = deployments[entry.deployment_id]
        rule = getattr(entry, "destruction_rule", None)
        finding = _entry_finding(ledger, entry, deployment, rule, keys)
        finding.alerts = [_alert_finding(alerts[a], keys.has_key) for a in records[entry.id]]
        found[entry.id] = finding
    return found


def _scan(
    ledger: CaseLedger, digests: Collection[str], start: datetime, end: datetime
) -> dict[UUID, EntryFinding]:
    """The answer read from the whole log: every enrolment, then every alert."""
    decode = ledger.mapper.to_domain_event
    found: dict[UUID, EntryFinding] = {}
    for n in notifications(ledger.recorder, [WatchlistEntryTopic.ENROLLED]):
        event: Any = decode(n)
        if event.subject_digest not in digests:
            continue
        entry_id = UUID(str(n.originator_id))
        deployment = ledger.deployment(event.deployment_id, to_change=False)
        if not _in_period(deployment, event.occurred_at, start, end):
            continue
        entry = ledger.watchlist_entry(entry_id, to_change=False)
        found[entry_id] = _entry_finding(ledger, entry, deployment, _rule_read(ledger, entry))
    if found:
        for n in notifications(ledger.recorder, [AlertTopic.RAISED]):
            raised: Any = decode(n)
            finding = found.get(raised.entry_id)
            if finding is not None:
                alert = ledger.alert(UUID(str(n.originator_id)), to_change=False)
                finding.alerts.append(_alert_finding(alert, ledger.vault.has_key))
    return found


def _rule_read(ledger: CaseLedger, entry: Any) -> str | None:
    """The rule a destroyed entry was destroyed under, read from its events."""
    rule = None
    if getattr(entry, "destroyed_at", None) is not None:
        for event in ledger.repository.event_store.get(entry.id):
            rule = getattr(event, "rule", rule)
    return rule


def _entry_finding(
    ledger: CaseLedger, entry: Any, deployment: Any, rule: str | None, keys: Keyring | None = None
) -> EntryFinding:
    """`keys`: the entries' keys read at once; without, each field's key is read from the
    vault."""
    entry_id = entry.id
    # Whether the image is held, not the image: opening it (and the template) here would cost
    # two decryptions an entry for a word in the report.
    revealed = ledger.reveal_loaded_entry(entry, images=False, keys=keys)
    destroyed_at = getattr(entry, "destroyed_at", None)
    location = deployment.plan.location
    image = ERASED if revealed.erased else "held" if entry.sealed_image is not None else "none"
    return EntryFinding(
        entry_id=entry_id,
        deployment_id=deployment.id,
        location=f"{location.name}, {location.town}",
        window_start=deployment.plan.starts_at,
        window_end=deployment.plan.ends_at,
        deployment_status=str(deployment.status),
        enrolled_at=entry.enrolled_at,
        category=entry.category,
        legal_basis=ledger.reveal_text(entry_id, "legal_basis", entry.legal_basis, keys=keys),
        offence=ledger.reveal_text(entry_id, "offence", entry.offence, keys=keys),
        image_source=ledger.reveal_text(entry_id, "image_source", entry.image_source, keys=keys),
        status=str(entry.status),
        destroyed_at=destroyed_at,
        destruction_rule=rule,
        subject_ref=revealed.subject_ref,
        name=revealed.name,
        rationale=revealed.rationale,
        image=image,
    )


def _alert_finding(alert: Alert, key_held: Callable[[UUID], bool]) -> AlertFinding:
    alert_id = alert.id
    if alert.sealed_face_crop is None:
        image = "none"
    elif alert.images_erased_at is not None or not key_held(alert_id):
        image = "erased"
    else:
        image = "held"
    return AlertFinding(
        alert_id=alert_id,
        deployment_id=alert.deployment_id,
        camera_id=alert.camera_id,
        captured_at=alert.captured_at,
        similarity=alert.similarity,
        threshold=alert.threshold,
        decision=None if alert.decision is None else str(alert.decision),
        engaged=alert.engaged,
        confirmed=None if alert.confirmed is None else str(alert.confirmed),
        outcomes=[str(o.type) for o in alert.outcomes],
        closed=alert.is_closed,
        legal_hold=alert.legal_hold is not None,
        image=image,
    )


def _image_name(stem: str, data: bytes) -> str:
    ext = next((e for magic, e in _MAGIC if data.startswith(magic)), "bin")
    return f"{stem}.{ext}"


def write_subject_access_export(
    ledger: CaseLedger,
    report: SubjectAccessReport,
    out_dir: Path,
    *,
    actor: Actor,
    recipient: str,
    legal_basis: str,
) -> list[Path]:
    """Writes the answer (`subject_access.json`) and the images still held that show the
    subject, and logs the disclosure. Returns the files written."""
    if out_dir.exists() and any(out_dir.iterdir()):
        raise FileExistsError(f"{out_dir} is not empty; choose a new directory")
    out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    written: list[Path] = []
    data = report.to_dict()
    for entry, entry_data in zip(report.entries, data["entries"], strict=True):
        revealed = ledger.reveal_entry(entry.entry_id)
        if revealed.image is not None:
            path = out_dir / _image_name(f"entry-{entry.entry_id}", revealed.image)
            path.write_bytes(revealed.image)
            entry_data["image_file"] = path.name
            written.append(path)
        for alert, alert_data in zip(entry.alerts, entry_data["alerts"], strict=True):
            if alert.image != "held":
                continue
            if alert.confirmed != Confirmation.CONFIRMED.value:
                # The crop may show a passer-by the matcher mistook for the subject.
                alert_data["image_file"] = None
                alert_data["image_withheld"] = "identity not confirmed: may show a third party"
                continue
            crop = ledger.reveal_face_crop(alert.alert_id)
            if crop is not None:
                path = out_dir / _image_name(f"alert-{alert.alert_id}", crop)
                path.write_bytes(crop)
                alert_data["image_file"] = path.name
                written.append(path)
    disclosure = ledger.record_disclosure(
        actor,
        recipient=recipient,
        record=f"subject_access:{report.subject_digest}",
        legal_basis=legal_basis,
    )
    data["disclosure_id"] = str(disclosure)
    answer = out_dir / "subject_access.json"
    answer.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    written.insert(0, answer)
    return written

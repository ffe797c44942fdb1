"""Reads oversight makes: a deployment's history, subject access (and its export), the
equality tables and trend, bundles, and the access log itself. Each but the access log records
its consultation, with the stated purpose, before anything is returned."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification

from lfr_ledger.api.personal_data.base import Layer, Read
from lfr_ledger.api.personal_data.integrity import alarm_on_refused_bundle
from lfr_ledger.domain.notification_log import notifications
from lfr_ledger.domain.oversight_grant import body_code
from lfr_ledger.domain.records import NAMES_ITS_DEPLOYMENT, ConsultationTopic, DisclosureTopic
from lfr_ledger.domain.subject_ref import SubjectRef
from lfr_ledger.eventlog.checkpoint_signature import CheckpointError
from lfr_ledger.oversight.access_review import AccessReview, access_review
from lfr_ledger.oversight.bundles.write import export_bundle
from lfr_ledger.oversight.equality import (
    Audience,
    EqualityReport,
    EqualityTrend,
    equality_report,
    equality_trend,
)
from lfr_ledger.oversight.subject_access import (
    SubjectAccessReport,
    SubjectRecords,
    subject_access,
    write_subject_access_export,
)


@dataclass(frozen=True)
class HistoryEvent:
    notification: Notification
    originator_id: UUID
    event: Any


@dataclass(frozen=True)
class AccessLogEntry:
    """A consultation or disclosure of the access log, its sealed texts opened."""

    notification_id: int
    id: UUID
    event: Any
    purpose: str | None = None  # a consultation's
    recipient: str | None = None  # a disclosure's
    record: str | None = None  # a disclosure's (a consultation's is in clear on `event`)


class OversightReads(Layer):
    def history(self, deployment_id: UUID, *, purpose: str) -> list[HistoryEvent]:
        """Every event of the deployment, its watchlist entries, its alerts and its face
        counts, in log order. Scans the log: oversight reads are rare, completeness matters."""
        deployment = self.ledger.deployment(deployment_id)
        self._authorise(Read.HISTORY, deployment_id)
        self._consult(Read.HISTORY, deployment_id, purpose)
        members: set[UUID] = {deployment_id, *deployment.entry_ids}
        found: list[HistoryEvent] = []
        for n in notifications(self.ledger.recorder):
            originator = UUID(str(n.originator_id))
            if originator not in members and n.topic not in NAMES_ITS_DEPLOYMENT:
                continue
            event = self.ledger.mapper.to_domain_event(n)
            if originator not in members:
                if getattr(event, "deployment_id", None) != deployment_id:
                    continue
                members.add(originator)
            found.append(HistoryEvent(n, originator, event))
        self._check_integrity(notification_ids=[h.notification.id for h in found])
        return found

    def subject_access(
        self,
        subject_ref: str,
        *,
        start: datetime,
        end: datetime,
        purpose: str,
        index: SubjectRecords | None = None,
    ) -> SubjectAccessReport:
        """The subject's entries and alerts in the period; logged naming the reference's
        digest, never the reference. A reference no entry can hold is refused first."""
        digest = SubjectRef.parse(subject_ref).digest(self.ledger.vault)
        access = self._authorise(Read.SUBJECT_ACCESS)
        self._consult(Read.SUBJECT_ACCESS, digest, purpose)
        report = subject_access(self.ledger, subject_ref, start=start, end=end, index=index)
        if access is not None and not access.whole:
            # A body of limited remit is answered within it, and told so (`remit`); what lies
            # outside is not returned, nor counted: its existence is not the body's to know.
            facts = self.ledger.deployments_facts({e.deployment_id for e in report.entries})
            report.entries = [e for e in report.entries if access.covers(facts[e.deployment_id])]
            report.remit = access.describe()
        read = [e.entry_id for e in report.entries]
        read += [a.alert_id for e in report.entries for a in e.alerts]
        self._check_integrity(originator_ids=read)
        return report

    def subject_access_export(
        self, report: SubjectAccessReport, out_dir: Path, *, recipient: str, legal_basis: str
    ) -> list[Path]:
        """Writes a subject access answer (read by `subject_access`, whose consultation covers
        it) with the images still held, and logs the disclosure."""
        self._authorise(Read.SUBJECT_ACCESS)
        return write_subject_access_export(
            self.ledger,
            report,
            out_dir,
            actor=self.actor,
            recipient=recipient,
            legal_basis=legal_basis,
        )

    def equality(
        self,
        *,
        audience: Audience = Audience.OVERSIGHT,
        purpose: str | None = None,
        deployment_id: UUID | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> EqualityReport:
        """The equality tables. Oversight's view (every cell) is a consultation; the analyst
        view suppresses every cell under the policy's minimum, so no person is shown and no
        consultation is made (the characteristics are opened only to be counted)."""
        if deployment_id is not None:
            self.ledger.deployment(deployment_id, to_change=False)  # 404 for an unknown one
        if audience == Audience.OVERSIGHT:
            self._authorise(Read.EQUALITY, deployment_id)
            self._consult(Read.EQUALITY, deployment_id or "all", purpose or "")
        return equality_report(
            self.ledger, audience=audience, deployment_id=deployment_id, start=start, end=end
        )

    def equality_trend(
        self,
        *,
        purpose: str,
        end: datetime | None = None,
        window_days: int | None = None,
        deployment_id: UUID | None = None,
    ) -> EqualityTrend:
        if deployment_id is not None:
            self.ledger.deployment(deployment_id, to_change=False)
        self._authorise(Read.EQUALITY_TREND, deployment_id)
        self._consult(Read.EQUALITY_TREND, deployment_id or "all", purpose)
        return equality_trend(
            self.ledger, end=end, window_days=window_days, deployment_id=deployment_id
        )

    def bundle(
        self,
        out_dir: Path,
        *,
        purpose: str,
        recipient: str,
        legal_basis: str,
        deployment_id: UUID | None = None,
        events_table: str | None = None,
    ) -> dict[str, Any]:
        """A signed bundle of one deployment (or the whole log): a consultation, then the
        export, which records its disclosure. Returns the signed manifest."""
        if deployment_id is not None:
            self.ledger.deployment(deployment_id, to_change=False)
        self._authorise(Read.BUNDLE, deployment_id)
        what = f"deployment:{deployment_id}" if deployment_id is not None else "all"
        self._consult(Read.BUNDLE, what, purpose)
        try:
            return export_bundle(
                self.ledger,
                self._settings(),
                out_dir,
                actor=self.actor,
                recipient=recipient,
                legal_basis=legal_basis,
                deployment_id=deployment_id,
                events_table=events_table,
            )
        except CheckpointError as refused:
            # The export re-hashes the whole log and signs a checkpoint extending the latest
            # (its tree too): refused, it met tampering, raised as any read's failure is.
            alarm_on_refused_bundle(self.ledger, refused)
            raise

    # --- the access log itself ----------------------------------------------------------------

    def consultations(
        self, after: int, limit: int, *, body: str | None = None
    ) -> list[AccessLogEntry]:
        """Consultations in log order after `after`, at most `limit`; with `body`, only those
        made by readers acting for that oversight body (read on until `limit` are found or the
        log ends, so a short page is the last). A body may always read its own."""
        code = None if body is None else body_code(body)
        self._authorise(Read.ACCESS_LOG, own_reads=code is not None and code == self.actor.body)
        entries: list[AccessLogEntry] = []
        while len(entries) < limit:
            batch = self.ledger.recorder.select_notifications(
                after, limit, topics=[ConsultationTopic.RECORDED], inclusive_of_start=False
            )
            for n in batch:
                event: Any = self.ledger.mapper.to_domain_event(n)
                if code is not None and event.actor.body != code:
                    continue
                consultation_id = UUID(str(n.originator_id))
                purpose = self.ledger.reveal_text(consultation_id, "purpose", event.purpose)
                entries.append(AccessLogEntry(n.id, consultation_id, event, purpose=purpose))
                if len(entries) == limit:
                    break
            if len(batch) < limit or code is None:
                break
            after = batch[-1].id
        return entries

    def disclosures(self, after: int, limit: int) -> list[AccessLogEntry]:
        self._authorise(Read.ACCESS_LOG)
        batch = self.ledger.recorder.select_notifications(
            after, limit, topics=[DisclosureTopic.RECORDED], inclusive_of_start=False
        )
        entries = []
        for n in batch:
            disclosure_id = UUID(str(n.originator_id))
            disclosure = self.ledger.disclosure(disclosure_id)
            recipient, record = self.ledger.reveal_disclosure(
                disclosure_id, disclosure.recipient, disclosure.record
            )
            entries.append(
                AccessLogEntry(n.id, disclosure_id, disclosure, recipient=recipient, record=record)
            )
        return entries

    def access_review(
        self,
        *,
        actor_id: str | None = None,
        body: str | None = None,
        record: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        after: int = 0,
        limit: int = 500,
    ) -> AccessReview:
        code = None if body is None else body_code(body)
        self._authorise(Read.ACCESS_LOG, own_reads=code is not None and code == self.actor.body)
        return access_review(
            self.ledger,
            actor_id=actor_id,
            body=code,
            record=record,
            start=start,
            end=end,
            after=after,
            limit=limit,
        )

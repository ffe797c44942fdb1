"""Indexes oversight reads instead of scanning the log: what concerns a subject, and what
retention must destroy and from when.

`SubjectIndexView` keeps, per subject, the watchlist entries enrolled for them and the alerts
raised against those entries. A subject is named by `subject_key`: a SHA-256 of the vault's
keyed subject digest, so the view holds neither the reference nor the digest the log and the
access log show, and only someone holding the vault's pseudonymisation key can work out a row's
subject from a reference. It is pseudonymous, not anonymous: it links one person's entries
across deployments, which is what it is for.

`RetentionDeadlinesView` keeps the anchor of every retention period (when a deployment ended
or was refused, when an alert's face was captured, when an access was recorded) and whether
the record was destroyed or is held. It stores anchors, not deadlines: the periods are the
policy's in force when retention runs, so a new policy version changes every deadline at once
without re-indexing, exactly as the scan did.

Their readers are in `oversight_readers.py`.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from lfr_ledger.domain.alert import AlertTopic
from lfr_ledger.domain.deployment import DeploymentTopic
from lfr_ledger.domain.records import ConsultationTopic, DisclosureTopic
from lfr_ledger.domain.sealing import is_sealed_text
from lfr_ledger.domain.watchlist import WatchlistEntryTopic
from lfr_ledger.projections.rows import Rows, Table
from lfr_ledger.projections.view_base import Event, View, on

SUBJECT_INDEX = "subject_index"
RETENTION_DEADLINES = "retention_deadlines"


def subject_key(subject_digest: str) -> str:
    """The name a subject has in the index: a hash of the vault's digest, so no value in the
    view equals the digest written in the log and in disclosure records."""
    return hashlib.sha256(b"lfr-subject-index\x00" + subject_digest.encode()).hexdigest()


def moment(value: datetime) -> str:
    """A fixed-width UTC time (always with microseconds), so text order is time order on both
    backends and a deadline is one comparison in SQL."""
    return value.astimezone(UTC).isoformat(timespec="microseconds")


class SubjectIndexView(View):
    """Per subject: their entries, and every alert raised against one, in log order."""

    name = SUBJECT_INDEX
    tables = (
        Table(
            "view_subject_entries",
            key=("entry_id",),
            columns=("entry_id", "subject_key", "deployment_id", "alert_count"),
            defaults={"alert_count": 0},
        ),
        Table(
            "view_subject_alerts",
            key=("alert_id",),
            columns=("alert_id", "entry_id", "seq"),
        ),
    )

    @on(WatchlistEntryTopic.ENROLLED)
    def _enrolled(self, e: Event, rows: Rows) -> None:
        rows.insert(
            "view_subject_entries",
            entry_id=str(e.originator_id),
            subject_key=subject_key(e.subject_digest),
            deployment_id=str(e.deployment_id),
        )

    @on(AlertTopic.RAISED)
    def _raised(self, e: Event, rows: Rows) -> None:
        entry_id = str(e.entry_id)
        entry = rows.get("view_subject_entries", entry_id)
        if entry is None:
            return
        # The alert's place among its entry's alerts: subject access lists them in log order.
        seq = int(entry["alert_count"]) + 1
        rows.update("view_subject_entries", entry_id, alert_count=seq)
        rows.insert(
            "view_subject_alerts", alert_id=str(e.originator_id), entry_id=entry_id, seq=seq
        )


class RetentionDeadlinesView(View):
    """The anchors of retention's periods, and whether each record is still kept."""

    name = RETENTION_DEADLINES
    tables = (
        Table(
            "view_retention_watchlists",
            key=("deployment_id",),
            columns=(
                "deployment_id",
                "authorised",
                "window_ends_at",
                "finished_at",
                "destroyed_at",
            ),
            defaults={"authorised": 0},
        ),
        Table(
            "view_retention_alert_images",
            key=("alert_id",),
            columns=(
                "alert_id",
                "deployment_id",
                "captured_at",
                "held",
                "erased_at",
            ),
            defaults={"held": 0},
        ),
        Table(
            "view_retention_access_records",
            key=("record_id",),
            columns=(
                "record_id",
                "kind",
                "occurred_at",
                "sealed",
                "destroyed_at",
            ),
        ),
    )

    @on(DeploymentTopic.PROPOSED)
    def _proposed(self, e: Event, rows: Rows) -> None:
        rows.insert(
            "view_retention_watchlists",
            deployment_id=str(e.originator_id),
            window_ends_at=moment(e.plan.ends_at),
        )

    @on(DeploymentTopic.AUTHORISED)
    def _authorised(self, e: Event, rows: Rows) -> None:
        rows.update("view_retention_watchlists", str(e.originator_id), authorised=1)

    def _finished(self, e: Event, rows: Rows) -> None:
        row = rows.get("view_retention_watchlists", str(e.originator_id))
        # The first end or refusal starts the period, as the scan's reading did.
        if row is not None and row["finished_at"] is None:
            rows.update(
                "view_retention_watchlists", str(e.originator_id), finished_at=moment(e.occurred_at)
            )

    @on(DeploymentTopic.ENDED)
    def _ended(self, e: Event, rows: Rows) -> None:
        self._finished(e, rows)

    @on(DeploymentTopic.REFUSED)
    def _refused(self, e: Event, rows: Rows) -> None:
        self._finished(e, rows)

    @on(DeploymentTopic.WATCHLIST_DESTROYED)
    def _watchlist_destroyed(self, e: Event, rows: Rows) -> None:
        rows.update(
            "view_retention_watchlists",
            str(e.originator_id),
            destroyed_at=moment(e.occurred_at),
        )

    @on(AlertTopic.RAISED)
    def _raised(self, e: Event, rows: Rows) -> None:
        # Every alert, with a face crop or without: the alert rule erases its notes too
        # (adjudication reasons, outcome notes), which an alert without a crop has.
        rows.insert(
            "view_retention_alert_images",
            alert_id=str(e.originator_id),
            deployment_id=str(e.deployment_id),
            captured_at=moment(e.captured_at),
        )

    @on(AlertTopic.IMAGES_ERASED)
    def _images_erased(self, e: Event, rows: Rows) -> None:
        rows.update(
            "view_retention_alert_images",
            str(e.originator_id),
            erased_at=moment(e.occurred_at),
        )

    @on(AlertTopic.LEGAL_HOLD_PLACED)
    def _hold_placed(self, e: Event, rows: Rows) -> None:
        rows.update("view_retention_alert_images", str(e.originator_id), held=1)

    @on(AlertTopic.LEGAL_HOLD_RELEASED)
    def _hold_released(self, e: Event, rows: Rows) -> None:
        rows.update("view_retention_alert_images", str(e.originator_id), held=0)

    def _access_recorded(self, e: Event, rows: Rows, kind: str, sealed: bool) -> None:
        rows.insert(
            "view_retention_access_records",
            record_id=str(e.originator_id),
            kind=kind,
            occurred_at=moment(e.occurred_at),
            sealed=int(sealed),
        )

    @on(ConsultationTopic.RECORDED)
    def _consultation(self, e: Event, rows: Rows) -> None:
        self._access_recorded(e, rows, "consultation", True)

    @on(DisclosureTopic.RECORDED)
    def _disclosure(self, e: Event, rows: Rows) -> None:
        # Disclosures recorded before sealing hold their text in clear: the rule reports them.
        sealed = any(is_sealed_text(v) for v in (e.recipient, e.record))
        self._access_recorded(e, rows, "disclosure", sealed)

    def _access_destroyed(self, e: Event, rows: Rows) -> None:
        rows.update(
            "view_retention_access_records",
            str(e.originator_id),
            destroyed_at=moment(e.occurred_at),
        )

    @on(ConsultationTopic.PURPOSE_DESTROYED)
    def _purpose_destroyed(self, e: Event, rows: Rows) -> None:
        self._access_destroyed(e, rows)

    @on(DisclosureTopic.CONTENT_DESTROYED)
    def _content_destroyed(self, e: Event, rows: Rows) -> None:
        self._access_destroyed(e, rows)

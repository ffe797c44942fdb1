"""Retention's acting half: destroys what the plan says is due (watchlists, alert images, the
access log's personal content), shreds the keys a crashed run left, and tells whoever keeps a
copy of destroyed data to drop it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from uuid import UUID

from lfr_ledger.domain.actors import Actor
from lfr_ledger.domain.alert import AlertTopic
from lfr_ledger.domain.application import SYSTEM, CaseLedger
from lfr_ledger.domain.deployment import DeploymentTopic
from lfr_ledger.domain.errors import DomainError
from lfr_ledger.domain.notification_log import notifications
from lfr_ledger.domain.records import ConsultationTopic, DisclosureTopic
from lfr_ledger.oversight.retention.plan import DeadlineIndex, RetentionPlan, RetentionPlanner
from lfr_ledger.oversight.retention.report import RetentionReport

WATCHLIST_RULE = "retention.watchlist_hours_after_end"
ALERT_IMAGE_RULE = "retention.alert_image_days"
ACCESS_LOG_RULE = "retention.access_log_years"

# How far back from a run's time the index path looks for keys a crashed run left behind: the
# sweep runs every 15 minutes and at start-up, so a week covers any outage but a long one;
# `lfr retention run --scan` finds leftovers of any age.
LEFTOVER_LOOKBACK = timedelta(days=7)


def rule_text(rule: str, value: int, policy_version: str) -> str:
    """What an erasure event names as its rule: the policy setting, its value and version, so
    the record says why without anyone having to find the policy file of the day."""
    return f"{rule}={value} (policy {policy_version})"


class Retention:
    """Performs retention for one ledger, as its planner decides. Thread-safe: runs are
    serialised."""

    def __init__(
        self,
        ledger: CaseLedger,
        *,
        after_destruction: Callable[[], bool] | None = None,
        after_change: Callable[[], object] | None = None,
        actor: Actor = SYSTEM,
        deadlines: DeadlineIndex | None = None,
    ) -> None:
        """`after_destruction` lets whoever keeps a copy of destroyed data drop it now (the
        composition root hands in the watchlist index's sync); it answers whether it did.
        `after_change` runs after any run that destroyed something (`lfr serve` signs a
        checkpoint there, so the erasures are sealed into the record at once). `deadlines`
        is where what is due is looked up; without it the log is scanned."""
        self.ledger = ledger
        self.deadlines = deadlines
        self.planner = RetentionPlanner(ledger, deadlines)
        self.after_destruction = after_destruction
        self.after_change = after_change
        self.actor = actor
        self._lock = threading.Lock()

    @property
    def watchlist_rule(self) -> str:
        p = self.ledger.policy
        return rule_text(WATCHLIST_RULE, p.watchlist_hours_after_end, p.version)

    @property
    def alert_image_rule(self) -> str:
        p = self.ledger.policy
        return rule_text(ALERT_IMAGE_RULE, p.alert_image_days, p.version)

    @property
    def access_log_rule(self) -> str:
        p = self.ledger.policy
        return rule_text(ACCESS_LOG_RULE, p.access_log_years, p.version)

    def plan(self, as_of: datetime | None = None, *, due_only: bool = False) -> RetentionPlan:
        """What is kept and when it is due (see `RetentionPlanner.plan`)."""
        return self.planner.plan(as_of, due_only=due_only)

    def run(self, as_of: datetime | None = None, *, dry_run: bool = False) -> RetentionReport:
        """Destroys everything due as of `as_of` (default: the ledger's clock now)."""
        with self._lock:
            plan = self.plan(as_of, due_only=True)
            report = RetentionReport(as_of=plan.as_of, dry_run=dry_run)
            report.not_ended = plan.not_ended
            report.held = [a.alert_id for a in plan.held()]
            for w in plan.due_watchlists():
                if dry_run:
                    report.watchlists_destroyed.append(w.deployment_id)
                    # What the destruction would take: every entry the deployment holds.
                    report.entries_destroyed.extend(
                        self.ledger.deployment(w.deployment_id).entry_ids
                    )
                    continue
                self._destroy_watchlist(w.deployment_id, report)
            for a in plan.due_alert_images():
                if dry_run:
                    report.alert_images_erased.append(a.alert_id)
                    continue
                self._erase_alert_images(a.alert_id, report)
            self._apply_access_log_rule(plan, report, dry_run=dry_run)
            if not dry_run:
                self._shred_leftovers(report)
                self._shred_access_log_leftovers(report)
                self._after_shredding(report)
            return report

    def destroy_watchlist_if_due(self, deployment_id: UUID) -> RetentionReport:
        """One scheduled job's work; does nothing unless the log says it is due now."""
        with self._lock:
            plan = self.plan(due_only=True)
            report = RetentionReport(as_of=plan.as_of)
            if any(w.deployment_id == deployment_id for w in plan.due_watchlists()):
                self._destroy_watchlist(deployment_id, report)
                self._after_shredding(report)
            return report

    def erase_alert_images_if_due(self, alert_id: UUID) -> RetentionReport:
        with self._lock:
            plan = self.plan(due_only=True)
            report = RetentionReport(as_of=plan.as_of)
            if any(a.alert_id == alert_id for a in plan.due_alert_images()):
                self._erase_alert_images(alert_id, report)
                self._after_shredding(report)
            return report

    def _destroy_watchlist(self, deployment_id: UUID, report: RetentionReport) -> None:
        try:
            entries = self.ledger.destroy_watchlist(
                deployment_id, rule=self.watchlist_rule, actor=self.actor
            )
        except DomainError as e:
            # One refusal (a concurrent run won the race) must not stop the others.
            report.failures.append(f"watchlist of deployment {deployment_id}: {e.detail}")
            return
        report.watchlists_destroyed.append(deployment_id)
        report.entries_destroyed.extend(entries)

    def _erase_alert_images(self, alert_id: UUID, report: RetentionReport) -> None:
        try:
            self.ledger.erase_alert_images(alert_id, rule=self.alert_image_rule, actor=self.actor)
        except DomainError as e:
            report.failures.append(f"images of alert {alert_id}: {e.detail}")
            return
        report.alert_images_erased.append(alert_id)

    def _shred_leftovers(self, report: RetentionReport) -> None:
        """Keys whose erasure is recorded but which survived (a crash between the two)."""
        if self.deadlines is not None:
            self._shred_recent_leftovers(self.deadlines, report)
            return
        vault = self.ledger.vault
        done = {*report.entries_destroyed, *self._alert_keys(*report.alert_images_erased)}
        for n in notifications(
            self.ledger.recorder, [DeploymentTopic.WATCHLIST_DESTROYED, AlertTopic.IMAGES_ERASED]
        ):
            if n.topic == AlertTopic.IMAGES_ERASED:
                ids = self._alert_keys(UUID(str(n.originator_id)))
            else:
                manifest = self.ledger.mapper.to_domain_event(n).manifest  # type: ignore[attr-defined]
                ids = [UUID(str(i)) for i in manifest]
                ids.append(self.ledger.deployment_notes_key_id(UUID(str(n.originator_id))))
            for key_id in ids:
                if key_id in done:
                    continue
                if vault.has_key(key_id) and vault.shred(key_id):
                    report.keys_shredded_late.append(key_id)

    def _alert_keys(self, *alert_ids: UUID) -> list[UUID]:
        """The keys an alert's erasure shreds: its images' and its notes' (`erased_alert_keys`)."""
        return [k for a in alert_ids for k in self.ledger.erased_alert_keys(a)]

    def _shred_recent_leftovers(self, index: DeadlineIndex, report: RetentionReport) -> None:
        """The same repair from the index: destructions dated within `LEFTOVER_LOOKBACK` of
        this run, watchlists, alert images and access records alike (a destruction is dated by
        the run that recorded it, so a run told an earlier `--as-of` dates its own back)."""
        watchlists, images, access = index.erased_since(report.as_of - LEFTOVER_LOOKBACK)
        ids: list[UUID] = []
        for deployment_id in watchlists:
            for event in self.ledger.repository.event_store.get(deployment_id):
                manifest: list[UUID] | None = getattr(event, "manifest", None)
                if manifest is not None:
                    ids.extend(UUID(str(i)) for i in manifest)
            ids.append(self.ledger.deployment_notes_key_id(deployment_id))
        done = {
            *report.entries_destroyed,
            *self._alert_keys(*report.alert_images_erased),
            *report.consultation_purposes_destroyed,
            *report.disclosure_contents_destroyed,
        }
        vault = self.ledger.vault
        for key_id in [*ids, *self._alert_keys(*images), *access]:
            if key_id not in done and vault.has_key(key_id) and vault.shred(key_id):
                report.keys_shredded_late.append(key_id)

    def _apply_access_log_rule(
        self, plan: RetentionPlan, report: RetentionReport, *, dry_run: bool
    ) -> None:
        report.unsealed_disclosures = [r.record_id for r in plan.unsealed_access_records()]
        for r in plan.due_access_records():
            done = (
                report.consultation_purposes_destroyed
                if r.kind == "consultation"
                else report.disclosure_contents_destroyed
            )
            if dry_run:
                done.append(r.record_id)
                continue
            try:
                if r.kind == "consultation":
                    self.ledger.destroy_consultation_purpose(
                        r.record_id, rule=self.access_log_rule, actor=self.actor
                    )
                else:
                    self.ledger.destroy_disclosure_content(
                        r.record_id, rule=self.access_log_rule, actor=self.actor
                    )
            except DomainError as e:
                report.failures.append(f"{r.kind} {r.record_id}: {e.detail}")
                continue
            done.append(r.record_id)

    def _shred_access_log_leftovers(self, report: RetentionReport) -> None:
        """Access-log keys whose destruction is recorded but which survived a crash."""
        if self.deadlines is not None:
            return  # found with the others by `_shred_recent_leftovers`
        vault = self.ledger.vault
        this_run = {*report.consultation_purposes_destroyed, *report.disclosure_contents_destroyed}
        for n in notifications(
            self.ledger.recorder,
            [ConsultationTopic.PURPOSE_DESTROYED, DisclosureTopic.CONTENT_DESTROYED],
        ):
            key_id = UUID(str(n.originator_id))
            if key_id not in this_run and vault.has_key(key_id) and vault.shred(key_id):
                report.keys_shredded_late.append(key_id)

    def _after_shredding(self, report: RetentionReport) -> None:
        if not report.changed:
            return
        # PostgreSQL keeps deleted rows in its pages until vacuumed: a shredded key must not.
        vacuum: Callable[[], None] | None = getattr(self.ledger.vault, "vacuum", None)
        if vacuum is not None:
            vacuum()
        destroyed = report.watchlists_destroyed or report.keys_shredded_late
        if destroyed and self.after_destruction is not None:
            report.index_synced = self.after_destruction()
        if self.after_change is not None:
            self.after_change()

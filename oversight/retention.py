"""The retention engine: destroys what the policy says may no longer be kept.

Two rules, both with periods from the policy file (`[retention]`):

- `watchlist_hours_after_end`: a deployment's watchlist is destroyed that many hours after the
  deployment ended (or was refused). Every entry's key is shredded, a `WatchlistDestroyed`
  manifest and one `Destroyed` event per entry are written (metadata only: what, which rule,
  when), and the watchlist index drops the entries' vectors at once, through the hook the
  composition root hands in (`after_destruction`).
- `alert_image_days`: an alert's face crop is erased that many days after it was captured,
  unless the alert is under legal hold; a hold released later makes it due at once.
- `access_log_years`: the access and disclosure logs' own retention. That many years after a
  consultation, its stated purpose's key is shredded; after a disclosure, the key of its
  recipient and record text. A `PurposeDestroyed` / `ContentDestroyed` event (rule, who, when)
  is written first; the record that the access happened stays. Disclosures recorded before
  sealing hold their text in clear and are reported, never claimed as destroyed.

Destruction is decided from the event log alone, so a run is idempotent: what was destroyed is
recorded, and a second run finds nothing due. A crash between recording an erasure and shredding
its key leaves the key behind; the next run shreds it (the record always comes first).

Time is the ledger's clock (`as_of` overrides it for a dry look at another moment), so tests and
`lfr retention run --as-of` say what time it is.

What is due is selected from a deadline index the composition root hands in (`DeadlineIndex`:
the `retention_deadlines` projection, caught up to the log's head at the start of each run). It
keeps each period's anchor (end or refusal, capture, access), never the deadline: the periods
are the policy's in force at the run, so adopting a policy version needs no re-indexing. The
keys a crashed run left are looked for among destructions written in the last
`LEFTOVER_LOOKBACK` (the sweep runs every 15 minutes); without an index (`lfr retention run
--scan`) the whole log is read, as before, and every leftover of any age is found.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

from lfr_ledger.domain.actors import Actor
from lfr_ledger.domain.alert import AlertTopic
from lfr_ledger.domain.application import SYSTEM, CaseLedger
from lfr_ledger.domain.deployment import DeploymentTopic
from lfr_ledger.domain.errors import DomainError
from lfr_ledger.domain.records import ConsultationTopic, DisclosureTopic
from lfr_ledger.domain.sealing import is_sealed_text
from lfr_ledger.domain.values import DeploymentStatus
from lfr_ledger.eventlog.reader import notifications
from lfr_ledger.oversight.reports import plain

if TYPE_CHECKING:
    from apscheduler.schedulers.base import BaseScheduler


logger = logging.getLogger("lfr.retention")

WATCHLIST_RULE = "retention.watchlist_hours_after_end"
ALERT_IMAGE_RULE = "retention.alert_image_days"
ACCESS_LOG_RULE = "retention.access_log_years"

# How far back from a run's time the index path looks for keys a crashed run left behind: the
# sweep runs every 15 minutes and at start-up, so a week covers any outage but a long one;
# `lfr retention run --scan` finds leftovers of any age.
LEFTOVER_LOOKBACK = timedelta(days=7)


class DeadlineIndex(Protocol):
    """Retention's records by the anchor of their period. A `…_by` bound is inclusive and
    selects the records whose anchor is at or before it; `None` selects every kept record."""

    def catch_up(self) -> int:
        """Applies the events the index has not seen, so nothing recorded is missed."""
        ...

    def kept_watchlists(self, finished_by: datetime | None) -> Sequence[tuple[UUID, datetime]]:
        """(deployment, ended or refused at) of watchlists not destroyed."""
        ...

    def kept_alert_images(
        self, captured_by: datetime | None
    ) -> Sequence[tuple[UUID, UUID, datetime, bool]]:
        """(alert, deployment, captured at, under legal hold) of face crops not erased."""
        ...

    def kept_access_records(
        self, occurred_by: datetime
    ) -> Sequence[tuple[str, UUID, datetime, bool]]:
        """(kind, record, occurred at, sealed) of access records whose content is kept."""
        ...

    def unfinished(self, window_closed_by: datetime) -> Sequence[UUID]:
        """Authorised deployments neither ended nor refused whose window closed by then."""
        ...

    def erased_since(
        self, since: datetime
    ) -> tuple[Sequence[UUID], Sequence[UUID], Sequence[UUID]]:
        """(watchlists, alert images, access records) destroyed at or after `since`."""
        ...


def rule_text(rule: str, value: int, policy_version: str) -> str:
    """What an erasure event names as its rule: the policy setting, its value and version, so
    the record says why without anyone having to find the policy file of the day."""
    return f"{rule}={value} (policy {policy_version})"


@dataclass(frozen=True)
class WatchlistDue:
    deployment_id: UUID
    ended_at: datetime
    due_at: datetime


@dataclass(frozen=True)
class AlertImagesDue:
    alert_id: UUID
    deployment_id: UUID
    captured_at: datetime
    due_at: datetime
    legal_hold: str | None


@dataclass(frozen=True)
class AccessRecordDue:
    """A consultation or disclosure whose personal content the access-log rule will destroy."""

    kind: str  # "consultation" or "disclosure"
    record_id: UUID
    occurred_at: datetime
    due_at: datetime
    sealed: bool = True


def add_years(moment: datetime, years: int) -> datetime:
    """The same calendar moment `years` later (29 February becomes 28 February)."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)


@dataclass
class RetentionPlan:
    """What the log says is kept and until when, as of one moment."""

    as_of: datetime
    watchlists: list[WatchlistDue] = field(default_factory=list)
    alert_images: list[AlertImagesDue] = field(default_factory=list)
    # Deployments whose window closed but that nobody ended: their watchlist cannot be
    # destroyed by rule until an operator ends them, which a person must be told about.
    not_ended: list[UUID] = field(default_factory=list)
    # The access and disclosure logs' personal content not yet destroyed.
    access_records: list[AccessRecordDue] = field(default_factory=list)

    def due_access_records(self) -> list[AccessRecordDue]:
        return [r for r in self.access_records if r.due_at <= self.as_of and r.sealed]

    def unsealed_access_records(self) -> list[AccessRecordDue]:
        return [r for r in self.access_records if r.due_at <= self.as_of and not r.sealed]

    def due_watchlists(self) -> list[WatchlistDue]:
        return [w for w in self.watchlists if w.due_at <= self.as_of]

    def due_alert_images(self) -> list[AlertImagesDue]:
        return [a for a in self.alert_images if a.due_at <= self.as_of and a.legal_hold is None]

    def held(self) -> list[AlertImagesDue]:
        return [a for a in self.alert_images if a.due_at <= self.as_of and a.legal_hold]

    def pending(self) -> list[tuple[str, UUID, datetime]]:
        """(kind, id, due_at) of everything not yet due: what the scheduler arms."""
        out: list[tuple[str, UUID, datetime]] = [
            ("watchlist", w.deployment_id, w.due_at)
            for w in self.watchlists
            if w.due_at > self.as_of
        ]
        out += [
            ("alert_images", a.alert_id, a.due_at)
            for a in self.alert_images
            if a.due_at > self.as_of and a.legal_hold is None
        ]
        return out


@dataclass
class RetentionReport:
    """What one run did. Empty lists on a second run: nothing was due any more."""

    as_of: datetime
    dry_run: bool = False
    watchlists_destroyed: list[UUID] = field(default_factory=list)
    entries_destroyed: list[UUID] = field(default_factory=list)
    alert_images_erased: list[UUID] = field(default_factory=list)
    held: list[UUID] = field(default_factory=list)
    keys_shredded_late: list[UUID] = field(default_factory=list)
    not_ended: list[UUID] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    index_synced: bool = False
    consultation_purposes_destroyed: list[UUID] = field(default_factory=list)
    disclosure_contents_destroyed: list[UUID] = field(default_factory=list)
    # Disclosures past the period recorded before sealing: their text is in the log in clear.
    unsealed_disclosures: list[UUID] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(
            self.watchlists_destroyed
            or self.entries_destroyed
            or self.alert_images_erased
            or self.keys_shredded_late
            or self.consultation_purposes_destroyed
            or self.disclosure_contents_destroyed
        )

    def to_dict(self) -> dict[str, Any]:
        return {k: plain(v) for k, v in asdict(self).items()}

    def summary(self) -> str:
        verb = "would destroy" if self.dry_run else "destroyed"
        lines = [
            f"retention as of {self.as_of.isoformat()}: {verb} "
            f"{len(self.watchlists_destroyed)} watchlist(s) "
            f"({len(self.entries_destroyed)} entries), "
            f"{len(self.alert_images_erased)} alert image set(s); "
            f"{len(self.held)} kept under legal hold"
        ]
        if self.consultation_purposes_destroyed or self.disclosure_contents_destroyed:
            lines.append(
                f"access log: {verb} the purpose of "
                f"{len(self.consultation_purposes_destroyed)} consultation(s) and the recipient "
                f"and record of {len(self.disclosure_contents_destroyed)} disclosure(s)"
            )
        if self.unsealed_disclosures:
            lines.append(
                f"access log: {len(self.unsealed_disclosures)} disclosure(s) past the period were "
                "recorded before sealing; their text stays in the log in clear"
            )
        if self.keys_shredded_late:
            lines.append(f"shredded {len(self.keys_shredded_late)} key(s) left by an earlier run")
        for deployment_id in self.not_ended:
            lines.append(
                f"ATTENTION: deployment {deployment_id}'s window has closed but it was never "
                "ended; an operator must end it before its watchlist can be destroyed"
            )
        lines += [f"FAILED: {f}" for f in self.failures]
        return "\n".join(lines)


class Retention:
    """Decides and performs retention for one ledger. Thread-safe: runs are serialised."""

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
        self.after_destruction = after_destruction
        self.after_change = after_change
        self.actor = actor
        self._lock = threading.Lock()

    @property
    def watchlist_period(self) -> timedelta:
        return timedelta(hours=self.ledger.policy.watchlist_hours_after_end)

    @property
    def alert_image_period(self) -> timedelta:
        return timedelta(days=self.ledger.policy.alert_image_days)

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

    # --- deciding ---------------------------------------------------------------------------

    def plan(self, as_of: datetime | None = None, *, due_only: bool = False) -> RetentionPlan:
        """Everything still kept that a rule will destroy, with when. From the deadline index
        when there is one: with `due_only`, only what is due (a run's work); without, every
        kept watchlist and image set too (what the scheduler arms), while access records are
        listed only once due (no job is armed for them). Without an index, the log is read."""
        now = as_of or self.ledger.clock()
        if self.deadlines is not None:
            return self._plan_from_index(self.deadlines, now, due_only=due_only)
        return self.scan_plan(now)

    def _plan_from_index(
        self, index: DeadlineIndex, now: datetime, *, due_only: bool
    ) -> RetentionPlan:
        index.catch_up()
        plan = RetentionPlan(as_of=now)
        watchlist_period, image_period = self.watchlist_period, self.alert_image_period
        for deployment_id, ended_at in index.kept_watchlists(
            now - watchlist_period if due_only else None
        ):
            plan.watchlists.append(
                WatchlistDue(deployment_id, ended_at, ended_at + watchlist_period)
            )
        for alert_id, deployment_id, captured, held in index.kept_alert_images(
            now - image_period if due_only else None
        ):
            # The proceedings reference is the aggregate's (the index keeps only a flag); a
            # hold released since the index was read leaves None, and the aggregate decides.
            hold = self.ledger.alert(alert_id).legal_hold if held else None
            plan.alert_images.append(
                AlertImagesDue(alert_id, deployment_id, captured, captured + image_period, hold)
            )
        years = self.ledger.policy.access_log_years
        # A day's slack covers 29 February, whose anniversary is 28 February; the exact rule
        # is applied to each record below.
        for kind, record_id, occurred, sealed in index.kept_access_records(
            add_years(now, -years) + timedelta(days=1)
        ):
            due_at = add_years(occurred, years)
            if due_at <= now:
                plan.access_records.append(
                    AccessRecordDue(kind, record_id, occurred, due_at, sealed)
                )
        for deployment_id in index.unfinished(now):
            deployment = self.ledger.deployment(deployment_id)
            if deployment.status != DeploymentStatus.ENDED and deployment.plan.ends_at <= now:
                plan.not_ended.append(deployment_id)
        return plan

    def scan_plan(self, as_of: datetime | None = None) -> RetentionPlan:
        """The plan read from the whole log: the reference the index is checked against."""
        now = as_of or self.ledger.clock()
        plan = RetentionPlan(as_of=now)
        decode = self.ledger.mapper.to_domain_event

        finished: dict[UUID, datetime] = {}
        destroyed: set[UUID] = set()
        for n in notifications(
            self.ledger.recorder,
            [DeploymentTopic.ENDED, DeploymentTopic.REFUSED, DeploymentTopic.WATCHLIST_DESTROYED],
        ):
            originator = UUID(str(n.originator_id))
            if n.topic == DeploymentTopic.WATCHLIST_DESTROYED:
                destroyed.add(originator)
            else:
                ended: Any = decode(n)
                finished.setdefault(originator, ended.occurred_at)
        for deployment_id, ended_at in finished.items():
            if deployment_id not in destroyed:
                plan.watchlists.append(
                    WatchlistDue(deployment_id, ended_at, ended_at + self.watchlist_period)
                )

        raised: dict[UUID, Any] = {}
        erased: set[UUID] = set()
        holds: dict[UUID, str | None] = {}
        for n in notifications(
            self.ledger.recorder,
            [
                AlertTopic.RAISED,
                AlertTopic.IMAGES_ERASED,
                AlertTopic.LEGAL_HOLD_PLACED,
                AlertTopic.LEGAL_HOLD_RELEASED,
            ],
        ):
            originator = UUID(str(n.originator_id))
            if n.topic == AlertTopic.RAISED:
                event: Any = decode(n)
                # Alerts without a face crop hold no image: nothing for this rule to erase.
                if event.sealed_face_crop is not None:
                    raised[originator] = event
            elif n.topic == AlertTopic.IMAGES_ERASED:
                erased.add(originator)
            elif n.topic == AlertTopic.LEGAL_HOLD_PLACED:
                holds[originator] = decode(n).proceedings_ref  # type: ignore[attr-defined]
            else:
                holds[originator] = None
        for alert_id, event in raised.items():
            if alert_id in erased:
                continue
            captured: datetime = event.captured_at
            plan.alert_images.append(
                AlertImagesDue(
                    alert_id=alert_id,
                    deployment_id=event.deployment_id,
                    captured_at=captured,
                    due_at=captured + self.alert_image_period,
                    legal_hold=holds.get(alert_id),
                )
            )
        plan.not_ended = self._not_ended(now, finished)
        plan.access_records = self._access_records()
        return plan

    def _not_ended(self, now: datetime, finished: dict[UUID, datetime]) -> list[UUID]:
        out: list[UUID] = []
        for n in notifications(self.ledger.recorder, [DeploymentTopic.AUTHORISED]):
            deployment_id = UUID(str(n.originator_id))
            if deployment_id in finished or deployment_id in out:
                continue
            deployment = self.ledger.deployment(deployment_id)
            if deployment.status != DeploymentStatus.ENDED and deployment.plan.ends_at <= now:
                out.append(deployment_id)
        return out

    # --- acting -----------------------------------------------------------------------------

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
        for n in notifications(
            self.ledger.recorder, [DeploymentTopic.WATCHLIST_DESTROYED, AlertTopic.IMAGES_ERASED]
        ):
            if n.topic == AlertTopic.IMAGES_ERASED:
                ids = [UUID(str(n.originator_id))]
            else:
                manifest = self.ledger.mapper.to_domain_event(n).manifest  # type: ignore[attr-defined]
                ids = [UUID(str(i)) for i in manifest]
            for key_id in ids:
                if key_id in report.entries_destroyed or key_id in report.alert_images_erased:
                    continue
                if vault.has_key(key_id) and vault.shred(key_id):
                    report.keys_shredded_late.append(key_id)

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
        done = {
            *report.entries_destroyed,
            *report.alert_images_erased,
            *report.consultation_purposes_destroyed,
            *report.disclosure_contents_destroyed,
        }
        vault = self.ledger.vault
        for key_id in [*ids, *images, *access]:
            if key_id not in done and vault.has_key(key_id) and vault.shred(key_id):
                report.keys_shredded_late.append(key_id)

    # --- the access and disclosure logs' own retention --------------------------------------

    def _access_records(self) -> list[AccessRecordDue]:
        """Consultations and disclosures whose personal content is still kept, with when the
        access-log rule makes it due."""
        years = self.ledger.policy.access_log_years
        decode = self.ledger.mapper.to_domain_event
        recorded: dict[UUID, AccessRecordDue] = {}
        destroyed: set[UUID] = set()
        for n in notifications(
            self.ledger.recorder,
            [
                ConsultationTopic.RECORDED,
                ConsultationTopic.PURPOSE_DESTROYED,
                DisclosureTopic.RECORDED,
                DisclosureTopic.CONTENT_DESTROYED,
            ],
        ):
            originator = UUID(str(n.originator_id))
            if n.topic in (ConsultationTopic.PURPOSE_DESTROYED, DisclosureTopic.CONTENT_DESTROYED):
                destroyed.add(originator)
                continue
            event: Any = decode(n)
            consulted = n.topic == ConsultationTopic.RECORDED
            recorded[originator] = AccessRecordDue(
                kind="consultation" if consulted else "disclosure",
                record_id=originator,
                occurred_at=event.occurred_at,
                due_at=add_years(event.occurred_at, years),
                sealed=consulted or any(is_sealed_text(v) for v in (event.recipient, event.record)),
            )
        return [r for i, r in recorded.items() if i not in destroyed]

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


# --- scheduling -----------------------------------------------------------------------------

SWEEP_JOB_ID = "retention:sweep"


def watchlist_job_id(deployment_id: UUID) -> str:
    return f"retention:watchlist:{deployment_id}"


def alert_images_job_id(alert_id: UUID) -> str:
    return f"retention:alert-images:{alert_id}"


# Runs job `name` (`job(*args)`) if this node is the one to run it now; True if it ran.
OneNode = Callable[..., bool]


def _here(name: str, job: Callable[..., object], *args: object) -> bool:
    job(*args)
    return True


class RetentionSchedule:
    """APScheduler 3 jobs derived from the event log.

    `rebuild()` (at start-up, and again by every sweep) first destroys whatever is already due,
    then arms one `date` job per watchlist or alert image set at its exact due time, with
    deterministic ids so rebuilding replaces jobs and never duplicates them. A periodic sweep
    catches what the log gained since (a deployment ended after start-up, a hold released)
    and re-arms. Jobs live in memory only; the log is their source of truth.
    """

    def __init__(
        self,
        retention: Retention,
        scheduler: BaseScheduler,
        *,
        sweep_minutes: float = 15.0,
        one_node: OneNode | None = None,
    ) -> None:
        self.retention = retention
        self.scheduler = scheduler
        self.sweep_minutes = sweep_minutes
        # With several nodes on one store, each job runs on one of them at a time (the
        # composition root hands in its lock); alone, every job simply runs here.
        self.one_node: OneNode = one_node or _here

    def rebuild(self) -> list[str]:
        self.one_node(SWEEP_JOB_ID, self._destroy_what_is_due)
        plan = self.retention.plan()
        armed: list[str] = []
        wanted: set[str] = set()
        for kind, record_id, due_at in plan.pending():
            if kind == "watchlist":
                job_id = watchlist_job_id(record_id)
                func: Callable[[UUID], RetentionReport] = self.retention.destroy_watchlist_if_due
            else:
                job_id = alert_images_job_id(record_id)
                func = self.retention.erase_alert_images_if_due
            wanted.add(job_id)
            self.scheduler.add_job(
                self.one_node,
                "date",
                run_date=due_at,
                args=[job_id, func, record_id],
                id=job_id,
                replace_existing=True,
                # A job missed while the process was down runs as soon as it is back.
                misfire_grace_time=None,
            )
            armed.append(job_id)
        for job in self.scheduler.get_jobs():
            if job.id.startswith("retention:") and job.id != SWEEP_JOB_ID and job.id not in wanted:
                self.scheduler.remove_job(job.id)
        # Added once: the sweep calls rebuild itself, and must not keep postponing its next run.
        if self.scheduler.get_job(SWEEP_JOB_ID) is None:
            self.scheduler.add_job(
                self.rebuild,
                "interval",
                minutes=self.sweep_minutes,
                id=SWEEP_JOB_ID,
                coalesce=True,
                max_instances=1,
            )
        return armed

    def _destroy_what_is_due(self) -> None:
        report = self.retention.run()
        if report.changed or report.failures:
            logger.info("%s", report.summary())

    def describe(self) -> list[dict[str, Any]]:
        return [
            {"id": job.id, "next_run_time": getattr(job, "next_run_time", None)}
            for job in self.scheduler.get_jobs()
            if job.id.startswith("retention:")
        ]

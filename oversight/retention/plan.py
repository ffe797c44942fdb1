"""What retention will destroy and from when: the deadline index it reads (`DeadlineIndex`),
the records due under each rule, and the planner that lists them as of one moment, from the
index or, without one, from the whole log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

from lfr_ledger.domain.alert import AlertTopic
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.deployment import DeploymentTopic
from lfr_ledger.domain.notification_log import notifications
from lfr_ledger.domain.records import ConsultationTopic, DisclosureTopic
from lfr_ledger.domain.sealing import is_sealed_text
from lfr_ledger.domain.values import DeploymentStatus


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


class RetentionPlanner:
    """Reads what is kept and when each rule makes it due, for one ledger."""

    def __init__(self, ledger: CaseLedger, deadlines: DeadlineIndex | None = None) -> None:
        """`deadlines`: where what is due is looked up; without it the log is scanned."""
        self.ledger = ledger
        self.deadlines = deadlines

    @property
    def watchlist_period(self) -> timedelta:
        return timedelta(hours=self.ledger.policy.watchlist_hours_after_end)

    @property
    def alert_image_period(self) -> timedelta:
        return timedelta(days=self.ledger.policy.alert_image_days)

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
                # Every alert, with a face crop or without: the rule erases its notes too
                # (adjudication reasons, outcome notes), which an alert without a crop has.
                raised[originator] = decode(n)
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

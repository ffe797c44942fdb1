"""Telling the public: the notice before the window (its least lead time, checked when the
deployment is proposed) and the signs on the day (the operator confirms which signs stand
where before going live; the start checks it, `lifecycle.py`)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from eventsourcing.domain import event

from lfr_ledger.domain.actors import Actor, Role
from lfr_ledger.domain.deployment import DeploymentTopic
from lfr_ledger.domain.deployment.state import DeploymentState, S
from lfr_ledger.domain.errors import InvalidInput, InvalidTransition, PolicyViolation
from lfr_ledger.domain.policy import Policy
from lfr_ledger.domain.values import DeploymentPlan

# Signs stand on a day as people in England and Wales live it: a window opening at 00:30 BST
# opens on a day UTC still calls the one before.
UK = ZoneInfo("Europe/London")
SIGNAGE_TEXT_LIMIT = 2000


def uk_date(at: datetime) -> date:
    return at.astimezone(UK).date()


def check_notice_lead_time(plan: DeploymentPlan, policy: Policy) -> None:
    """The public notice comes before the window opens, by at least the policy's lead time; a
    shorter notice needs a recorded exemption saying why (a deployment with no notice at all
    records its exemption instead)."""
    notice = plan.public_notice.issued_at
    if notice is None:
        return
    if policy.notice_before_window and notice > plan.starts_at:
        raise PolicyViolation(
            f"the public notice is dated {notice.isoformat()}, after the window opens at "
            f"{plan.starts_at.isoformat()}; policy {policy.version} needs the public told "
            "first (or an exemption with its reason)",
            field="public_notice.issued_at",
        )
    hours = policy.minimum_notice_hours
    latest = plan.starts_at - timedelta(hours=hours)
    if hours and notice > latest and not (plan.public_notice.exemption or "").strip():
        given = (plan.starts_at - notice) / timedelta(hours=1)
        raise PolicyViolation(
            f"the public notice is dated {notice.isoformat()}, {given:.1f} h before the window "
            f"opens at {plan.starts_at.isoformat()}; policy {policy.version} needs at least "
            f"{hours} h notice: issue it by {latest.isoformat()}, or record an exemption "
            "saying why the notice is short",
            field="public_notice.issued_at",
        )


class Signage(DeploymentState):
    def confirm_signage(
        self, *, signs: str, locations: str, actor: Actor, occurred_at: datetime
    ) -> None:
        """The operator states, on the day the deployment goes live and before starting it,
        which signs stand (`signs`) and where (`locations`). Either may be confirmed again, on
        a later day of a window that spans several: the start reads the latest."""
        actor.require(Role.OPERATOR)
        self._require_status(S.AUTHORISED, doing="confirm the signage before going live")
        for field, text in (("signs", signs), ("locations", locations)):
            if not text.strip():
                raise InvalidInput(
                    f"a signage confirmation states {field}: "
                    + ("which signs stand" if field == "signs" else "where they stand"),
                    field=field,
                )
            if len(text.strip()) > SIGNAGE_TEXT_LIMIT:
                raise InvalidInput(
                    f"{field} is longer than {SIGNAGE_TEXT_LIMIT} characters", field=field
                )
        first, last = self.window_days()
        today = uk_date(occurred_at)
        if not first <= today <= last:
            days = first.isoformat() if first == last else f"{first} to {last}"
            raise InvalidTransition(
                f"signage is confirmed on the day deployment {self.id} goes live ({days}, UK "
                f"date); it is {today.isoformat()}: confirm it that morning, once the signs "
                "stand"
            )
        self._signage_confirmed(
            signs=signs.strip(), locations=locations.strip(), actor=actor, occurred_at=occurred_at
        )

    @event("SignageConfirmed", topic=DeploymentTopic.SIGNAGE_CONFIRMED)
    def _signage_confirmed(
        self, *, signs: str, locations: str, actor: Actor, occurred_at: datetime
    ) -> None:
        self.signage_confirmed_at = occurred_at

    def window_days(self) -> tuple[date, date]:
        """The UK dates of the window's first and last moments."""
        last_moment = self.plan.ends_at - timedelta(microseconds=1)
        return uk_date(self.plan.starts_at), uk_date(last_moment)

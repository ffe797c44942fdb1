"""Access review: who consulted or disclosed which records, when and why (DPA 2018 s.62 logs).

Reads the `Consultation` and `Disclosure` records of the event log, filtered by actor, by record
(a substring, so a deployment or alert id finds every record string naming it) and by period.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from lfr_ledger.domain.actors import Actor
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.notification_log import notifications
from lfr_ledger.domain.records import ConsultationTopic, DisclosureTopic
from lfr_ledger.oversight.reports import plain


@dataclass(frozen=True)
class AccessRecord:
    kind: str  # "consultation" or "disclosure"
    notification_id: int
    id: UUID
    actor_id: str
    actor_role: str | None
    record: str
    occurred_at: datetime
    purpose: str | None = None
    recipient: str | None = None
    legal_basis: str | None = None
    # The oversight body the actor acted for, if any (recorded from issue 23 on).
    actor_body: str | None = None


@dataclass
class AccessReview:
    records: list[AccessRecord] = field(default_factory=list)
    # Where to continue (`after=`) when `limit` cut the list short; None when complete.
    next_after: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return plain(asdict(self))


def access_review(
    ledger: CaseLedger,
    *,
    actor_id: str | None = None,
    body: str | None = None,
    record: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    after: int = 0,
    limit: int = 500,
) -> AccessReview:
    """Access records in log order after notification id `after`, at most `limit` of them;
    with `body`, only those of readers acting for that oversight body (its code)."""
    review = AccessReview()
    for n in notifications(
        ledger.recorder, [ConsultationTopic.RECORDED, DisclosureTopic.RECORDED], after=after
    ):
        event: Any = ledger.mapper.to_domain_event(n)
        actor: Actor | None = getattr(event, "actor", None)
        who = actor.id if actor is not None else str(event.actor_id)
        if actor_id is not None and who != actor_id:
            continue
        acted_for = actor.body if actor is not None else None
        if body is not None and acted_for != body:
            continue
        consulted = n.topic == ConsultationTopic.RECORDED
        originator = UUID(str(n.originator_id))
        # A disclosure's recipient and record are sealed under its own key ("[erased]" once
        # access-log retention shredded it); a consultation's record is in clear.
        recipient, what = (
            (None, event.record)
            if consulted
            else ledger.reveal_disclosure(originator, event.recipient, event.record)
        )
        if record is not None and record not in what:
            continue
        if start is not None and event.occurred_at < start:
            continue
        if end is not None and event.occurred_at >= end:
            continue
        review.records.append(
            AccessRecord(
                kind="consultation" if consulted else "disclosure",
                notification_id=n.id,
                id=originator,
                actor_id=who,
                actor_role=actor.role.value if actor is not None else None,
                record=what,
                occurred_at=event.occurred_at,
                purpose=(
                    ledger.reveal_text(originator, "purpose", event.purpose) if consulted else None
                ),
                recipient=recipient,
                legal_basis=None if consulted else event.legal_basis,
                actor_body=acted_for,
            )
        )
        if len(review.records) >= limit:
            review.next_after = n.id
            return review
    return review

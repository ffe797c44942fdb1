"""How far one camera's faces have been counted on one deployment, so a new count can be checked
not to overlap an earlier one without reading the log.

A `FaceCount` is one period's record, found by (deployment, camera, period start): no record
tells where a camera's previous period ended. This one does. It changes in the same save as
each new count of its camera, so two matchers counting one camera at once cannot both pass (the
second save conflicts). A camera's counts follow one another in time, as its one runner closes
each period: a count that starts before the camera's counted time ends is refused, whether it
overlaps the last period or lies wholly before it. A count recorded by a release before this
record existed is not on it; the first count after it opens the timeline.

Bookkeeping derived from the counts, with nothing that identifies anyone: it is not part of a
deployment's history or bundle, which hold the `FaceCount` records themselves.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from lfr_ledger.domain.actors import Actor, Role
from lfr_ledger.domain.errors import ConcurrentWrite
from lfr_ledger.domain.records import LFR_NAMESPACE


class FaceCountTimelineTopic:
    """The stored topic of each FaceCountTimeline event. Stable strings, so classes can move
    without breaking stored events; readers of the log filter on these, never on literals."""

    OPENED = "lfr/FaceCountTimeline.Opened"
    COUNTED = "lfr/FaceCountTimeline.Counted"


class FaceCountTimeline(Aggregate):
    TOPIC = "lfr/FaceCountTimeline"

    # Unused base "created" event; named so every class in the store has a stable topic.
    class Created(Aggregate.Created):
        TOPIC = "lfr/FaceCountTimeline.Created"

    @staticmethod
    def id_for(deployment_id: UUID, camera_id: str) -> UUID:
        return uuid5(LFR_NAMESPACE, f"face-count-timeline:{deployment_id}:{camera_id}")

    @classmethod
    def open(
        cls, *, deployment_id: UUID, camera_id: str, actor: Actor, occurred_at: datetime
    ) -> FaceCountTimeline:
        actor.require(Role.MATCHER)
        return cls(
            id=cls.id_for(deployment_id, camera_id),
            deployment_id=deployment_id,
            camera_id=camera_id,
            actor=actor,
            occurred_at=occurred_at,
        )

    @event("Opened", topic=FaceCountTimelineTopic.OPENED)
    def __init__(
        self,
        *,
        id: UUID,
        deployment_id: UUID,
        camera_id: str,
        actor: Actor,
        occurred_at: datetime,
    ) -> None:
        self.deployment_id = deployment_id
        self.camera_id = camera_id
        # The end of the camera's last period counted; None until its first count.
        self.counted_until: datetime | None = None

    def count(
        self,
        *,
        report_id: UUID,
        period_start: datetime,
        period_end: datetime,
        actor: Actor,
        occurred_at: datetime,
    ) -> None:
        """Extends the camera's counted time by a new count's period, which must begin where
        the counted time ends or later. A refusal is a conflict with the count that stands
        (a matcher keeps the first count it made of any moment)."""
        actor.require(Role.MATCHER)
        until = self.counted_until
        if until is not None and period_start < until:
            raise ConcurrentWrite(
                f"faces of camera {self.camera_id} on deployment {self.deployment_id} were "
                f"already counted up to {until.isoformat()}; a count from "
                f"{period_start.isoformat()} would overlap what was counted (a camera's counts "
                "follow one another in time, one count for each moment)",
                field="period_start",
            )
        self._counted(
            report_id=report_id,
            period_start=period_start,
            period_end=period_end,
            actor=actor,
            occurred_at=occurred_at,
        )

    @event("Counted", topic=FaceCountTimelineTopic.COUNTED)
    def _counted(
        self,
        *,
        report_id: UUID,
        period_start: datetime,
        period_end: datetime,
        actor: Actor,
        occurred_at: datetime,
    ) -> None:
        self.counted_until = period_end

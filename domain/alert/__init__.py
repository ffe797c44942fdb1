"""An alert: the matcher's claim that a passer-by resembles a watchlist entry, and what the
police then did about it. A human decides; the alert only records.

The package holds the alert's language, here: each event's stored topic (`AlertTopic`), the
claim that raises an alert (`AlertClaim`, one value from the matcher's runner to the
aggregate) and the kind of hold that keeps its images (`HoldKind`); in `outcome.py`, an
outcome (`Outcome`, re-exported here) and the order outcomes follow. `aggregate.py` holds the
`Alert` aggregate, its commands and their events, and `retention.py` its holds and erasure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from lfr_ledger.domain.alert.outcome import Outcome

__all__ = ["CLOCK_SKEW", "AlertClaim", "AlertTopic", "HoldKind", "Outcome"]

# An officer's device clock may run a little fast; anything later than this is a mistake.
CLOCK_SKEW = timedelta(minutes=5)


class AlertTopic:
    """The stored topic of each Alert event. Stable strings, so classes can move without
    breaking stored events; readers of the log filter on these, never on literals."""

    RAISED = "lfr/Alert.Raised"
    ADJUDICATED = "lfr/Alert.Adjudicated"
    ENGAGEMENT_RECORDED = "lfr/Alert.EngagementRecorded"
    OUTCOME_RECORDED = "lfr/Alert.OutcomeRecorded"
    DEMOGRAPHICS_PERCEIVED = "lfr/Alert.DemographicsPerceived"
    CLOSED = "lfr/Alert.Closed"
    LEGAL_HOLD_PLACED = "lfr/Alert.LegalHoldPlaced"
    LEGAL_HOLD_RELEASED = "lfr/Alert.LegalHoldReleased"
    IMAGES_ERASED = "lfr/Alert.ImagesErased"
    ADJUDICATION_CORRECTED = "lfr/Alert.AdjudicationCorrected"
    OUTCOME_CORRECTED = "lfr/Alert.OutcomeCorrected"


@dataclass(frozen=True)
class AlertClaim:
    """The matcher's claim that a passer-by resembles a watchlist entry: built once by the
    runner (or decoded once from the HTTP body), journaled, sent, and handed as it is to
    `CaseLedger.raise_alert` and `Alert.raise_`.

    `alert_id`: derived by the matcher from the track, so a resend is recorded once; a new id
    when the sender states none. `model_id`: None means the deployment's own model.
    `face_crop`: the captured face (JPEG), sealed under the alert's own key once raised."""

    deployment_id: UUID
    camera_id: str
    entry_id: UUID
    similarity: float
    captured_at: datetime
    model_id: str | None = None
    track_id: str | None = None
    alert_id: UUID = field(default_factory=uuid4)
    face_crop: bytes | None = field(default=None, repr=False)


class HoldKind:
    """Why an alert's images are kept past their retention: a hold an authorising officer
    placed for named proceedings, or the evidential hold the policy places on an outcome
    (`retention.evidential_hold_on`). Both are released the same way, by an AO."""

    LEGAL = "legal"
    EVIDENTIAL = "evidential"

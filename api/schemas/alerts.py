"""Alerts: what the matcher raises, what the operator decides, and the alert's state as the
stream and lists show it (no personal data). What officers record after it (engagement,
outcomes, perceived characteristics) is in `alert_followup.py`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

from lfr_ledger.api.schemas.alert_followup import FalseAlertFactors
from lfr_ledger.api.schemas.base import (
    AwareDateTime,
    Ident,
    Image,
    Reply,
    Similarity,
    Struct,
    Text,
    one_of,
)
from lfr_ledger.api.schemas.history import AlertTimelineEvent
from lfr_ledger.domain.alert import AlertClaim
from lfr_ledger.domain.values import (
    AlertStatus,
    Confirmation,
    Decision,
    OutcomeType,
)
from lfr_ledger.projections.summaries import AlertRow


class AlertIn(Struct):
    """What the deployment's matcher sends when a face scores at or above the threshold in
    force against a watchlist entry. Refused below the threshold."""

    camera_id: Annotated[
        Ident,
        Meta(
            description="The camera, one of the deployment's plan, that saw the face",
            examples=["cam-north-1"],
        ),
    ]
    entry_id: Annotated[
        UUID,
        Meta(
            description="The watchlist entry of this deployment the face resembles",
            examples=["5f0c3a52-8d1e-4c6f-9b7a-2e4d6f8a0b1c"],
        ),
    ]
    similarity: Annotated[
        Similarity,
        Meta(
            description="The matcher's score on its model's own scale (cosine similarity for "
            "the shipped models), at least the deployment's threshold",
            examples=[0.62],
        ),
    ]
    captured_at: Annotated[
        AwareDateTime,
        Meta(description="When the camera captured the face", examples=["2026-06-02T10:15:30Z"]),
    ]
    track_id: (
        Annotated[
            Ident,
            Meta(
                description="The matcher's own id of the face's track across frames, if any",
                examples=["track-000123"],
            ),
        ]
        | None
    ) = None
    alert_id: (
        Annotated[
            UUID,
            Meta(
                description="An id the matcher derives from its track, so that a retry returns the "
                "same alert and records nothing new; a new id when absent",
                examples=["9b2d7c1e-3f4a-4b5c-8d6e-7f8091a2b3c4"],
            ),
        ]
        | None
    ) = None
    model_id: (
        Annotated[
            Ident,
            Meta(
                description="The model that scored it; must be the deployment's (default: the "
                "deployment's model), since a score from another model is on another scale",
                examples=["sface-2021dec"],
            ),
        ]
        | None
    ) = None
    face_crop: (
        Annotated[
            Image,
            Meta(
                description="The captured face (base64 JPEG or PNG, at most 10 MB and 4096 "
                "pixels a side; refused unless it decodes), sealed in the log under the alert's "
                "own key and erased by retention"
            ),
        ]
        | None
    ) = None

    def claim(self, deployment_id: UUID) -> AlertClaim:
        """The claim this body states; a new alert id when it names none."""
        stated = {k: v for k, v in msgspec.structs.asdict(self).items() if v is not None}
        return AlertClaim(deployment_id=deployment_id, **stated)


class AdjudicationIn(Struct):
    """The operator's decision on an alert, and why (every decision says why, a match too:
    what the operator saw)."""

    decision: Annotated[
        Decision,
        Meta(description="match, no_match or inconclusive", examples=["no_match"]),
    ]
    reason: Annotated[
        Text,
        Meta(
            description="What the operator saw that decided it. Sealed in the log",
            examples=["Different ear shape and hairline; no scar on the left cheek"],
        ),
    ]
    false_alert_factors: Annotated[
        FalseAlertFactors, Meta(description="For a no_match only: why the alert was false")
    ] = msgspec.field(default_factory=list)


class AdjudicationCorrectionIn(Struct):
    """The decision the alert should have had, and why the first one was wrong."""

    decision: Annotated[
        Decision,
        Meta(description="The corrected decision; it must differ from the one in force"),
    ]
    reason: Annotated[
        Text,
        Meta(
            description="Why the first decision was wrong. Sealed in the log",
            examples=["Second review of the crop at full size: the scar is not there"],
        ),
    ]
    false_alert_factors: Annotated[
        FalseAlertFactors,
        Meta(description="For a correction to no_match only: why the alert was false"),
    ] = msgspec.field(default_factory=list)


class AlertOut(Reply):
    """An alert without personal data: what the live stream and alert lists carry. Corrected
    values replace the originals here; the timeline keeps both."""

    id: Annotated[UUID, Meta(description="The alert's id")]
    deployment_id: Annotated[UUID, Meta(description="The deployment it was raised in")]
    entry_id: Annotated[UUID, Meta(description="The watchlist entry the face resembled")]
    camera_id: Annotated[str, Meta(description="The camera that saw the face")]
    category: Annotated[
        str,
        Meta(
            description="The entry's watchlist category (`GET /policy` lists the policy's; the "
            "default policy's: wanted_by_courts, suspected_offender, subject_to_court_order, "
            "missing_person, at_risk, victim_or_witness, test_subject)",
            examples=["wanted_by_courts"],
        ),
    ]
    similarity: Annotated[float, Meta(description="The matcher's score", examples=[0.62])]
    threshold: Annotated[
        float, Meta(description="The deployment's threshold when it was raised", examples=[0.5])
    ]
    status: Annotated[
        AlertStatus, Meta(description="Where it stands: named after the last step recorded")
    ]
    captured_at: Annotated[datetime, Meta(description="When the camera captured the face")]
    raised_at: Annotated[datetime, Meta(description="When the ledger recorded the alert")]
    decision: Annotated[
        str | None,
        Meta(
            description="The operator's decision (Decision: match, no_match, inconclusive), "
            "as corrected; null until adjudicated",
            extra_json_schema=one_of(Decision, nullable=True),
        ),
    ]
    adjudicated_at: Annotated[
        datetime | None, Meta(description="When it was (first) adjudicated; null before")
    ]
    adjudicated_by: Annotated[
        str | None,
        Meta(description="staff number of the operator who decided (shared queues show it)"),
    ]
    engaged: Annotated[
        bool | None,
        Meta(description="Whether an officer spoke to the person; null until recorded"),
    ]
    confirmed: Annotated[
        str | None,
        Meta(
            description='Whether the identity was confirmed (Confirmation: "true", "false", '
            '"unknown"); null until recorded',
            extra_json_schema=one_of(Confirmation, nullable=True),
        ),
    ]
    outcomes: Annotated[
        list[str],
        Meta(
            description="The type of each outcome recorded (OutcomeType), in order, as corrected",
            extra_json_schema=one_of(OutcomeType, items=True),
        ),
    ]
    closed_at: Annotated[datetime | None, Meta(description="When it was closed; null while open")]


class AlertList(Reply):
    """A deployment's alerts, oldest first, from the read models (no personal data)."""

    deployment_id: Annotated[UUID, Meta(description="The deployment")]
    alerts: Annotated[list[AlertRow], Meta(description="Every alert of the deployment")]
    stream_from: Annotated[
        int,
        Meta(
            description="a position read before the list: open `/alerts/stream` with "
            "`last_event_id` set to it and nothing raised since the list is missed (events "
            "already in the list may come again; apply them by alert id)"
        ),
    ]


# --- an alert's own timeline ----------------------------------------------------------------


class AlertTimeline(Reply):
    """An alert's own record: where it stands now (the corrected values), and every event that
    brought it there, corrections beside the originals they correct."""

    alert: Annotated[AlertOut, Meta(description="The alert as it stands now")]
    corrections: Annotated[
        int, Meta(description="How many corrections (adjudication or outcome) it has had")
    ]
    hold: Annotated[
        str | None,
        Meta(
            description='null, "legal" (an AO\'s) or "evidential" (by policy)',
            extra_json_schema=one_of(["legal", "evidential"], nullable=True),
        ),
    ]
    has_face_crop: Annotated[
        bool, Meta(description="Whether the matcher sent a face crop (erased or not)")
    ]
    images_erased_at: Annotated[
        datetime | None, Meta(description="When retention erased its images and notes")
    ]
    events: Annotated[
        list[AlertTimelineEvent],
        Meta(description="Every event of the alert, in order; `topic` names each one's shape"),
    ]

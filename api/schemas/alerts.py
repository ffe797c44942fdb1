"""Alerts: what the matcher raises, what the operator and officers record, and the alert's
state as the stream and lists show it (no personal data)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

from lfr_ledger.api.schemas.base import (
    AwareDateTime,
    Ident,
    Image,
    OptionalText,
    Reply,
    ShortText,
    Similarity,
    Struct,
    Text,
    items_schema,
    one_of,
)
from lfr_ledger.api.schemas.history import AlertTimelineEvent
from lfr_ledger.domain.alert import AlertClaim
from lfr_ledger.domain.values import (
    AlertStatus,
    ComplianceResult,
    Confirmation,
    Decision,
    OutcomeType,
)
from lfr_ledger.projections.summaries import AlertRow

# Fields an outcome and its correction share.
OUTCOME_TYPE = (
    "What happened: arrest (needs `offences`), compliance_check (needs `conditions` and "
    "`result`), words_of_advice, no_further_action, not_located, or other (needs `note`)"
)
Offences = Annotated[
    list[ShortText],
    Meta(
        max_length=50,
        extra_json_schema=items_schema(ShortText),
        description="For an arrest, at least one: the offences, as written on the custody record",
        examples=[["Failing to appear (Bail Act 1976 s.6)"]],
    ),
]
OutcomeReference = Annotated[
    ShortText,
    Meta(
        description="The force's own reference for it (custody or occurrence number). Sealed "
        "in the log",
        examples=["CUS/2026/004711"],
    ),
]
Conditions = Annotated[
    list[ShortText],
    Meta(
        max_length=50,
        extra_json_schema=items_schema(ShortText),
        description="For a compliance check, at least one: the conditions of the order (or "
        "licence) that were checked. Sealed in the log",
        examples=[["Curfew 19:00-07:00", "Not to enter the town centre"]],
    ),
]
Result = Annotated[
    ComplianceResult,
    Meta(description="For a compliance check only (required there): complied or breach"),
]
OutcomeNote = Annotated[
    OptionalText,
    Meta(
        description="Free text; required for type `other`, saying what happened. Sealed in the log",
        examples=["Advised to update the address held by the court"],
    ),
]


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


class EngagementIn(Struct):
    """What the engagement officer did and established."""

    engaged: Annotated[
        bool, Meta(description="Whether an officer spoke to the person", examples=[True])
    ]
    confirmed: Annotated[
        Confirmation,
        Meta(
            description='Whether the identity was confirmed: "true", "false" (the person is '
            'not the watchlist subject) or "unknown"',
            examples=["false"],
        ),
    ]


class PerceivedCharacteristicsIn(Struct):
    """The officer's perception, for equality monitoring only."""

    fields: Annotated[
        dict[ShortText, ShortText],
        Meta(
            max_length=10,
            description="Field -> value, each from the policy's closed lists (`[equality]` of "
            "the policy in force). The default policy's fields: perceived_sex (female, male, "
            "not_recorded), perceived_age_band (under_18, 18_24, 25_34, 35_44, 45_54, 55_64, "
            "65_plus, not_recorded), perceived_ethnicity (asian, black, mixed, white, other, "
            "not_recorded). Sealed in the log",
            examples=[{"perceived_sex": "male", "perceived_age_band": "25_34"}],
        ),
    ]


class OutcomeIn(Struct):
    """What came of an engagement. Every outcome is its own event; an alert may have several."""

    type: Annotated[OutcomeType, Meta(description=OUTCOME_TYPE, examples=["arrest"])]
    offences: Offences = msgspec.field(default_factory=list)
    reference: OutcomeReference | None = None
    conditions: Conditions = msgspec.field(default_factory=list)
    result: Result | None = None
    occurred_at: (
        Annotated[
            AwareDateTime,
            Meta(
                description="When it happened, if not now (at most a few minutes ahead of the "
                "server's clock)",
                examples=["2026-06-02T10:21:00Z"],
            ),
        ]
        | None
    ) = None
    note: OutcomeNote | None = None


class OutcomeCorrectionIn(Struct):
    """The outcome as it should have been recorded (it replaces the one numbered `index`,
    from 0, in recording order; its time stays the original's), and why."""

    type: Annotated[OutcomeType, Meta(description=OUTCOME_TYPE, examples=["words_of_advice"])]
    reason: Annotated[
        Text,
        Meta(
            description="Why the recorded outcome was wrong",
            examples=["Recorded against the wrong alert; the person was given words of advice"],
        ),
    ]
    offences: Offences = msgspec.field(default_factory=list)
    reference: OutcomeReference | None = None
    conditions: Conditions = msgspec.field(default_factory=list)
    result: Result | None = None
    note: OutcomeNote | None = None


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

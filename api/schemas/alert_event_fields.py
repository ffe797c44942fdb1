"""The fields of each Alert event as the API shows them (see `event_fields.py`, whose base and
shared descriptions they use): what the matcher raised, what the operator decided and the
officers recorded, holds and corrections. Sealed personal fields read "[sealed]".
`tests/test_history_schema.py` holds these shapes to the Alert's events, field by field."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

from lfr_ledger.api.schemas.event_fields import (
    CAMERA,
    CATEGORY,
    REASON,
    AggregateTopic,
    Fields,
    RecordedTime,
    Sealed,
)
from lfr_ledger.domain.values import ComplianceResult, Confirmation, Decision, OutcomeType

FALSE_ALERT_FACTORS = (
    "Why the alert was false (a no_match, an identity not confirmed): codes of the policy's "
    'closed lists, "factor" or "factor.reason" (absent before release 4: empty)'
)


class RecordedOutcome(Fields):
    """An outcome as recorded."""

    type: Annotated[OutcomeType, Meta(description="What happened")]
    offences: Annotated[
        list[str],
        Meta(
            description="For an arrest or a charge: the offences; for a bail or a voluntary "
            "attendance, what it is in connection with (the law's words, in clear)"
        ),
    ]
    reference: Annotated[
        str | None,
        Meta(
            description='The force\'s one free reference, before release 4 ("[sealed]" if sealed)'
        ),
    ]
    conditions: Annotated[
        list[str],
        Meta(
            description="For a compliance check: the conditions checked; for a bail, its "
            'conditions; each "[sealed]"'
        ),
    ]
    result: Annotated[
        ComplianceResult | None, Meta(description="For a compliance check: complied or breach")
    ]
    note: Annotated[str | None, Meta(description='Sealed free text: "[sealed]" or null')]
    # The three below are absent from outcomes recorded before release 4.
    custody_ref: Annotated[
        str | None, Meta(description='The custody record\'s number: "[sealed]" or null')
    ] = None
    crime_ref: Annotated[
        str | None, Meta(description='The crime report\'s number: "[sealed]" or null')
    ] = None
    due_at: Annotated[
        RecordedTime | None,
        Meta(description="When to answer bail, or attend a voluntary interview; null if none"),
    ] = None


class AlertRaisedFields(Fields):
    """The matcher's alert, as raised."""

    originator_topic: AggregateTopic
    deployment_id: Annotated[UUID, Meta(description="The deployment")]
    camera_id: Annotated[str, Meta(description=CAMERA)]
    entry_id: Annotated[UUID, Meta(description="The watchlist entry the face resembled")]
    category: Annotated[str, Meta(description=CATEGORY)]
    similarity: Annotated[float, Meta(description="The matcher's score")]
    threshold: Annotated[float, Meta(description="The threshold in force")]
    model_id: Annotated[str, Meta(description="The model that scored it")]
    captured_at: Annotated[RecordedTime, Meta(description="When the face was captured")]
    track_id: Annotated[str | None, Meta(description="The matcher's track id, if any")]
    sealed_face_crop: Annotated[
        Sealed | None, Meta(description="The face crop (sealed), if the matcher sent one")
    ]
    notes_key: Annotated[
        UUID | None,
        Meta(
            description="The id of the vault key the alert's notes are sealed under (shredded "
            "with its images); null on alerts raised before it was recorded, whose notes key "
            "is derived from the alert's id"
        ),
    ] = None


class AdjudicatedFields(Fields):
    """The operator's decision."""

    decision: Annotated[Decision, Meta(description="match, no_match or inconclusive")]
    reason: Annotated[str, Meta(description='What the operator saw: "[sealed]"')]
    false_alert_factors: Annotated[list[str], Meta(description=FALSE_ALERT_FACTORS)] = (
        msgspec.field(default_factory=list)
    )


class EngagementRecordedFields(Fields):
    """What the engagement officer did and established."""

    engaged: Annotated[bool, Meta(description="Whether an officer spoke to the person")]
    confirmed: Annotated[Confirmation, Meta(description="Whether the identity was confirmed")]
    # The three below are absent from engagements recorded before release 4.
    engaged_from: Annotated[
        RecordedTime | None, Meta(description="When the engagement began; null if not recorded")
    ] = None
    engaged_until: Annotated[
        RecordedTime | None, Meta(description="When the engagement ended; null if not recorded")
    ] = None
    false_alert_factors: Annotated[list[str], Meta(description=FALSE_ALERT_FACTORS)] = (
        msgspec.field(default_factory=list)
    )


class OutcomeRecordedFields(Fields):
    """An outcome recorded."""

    outcome: Annotated[RecordedOutcome, Meta(description="The outcome")]


class DemographicsPerceivedFields(Fields):
    """Perceived characteristics, for equality monitoring."""

    sealed_demographics: Annotated[Sealed, Meta(description="The characteristics (sealed)")]


class LegalHoldPlacedFields(Fields):
    """A hold keeps the alert's images past their retention."""

    reason: Annotated[str, Meta(description=REASON + ' ("[sealed]" if sealed)')]
    proceedings_ref: Annotated[
        str,
        Meta(
            description='The proceedings the hold is for ("[sealed]" if sealed; an evidential '
            "hold's cites the policy)"
        ),
    ]
    kind: Annotated[
        str, Meta(description='"legal" (placed by an AO) or "evidential" (by policy, on arrest)')
    ] = "legal"  # absent before release 3


class AdjudicationCorrectedFields(Fields):
    """A decision corrected; the first stays in the log."""

    decision: Annotated[Decision, Meta(description="The corrected decision")]
    previous: Annotated[Decision, Meta(description="The decision it replaces")]
    reason: Annotated[str, Meta(description='Why the first was wrong: "[sealed]"')]
    false_alert_factors: Annotated[list[str], Meta(description=FALSE_ALERT_FACTORS)] = (
        msgspec.field(default_factory=list)
    )


class OutcomeCorrectedFields(Fields):
    """An outcome corrected; the first stays in the log."""

    outcome_index: Annotated[int, Meta(description="Which outcome, from 0, in recording order")]
    outcome: Annotated[RecordedOutcome, Meta(description="The outcome as corrected")]
    previous: Annotated[RecordedOutcome, Meta(description="The outcome it replaces")]
    reason: Annotated[str, Meta(description=REASON)]

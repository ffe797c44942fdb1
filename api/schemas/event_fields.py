"""Each event's own fields as the API shows them: one typed shape per event topic, the `data` of
an event in a deployment's history (`history.py`) and in an alert's timeline alike.

Sealed personal fields are never shown: they read "[sealed]", or null where nothing was sealed.
Times are ISO 8601 strings exactly as recorded. `tests/test_history_schema.py` holds these
shapes to the domain's events, field by field.
"""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

from lfr_ledger.domain.values import ComplianceResult, Confirmation, Decision, OutcomeType

SEALED = "[sealed]"

Sealed = Annotated[
    Literal["[sealed]"], Meta(description="Sealed personal data: present, never shown")
]
# Litestar adds what sits under "extra" to the field's schema.
RecordedTime = Annotated[
    str,
    Meta(
        description="ISO 8601 with its UTC offset, as recorded",
        extra_json_schema={"extra": {"format": "date-time"}},
    ),
]
AggregateTopic = Annotated[str, Meta(description="The stored topic of the record's class")]
# Descriptions shared by many shapes.
REASON = "Why, as the actor stated it"
CAMERA = "The camera's id, as in the deployment's plan"
CATEGORY = (
    "The watchlist category (`GET /policy` lists the policy's; the default policy's: "
    "wanted_by_courts, suspected_offender, subject_to_court_order, missing_person, at_risk, "
    "victim_or_witness, test_subject)"
)


class Fields(msgspec.Struct, forbid_unknown_fields=True):
    """An event's own fields. Unknown fields are refused: the history shows every field an
    event has, so a field added to an event needs its place here too."""


# --- values inside events -------------------------------------------------------------------


class PlanLocation(Fields):
    """Where the deployment runs."""

    name: Annotated[str, Meta(description="The place, as the public would name it")]
    town: Annotated[str, Meta(description="The town or city")]
    location_type: Annotated[
        str,
        Meta(
            description="The kind of place, from the policy's closed list (`GET /policy` lists "
            "it; the default policy's: town_centre, shopping_area, transport_hub, "
            "night_time_economy, sporting_or_cultural_event)"
        ),
    ]
    lat: Annotated[float | None, Meta(description="Latitude (WGS 84), if given")]
    lon: Annotated[float | None, Meta(description="Longitude (WGS 84), if given")]


class PlanCamera(Fields):
    """A camera of the plan."""

    id: Annotated[str, Meta(description="The camera's id, unique in the deployment")]
    name: Annotated[str, Meta(description="Where it points, for people")]


class PlanNotice(Fields):
    """How the public was told, or the exemption recorded instead."""

    method: Annotated[str, Meta(description="How the public was told (signs, press, web)")]
    issued_at: Annotated[
        RecordedTime | None, Meta(description="When the notice was issued; null if exempt")
    ]
    exemption: Annotated[str | None, Meta(description="Why no notice was given, if none was")]


class Plan(Fields):
    """The deployment as proposed: authorisation is given for exactly this."""

    operation_id: Annotated[str, Meta(description="The operation's id")]
    location: Annotated[PlanLocation, Meta(description="Where it runs")]
    starts_at: Annotated[RecordedTime, Meta(description="The window's start")]
    ends_at: Annotated[RecordedTime, Meta(description="The window's end")]
    purpose: Annotated[str, Meta(description="The use case: why LFR is deployed here")]
    intelligence_case: Annotated[
        str, Meta(description="The intelligence that justifies it, as the planner stated it")
    ]
    watchlist_categories: Annotated[
        list[str], Meta(description="The categories its watchlist may hold; " + CATEGORY)
    ]
    cameras: Annotated[list[PlanCamera], Meta(description="The cameras it uses")]
    controlling_force: Annotated[str, Meta(description="The force in control of it")]
    equipment_owner_force: Annotated[str, Meta(description="The force the equipment belongs to")]
    dpia_ref: Annotated[str, Meta(description="Reference of the data protection impact assessment")]
    eia_ref: Annotated[str, Meta(description="Reference of the equality impact assessment")]
    policy_ref: Annotated[str, Meta(description="Reference of the force's LFR policy document")]
    public_notice: Annotated[PlanNotice, Meta(description="How the public was told")]
    model_id: Annotated[
        str, Meta(description="The matching model, whose scale the threshold is on")
    ]
    mutual_aid_agreement: Annotated[
        str | None,
        Meta(
            description="The agreement another force's equipment is lent under (mutual aid); "
            "absent from plans recorded before release 3"
        ),
    ] = None  # absent before release 3


class RecordedOutcome(Fields):
    """An outcome as recorded."""

    type: Annotated[OutcomeType, Meta(description="What happened")]
    offences: Annotated[
        list[str], Meta(description="For an arrest: the offences (the law's words, in clear)")
    ]
    reference: Annotated[
        str | None,
        Meta(description='The force\'s own reference for it ("[sealed]" if sealed)'),
    ]
    conditions: Annotated[
        list[str],
        Meta(description='For a compliance check: the conditions checked, each "[sealed]"'),
    ]
    result: Annotated[
        ComplianceResult | None, Meta(description="For a compliance check: complied or breach")
    ]
    note: Annotated[str | None, Meta(description='Sealed free text: "[sealed]" or null')]


# --- the fields of each event ---------------------------------------------------------------


class NoFields(Fields):
    """The topic says it all: resumed, ended, closed."""


class StartedFields(Fields):
    """Where the log stood when the deployment went live."""

    log_position: Annotated[
        int | None,
        Meta(
            description="The log's last notification id before the deployment went live: all "
            "its alerts lie after it (null: started before this was recorded)"
        ),
    ] = None


class ReasonFields(Fields):
    """Why (refused, paused, withdrawn, hold released)."""

    reason: Annotated[str, Meta(description=REASON + ' (sealed text reads "[sealed]")')]


class RuleFields(Fields):
    """The retention rule that destroyed or erased the record."""

    rule: Annotated[str, Meta(description="The retention rule applied, as the policy names it")]


class DeploymentProposedFields(Fields):
    """The plan proposed, and the threshold and policy it would run under."""

    originator_topic: AggregateTopic
    plan: Annotated[Plan, Meta(description="The deployment as proposed")]
    threshold: Annotated[float, Meta(description="The similarity threshold proposed")]
    policy_version: Annotated[str, Meta(description="The policy in force when proposed")]


class DeploymentAuthorisedFields(Fields):
    """The authorising officer's authority."""

    authority_ref: Annotated[str, Meta(description="Reference of the written (or oral) authority")]
    urgent: Annotated[bool, Meta(description="Urgent (oral) authority, to be confirmed in writing")]
    rank: Annotated[str | None, Meta(description="The authorising officer's rank")]
    # The three below are absent from authorisations recorded before release 3.
    necessity_and_proportionality: Annotated[
        str,
        Meta(description="Why LFR is necessary and proportionate here (empty before release 3)"),
    ] = ""
    appropriate_policy_document: Annotated[
        str,
        Meta(description="The appropriate policy document cited (empty before release 3)"),
    ] = ""
    urgent_deadline: Annotated[
        RecordedTime | None,
        Meta(description="For urgent authority: when it lapses unless confirmed in writing"),
    ] = None


class UrgentAuthorityLapsedFields(Fields):
    """Urgent authority was not confirmed in time: the ledger ended the deployment."""

    deadline: Annotated[RecordedTime | None, Meta(description="The deadline that passed")]


class DeploymentEndedFields(Fields):
    reason: Annotated[
        str,
        Meta(description="operator, window_closed or urgent_authority_lapsed"),
    ] = "operator"
    undecided_alerts: Annotated[
        list[UUID], Meta(description="Alerts awaiting a decision when the ledger ended it")
    ] = []


class UrgentAuthorityConfirmedFields(Fields):
    """Urgent authority confirmed in writing."""

    written_ref: Annotated[str, Meta(description="Reference of the written authority")]


class ThresholdChangedFields(Fields):
    """The similarity threshold changed."""

    threshold: Annotated[float, Meta(description="The new threshold")]
    previous: Annotated[float, Meta(description="The threshold before")]
    reason: Annotated[str, Meta(description=REASON)]


class WatchlistEntryAddedFields(Fields):
    """An entry joined the deployment's watchlist."""

    entry_id: Annotated[UUID, Meta(description="The entry's id")]
    category: Annotated[str, Meta(description=CATEGORY)]
    # The subject's pseudonym, so one subject is enrolled once (null before release 2).
    subject_digest: Annotated[
        Sealed | None,
        Meta(description='The subject\'s pseudonym: "[sealed]" (null before release 2)'),
    ] = None


class WatchlistReviewedFields(Fields):
    """The authorising officer reviewed the watchlist."""

    entry_count: Annotated[int, Meta(description="The entries confirmed")]
    note: Annotated[str, Meta(description='The reviewer\'s note ("[sealed]" if sealed)')]


class WatchlistDestroyedFields(Fields):
    """Retention destroyed the watchlist."""

    manifest: Annotated[list[UUID], Meta(description="The entries destroyed")]
    rule: Annotated[str, Meta(description="The retention rule applied")]


class PostDeploymentReviewedFields(Fields):
    """The authorising officer's review after the deployment."""

    findings: Annotated[str, Meta(description="What the review found (in clear: names no one)")]


class EnrolledFields(Fields):
    """A subject enrolled: personal fields sealed, the rest in clear."""

    originator_topic: AggregateTopic
    deployment_id: Annotated[UUID, Meta(description="The deployment whose watchlist it is on")]
    subject_digest: Annotated[Sealed, Meta(description="The subject's pseudonym (sealed)")]
    sealed_subject_ref: Annotated[Sealed, Meta(description="The subject's reference (sealed)")]
    sealed_name: Annotated[Sealed, Meta(description="The subject's name (sealed)")]
    sealed_rationale: Annotated[Sealed, Meta(description="Why they are enrolled (sealed)")]
    category: Annotated[str, Meta(description=CATEGORY)]
    legal_basis: Annotated[
        str, Meta(description='The legal basis for enrolling them ("[sealed]" if sealed)')
    ]
    offence: Annotated[str, Meta(description='The offence or concern ("[sealed]" if sealed)')]
    image_source: Annotated[
        str, Meta(description='Where the image came from ("[sealed]" if sealed)')
    ]
    image_taken_on: Annotated[str | None, Meta(description="When the image was taken (date)")]
    under_18: Annotated[bool, Meta(description="Whether the subject is a child")]
    model_id: Annotated[str | None, Meta(description="The model of the template, if any")]
    sealed_image: Annotated[Sealed | None, Meta(description="The image (sealed), if any")]
    sealed_template: Annotated[Sealed | None, Meta(description="The template (sealed), if any")]
    under_18_justification: Annotated[
        str | None,
        Meta(description='Why a child is enrolled: "[sealed]"; absent before release 3'),
    ] = None  # sealed text; absent before release 3


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


class AdjudicatedFields(Fields):
    """The operator's decision."""

    decision: Annotated[Decision, Meta(description="match, no_match or inconclusive")]
    reason: Annotated[str, Meta(description='What the operator saw: "[sealed]"')]


class EngagementRecordedFields(Fields):
    """What the engagement officer did and established."""

    engaged: Annotated[bool, Meta(description="Whether an officer spoke to the person")]
    confirmed: Annotated[Confirmation, Meta(description="Whether the identity was confirmed")]


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


class OutcomeCorrectedFields(Fields):
    """An outcome corrected; the first stays in the log."""

    outcome_index: Annotated[int, Meta(description="Which outcome, from 0, in recording order")]
    outcome: Annotated[RecordedOutcome, Meta(description="The outcome as corrected")]
    previous: Annotated[RecordedOutcome, Meta(description="The outcome it replaces")]
    reason: Annotated[str, Meta(description=REASON)]


class CameraWentSilentFields(Fields):
    """Nothing heard from the camera (heartbeat or face count) since `last_seen_at` (or since
    the deployment went live), for longer than the policy allows."""

    camera_id: Annotated[str, Meta(description=CAMERA)]
    last_seen_at: Annotated[RecordedTime, Meta(description="When it was last heard from")]


class BlueWalkPastRecordedFields(Fields):
    """A consenting test subject on a blue entry walked past `camera_id` at `walked_at`
    (analytics: the true-positive identification rate)."""

    entry_id: Annotated[UUID, Meta(description="The blue (test-subject) entry")]
    camera_id: Annotated[str, Meta(description=CAMERA)]
    walked_at: Annotated[RecordedTime, Meta(description="When the test subject walked past")]


class CameraReportingFields(Fields):
    """The camera reported again: its silence ran from `silent_since` to this event."""

    camera_id: Annotated[str, Meta(description=CAMERA)]
    silent_since: Annotated[RecordedTime, Meta(description="When its silence began")]


class FacesCountedFields(Fields):
    """Faces a camera's matcher processed in a period: the only trace non-matches leave."""

    originator_topic: AggregateTopic
    deployment_id: Annotated[UUID, Meta(description="The deployment")]
    camera_id: Annotated[str, Meta(description=CAMERA)]
    period_start: Annotated[RecordedTime, Meta(description="The period's start")]
    period_end: Annotated[RecordedTime, Meta(description="The period's end")]
    count: Annotated[int, Meta(description="Faces processed in it")]

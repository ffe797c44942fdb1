"""Each event's own fields as the API shows them: one typed shape per event topic, the `data` of
an event in a deployment's history (`history.py`) and in an alert's timeline alike.

Sealed personal fields are never shown: they read "[sealed]", or null where nothing was sealed.
Times are ISO 8601 strings exactly as recorded. `tests/test_history_schema.py` holds these
shapes to the domain's events, field by field. The Alert's events have theirs in
`alert_event_fields.py`.
"""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

from lfr_ledger.api.schemas.governance import CitedDocument

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
    controlling_force: Annotated[
        str,
        Meta(
            description="The force in control of it: a code of the policy's register of forces "
            "(a name as typed, in plans recorded before release 4)"
        ),
    ]
    equipment_owner_force: Annotated[
        str | None,
        Meta(
            description="The force the equipment belongs to (as `controlling_force`); null: "
            "not known, `equipment_owner_note` says why"
        ),
    ]
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
    equipment_owner_note: Annotated[
        str | None,
        Meta(description="Why the equipment's owner is not named; absent before release 4"),
    ] = None


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


class SignageConfirmedFields(Fields):
    """On the day, before going live, the operator confirmed the signs stand."""

    signs: Annotated[str, Meta(description="Which signs stand (in clear: names no one)")]
    locations: Annotated[str, Meta(description="Where they stand (in clear: names no one)")]


class ReconfirmedFields(Fields):
    """A watchlist manager stated the entry is still wanted before go-live."""

    still_in_force: Annotated[
        bool,
        Meta(description="The reason for the entry still holds (still wanted, order in force)"),
    ]
    checked: Annotated[str, Meta(description='What was checked, and when: "[sealed]"')]


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
    documents: Annotated[
        list[CitedDocument] | None,
        Meta(description="The governance documents cited, at their versions (null before 4)"),
    ] = None  # absent before release 4


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
    documents: Annotated[
        list[CitedDocument] | None,
        Meta(description="The governance documents cited, at their versions (null before 4)"),
    ] = None  # absent before release 4


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
    # The model evaluation cited (null when none was, as before evaluations could be cited).
    evaluation_ref: Annotated[
        str | None,
        Meta(description="The model evaluation cited: its reference in the governance register"),
    ] = None
    evaluation_version: Annotated[
        str | None, Meta(description="The evaluation's version current when it was cited")
    ] = None
    evaluation_digest: Annotated[
        str | None, Meta(description="SHA-256 of the signed evaluation report, as registered")
    ] = None


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
    """The authorising officer's review after the deployment, part by part, in clear (it
    names no one). A review recorded before issue 24 holds `findings` alone: its other fields
    read as their defaults."""

    findings: Annotated[
        str, Meta(description="What the review found; for a structured review, anything else")
    ] = ""
    objectives_met: Annotated[
        str | None,
        Meta(description="met, partly_met or not_met; null for a review of findings alone"),
    ] = None
    objectives_statement: Annotated[str, Meta(description="Why the objectives were so met")] = ""
    issues: Annotated[str, Meta(description="Issues met")] = ""
    community_impact: Annotated[str, Meta(description="Its impact on the community")] = ""
    complaint_ids: Annotated[
        list[UUID] | None,
        Meta(description="The complaints recorded against the deployment when it was reviewed"),
    ] = None
    complaints_noted: Annotated[
        str, Meta(description="Complaints the records do not hold, as the reviewer noted them")
    ] = ""
    lessons: Annotated[str, Meta(description="Lessons for the next deployment")] = ""


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
    description: Annotated[
        str | None,
        Meta(
            description='How the officer engaging knows the person: "[sealed]"; null when none '
            "was given, absent before issue 25"
        ),
    ] = None  # sealed text


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


class ResultsPublishedFields(Fields):
    """The deployment's results (its publication record) were published on the public feed by
    the planner or an authorising officer, who checked the figures."""

    due_by: Annotated[
        RecordedTime,
        Meta(description="When they were due (the policy's days after the end): later is late"),
    ]


class PublicationOverdueFields(Fields):
    """The ledger's deadline check found the results unpublished past `due_by`."""

    due_by: Annotated[RecordedTime, Meta(description="When the results were due")]
    results_within_days: Annotated[
        int, Meta(description="The policy's days from the end to publication")
    ]


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

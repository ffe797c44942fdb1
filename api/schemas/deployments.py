"""Deployments: proposal, authority, threshold, lifecycle and face counts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from msgspec import Meta

from lfr_ledger.api.schemas.base import (
    AwareDateTime,
    Ident,
    OptionalText,
    Reply,
    ShortText,
    Struct,
    Text,
    Threshold,
    items_schema,
    one_of,
)
from lfr_ledger.domain.values import DeploymentStatus

LOCATION_TYPE = (
    "The kind of place, from the policy's closed list: `GET /policy` lists the allowed values "
    "(`location_types`); the default policy's are town_centre, shopping_area, transport_hub, "
    "night_time_economy, sporting_or_cultural_event (a protest or a place of worship is not "
    "on it)"
)
WATCHLIST_CATEGORIES = (
    "The categories this deployment's watchlist may hold, from the policy's closed list: "
    "`GET /policy` lists the allowed values (`watchlist_categories`); the default policy's "
    "are wanted_by_courts, suspected_offender, subject_to_court_order, missing_person, "
    "at_risk, victim_or_witness, test_subject"
)


class LocationIn(Struct):
    """Where the deployment runs."""

    name: Annotated[
        ShortText,
        Meta(description="The place, as the public would name it", examples=["Market Square"]),
    ]
    town: Annotated[
        str,
        Meta(min_length=1, max_length=100, description="The town or city", examples=["Croydon"]),
    ]
    location_type: Annotated[
        str,
        Meta(min_length=1, max_length=100, description=LOCATION_TYPE, examples=["town_centre"]),
    ]
    lat: (
        Annotated[
            float,
            Meta(
                ge=-90,
                le=90,
                description="Latitude (WGS 84); with `lon` or not at all",
                examples=[51.3727],
            ),
        ]
        | None
    ) = None
    lon: (
        Annotated[
            float,
            Meta(
                ge=-180,
                le=180,
                description="Longitude (WGS 84); with `lat` or not at all",
                examples=[-0.0982],
            ),
        ]
        | None
    ) = None


class CameraIn(Struct):
    """A camera of the plan."""

    id: Annotated[
        Ident,
        Meta(
            description="The camera's id, unique in the deployment; the matcher names it",
            examples=["cam-north-1"],
        ),
    ]
    name: Annotated[
        ShortText,
        Meta(description="Where it points, for people", examples=["North entrance, facing south"]),
    ]


class PublicNoticeIn(Struct):
    """How the public was told before the window opens, or why it was not (an exemption)."""

    method: Annotated[
        ShortText,
        Meta(
            description="How the public was told",
            examples=["Signs at every entrance; force website; local press"],
        ),
    ]
    issued_at: (
        Annotated[
            AwareDateTime,
            Meta(
                description="When the notice was issued: before the window opens (the policy "
                "refuses a later one); omit only with an exemption",
                examples=["2026-06-01T09:00:00Z"],
            ),
        ]
        | None
    ) = None
    exemption: (
        Annotated[
            Text,
            Meta(
                description="Why no notice was given, required when `issued_at` is absent",
                examples=["Notice would defeat the operation's purpose: see the DPIA, section 4"],
            ),
        ]
        | None
    ) = None


class DeploymentIn(Struct):
    """A planner's proposal: authorisation is given for exactly this plan."""

    operation_id: Annotated[
        UUID,
        Meta(
            description="The operation it belongs to (POST /operations)",
            examples=["1c9e6a3b-2d4f-4a5b-8c7d-9e0f1a2b3c4d"],
        ),
    ]
    location: Annotated[LocationIn, Meta(description="Where it runs")]
    starts_at: Annotated[
        AwareDateTime,
        Meta(description="The window's start", examples=["2026-06-02T10:00:00Z"]),
    ]
    ends_at: Annotated[
        AwareDateTime,
        Meta(description="The window's end, after its start", examples=["2026-06-02T16:00:00Z"]),
    ]
    purpose: Annotated[
        Text,
        Meta(
            description="The use case: why LFR is deployed here",
            examples=["Locate people wanted on warrant in the town centre"],
        ),
    ]
    intelligence_case: Annotated[
        Text,
        Meta(
            description="The intelligence that justifies it here and now",
            examples=["Three wanted subjects seen in the market area in the last 14 days"],
        ),
    ]
    watchlist_categories: Annotated[
        list[Ident],
        Meta(
            min_length=1,
            max_length=20,
            extra_json_schema=items_schema(Ident),
            description=WATCHLIST_CATEGORIES,
            examples=[["wanted_by_courts", "missing_person"]],
        ),
    ]
    cameras: Annotated[
        list[CameraIn],
        Meta(min_length=1, max_length=100, description="The cameras, at least one, ids unique"),
    ]
    controlling_force: Annotated[
        ShortText,
        Meta(
            description="The force in control of the deployment", examples=["Metropolitan Police"]
        ),
    ]
    equipment_owner_force: Annotated[
        ShortText,
        Meta(
            description="The force the equipment belongs to; another force than the "
            "controlling one makes it mutual aid",
            examples=["Metropolitan Police"],
        ),
    ]
    dpia_ref: Annotated[
        ShortText,
        Meta(
            description="Reference of the data protection impact assessment",
            examples=["DPIA-LFR-2026-03"],
        ),
    ]
    eia_ref: Annotated[
        ShortText,
        Meta(
            description="Reference of the equality impact assessment", examples=["EIA-LFR-2026-03"]
        ),
    ]
    policy_ref: Annotated[
        ShortText,
        Meta(
            description="Reference of the force's LFR policy document", examples=["LFR-POL-2026.2"]
        ),
    ]
    public_notice: Annotated[PublicNoticeIn, Meta(description="How the public was told")]
    threshold: (
        Annotated[
            Threshold,
            Meta(
                description="The similarity threshold, on the model's scale (default: the "
                "policy's default for the model; never below its floor)",
                examples=[0.5],
            ),
        ]
        | None
    ) = None
    model_id: (
        Annotated[
            Ident,
            Meta(
                description="The matching model (default: the policy's `default_model`)",
                examples=["sface-2021dec"],
            ),
        ]
        | None
    ) = None
    mutual_aid_agreement: (
        Annotated[
            ShortText,
            Meta(
                description="Required when equipment_owner_force is not controlling_force (mutual "
                "aid): the reference of the agreement the equipment is lent under.",
                examples=["MA-2026-017"],
            ),
        ]
        | None
    ) = None


class LocationOut(Reply):
    """Where the deployment runs."""

    name: Annotated[str, Meta(description="The place")]
    town: Annotated[str, Meta(description="The town or city")]
    location_type: Annotated[str, Meta(description=LOCATION_TYPE)]
    lat: Annotated[float | None, Meta(description="Latitude (WGS 84), if given")]
    lon: Annotated[float | None, Meta(description="Longitude (WGS 84), if given")]


class CameraOut(Reply):
    """A camera of the plan."""

    id: Annotated[str, Meta(description="The camera's id, unique in the deployment")]
    name: Annotated[str, Meta(description="Where it points, for people")]


class PublicNoticeOut(Reply):
    """How the public was told, or the exemption recorded instead."""

    method: Annotated[str, Meta(description="How the public was told")]
    issued_at: Annotated[datetime | None, Meta(description="When; null with an exemption")]
    exemption: Annotated[str | None, Meta(description="Why no notice was given, if none was")]


class DeploymentOut(Reply):
    """A deployment's plan and where it stands (no personal data)."""

    id: Annotated[UUID, Meta(description="The deployment's id")]
    operation_id: Annotated[UUID, Meta(description="The operation it belongs to")]
    status: Annotated[
        str,
        Meta(
            description="Where it stands (DeploymentStatus)",
            extra_json_schema=one_of(DeploymentStatus),
        ),
    ]
    location: Annotated[LocationOut, Meta(description="Where it runs")]
    starts_at: Annotated[datetime, Meta(description="The window's start")]
    ends_at: Annotated[datetime, Meta(description="The window's end")]
    purpose: Annotated[str, Meta(description="The use case")]
    intelligence_case: Annotated[str, Meta(description="The intelligence that justifies it")]
    watchlist_categories: Annotated[list[str], Meta(description=WATCHLIST_CATEGORIES)]
    cameras: Annotated[list[CameraOut], Meta(description="Its cameras")]
    controlling_force: Annotated[str, Meta(description="The force in control")]
    equipment_owner_force: Annotated[str, Meta(description="The force owning the equipment")]
    mutual_aid: Annotated[
        bool,
        Meta(
            description="Mutual aid: the equipment belongs to another force than the one in "
            "control (names compared ignoring case and spacing)"
        ),
    ]
    mutual_aid_agreement: Annotated[
        str | None, Meta(description="The agreement mutual aid runs under; null otherwise")
    ]
    dpia_ref: Annotated[str, Meta(description="Data protection impact assessment reference")]
    eia_ref: Annotated[str, Meta(description="Equality impact assessment reference")]
    policy_ref: Annotated[str, Meta(description="The force's LFR policy document reference")]
    public_notice: Annotated[PublicNoticeOut, Meta(description="How the public was told")]
    model_id: Annotated[str, Meta(description="The matching model")]
    threshold: Annotated[float, Meta(description="The similarity threshold in force")]
    policy_version: Annotated[str, Meta(description="The policy it was proposed under")]
    proposed_by: Annotated[str, Meta(description="The planner who proposed it (staff number)")]
    authorised_by: Annotated[
        str | None, Meta(description="The authorising officer (staff number); null before")
    ]
    authorised_at: Annotated[datetime | None, Meta(description="When it was authorised")]
    authority_ref: Annotated[str | None, Meta(description="Reference of the authority")]
    necessity_and_proportionality: Annotated[
        str | None, Meta(description="The authorising officer's necessity statement")
    ]
    appropriate_policy_document: Annotated[
        str | None, Meta(description="The appropriate policy document cited (DPA 2018 s.42)")
    ]
    urgent: Annotated[bool, Meta(description="Authorised urgently (orally)")]
    urgent_confirmed: Annotated[bool, Meta(description="Urgent authority confirmed in writing")]
    urgent_deadline: Annotated[
        datetime | None,
        Meta(description="When urgent authority lapses unless confirmed in writing"),
    ]
    watchlist_size: Annotated[int, Meta(description="Entries enrolled on its watchlist")]
    watchlist_reviewed: Annotated[
        bool, Meta(description="Whether the authorising officer reviewed the watchlist")
    ]
    started_at: Annotated[datetime | None, Meta(description="When it first went live")]
    ended_at: Annotated[datetime | None, Meta(description="When it ended")]
    end_reason: Annotated[
        str | None,
        Meta(
            description="operator; window_closed or urgent_authority_lapsed when the ledger "
            "ended it on a deadline"
        ),
    ]
    undecided_at_end: Annotated[
        list[UUID], Meta(description="Alerts still awaiting a decision when it ended")
    ]
    watchlist_destroyed_at: Annotated[
        datetime | None, Meta(description="When retention destroyed its watchlist")
    ]
    post_review_at: Annotated[
        datetime | None, Meta(description="When the post-deployment review was recorded")
    ]


class AuthorisationIn(Struct):
    """Authorise (`authority_ref`, `necessity_and_proportionality`,
    `appropriate_policy_document`, optionally `urgent`), or refuse (`refused: true`, `reason`)."""

    authority_ref: (
        Annotated[
            ShortText,
            Meta(
                description="To authorise: reference of the written (or urgent: oral) authority",
                examples=["AUTH-2026-0142"],
            ),
        ]
        | None
    ) = None
    necessity_and_proportionality: (
        Annotated[
            Text,
            Meta(
                description="Why LFR is necessary and proportionate here, against the intelligence "
                "case (the policy sets the minimum length).",
                examples=[
                    "Three wanted subjects seen here in 14 days; overt signage, six hours, "
                    "a watchlist of 40: less intrusive means have failed"
                ],
            ),
        ]
        | None
    ) = None
    appropriate_policy_document: (
        Annotated[
            ShortText,
            Meta(
                description="Reference of the appropriate policy document (DPA 2018 s.42).",
                examples=["APD-2025-01"],
            ),
        ]
        | None
    ) = None
    urgent: Annotated[
        bool,
        Meta(
            description="Urgent (oral) authority: it lapses unless confirmed in writing within "
            "the policy's `urgent_confirmation_hours`"
        ),
    ] = False
    refused: Annotated[
        bool, Meta(description="To refuse the proposal instead (with `reason`, nothing else)")
    ] = False
    reason: (
        Annotated[
            Text,
            Meta(
                description="To refuse: why",
                examples=["The intelligence case does not show why LFR is needed at this place"],
            ),
        ]
        | None
    ) = None


class UrgentConfirmationIn(Struct):
    """The written authority that confirms an urgent (oral) one."""

    written_ref: Annotated[
        ShortText,
        Meta(description="Reference of the written authority", examples=["AUTH-2026-0142-W"]),
    ]


class ThresholdIn(Struct):
    """A new similarity threshold, and why."""

    threshold: Annotated[
        Threshold,
        Meta(
            description="The new threshold, on the deployment's model's scale; never below "
            "the policy's floor for the model",
            examples=[0.55],
        ),
    ]
    reason: Annotated[
        Text,
        Meta(
            description="Why it changes",
            examples=["Two false alerts in the first hour in low evening light"],
        ),
    ]


class PauseIn(Struct):
    """Why the deployment pauses (optional; the body itself may be omitted)."""

    reason: Annotated[
        OptionalText,
        Meta(description="Why it pauses", examples=["Crowd too dense for safe engagement"]),
    ] = ""


class ReviewIn(Struct):
    """The post-deployment review."""

    findings: Annotated[
        Text,
        Meta(
            description="What the review found: alerts, outcomes, lessons",
            examples=["Four alerts, two true, one arrest; signage at the east entrance missing"],
        ),
    ]


class FacesCountedIn(Struct):
    """Faces a camera's matcher processed in a period: the only trace non-matching faces
    leave."""

    camera_id: Annotated[
        Ident,
        Meta(description="The camera, one of the deployment's plan", examples=["cam-north-1"]),
    ]
    period_start: Annotated[
        AwareDateTime,
        Meta(description="The period's start", examples=["2026-06-02T10:00:00Z"]),
    ]
    period_end: Annotated[
        AwareDateTime,
        Meta(description="The period's end, after its start", examples=["2026-06-02T10:05:00Z"]),
    ]
    count: Annotated[
        int,
        Meta(ge=0, le=1_000_000_000, description="Faces processed in the period", examples=[1250]),
    ]

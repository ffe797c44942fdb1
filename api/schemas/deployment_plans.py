"""A deployment's plan: what a planner proposes (`DeploymentIn`: where, when, why, which
watchlist categories, which cameras, how the public was told) and the same plan as every reply
shows it. Authorisation is given for exactly this plan."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from msgspec import Meta

from lfr_ledger.api.schemas.base import (
    AwareDateTime,
    Ident,
    Reply,
    ShortText,
    Struct,
    Text,
    Threshold,
    items_schema,
)

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
FORCE = (
    "its code in the policy's register of forces (`GET /policy` lists them as `forces`, e.g. "
    "northamptonshire, metropolitan, south_wales), or its exact registered name; recorded as "
    "the code"
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
        Meta(description="The force in control of the deployment: " + FORCE, examples=["essex"]),
    ]
    equipment_owner_force: (
        Annotated[
            ShortText,
            Meta(
                description="The force the equipment belongs to: " + FORCE + ". Another force "
                "than the controlling one makes it mutual aid. null: not known (say why in "
                "`equipment_owner_note`), which counts as mutual aid, the kit being declared "
                "not the controlling force's own",
                examples=["essex"],
            ),
        ]
        | None
    )
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
            description="Reference of the force's LFR policy document", examples=["LFR-POL-2026.3"]
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
                description="Required when equipment_owner_force is not controlling_force, or "
                "is null (mutual aid): the reference of the agreement the equipment is lent "
                "under.",
                examples=["MA-2026-017"],
            ),
        ]
        | None
    ) = None
    equipment_owner_note: (
        Annotated[
            ShortText,
            Meta(
                description="Required when equipment_owner_force is null, and only then: why "
                "the owner is not named",
                examples=["not named in the release"],
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

"""Replies every resource shares: a record created, a command done, health, policy adopted."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

from lfr_ledger.api.schemas.base import Reply, Struct, one_of

POLICY_VERSION = Meta(
    description="The policy's version, as its file names it", examples=["LFR-POL-2026.3"]
)
CONTENT_HASH = Meta(
    description="SHA-256 of the policy file's text (hex): which text is in force",
    examples=["3f1a9c0d5e7b2a4c6e8f0a1b3c5d7e9f1a2b4c6d8e0f1a3b5c7d9e1f3a5b7c9d"],
)


class Created(Reply):
    """A record was created."""

    id: Annotated[
        UUID,
        Meta(
            description="The new record's id (operation, deployment, entry, alert, face-count "
            "report or disclosure)",
            examples=["5f0c3a52-8d1e-4c6f-9b7a-2e4d6f8a0b1c"],
        ),
    ]


class Done(Reply):
    """A command was recorded. `status` is the record's state after it."""

    id: Annotated[UUID, Meta(description="The record the command acted on")]
    status: Annotated[
        str,
        Meta(
            description="The record's state after it: for a deployment a DeploymentStatus "
            "(proposed, authorised, refused, live, paused, ended), for an alert an AlertStatus "
            "(raised, adjudicated, engagement_recorded, outcome_recorded, closed), for a "
            "watchlist entry an EntryStatus (active, withdrawn, destroyed)",
            examples=["adjudicated"],
        ),
    ]


class Health(Reply, omit_defaults=True):
    """`ok`, or `degraded` with the number of events projections skipped (see
    `lfr projections status`)."""

    status: Annotated[
        str,
        Meta(
            description="ok, or degraded when a projection skipped events",
            extra_json_schema=one_of(["ok", "degraded"]),
        ),
    ]
    projection_failures: Annotated[
        int, Meta(description="Events the projections skipped (absent when 0)", examples=[0])
    ] = 0


class Readiness(Reply):
    """Whether this node should be sent traffic: its store answers and every view is within
    `max_lag` events of the log."""

    ready: Annotated[bool, Meta(description="true when the node can serve current figures")]
    head: Annotated[
        int | None, Meta(description="The log's last notification id; null if unreachable")
    ]
    max_lag: Annotated[
        int, Meta(description="The most events a view may trail by", examples=[1000])
    ]
    lagging: Annotated[
        list[str], Meta(description="Views further behind than max_lag", examples=[["statistics"]])
    ]
    reason: Annotated[str | None, Meta(description="Why not ready, in words; null when ready")] = (
        None
    )


class PolicyAdopted(Reply):
    """The policy adopted (or found already adopted)."""

    id: Annotated[UUID, Meta(description="The adoption's record id")]
    version: Annotated[str, POLICY_VERSION]
    content_hash: Annotated[str, CONTENT_HASH]


class PolicyIn(Struct):
    """A force's own policy file, to check and put in force."""

    toml: Annotated[
        str,
        Meta(
            min_length=1,
            max_length=200_000,
            description="The policy file's full text (TOML), as `domain/policy.toml` shows it.",
        ),
    ]


class RegisteredForce(Reply):
    """A force of the policy's register."""

    code: Annotated[str, Meta(description="Its code", examples=["northamptonshire"])]
    name: Annotated[str, Meta(description="Its name", examples=["Northamptonshire Police"])]


class DutyTraining(Reply):
    """The LFR course one duty needs."""

    duty: Annotated[
        str,
        Meta(description="adjudicate (operators) or engage (engagement officers)"),
    ]
    course: Annotated[str, Meta(description="The course", examples=["lfr_operator"])]


class PolicyInForce(Reply):
    """The policy this node runs under, and the closed lists other routes draw on."""

    version: Annotated[str, POLICY_VERSION]
    title: Annotated[
        str,
        Meta(
            description="The policy's title",
            examples=["Live Facial Recognition: default policy shipped with lfr-ledger"],
        ),
    ]
    content_hash: Annotated[str, CONTENT_HASH]
    adopted: Annotated[
        bool, Meta(description="False until an admin adopts it; no proposal is accepted before")
    ]
    location_types: Annotated[
        list[str],
        Meta(
            description="The closed list of places LFR may be deployed (a deployment's "
            "`location.location_type`)",
            examples=[
                [
                    "town_centre",
                    "shopping_area",
                    "transport_hub",
                    "night_time_economy",
                    "sporting_or_cultural_event",
                ]
            ],
        ),
    ]
    watchlist_categories: Annotated[
        list[str],
        Meta(
            description="The closed list of watchlist categories (a deployment's "
            "`watchlist_categories`, an entry's `category`)",
            examples=[
                [
                    "wanted_by_courts",
                    "suspected_offender",
                    "subject_to_court_order",
                    "missing_person",
                    "at_risk",
                    "victim_or_witness",
                    "test_subject",
                ]
            ],
        ),
    ]
    forces: Annotated[
        list[RegisteredForce],
        Meta(
            description="The register of forces: an operation's `force` and a deployment's "
            "`controlling_force` and `equipment_owner_force` are one of these codes (or the "
            "exact name, recorded as its code)"
        ),
    ] = msgspec.field(default_factory=list)
    training: Annotated[
        list[DutyTraining],
        Meta(
            description="The LFR course each duty needs, current on the day; empty when the "
            "policy requires none"
        ),
    ] = msgspec.field(default_factory=list)
    complaint_channels: Annotated[
        list[str],
        Meta(
            description="The closed list of ways a complaint reaches the force (a complaint's "
            "`channel`)",
            examples=[["in_person", "phone", "email", "letter", "online_form"]],
        ),
    ] = msgspec.field(default_factory=list)
    false_alert_factors: Annotated[
        list[str],
        Meta(
            description="The codes a false alert's `false_alert_factors` may name: each factor, "
            'then each "factor.reason" (`[outcomes]` of the policy)',
            examples=[["subject", "system", "environment", "subject.lookalike"]],
        ),
    ] = msgspec.field(default_factory=list)
    false_alert_factors_required: Annotated[
        bool,
        Meta(
            description="Whether a no_match, and an engagement that did not confirm the "
            "identity, must name at least one factor"
        ),
    ] = False
    equality_fields: Annotated[
        dict[str, list[str]],
        Meta(
            description="The closed lists of perceived characteristics an officer records for "
            "equality monitoring (`[equality]` of the policy): field -> its values, for "
            "`POST /alerts/{id}/perceived-characteristics`",
            examples=[{"perceived_sex": ["female", "male", "not_recorded"]}],
        ),
    ] = msgspec.field(default_factory=dict)

"""Deployments: the deployment as a reply (its plan and where it stands), and the bodies of its
commands: authority, threshold, pause, face counts and the post-deployment review. The plan a
planner proposes is in `deployment_plans.py`."""

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
    one_of,
)
from lfr_ledger.api.schemas.deployment_plans import (
    WATCHLIST_CATEGORIES,
    CameraOut,
    LocationOut,
    PublicNoticeOut,
)
from lfr_ledger.api.schemas.governance import CitedDocumentOut
from lfr_ledger.domain.deployment.review import ObjectivesMet, Review
from lfr_ledger.domain.values import DeploymentStatus

# Free text kept in clear: the deployment's record for oversight outlives every retention period
# (docs/personal-data.md), so what is written there must not identify anyone.
CLEAR = " Kept in clear for oversight, so it names no one: cite an alert or an entry by its id"


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
    controlling_force: Annotated[
        str,
        Meta(description="The force in control: its code in the policy's register of forces"),
    ]
    equipment_owner_force: Annotated[
        str | None,
        Meta(
            description="The force owning the equipment (its code); null: not known, "
            "`equipment_owner_note` says why"
        ),
    ]
    equipment_owner_note: Annotated[
        str | None, Meta(description="Why the equipment's owner is not named; null otherwise")
    ]
    mutual_aid: Annotated[
        bool,
        Meta(
            description="Mutual aid: the equipment belongs to another force than the one in "
            "control, or to one not named (forces compared by code; the names of a plan "
            "proposed before the register ignoring case and spacing)"
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
    threshold_evidence: Annotated[
        ThresholdEvidenceOut | None,
        Meta(
            description="The model evaluation the last threshold change cited; null while the "
            "threshold is the one proposed or was changed citing none"
        ),
    ]
    policy_version: Annotated[str, Meta(description="The policy it was proposed under")]
    proposed_by: Annotated[str, Meta(description="The planner who proposed it (staff number)")]
    authorised_by: Annotated[
        str | None, Meta(description="The authorising officer (staff number); null before")
    ]
    authorised_at: Annotated[datetime | None, Meta(description="When it was authorised")]
    authority_ref: Annotated[str | None, Meta(description="Reference of the authority")]
    necessity_and_proportionality: Annotated[
        str | None,
        Meta(description="The authorising officer's necessity statement (in clear, naming no one)"),
    ]
    appropriate_policy_document: Annotated[
        str | None, Meta(description="The appropriate policy document cited (DPA 2018 s.42)")
    ]
    governance_documents: Annotated[
        list[CitedDocumentOut],
        Meta(
            description="The exact versions of the governance documents (GET "
            "/governance/documents) its proposal and its authority cited; empty for a "
            "deployment proposed before the register"
        ),
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
    signage_confirmed_at: Annotated[
        datetime | None,
        Meta(
            description="When the operator last confirmed the signs stand (the start needs it "
            "that UK day, before going live, under the policy's signage_confirmed_before_start)"
        ),
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
                "case (the policy sets the minimum length)." + CLEAR + ".",
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
                description="To refuse: why." + CLEAR + ".",
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


class ThresholdEvidenceOut(Reply):
    """A model evaluation in the governance register, as a threshold change cited it."""

    reference: Annotated[str, Meta(description="The document's reference")]
    version: Annotated[str | None, Meta(description="The version current when it was cited")]
    digest: Annotated[
        str | None, Meta(description="SHA-256 of the signed evaluation report, as registered")
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
            description="Why it changes." + CLEAR + ".",
            examples=["Two false alerts in the first hour in low evening light"],
        ),
    ]
    evaluation_ref: (
        Annotated[
            ShortText,
            Meta(
                description="The model evaluation the new threshold rests on: the reference of "
                "a model_evaluation document in the governance register (a signed report of "
                "`lfr models evaluate`), current and of the deployment's model. Required when "
                "the policy's [matching] threshold_change_requires_evaluation is true",
                examples=["EVAL-SFACE-2026-01"],
            ),
        ]
        | None
    ) = None


class PauseIn(Struct):
    """Why the deployment pauses (optional; the body itself may be omitted)."""

    reason: Annotated[
        OptionalText,
        Meta(
            description="Why it pauses. Sealed in the log, erased with the watchlist",
            examples=["Crowd too dense for safe engagement"],
        ),
    ] = ""


class ReviewIn(Struct):
    """The post-deployment review, part by part (issue 24). The complaints recorded against the
    deployment are counted from their records by the ledger; `complaints_noted` is for any the
    records do not hold."""

    objectives_met: Annotated[
        str,
        Meta(
            description="Whether the deployment met the objectives its authority set",
            extra_json_schema=one_of(ObjectivesMet),
            examples=["partly_met"],
        ),
    ]
    objectives_statement: Annotated[
        Text,
        Meta(
            description="Why: what was sought, what was achieved." + CLEAR + ".",
            examples=["Two of three wanted subjects located; the third was not seen"],
        ),
    ]
    issues: Annotated[
        Text,
        Meta(
            description='Issues met: equipment, process, staffing ("none" if none).' + CLEAR + ".",
            examples=["Camera 2 silent for 40 minutes after rain; signage late at the east end"],
        ),
    ]
    community_impact: Annotated[
        Text,
        Meta(
            description="Its impact on the community: footfall, reactions, engagement with the "
            "public, press." + CLEAR + ".",
            examples=["Leaflets handed out; questions from shoppers, no protest"],
        ),
    ]
    lessons: Annotated[
        Text,
        Meta(
            description="Lessons for the next deployment." + CLEAR + ".",
            examples=["Put signs up before the van arrives"],
        ),
    ]
    complaints_noted: Annotated[
        OptionalText,
        Meta(
            description="Complaints the complaint records do not hold (made on the day, not "
            "pursued)." + CLEAR + ".",
            examples=["Two passers-by objected at the van; both declined to complain formally"],
        ),
    ] = ""
    findings: Annotated[
        OptionalText,
        Meta(
            description="Anything else the review found (the one field of reviews recorded "
            "before issue 24)." + CLEAR + ".",
        ),
    ] = ""

    def review(self) -> Review:
        return Review(
            objectives_met=self.objectives_met,
            objectives_statement=self.objectives_statement,
            issues=self.issues,
            community_impact=self.community_impact,
            lessons=self.lessons,
            complaints_noted=self.complaints_noted,
            findings=self.findings,
        )


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

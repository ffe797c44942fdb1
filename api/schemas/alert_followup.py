"""What officers record after an alert: the engagement (when, and why a false alert was
false), perceived characteristics for equality monitoring, and outcomes (recorded or
corrected), with the field types they share."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from lfr_ledger.api.schemas.base import (
    AwareDateTime,
    OptionalText,
    ShortText,
    Struct,
    Text,
    items_schema,
)
from lfr_ledger.domain.values import ComplianceResult, Confirmation, OutcomeType

# Fields an outcome and its correction share.
OUTCOME_TYPE = (
    "What happened: arrest (needs `offences`), compliance_check (needs `conditions` and "
    "`result`), words_of_advice, no_further_action, not_located, other (needs `note`), "
    "safeguarding (needs `note`: what was done), voluntary_attendance (an interview by "
    "appointment; `due_at` when to attend), charge (needs `offences`: those charged) or bail "
    "(`conditions` if conditional, `due_at` when to answer it). Arrest, compliance_check, "
    "safeguarding, voluntary_attendance, charge and bail need the alert adjudicated match and "
    "the person engaged; a charge or a bail follows an arrest or a voluntary attendance "
    "recorded before it on the same alert"
)
Offences = Annotated[
    list[ShortText],
    Meta(
        max_length=50,
        extra_json_schema=items_schema(ShortText),
        description="For an arrest or a charge, at least one: the offences, as written on the "
        "custody record (a charge: those charged); for a bail or a voluntary attendance, what it "
        "is in connection with. In clear: the law's words",
        examples=[["Failing to appear (Bail Act 1976 s.6)"]],
    ),
]
OutcomeReference = Annotated[
    ShortText,
    Meta(
        description="One free reference, as outcomes recorded before release 4 hold it: send "
        "`custody_ref` and `crime_ref` instead. Sealed in the log",
        examples=["CUS/2026/004711"],
    ),
]
CustodyRef = Annotated[
    ShortText,
    Meta(
        description="The custody record's number (an arrest, a charge, a bail). Sealed in the log",
        examples=["CUS/2026/004711"],
    ),
]
CrimeRef = Annotated[
    ShortText,
    Meta(
        description="The crime report's (occurrence) number the outcome belongs to. Sealed in "
        "the log",
        examples=["NPT/26/0012345"],
    ),
]
DueAt = Annotated[
    AwareDateTime,
    Meta(
        description="For a bail: when the person must answer it; for a voluntary attendance: "
        "when to attend the interview. Not before the outcome itself",
        examples=["2026-06-30T10:00:00+01:00"],
    ),
]
FalseAlertFactors = Annotated[
    list[ShortText],
    Meta(
        max_length=20,
        extra_json_schema=items_schema(ShortText),
        description="Why the alert was false: codes from the policy's closed lists (`[outcomes] "
        "false_alert_factors` and `false_alert_reasons`, `GET /policy`), each a factor or a "
        "factor and its reason. The default policy's factors: subject (lookalike, "
        "family_resemblance, changed_appearance), system (enrolment_image_quality, "
        "watchlist_error, threshold), environment (lighting, occlusion, angle, distance, "
        "motion_blur). Required (at least one) where the policy says "
        "`false_alert_factors_required`; refused where the alert is not found false",
        examples=[["subject.lookalike", "environment.angle"]],
    ),
]
Conditions = Annotated[
    list[ShortText],
    Meta(
        max_length=50,
        extra_json_schema=items_schema(ShortText),
        description="For a compliance check, at least one: the conditions of the order (or "
        "licence) that were checked; for a bail, its conditions (none: unconditional). Sealed "
        "in the log",
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
        description="Free text; required for type `other` (what happened) and `safeguarding` "
        "(what was done). Sealed in the log",
        examples=["Advised to update the address held by the court"],
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
    engaged_from: (
        Annotated[
            AwareDateTime,
            Meta(
                description="When the officer began speaking to the person (with "
                "`engaged_until`, or neither; only for an engagement). Not before the face was "
                "captured",
                examples=["2026-06-02T10:17:00Z"],
            ),
        ]
        | None
    ) = None
    engaged_until: (
        Annotated[
            AwareDateTime,
            Meta(
                description="When the engagement ended: after `engaged_from`, not in the future "
                "(a few minutes' clock skew allowed)",
                examples=["2026-06-02T10:31:00Z"],
            ),
        ]
        | None
    ) = None
    false_alert_factors: Annotated[
        FalseAlertFactors,
        Meta(description='Only when `confirmed` is "false": why the alert was false'),
    ] = msgspec.field(default_factory=list)


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
    custody_ref: CustodyRef | None = None
    crime_ref: CrimeRef | None = None
    due_at: DueAt | None = None
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
    custody_ref: CustodyRef | None = None
    crime_ref: CrimeRef | None = None
    due_at: DueAt | None = None

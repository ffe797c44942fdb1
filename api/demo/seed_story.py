"""The seed operation's story, as Northamptonshire Police's press release tells it, and what the
seed had to invent to record it (`seed.py` records it through the ledger's commands).

LFR vans in Northampton (28 November), Kettering (29 November), Northampton (5 December) and
Wellingborough (6 December 2025), during the 16 Days of Activism against violence towards women
and girls, on equipment the force did not own (it plans its own LFR technology in 2026: a
mutual-aid case). 13 alerts, all adjudicated match and engaged; 6 arrests and 7 compliance
checks, exactly the release's figures.

The release names seven arrested people (four "for a range of offences", then "three women also
arrested") against its own total of six; the seed records the reading of the force's lead, "four
people who were wanted for various offences and two who were in breach of their Sexual Harm
Prevention Orders": the four wanted are the man wanted for a sexual assault on a child (found
with a lock knife, charged with carrying an offensive weapon, bailed over the assault) and the
three women (failing to appear for drug offences and for shoplifting, criminal damage); the two
SHPO breaches complete the six, and the immigration offences the release lists are recorded
against one of them, the one attribution the release does not state (docs/seed.md).
Compliance checks fall only on people subject to court orders. The man and the three women are
recorded as the officers would have perceived them (male, female); nobody else is described.

Everything in `INVENTED` is ILLUSTRATIVE: the release does not give it. Subjects are fictional;
the seed uses an external vendor matcher, so entries carry references only and run on the
vendor's similarity scale.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from lfr_ledger.domain.actors import Actor, Role
from lfr_ledger.domain.alert import Outcome
from lfr_ledger.domain.application import Enrolment
from lfr_ledger.domain.values import ComplianceResult, OutcomeType

FORCE = "Northamptonshire Police"
FORCE_CODE = "northamptonshire"  # as the policy's register of forces records it
# The release does not name the force that lent the vans; the seed does not invent one: the
# owner is recorded as not known (null), with why.
EQUIPMENT_OWNER: str | None = None
EQUIPMENT_OWNER_NOTE = "The press release does not name the force that lent the LFR vans"
MUTUAL_AID_AGREEMENT = "MA-LFR-2025-01 (illustrative reference)"
MODEL = "nec-neoface-v4"  # the vendor's scale: the policy floor is 0.60
THRESHOLD = 0.64
WATCHLIST_SIZE = 24  # entries per deployment (illustrative)
# The shipped policy's rules, adopted under a name that fits 2025 (`seed.seed_policy`).
POLICY_VERSION = "LFR-POL-2025.1"
# Each day's window (UTC hours); the public notice goes out two days before, at 09:00.
NOTICE_DAYS_BEFORE, NOTICE_HOUR, START_HOUR, END_HOUR = 2, 9, 10, 17
SIGNS = "'Live facial recognition in use' signs at each approach to the zone, and at the van"
OPERATION_NAME = "LFR town centres: 16 Days of Activism 2025"
ILLUSTRATIVE = "illustrative: not given by the press release"

ADMIN = Actor("ADM-001", Role.ADMIN, force=FORCE)
PLANNER = Actor("INSP-1042", Role.PLANNER, rank="inspector", force=FORCE)
WATCHLIST_MANAGER = Actor("SGT-2210", Role.WATCHLIST_MANAGER, rank="sergeant", force=FORCE)
AUTHORISING_OFFICER = Actor(
    "SUPT-0307", Role.AUTHORISING_OFFICER, rank="superintendent", force=FORCE
)
OPERATOR = Actor("PC-3381", Role.OPERATOR, rank="constable", force=FORCE)
OFFICER = Actor("PC-4417", Role.OFFICER, rank="constable", force=FORCE)
# Who the demo signs in to the console (oversight and analysis sit outside the force's chain).
OVERSIGHT = Actor("IOPC-0042", Role.OVERSIGHT)
ANALYST = Actor("ANL-0101", Role.ANALYST, force=FORCE)
CONSOLE_PEOPLE = (
    OPERATOR,
    OFFICER,
    PLANNER,
    AUTHORISING_OFFICER,
    WATCHLIST_MANAGER,
    OVERSIGHT,
    ANALYST,
    ADMIN,
)

WANTED = "wanted_by_courts"
SUSPECTED = "suspected_offender"
UNDER_ORDER = "subject_to_court_order"
MALE, FEMALE = "male", "female"


def arrest(*offences: str, custody: str) -> Outcome:
    return Outcome(OutcomeType.ARREST, offences=offences, custody_ref=custody)


def charge(*offences: str) -> Outcome:
    return Outcome(OutcomeType.CHARGE, offences=offences)


def bail(*in_connection_with: str) -> Outcome:
    """Bail as the release gives it: what it is in connection with; no date to answer it and
    no conditions, which the release does not give."""
    return Outcome(OutcomeType.BAIL, offences=in_connection_with)


def compliance(*conditions: str) -> Outcome:
    return Outcome(
        OutcomeType.COMPLIANCE_CHECK, conditions=conditions, result=ComplianceResult.COMPLIED
    )


@dataclass(frozen=True)
class SeedAlert:
    category: str  # the watchlist entry's category: the outcome must fit it
    similarity: float  # illustrative
    minutes_after_start: int  # illustrative
    outcome: Outcome  # the one that counts in the release's figures
    camera: str = "cam-1"
    # What the engagement officer perceived, only where the release describes the person.
    perceived_sex: str | None = None
    # What followed the outcome (the man's charge and bail): counted in no figure of the
    # release's three.
    followed_by: tuple[Outcome, ...] = ()


@dataclass(frozen=True)
class SeedDeployment:
    town: str
    location_name: str  # illustrative
    day: date
    faces_processed: int  # illustrative
    alerts: tuple[SeedAlert, ...]


SEED_DEPLOYMENTS: tuple[SeedDeployment, ...] = (
    SeedDeployment(
        "Northampton",
        "Abington Street",
        date(2025, 11, 28),
        8412,
        (
            SeedAlert(
                SUSPECTED,
                0.88,
                48,
                arrest(
                    "sexual assault on a child",
                    "possession of an offensive weapon (lock knife)",
                    custody="NN-C-0001",
                ),
                perceived_sex=MALE,
                followed_by=(
                    charge("carrying an offensive weapon (lock knife)"),
                    bail("sexual assault on a child"),
                ),
            ),
            SeedAlert(UNDER_ORDER, 0.72, 92, compliance("SHPO: notify any change of address")),
            SeedAlert(
                WANTED,
                0.77,
                150,
                arrest("failing to appear at court (drug offences)", custody="NN-C-0002"),
                perceived_sex=FEMALE,
            ),
            SeedAlert(UNDER_ORDER, 0.69, 301, compliance("SHPO: register every device")),
        ),
    ),
    SeedDeployment(
        "Kettering",
        "Gold Street",
        date(2025, 11, 29),
        5287,
        (
            SeedAlert(
                UNDER_ORDER, 0.70, 61, compliance("SHPO: no unsupervised contact with children")
            ),
            SeedAlert(
                UNDER_ORDER,
                0.84,
                133,
                arrest("breach of a Sexual Harm Prevention Order", custody="NN-C-0003"),
            ),
            SeedAlert(UNDER_ORDER, 0.67, 222, compliance("SHPO: exclusion from school grounds")),
        ),
    ),
    SeedDeployment(
        "Northampton",
        "Market Square",
        date(2025, 12, 5),
        6930,
        (
            SeedAlert(
                WANTED,
                0.81,
                35,
                arrest("failing to appear at court (shoplifting)", custody="NN-C-0004"),
                perceived_sex=FEMALE,
            ),
            SeedAlert(UNDER_ORDER, 0.74, 174, compliance("SHPO: notify foreign travel")),
            SeedAlert(
                SUSPECTED,
                0.73,
                260,
                arrest("criminal damage", custody="NN-C-0005"),
                perceived_sex=FEMALE,
            ),
        ),
    ),
    SeedDeployment(
        "Wellingborough",
        "Market Street",
        date(2025, 12, 6),
        4116,
        (
            SeedAlert(
                UNDER_ORDER,
                0.79,
                40,
                arrest(
                    "breach of a Sexual Harm Prevention Order",
                    "immigration offences",
                    custody="NN-C-0006",
                ),
            ),
            SeedAlert(UNDER_ORDER, 0.71, 118, compliance("SHPO: internet use monitored")),
            SeedAlert(UNDER_ORDER, 0.66, 245, compliance("SHPO: residence condition")),
        ),
    ),
)


@dataclass(frozen=True)
class Document:
    """A governance document the deployments cite, as the force's register would hold it."""

    kind: str
    reference: str
    title: str


# The force's documents for the operation: references as the seed's plans cite them, every
# one illustrative (the release cites none). Version 1.0, approved by the board below on
# DOCUMENTS_APPROVED_ON, due for review a year later.
DOCUMENTS = (
    Document("dpia", "DPIA-LFR-2025-03", "Data protection impact assessment: LFR in town centres"),
    Document("eia", "EIA-LFR-2025-03", "Equality impact assessment: LFR in town centres"),
    Document(
        "appropriate_policy_document",
        "APD-LFR-2025-01",
        "Appropriate policy document (DPA 2018 s.42): sensitive processing for law enforcement",
    ),
    Document(
        "equality_evidence",
        "EQE-LFR-2025-01",
        "The matcher's performance across demographic groups at the threshold used",
    ),
)
DOCUMENTS_APPROVED_ON = date(2025, 11, 3)
DOCUMENTS_APPROVED_BY = "Force LFR governance board"
# The operator and the engagement officer completed the policy's courses on this day, each
# current for a year.
TRAINED_ON = date(2025, 11, 10)

# What the release states, as the demo prints it beside the ledger's figures.
RELEASED_DEPLOYMENTS = 4
RELEASED_ALERTS = 13
RELEASED_ARRESTS = 6
RELEASED_COMPLIANCE_CHECKS = 7


def invented() -> list[tuple[str, str]]:
    """Every value the seed had to make up, with the value it chose: `lfr demo` prints them
    and docs/seed.md tables them. All are illustrative; none comes from the release."""
    alerts = [a for d in SEED_DEPLOYMENTS for a in d.alerts]
    similarities = sorted(a.similarity for a in alerts)
    return [
        ("matcher model", f"{MODEL} (an external vendor's similarity scale)"),
        ("threshold", f"{THRESHOLD} (the policy's default for that model; floor 0.60)"),
        ("similarities", f"{similarities[0]:.2f} to {similarities[-1]:.2f}, one per alert"),
        ("watchlist size", f"{WATCHLIST_SIZE} entries per deployment, every subject fictional"),
        (
            "public notice",
            f"the force website, {NOTICE_DAYS_BEFORE} days before each deployment at "
            f"{NOTICE_HOUR:02d}:00; signs confirmed standing on the morning",
        ),
        ("hours live", f"{START_HOUR:02d}:00 to {END_HOUR:02d}:00 UTC each day"),
        ("streets", "; ".join(f"{d.location_name}, {d.town}" for d in SEED_DEPLOYMENTS)),
        ("faces seen", " / ".join(f"{d.faces_processed:,}" for d in SEED_DEPLOYMENTS)),
        ("which alert fell on which day", " / ".join(str(len(d.alerts)) for d in SEED_DEPLOYMENTS)),
        ("immigration offences", "recorded against the second SHPO breach (Wellingborough)"),
        (
            "references",
            f"authorities, intelligence cases, custody numbers, the mutual-aid agreement "
            f"{MUTUAL_AID_AGREEMENT.split(' ')[0]}",
        ),
        (
            "governance documents",
            ", ".join(d.reference for d in DOCUMENTS)
            + f": version 1.0, approved {DOCUMENTS_APPROVED_ON:%d %B %Y}, reviewed a year on",
        ),
        ("officers", "every officer's id and rank"),
        ("training", f"operator and engagement officer trained {TRAINED_ON:%d %B %Y}"),
        (
            "reviews and publication",
            "each deployment reviewed, and its results published, the next morning",
        ),
        ("charge and bail", f"recorded at {END_HOUR + 2}:00 and {END_HOUR + 3}:00 that day"),
        ("policy", f"{POLICY_VERSION}: the shipped policy's rules under a 2025 version name"),
    ]


CATEGORIES = (WANTED, UNDER_ORDER, SUSPECTED)
_GIVEN = ("Alex", "Jordan", "Sam", "Chris", "Taylor", "Morgan", "Jamie", "Casey")
_FAMILY = ("Fenwick", "Holloway", "Prentice", "Marsh", "Whitlock", "Duggan")


def alert_entry(seq: int) -> int:
    """The watchlist position of the subject behind a deployment's `seq`-th alert."""
    return 5 * seq + 2


def seed_category(deployment: int, index: int) -> str:
    """The entry's category: the alert's where an alert falls on it, else the lists' mix."""
    if deployment < len(SEED_DEPLOYMENTS):
        for seq, alert in enumerate(SEED_DEPLOYMENTS[deployment].alerts):
            if alert_entry(seq) == index:
                return alert.category
    return CATEGORIES[index % len(CATEGORIES)]


def seed_subject(deployment: int, index: int) -> Enrolment:
    """A fictional subject; the category decides which outcomes make sense for the alert."""
    category = seed_category(deployment, index)
    return Enrolment(
        subject_ref=f"SEED-{deployment}-{index:03d}",
        name=f"{_GIVEN[index % len(_GIVEN)]} {_FAMILY[(index + deployment) % len(_FAMILY)]}",
        category=category,
        legal_basis="DPA 2018 Part 3, s.35; common law policing purpose",
        rationale=f"High-risk subject ({category}); intelligence case NN-IC-2025-{index:03d}",
        offence="warrant, order or offence as recorded on the police national computer",
        image_source="custody image",
        image_taken_on=date(2024, 1 + index % 12, 1 + index % 28),
    )

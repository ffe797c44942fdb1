"""The versioned policy file and the rules read from it."""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from lfr_ledger.domain.actors import RANKS
from lfr_ledger.domain.errors import InvalidInput, PolicyViolation
from lfr_ledger.domain.false_alerts import FalseAlertFactors
from lfr_ledger.domain.forces import ForceRegister
from lfr_ledger.domain.values import OutcomeType

# Where a policy file names no location types: the places the College of Policing's practice
# envisages for LFR (crime hotspots in public spaces), never a protest or a place of worship.
DEFAULT_LOCATION_TYPES = (
    "town_centre",
    "shopping_area",
    "transport_hub",
    "night_time_economy",
    "sporting_or_cultural_event",
)

# Where a policy file names no training: the course each duty needs, current on the day.
DEFAULT_TRAINING: dict[str, str] = {"adjudicate": "lfr_operator", "engage": "lfr_engagement"}

# Where a policy file names no complaint channels: the ways a complaint reaches a force.
DEFAULT_COMPLAINT_CHANNELS = (
    "in_person",
    "phone",
    "email",
    "letter",
    "online_form",
    "social_media",
    "referred",
)


def _flag(value: object, name: str) -> bool:
    # `bool("false")` is True: a switch that decides who reads personal data is a TOML boolean.
    if not isinstance(value, bool):
        raise InvalidInput(f"{name} must be true or false")
    return value


@dataclass(frozen=True)
class ModelThresholds:
    default_threshold: float
    threshold_floor: float


@dataclass(frozen=True)
class Policy:
    version: str
    content_hash: str
    text: str
    minimum_rank: str
    urgent_minimum_rank: str
    urgent_confirmation_hours: int
    categories: tuple[str, ...]
    extra_justification: dict[str, int]
    minimum_rationale_length: int
    default_model: str
    models: dict[str, ModelThresholds]
    watchlist_hours_after_end: int
    alert_image_days: int
    forbidden_pairs: tuple[tuple[str, str], ...]
    equality_fields: dict[str, tuple[str, ...]]
    minimum_cell_size: int
    token_maximum_lifetime_minutes: int = 720
    minimum_necessity_statement_length: int = 40
    location_types: tuple[str, ...] = DEFAULT_LOCATION_TYPES
    notice_before_window: bool = True
    under_18_justification_length: int = 80
    title: str = ""
    compliance_check_categories: tuple[str, ...] = ("subject_to_court_order",)
    # How long a consultation's purpose and a disclosure's recipient and record stay readable.
    access_log_years: int = 6
    # Outcomes whose alert's images are kept under an evidential hold (until an AO releases it).
    evidential_hold_on: tuple[str, ...] = ("arrest",)
    # A camera of a live deployment unheard of (no heartbeat, no face count) this long is silent.
    camera_silent_after_seconds: int = 120
    # The most faces one camera's count may claim: this many a second of its period, plus one
    # frame's worth (a period may be one frame long). Where the figures come from: policy.toml.
    max_faces_per_second: float = 50.0
    max_faces_per_frame: int = 200
    # Whether a threshold change must cite a current model evaluation of the deployment's model
    # (a `model_evaluation` in the governance register, made by `lfr models evaluate`).
    threshold_change_requires_evaluation: bool = False
    # "Blue" categories: consenting test subjects walked past the cameras;
    # their alerts stay out of operational figures. Equality trend alarm: ratio and window.
    blue_categories: tuple[str, ...] = ("test_subject",)
    trend_alarm_ratio: float = 1.5
    trend_window_days: int = 90
    # Whether an oversight reader must act for a body holding a grant: off, a token naming no
    # body is the role as it was before grants (every deployment, for ever).
    oversight_requires_grant: bool = False
    # The governance documents (domain/governance.py) that must be current in the register when
    # a deployment is proposed, and when it is authorised; a file without [governance] needs all.
    governance_at_proposal: tuple[str, ...] = ("dpia", "eia", "equality_evidence")
    governance_at_authorisation: tuple[str, ...] = (
        "dpia",
        "eia",
        "equality_evidence",
        "appropriate_policy_document",
    )
    # The register of forces (code -> name) an operation's and a deployment's forces come from.
    forces: ForceRegister = field(default_factory=ForceRegister)
    # Whether adjudicating and engaging need current LFR training, and the course each duty
    # (adjudicate, engage) needs (`domain/training.py`).
    training_required: bool = True
    training_courses: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_TRAINING))
    # What the public reads (/public): results published within this many days of a
    # deployment's end (else the ledger records them overdue), the legal basis and how to
    # complain, in the force's words ("": not stated). Where the figures come from: policy.toml.
    results_within_days: int = 5
    publication_legal_basis: str = ""
    publication_complaints: str = ""
    # Why an alert was false (issue 24): the closed lists, and whether a false alert must name
    # one (`domain/false_alerts.py`; a file without them asks for none).
    false_alerts: FalseAlertFactors = field(default_factory=FalseAlertFactors)
    # Start gates (issue 24): the least notice the public gets before a window opens (hours; 0:
    # no minimum), whether the operator must confirm the signage on the day before going live,
    # and how recently each active watchlist entry must have been enrolled or re-confirmed
    # before go-live (hours; 0: not checked). Where the figures come from: policy.toml.
    minimum_notice_hours: int = 24
    signage_confirmed_before_start: bool = True
    reconfirm_within_hours: int = 48
    # How a complaint about a deployment reached the force: a closed list (policy.toml).
    complaint_channels: tuple[str, ...] = DEFAULT_COMPLAINT_CHANNELS

    @classmethod
    def parse(cls, text: str) -> Policy:
        try:
            data = tomllib.loads(text)
            auth = data["authorisation"]
            watchlist = data["watchlist"]
            retention = data["retention"]
            models = {
                name: ModelThresholds(
                    default_threshold=float(m["default_threshold"]),
                    threshold_floor=float(m["threshold_floor"]),
                )
                for name, m in data["models"].items()
            }
            policy = cls(
                version=str(data["version"]),
                content_hash=hashlib.sha256(text.encode()).hexdigest(),
                text=text,
                minimum_rank=str(auth["minimum_rank"]),
                urgent_minimum_rank=str(auth["urgent_minimum_rank"]),
                urgent_confirmation_hours=int(auth["urgent_confirmation_hours"]),
                categories=tuple(watchlist["categories"]),
                extra_justification=dict(watchlist.get("extra_justification", {})),
                minimum_rationale_length=int(watchlist.get("minimum_rationale_length", 0)),
                default_model=str(data["matching"]["default_model"]),
                camera_silent_after_seconds=int(
                    data["matching"].get("camera_silent_after_seconds", 120)
                ),
                max_faces_per_second=float(data["matching"].get("max_faces_per_second", 50.0)),
                max_faces_per_frame=int(data["matching"].get("max_faces_per_frame", 200)),
                threshold_change_requires_evaluation=_flag(
                    data["matching"].get("threshold_change_requires_evaluation", False),
                    "matching.threshold_change_requires_evaluation",
                ),
                models=models,
                watchlist_hours_after_end=int(retention["watchlist_hours_after_end"]),
                alert_image_days=int(retention["alert_image_days"]),
                access_log_years=int(retention.get("access_log_years", 6)),
                evidential_hold_on=tuple(
                    str(t) for t in retention.get("evidential_hold_on", ("arrest",))
                ),
                forbidden_pairs=tuple(
                    (str(a), str(b)) for a, b in data["separation"]["forbidden_pairs"]
                ),
                equality_fields={
                    k: tuple(v) for k, v in data["equality"].items() if isinstance(v, list)
                },
                minimum_cell_size=int(data["equality"]["minimum_cell_size"]),
                token_maximum_lifetime_minutes=int(
                    data.get("tokens", {}).get("maximum_lifetime_minutes", 720)
                ),
                minimum_necessity_statement_length=int(
                    auth.get("minimum_necessity_statement_length", 40)
                ),
                location_types=tuple(
                    str(t)
                    for t in data.get("deployment", {}).get(
                        "location_types", DEFAULT_LOCATION_TYPES
                    )
                ),
                notice_before_window=bool(
                    data.get("deployment", {}).get("notice_before_window", True)
                ),
                under_18_justification_length=int(
                    watchlist.get("under_18_justification_length", 80)
                ),
                title=str(data.get("title", "")),
                blue_categories=tuple(
                    str(c) for c in watchlist.get("blue_categories", ("test_subject",))
                ),
                trend_alarm_ratio=float(data["equality"].get("trend_alarm_ratio", 1.5)),
                trend_window_days=int(data["equality"].get("trend_window_days", 90)),
                oversight_requires_grant=_flag(
                    data.get("oversight", {}).get("requires_grant", False),
                    "oversight.requires_grant",
                ),
                governance_at_proposal=tuple(
                    str(k)
                    for k in data.get("governance", {}).get(
                        "required_at_proposal", cls.governance_at_proposal
                    )
                ),
                governance_at_authorisation=tuple(
                    str(k)
                    for k in data.get("governance", {}).get(
                        "required_at_authorisation", cls.governance_at_authorisation
                    )
                ),
                forces=ForceRegister.parse(data["forces"]) if "forces" in data else ForceRegister(),
                training_required=_flag(
                    data.get("training", {}).get("required", True), "training.required"
                ),
                training_courses={
                    duty: str(data.get("training", {}).get(duty, course))
                    for duty, course in DEFAULT_TRAINING.items()
                },
                results_within_days=int(data.get("publication", {}).get("results_within_days", 5)),
                publication_legal_basis=str(
                    data.get("publication", {}).get("legal_basis", "")
                ).strip(),
                publication_complaints=str(
                    data.get("publication", {}).get("complaints", "")
                ).strip(),
                minimum_notice_hours=int(
                    data.get("deployment", {}).get("minimum_notice_hours", 24)
                ),
                signage_confirmed_before_start=_flag(
                    data.get("deployment", {}).get("signage_confirmed_before_start", True),
                    "deployment.signage_confirmed_before_start",
                ),
                reconfirm_within_hours=int(watchlist.get("reconfirm_within_hours", 48)),
                complaint_channels=tuple(
                    str(c)
                    for c in data.get("complaints", {}).get("channels", DEFAULT_COMPLAINT_CHANNELS)
                ),
                compliance_check_categories=tuple(
                    str(c)
                    for c in data.get("outcomes", {}).get(
                        "compliance_check_categories", ("subject_to_court_order",)
                    )
                ),
                false_alerts=FalseAlertFactors.parse(data.get("outcomes", {})),
            )
        except (KeyError, TypeError, ValueError, tomllib.TOMLDecodeError) as exc:
            raise InvalidInput(f"the policy file is incomplete or malformed: {exc}") from exc
        for rank in (policy.minimum_rank, policy.urgent_minimum_rank):
            if rank not in RANKS:
                raise InvalidInput(f"the policy names an unknown rank {rank!r}")
        if not all(c.strip() for c in policy.training_courses.values()):
            raise InvalidInput("training: each duty's course must be named")
        unknown_holds = set(policy.evidential_hold_on) - {t.value for t in OutcomeType}
        if unknown_holds:
            raise InvalidInput(
                "retention.evidential_hold_on names unknown outcome types: "
                + ", ".join(sorted(unknown_holds))
            )
        if policy.camera_silent_after_seconds < 10:
            raise InvalidInput("matching.camera_silent_after_seconds must be at least 10")
        if policy.max_faces_per_second <= 0 or policy.max_faces_per_frame < 1:
            raise InvalidInput(
                "matching.max_faces_per_second must be positive and max_faces_per_frame at least 1"
            )
        if policy.trend_alarm_ratio <= 1 or policy.trend_window_days < 1:
            raise InvalidInput(
                "equality.trend_alarm_ratio must exceed 1 and trend_window_days be at least 1"
            )
        if policy.minimum_notice_hours < 0 or policy.reconfirm_within_hours < 0:
            raise InvalidInput(
                "deployment.minimum_notice_hours and watchlist.reconfirm_within_hours must not "
                "be negative (0 turns the rule off)"
            )
        if policy.results_within_days < 1:
            raise InvalidInput("publication.results_within_days must be at least 1")
        # Imported here: the register's module reads records, which read the policy.
        from lfr_ledger.domain.governance import DOCUMENT_KINDS

        unknown_kinds = sorted(
            set(policy.governance_at_proposal + policy.governance_at_authorisation)
            - set(DOCUMENT_KINDS)
        )
        if unknown_kinds:
            raise InvalidInput(
                "governance.required_at_proposal and required_at_authorisation name kinds the "
                f"register does not know: {', '.join(unknown_kinds)} (known: "
                f"{', '.join(DOCUMENT_KINDS)})"
            )
        if policy.access_log_years < 1:
            raise InvalidInput("retention.access_log_years must be at least 1")
        if policy.default_model not in policy.models:
            raise InvalidInput(
                f"the policy's default model {policy.default_model!r} has no thresholds"
            )
        return policy

    @classmethod
    def load(cls, path: Path | None = None) -> Policy:
        """The given policy file, or the default one shipped with the package."""
        if path is None:
            text = (
                resources.files("lfr_ledger.domain")
                .joinpath("policy.toml")
                .read_text(encoding="utf-8")
            )
        else:
            text = path.read_text(encoding="utf-8")
        return cls.parse(text)

    def thresholds_for(self, model_id: str) -> ModelThresholds:
        try:
            return self.models[model_id]
        except KeyError:
            known = ", ".join(sorted(self.models))
            raise PolicyViolation(
                f"policy {self.version} sets no threshold for model {model_id!r}; known: {known}"
            ) from None

    def check_threshold(self, model_id: str, threshold: float) -> None:
        floor = self.thresholds_for(model_id).threshold_floor
        if not 0.0 < threshold <= 1.0:
            raise InvalidInput(f"threshold must lie in (0, 1], got {threshold}")
        if threshold < floor:
            raise PolicyViolation(
                f"threshold {threshold} is below the floor {floor} that policy {self.version} "
                f"sets for model {model_id}"
            )

    def check_category(self, category: str, rationale: str) -> None:
        if category not in self.categories:
            raise PolicyViolation(
                f"category {category!r} is not in policy {self.version}'s closed list: "
                + ", ".join(self.categories)
            )
        needed = max(self.minimum_rationale_length, self.extra_justification.get(category, 0))
        if len(rationale.strip()) < needed:
            raise PolicyViolation(
                f"category {category} needs a rationale of at least {needed} characters "
                f"under policy {self.version}"
            )

    def check_outcome_fits(self, category: str, outcome_type: str) -> None:
        """An outcome must fit who the person on the watchlist was."""
        if outcome_type == "compliance_check" and category not in self.compliance_check_categories:
            raise PolicyViolation(
                f"a compliance check belongs to someone on the watchlist as "
                f"{' or '.join(self.compliance_check_categories)}; this alert's entry is "
                f"{category} under policy {self.version}"
            )

    def check_false_alert_factors(
        self, factors: Sequence[str], *, false_alert: bool, what: str
    ) -> tuple[str, ...]:
        """`factors` checked against this policy's closed lists (`FalseAlertFactors.check`)."""
        return self.false_alerts.check(
            factors, false_alert=false_alert, what=what, version=self.version
        )

    def check_location_type(self, location_type: str) -> None:
        if location_type not in self.location_types:
            raise PolicyViolation(
                f"location type {location_type!r} is not in policy {self.version}'s closed list: "
                + ", ".join(self.location_types)
            )

    def check_perceived_demographics(self, fields: dict[str, str]) -> None:
        for name, value in fields.items():
            allowed = self.equality_fields.get(name)
            if allowed is None:
                raise InvalidInput(
                    f"{name!r} is not an equality field; policy {self.version} knows: "
                    + ", ".join(sorted(self.equality_fields))
                )
            if value not in allowed:
                raise InvalidInput(f"{name} must be one of: {', '.join(allowed)}")

    def conflicting_duties(self, duty: str) -> set[str]:
        return {b for a, b in self.forbidden_pairs if a == duty} | {
            a for a, b in self.forbidden_pairs if b == duty
        }

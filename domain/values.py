"""Value objects and closed vocabularies of the event model."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from lfr_ledger.domain.clock import recorded_time
from lfr_ledger.domain.errors import InvalidInput


class DeploymentStatus(StrEnum):
    PROPOSED = "proposed"
    AUTHORISED = "authorised"
    REFUSED = "refused"
    LIVE = "live"
    PAUSED = "paused"
    ENDED = "ended"


class Decision(StrEnum):
    """An operator's adjudication of an alert."""

    MATCH = "match"
    NO_MATCH = "no_match"
    INCONCLUSIVE = "inconclusive"


class Confirmation(StrEnum):
    """What the engagement officer established about the person's identity."""

    CONFIRMED = "true"
    NOT_CONFIRMED = "false"
    UNKNOWN = "unknown"


class OutcomeType(StrEnum):
    ARREST = "arrest"
    COMPLIANCE_CHECK = "compliance_check"
    WORDS_OF_ADVICE = "words_of_advice"
    NO_FURTHER_ACTION = "no_further_action"
    NOT_LOCATED = "not_located"
    OTHER = "other"


class AlertStatus(StrEnum):
    """Where an alert stands: each state is named after the last step recorded on it."""

    RAISED = "raised"
    ADJUDICATED = "adjudicated"
    ENGAGEMENT_RECORDED = "engagement_recorded"
    OUTCOME_RECORDED = "outcome_recorded"
    CLOSED = "closed"

    @classmethod
    def after(
        cls, *, adjudicated: bool, engagement_recorded: bool, outcomes: int, closed: bool
    ) -> AlertStatus:
        """The one rule, shared by the aggregate and by read models built from its events."""
        if closed:
            return cls.CLOSED
        if outcomes:
            return cls.OUTCOME_RECORDED
        if engagement_recorded:
            return cls.ENGAGEMENT_RECORDED
        if adjudicated:
            return cls.ADJUDICATED
        return cls.RAISED


class ComplianceResult(StrEnum):
    COMPLIED = "complied"
    BREACH = "breach"


class EntryStatus(StrEnum):
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"
    DESTROYED = "destroyed"


ERASED = "[erased]"


def _require_text(name: str, value: str, max_len: int = 500) -> str:
    value = value.strip()
    if not value:
        raise InvalidInput(f"{name} must not be empty")
    if len(value) > max_len:
        raise InvalidInput(f"{name} is longer than {max_len} characters")
    return value


@dataclass(frozen=True)
class Location:
    name: str
    town: str
    location_type: str
    lat: float | None = None
    lon: float | None = None

    def __post_init__(self) -> None:
        _require_text("location.name", self.name, 200)
        _require_text("location.town", self.town, 100)
        _require_text("location.location_type", self.location_type, 100)
        if (self.lat is None) != (self.lon is None):
            raise InvalidInput("location needs both lat and lon, or neither")
        if self.lat is not None and not -90 <= self.lat <= 90:
            raise InvalidInput("location.lat must lie in [-90, 90]")
        if self.lon is not None and not -180 <= self.lon <= 180:
            raise InvalidInput("location.lon must lie in [-180, 180]")


@dataclass(frozen=True)
class Camera:
    id: str
    name: str

    def __post_init__(self) -> None:
        _require_text("camera.id", self.id, 64)
        _require_text("camera.name", self.name, 200)


@dataclass(frozen=True)
class PublicNotice:
    """How the public was told of the deployment, or why it was not (a recorded exemption)."""

    method: str
    issued_at: datetime | None = None
    exemption: str | None = None

    def __post_init__(self) -> None:
        _require_text("public_notice.method", self.method, 200)
        if self.issued_at is not None:
            issued = recorded_time(self.issued_at, "public_notice.issued_at")
            object.__setattr__(self, "issued_at", issued)
        if self.issued_at is None and not self.exemption:
            raise InvalidInput("public_notice needs issued_at, or an exemption with its reason")


@dataclass(frozen=True)
class DeploymentPlan:
    """Everything a planner proposes; authorisation is given for exactly this."""

    operation_id: str
    location: Location
    starts_at: datetime
    ends_at: datetime
    purpose: str
    intelligence_case: str
    watchlist_categories: tuple[str, ...]
    cameras: tuple[Camera, ...]
    controlling_force: str
    equipment_owner_force: str
    dpia_ref: str
    eia_ref: str
    policy_ref: str
    public_notice: PublicNotice
    model_id: str
    # When the kit belongs to another force (mutual aid): the agreement it is lent under.
    # Absent from plans proposed before release 3, none of which was mutual aid.
    mutual_aid_agreement: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "starts_at", recorded_time(self.starts_at, "starts_at"))
        object.__setattr__(self, "ends_at", recorded_time(self.ends_at, "ends_at"))
        if self.ends_at <= self.starts_at:
            raise InvalidInput("ends_at must be after starts_at")
        for name in (
            "purpose",
            "intelligence_case",
            "controlling_force",
            "equipment_owner_force",
            "dpia_ref",
            "eia_ref",
        ):
            _require_text(name, getattr(self, name), 2000)
        if not self.cameras:
            raise InvalidInput("a deployment needs at least one camera")
        if len({c.id for c in self.cameras}) != len(self.cameras):
            raise InvalidInput("camera ids must be unique within a deployment")
        if not self.watchlist_categories:
            raise InvalidInput("a deployment needs at least one watchlist category")

    @property
    def mutual_aid(self) -> bool:
        """Whether the controlling force runs another force's LFR equipment."""
        return _same_force(self.controlling_force) != _same_force(self.equipment_owner_force)

    def check_mutual_aid(self) -> None:
        """Mutual aid needs the agreement it runs under; a force's own kit needs none. Checked
        when proposed, not when a stored plan is read back."""
        if self.mutual_aid and not (self.mutual_aid_agreement or "").strip():
            raise InvalidInput(
                f"the equipment belongs to {self.equipment_owner_force.strip()}, not to "
                f"{self.controlling_force.strip()}: a mutual-aid deployment needs "
                "mutual_aid_agreement (the reference of the agreement it runs under)"
            )
        if not self.mutual_aid and self.mutual_aid_agreement is not None:
            raise InvalidInput(
                "mutual_aid_agreement belongs to a deployment on another force's equipment; "
                "here the controlling force owns it"
            )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _same_force(name: str) -> str:
    """A force's name compared as people write it: case and spacing do not make a new force."""
    return " ".join(name.split()).casefold()

"""Value objects and closed vocabularies of the event model."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from lfr_ledger.domain.clock import recorded_time
from lfr_ledger.domain.errors import InvalidInput

if TYPE_CHECKING:
    from lfr_ledger.domain.forces import ForceRegister


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
    # Release 4 (issue 24): a vulnerable person safeguarded; an interview by appointment
    # instead of an arrest; and what follows an arrest or an interview (charged, bailed).
    SAFEGUARDING = "safeguarding"
    VOLUNTARY_ATTENDANCE = "voluntary_attendance"
    CHARGE = "charge"
    BAIL = "bail"


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
    # Since release 4, codes of the policy's register of forces (`domain/forces.py`); plans
    # stored before hold the names as they were typed. The equipment's owner is None when the
    # plan cannot name it (`equipment_owner_note` says why): declared not the controlling
    # force's own kit, so mutual aid.
    controlling_force: str
    equipment_owner_force: str | None
    dpia_ref: str
    eia_ref: str
    policy_ref: str
    public_notice: PublicNotice
    model_id: str
    # When the kit belongs to another force (mutual aid): the agreement it is lent under.
    # Absent from plans proposed before release 3, none of which was mutual aid.
    mutual_aid_agreement: str | None = None
    # Why the equipment's owner is not named ("not named in the release"); only then.
    equipment_owner_note: str | None = None

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
            if name != "equipment_owner_force" or self.equipment_owner_force is not None:
                _require_text(name, getattr(self, name), 2000)
        if not self.cameras:
            raise InvalidInput("a deployment needs at least one camera")
        if len({c.id for c in self.cameras}) != len(self.cameras):
            raise InvalidInput("camera ids must be unique within a deployment")
        if not self.watchlist_categories:
            raise InvalidInput("a deployment needs at least one watchlist category")

    @property
    def mutual_aid(self) -> bool:
        """Whether the controlling force runs another force's LFR equipment, or equipment
        whose owner is not known (declared not its own). Codes compare exactly; the names of a
        plan stored before the register compare as they did then (case and spacing aside)."""
        if self.equipment_owner_force is None:
            return True
        return _same_force(self.controlling_force) != _same_force(self.equipment_owner_force)

    def registered(self, forces: ForceRegister, policy_version: str) -> DeploymentPlan:
        """This plan as a proposal records it: both forces as codes of the register (each
        given by code or exact registered name), or the owner declared unknown with its note;
        then mutual aid with its agreement. Checked when proposed, never when a stored plan is
        read back."""
        controlling = forces.code_of(self.controlling_force, "controlling_force", policy_version)
        note = (self.equipment_owner_note or "").strip() or None
        owner: str | None = None
        if self.equipment_owner_force is None:
            if note is None:
                raise InvalidInput(
                    "equipment_owner_force is null (not known): equipment_owner_note must say "
                    "why, e.g. 'not named in the release'",
                    field="equipment_owner_note",
                )
            _require_text("equipment_owner_note", note, 500)
        else:
            if note is not None:
                raise InvalidInput(
                    "equipment_owner_note explains an owner not known; this plan names it",
                    field="equipment_owner_note",
                )
            owner = forces.code_of(
                self.equipment_owner_force, "equipment_owner_force", policy_version
            )
        plan = replace(
            self,
            controlling_force=controlling,
            equipment_owner_force=owner,
            equipment_owner_note=note,
        )
        plan.check_mutual_aid()
        return plan

    def check_mutual_aid(self) -> None:
        """Mutual aid needs the agreement it runs under; a force's own kit needs none."""
        if self.mutual_aid and not (self.mutual_aid_agreement or "").strip():
            owner = self.equipment_owner_force
            raise InvalidInput(
                f"the equipment belongs to {'a force not named' if owner is None else owner}, "
                f"not to {self.controlling_force.strip()}: a mutual-aid deployment needs "
                "mutual_aid_agreement (the reference of the agreement it runs under)",
                field="mutual_aid_agreement",
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

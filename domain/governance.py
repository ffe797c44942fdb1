"""The register of governance documents: the DPIA, the equality impact assessment, the
appropriate policy document (DPA 2018 s.42), the equality evidence (how the algorithm performs
across groups) and model evaluations, each a versioned record with its review date.

One `GovernanceDocument` per (kind, reference), with a deterministic id; each version approved
is an event (`VersionRegistered`), as is a withdrawal; versions are registered in the order of
their approval. A document is *current* at a time when it was not withdrawn by then, and the
latest version approved by that day is not past its review date and has not expired (a
version may be registered ahead of the day it is approved from). A proposal, and an
authority, cites only current documents (those the policy's `[governance]` section lists per
stage: `domain/deployment/documents.py`), and the deployment records the exact versions cited.

Dates are calendar days, compared with the UTC day of the moment asked about: a version is
current up to and including its `review_by` day, and up to the day before its `expires_on`.
The register holds no personal data: `approved_by` names an office or a board, not a person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from lfr_ledger.domain.actors import Actor, Role
from lfr_ledger.domain.clock import EARLIEST, LATEST
from lfr_ledger.domain.errors import InvalidInput, InvalidTransition
from lfr_ledger.domain.records import LFR_NAMESPACE


class DocumentKind(StrEnum):
    """The closed list of kinds the register holds."""

    DPIA = "dpia"
    EIA = "eia"
    APPROPRIATE_POLICY_DOCUMENT = "appropriate_policy_document"
    EQUALITY_EVIDENCE = "equality_evidence"
    MODEL_EVALUATION = "model_evaluation"


DOCUMENT_KINDS: tuple[str, ...] = tuple(k.value for k in DocumentKind)

# How a refusal names each kind.
LABELS: dict[str, str] = {
    DocumentKind.DPIA: "DPIA",
    DocumentKind.EIA: "equality impact assessment",
    DocumentKind.APPROPRIATE_POLICY_DOCUMENT: "appropriate policy document",
    DocumentKind.EQUALITY_EVIDENCE: "equality evidence",
    DocumentKind.MODEL_EVALUATION: "model evaluation",
}

# Who registers and withdraws: the authorising officers, who authorise deployments on these
# documents and answer for them, and the administrators, who keep the force's policy records
# (they adopt the policy). Never the planner: a proposal cannot vouch for its own documents.
REGISTRARS = (Role.AUTHORISING_OFFICER, Role.ADMIN)

_ONE_LINE = re.compile(r"[^\x00-\x1f\x7f]*")


def document_kind(text: str) -> str:
    """`text` as one of the register's kinds, refused otherwise."""
    kind = text.strip()
    if kind not in DOCUMENT_KINDS:
        raise InvalidInput(f"kind must be one of: {', '.join(DOCUMENT_KINDS)}", field="kind")
    return kind


def _text(value: str | None, field: str, max_len: int) -> str:
    text = (value or "").strip()
    if not text or len(text) > max_len or _ONE_LINE.fullmatch(text) is None:
        raise InvalidInput(
            f"{field} is 1 to {max_len} characters on one line, without control characters",
            field=field,
        )
    return text


def _day(value: date, field: str) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise InvalidInput(f"{field} is a calendar date, e.g. 2025-01-31", field=field)
    if not EARLIEST.date() <= value < LATEST.date():
        raise InvalidInput(
            f"{field} must lie between {EARLIEST.year} and {LATEST.year - 1}", field=field
        )
    return value


def reference_of(text: str) -> str:
    """A document's reference as the register keys it: trimmed, otherwise exact."""
    return _text(text, "reference", 100)


# Where a document stands at a time: only `current` may be cited.
STANDINGS = (
    "current",
    "due_for_review",
    "expired",
    "not_yet_approved",
    "withdrawn",
    "no_version",
)


class GovernanceDocumentTopic:
    """The stored topic of each GovernanceDocument event. Stable strings, so classes can move
    without breaking stored events; readers of the log filter on these, never on literals."""

    REGISTERED = "lfr/GovernanceDocument.Registered"
    VERSION_REGISTERED = "lfr/GovernanceDocument.VersionRegistered"
    WITHDRAWN = "lfr/GovernanceDocument.Withdrawn"


@dataclass(frozen=True)
class DocumentVersion:
    """One approved version of a document, as registered."""

    kind: str
    reference: str
    version: str
    title: str
    approved_on: date
    review_by: date
    expires_on: date | None
    approved_by: str
    # For a model evaluation: the model evaluated, and the digest of what was evaluated.
    model_id: str | None = None
    digest: str | None = None
    registered_by: str = ""
    registered_at: datetime | None = None

    @property
    def named(self) -> str:
        return f"{LABELS[self.kind]} {self.reference!r} version {self.version!r}"

    def standing(self, at: datetime) -> str:
        """Where this version stands on the UTC day of `at` (one of `STANDINGS` but
        withdrawn and no_version, which only a document can be)."""
        day = at.astimezone(UTC).date()
        if day < self.approved_on:
            return "not_yet_approved"
        if self.expires_on is not None and day >= self.expires_on:
            return "expired"
        if day > self.review_by:
            return "due_for_review"
        return "current"

    def lapsed(self, at: datetime) -> str | None:
        """Why this version is not in force on the UTC day of `at`, or None when it is."""
        standing = self.standing(at)
        if standing == "not_yet_approved":
            return f"{self.named} is approved only from {self.approved_on.isoformat()}"
        if standing == "expired" and self.expires_on is not None:
            return f"{self.named} expired on {self.expires_on.isoformat()}"
        if standing == "due_for_review":
            return f"{self.named} was due for review by {self.review_by.isoformat()}"
        return None

    def citation(self) -> dict[str, str]:
        """What a deployment records of the version it cites: enough to find it again."""
        return {"kind": self.kind, "reference": self.reference, "version": self.version}

    def same_as(self, other: DocumentVersion) -> bool:
        """The same approved text: every field but who registered it, and when."""
        mine = (self.title, self.approved_on, self.review_by, self.expires_on, self.approved_by)
        theirs = (
            other.title,
            other.approved_on,
            other.review_by,
            other.expires_on,
            other.approved_by,
        )
        return mine == theirs and (self.model_id, self.digest) == (other.model_id, other.digest)


class GovernanceDocument(Aggregate):
    """One governance document of the force (a DPIA, an APD, ...) and its approved versions."""

    TOPIC = "lfr/GovernanceDocument"

    # Unused base "created" event; named so every class in the store has a stable topic.
    class Created(Aggregate.Created):
        TOPIC = "lfr/GovernanceDocument.Created"

    @staticmethod
    def id_for(kind: str, reference: str) -> UUID:
        """One document per kind and reference, found without scanning the log."""
        return uuid5(LFR_NAMESPACE, f"governance-document:{kind}:{reference}")

    @classmethod
    def register(
        cls, *, kind: str, reference: str, actor: Actor, occurred_at: datetime
    ) -> GovernanceDocument:
        actor.require(*REGISTRARS)
        kind = document_kind(kind)
        reference = reference_of(reference)
        return cls(
            id=cls.id_for(kind, reference),
            kind=kind,
            reference=reference,
            actor=actor,
            occurred_at=occurred_at,
        )

    @event("Registered", topic=GovernanceDocumentTopic.REGISTERED)
    def __init__(
        self, *, id: UUID, kind: str, reference: str, actor: Actor, occurred_at: datetime
    ) -> None:
        self.kind = kind
        self.reference = reference
        self.versions: list[DocumentVersion] = []
        self.registered_by = actor.id
        self.registered_at = occurred_at
        self.withdrawn_at: datetime | None = None
        self.withdrawn_by: str | None = None
        self.withdrawal_reason: str | None = None

    def register_version(
        self,
        *,
        version: str,
        title: str,
        approved_on: date,
        review_by: date,
        expires_on: date | None,
        approved_by: str,
        model_id: str | None,
        digest: str | None,
        actor: Actor,
        occurred_at: datetime,
    ) -> bool:
        """Records a version; False when this very version is already registered (nothing
        is recorded). The same version with other details is refused: a changed document
        is a new version."""
        actor.require(*REGISTRARS)
        if self.withdrawn_at is not None:
            raise InvalidTransition(
                f"{self._named} was withdrawn on {self.withdrawn_at.date().isoformat()}; "
                "register the document that replaces it under a new reference"
            )
        offered = self._checked(
            version, title, approved_on, review_by, expires_on, approved_by, model_id, digest
        )
        known = next((v for v in self.versions if v.version == offered.version), None)
        if known is not None:
            if known.same_as(offered):
                return False
            raise InvalidTransition(
                f"{known.named} was registered with other details on "
                f"{known.registered_at.date().isoformat() if known.registered_at else '?'}; "
                "a changed document is registered as a new version"
            )
        latest = self.latest
        if latest is not None and offered.approved_on < latest.approved_on:
            raise InvalidInput(
                f"version {offered.version!r} is approved on {offered.approved_on.isoformat()}, "
                f"before the latest registered, {latest.version!r} of "
                f"{latest.approved_on.isoformat()}: the latest version is the one in force",
                field="approved_on",
            )
        self._version_registered(
            version=offered.version,
            title=offered.title,
            approved_on=offered.approved_on.isoformat(),
            review_by=offered.review_by.isoformat(),
            expires_on=None if offered.expires_on is None else offered.expires_on.isoformat(),
            approved_by=offered.approved_by,
            model_id=offered.model_id,
            digest=offered.digest,
            actor=actor,
            occurred_at=occurred_at,
        )
        return True

    def _checked(
        self,
        version: str,
        title: str,
        approved_on: date,
        review_by: date,
        expires_on: date | None,
        approved_by: str,
        model_id: str | None,
        digest: str | None,
    ) -> DocumentVersion:
        approved = _day(approved_on, "approved_on")
        review = _day(review_by, "review_by")
        expires = None if expires_on is None else _day(expires_on, "expires_on")
        if review <= approved:
            raise InvalidInput("review_by must be after approved_on", field="review_by")
        if expires is not None and expires <= approved:
            raise InvalidInput("expires_on must be after approved_on", field="expires_on")
        evaluation = self.kind == DocumentKind.MODEL_EVALUATION
        if not evaluation and (model_id is not None or digest is not None):
            raise InvalidInput(
                f"model_id and digest belong to a model evaluation, not to a {LABELS[self.kind]}",
                field="model_id" if model_id is not None else "digest",
            )
        return DocumentVersion(
            kind=self.kind,
            reference=self.reference,
            version=_text(version, "version", 40),
            title=_text(title, "title", 200),
            approved_on=approved,
            review_by=review,
            expires_on=expires,
            approved_by=_text(approved_by, "approved_by", 200),
            model_id=None if model_id is None else _text(model_id, "model_id", 100),
            digest=None if digest is None else _text(digest, "digest", 200),
        )

    # Dates travel as ISO strings: the store's transcoder knows datetimes, not dates.
    @event("VersionRegistered", topic=GovernanceDocumentTopic.VERSION_REGISTERED)
    def _version_registered(
        self,
        *,
        version: str,
        title: str,
        approved_on: str,
        review_by: str,
        expires_on: str | None,
        approved_by: str,
        model_id: str | None,
        digest: str | None,
        actor: Actor,
        occurred_at: datetime,
    ) -> None:
        self.versions.append(
            DocumentVersion(
                kind=self.kind,
                reference=self.reference,
                version=version,
                title=title,
                approved_on=date.fromisoformat(approved_on),
                review_by=date.fromisoformat(review_by),
                expires_on=None if expires_on is None else date.fromisoformat(expires_on),
                approved_by=approved_by,
                model_id=model_id,
                digest=digest,
                registered_by=actor.id,
                registered_at=occurred_at,
            )
        )

    def withdraw(self, *, reason: str, actor: Actor, occurred_at: datetime) -> None:
        actor.require(*REGISTRARS)
        if self.withdrawn_at is not None:
            raise InvalidTransition(
                f"{self._named} was already withdrawn on {self.withdrawn_at.date().isoformat()}"
            )
        text = reason.strip()
        if not text or len(text) > 500:
            raise InvalidInput("a withdrawal needs a reason of 1 to 500 characters", field="reason")
        self._withdrawn(reason=text, actor=actor, occurred_at=occurred_at)

    @event("Withdrawn", topic=GovernanceDocumentTopic.WITHDRAWN)
    def _withdrawn(self, *, reason: str, actor: Actor, occurred_at: datetime) -> None:
        self.withdrawn_at = occurred_at
        self.withdrawn_by = actor.id
        self.withdrawal_reason = reason

    # --- reading ------------------------------------------------------------------------------

    @property
    def _named(self) -> str:
        return f"{LABELS[self.kind]} {self.reference!r}"

    @property
    def latest(self) -> DocumentVersion | None:
        return self.versions[-1] if self.versions else None

    @property
    def status(self) -> str:
        """What the record itself says, without a clock: registered or withdrawn. Whether it
        is current is read at a time: `current_at`."""
        return "withdrawn" if self.withdrawn_at is not None else "registered"

    def latest_at(self, at: datetime) -> DocumentVersion | None:
        """The version in force on the UTC day of `at`: the latest approved by then (a version
        may be registered ahead of its approval day); when none is yet, the first, which says
        from when."""
        day = at.astimezone(UTC).date()
        approved = [v for v in self.versions if v.approved_on <= day]
        if approved:
            return approved[-1]
        return self.versions[0] if self.versions else None

    def lapsed(self, at: datetime) -> str | None:
        """Why the document is not current at `at`, or None when it is."""
        if self.withdrawn_at is not None and self.withdrawn_at <= at:
            return f"{self._named} was withdrawn on {self.withdrawn_at.date().isoformat()}"
        latest = self.latest_at(at)
        if latest is None:
            return f"{self._named} has no version registered"
        return latest.lapsed(at)

    def standing_at(self, at: datetime) -> str:
        """One of `STANDINGS`, at `at`."""
        if self.withdrawn_at is not None and self.withdrawn_at <= at:
            return "withdrawn"
        latest = self.latest_at(at)
        return "no_version" if latest is None else latest.standing(at)

    def current_at(self, at: datetime) -> DocumentVersion | None:
        return self.latest_at(at) if self.lapsed(at) is None else None

    def evaluates(self, model_id: str) -> bool:
        """For a model evaluation: whether its latest version evaluates `model_id`."""
        latest = self.latest
        return latest is not None and latest.model_id == model_id

"""Typed domain errors. Each says what was refused and what would make it acceptable.

Messages never contain personal data: they name records by id, never by subject.
"""

from __future__ import annotations


class DomainError(Exception):
    """A command was refused. `kind` is a stable slug used in problem-details `type` URIs."""

    kind = "domain-error"
    title = "Command refused"
    # The request field at fault, when one field is (problem details name it in `errors`).
    field: str | None = None

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if field is not None:
            self.field = field


class InvalidInput(DomainError):
    """The command's values are malformed or out of range."""

    kind = "invalid-input"
    title = "Invalid input"


class NotFound(DomainError):
    kind = "not-found"
    title = "No such record"


class NotPermitted(DomainError):
    """The actor's role or rank does not allow this command."""

    kind = "not-permitted"
    title = "Not permitted for this actor"


class RoleSeparationViolated(NotPermitted):
    """One person would hold two roles the policy keeps apart (e.g. compiler and authoriser)."""

    kind = "role-separation"
    title = "Role separation violated"


class GrantRefused(NotPermitted):
    """An oversight reader's body holds no grant covering the record: none at all, expired,
    revoked, or a remit that leaves the record out (`domain/oversight_grant.py`). The detail
    names the body and why."""

    kind = "outside-grant"
    title = "Outside the oversight body's grant"


class InvalidTransition(DomainError):
    """The record is not in a state where this command makes sense."""

    kind = "invalid-transition"
    title = "Not allowed in the current state"


class PolicyViolation(DomainError):
    """The command contradicts the policy version in force (threshold floor, categories, ...)."""

    kind = "policy-violation"
    title = "Refused by policy"


class AlreadyDone(DomainError):
    """This very request (same actor, same idempotency key) was recorded before: its reply is
    given again instead of running it twice."""

    kind = "already-done"
    title = "Request already recorded"

    def __init__(self, request_id: object) -> None:
        super().__init__(f"request {request_id} was recorded before; its reply is replayed")
        self.request_id = request_id


class ConcurrentWrite(DomainError):
    """Someone else changed the record first; reload and decide again."""

    kind = "conflict"
    title = "Concurrent change"


# Every refusal the domain can raise. A problem's `type` slug names one of these, so the API
# (which answers with it) and a remote matcher (which reads it back) share one table.
DOMAIN_ERRORS: tuple[type[DomainError], ...] = (
    InvalidInput,
    NotFound,
    NotPermitted,
    RoleSeparationViolated,
    GrantRefused,
    InvalidTransition,
    PolicyViolation,
    ConcurrentWrite,
    AlreadyDone,
)


def error_of_kind(kind: str) -> type[DomainError] | None:
    """The error class whose `kind` slug is `kind`, if the domain has one."""
    return next((cls for cls in DOMAIN_ERRORS if cls.kind == kind), None)

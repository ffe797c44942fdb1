"""RFC 9457 problem details for every error the API returns.

Every refusal says what was refused and what would make the request acceptable. Nothing here
ever echoes a request body, a stack trace or an exception message that did not come from our
own code: those may hold personal data.
"""

from __future__ import annotations

import logging
import re
import typing
import uuid
from typing import Any

import msgspec
import psycopg
from eventsourcing.persistence import InterfaceError, OperationalError
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import Scope
from litestar.utils.scope.state import ScopeState

from lfr_ledger.api.schemas.base import FieldError, Problem
from lfr_ledger.domain.errors import (
    AlreadyDone,
    ConcurrentWrite,
    DomainError,
    InvalidInput,
    InvalidTransition,
    NotFound,
    NotPermitted,
    PolicyViolation,
)
from lfr_ledger.eventlog.chain.recorders import WriteTimedOut
from lfr_ledger.eventlog.inclusion import IntegrityFailure

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:lfr-ledger:problem:"

logger = logging.getLogger("lfr.api")

# Most specific class first: RoleSeparationViolated is a NotPermitted, and so on.
DOMAIN_STATUS: tuple[tuple[type[DomainError], int], ...] = (
    (NotPermitted, 403),
    (NotFound, 404),
    (ConcurrentWrite, 409),
    (IntegrityFailure, 409),
    (AlreadyDone, 409),
    (InvalidTransition, 409),
    (PolicyViolation, 422),
    (InvalidInput, 422),
)

# The database cannot be reached, or dropped the connection mid-request: its server died or is
# being replaced by its standby (docs/operations.md, "Standby and failover"). Transient: a
# pooled connection is replaced and the next request finds the primary, whichever it is.
UNAVAILABLE: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
)


def database_unavailable(exc: BaseException) -> bool:
    """True when `exc`, or what it was raised from, is the database being out of reach."""
    seen: BaseException | None = exc
    for _ in range(8):  # a bound, not a walk of whatever chain a library built
        if seen is None:
            return False
        if isinstance(seen, UNAVAILABLE):
            return True
        seen = seen.__cause__
    return False


# Titles for HTTP-level errors raised by the framework, with a slug for the `type` URI.
HTTP_KINDS: dict[int, tuple[str, str]] = {
    400: ("bad-request", "Malformed request"),
    401: ("unauthenticated", "Authentication required"),
    403: ("forbidden", "Not permitted for this role"),
    404: ("no-such-route", "No such resource"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    409: ("conflict", "Conflict"),
    413: ("too-large", "Request too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("unprocessable", "Request refused"),
    429: ("too-many-requests", "Too many requests"),
}


class ProblemException(Exception):
    """An error raised by the API layer itself, already phrased as a problem."""

    def __init__(
        self,
        status: int,
        kind: str,
        title: str,
        detail: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.kind = kind
        self.title = title
        self.detail = detail
        self.headers = headers or {}


def too_large(limit: int) -> ProblemException:
    return ProblemException(
        413,
        "too-large",
        "Request too large",
        f"the request body exceeds {limit} bytes; images are limited to 10 MB",
    )


def request_id_of(scope: Scope) -> str:
    """The id the request-context middleware gave this request (or a fresh one for requests
    that failed before routing, when no middleware has run)."""
    state = scope.setdefault("state", {})
    rid = state.get("request_id")
    if not rid:
        rid = uuid.uuid4().hex
        state["request_id"] = rid
    return str(rid)


_MISSING = re.compile(r"^Object missing required field `([^`]+)`")


def _validation_errors(exc: ValidationException, scope: Scope) -> list[FieldError]:
    errors: list[FieldError] = []
    extra = exc.extra if isinstance(exc.extra, list) else []
    for item in extra:
        if not isinstance(item, dict):
            continue
        message = str(item.get("message", "invalid value"))
        key = item.get("key")
        source = item.get("source")
        missing = _MISSING.match(message)
        if missing and source == "body":
            # The decoder names the object ("data" is the whole body) and stops at the first
            # absent field: name the field itself, and every other one absent beside it.
            where = "" if key in (None, "data") else f"{key}."
            names = [missing.group(1)]
            if not where:
                names += [n for n in _absent_fields(scope) if n != missing.group(1)]
            errors.extend(
                FieldError(field=where + n, source="body", message="required field missing")
                for n in names
            )
            continue
        errors.append(
            FieldError(
                field=str(key) if key is not None else None,
                source=str(source) if source is not None else None,
                message=message,
            )
        )
    return errors


def _absent_fields(scope: Scope) -> list[str]:
    """The request body's required top-level fields it lacks, read from the route's body type
    and the body the request already read (nothing when either is unavailable)."""
    handler = scope.get("route_handler")
    parameter = getattr(handler, "parsed_fn_signature", None)
    data = parameter.parameters.get("data") if parameter is not None else None
    body = ScopeState.from_scope(scope).body
    if data is None or not isinstance(body, bytes):
        return []
    struct = next(
        (t for t in (data.annotation, *typing.get_args(data.annotation)) if _is_struct(t)), None
    )
    try:
        given = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return []
    if struct is None or not isinstance(given, dict):
        return []
    return [
        f.encode_name
        for f in msgspec.structs.fields(struct)
        if f.required and f.encode_name not in given
    ]


def _is_struct(candidate: Any) -> bool:
    return isinstance(candidate, type) and issubclass(candidate, msgspec.Struct)


def _validation_detail(exc: ValidationException, errors: list[FieldError]) -> str:
    if not errors:
        return "the request could not be read: " + _safe(str(exc.detail))
    parts = []
    for err in errors:
        where = err.field or "body"
        if err.source and err.source != "body":
            where = f"{err.source} parameter {where}"
        parts.append(f"{where}: {err.message}")
    return "the request was refused: " + "; ".join(parts) + ". Correct it and send it again."


def _safe(text: str) -> str:
    # Framework messages name fields and types only; cap them so a pathological value
    # can never be reflected at length.
    return text[:300]


def status_of(exc: BaseException) -> int:
    """The HTTP status `exc` will be answered with."""
    if isinstance(exc, ProblemException):
        return exc.status
    if isinstance(exc, WriteTimedOut) or database_unavailable(exc):
        return 503
    if isinstance(exc, DomainError):
        return next((s for cls, s in DOMAIN_STATUS if isinstance(exc, cls)), 422)
    if isinstance(exc, ValidationException):
        return 400
    if isinstance(exc, HTTPException) and exc.status_code < 500:
        return exc.status_code
    return 500


def problem_for(exc: BaseException, scope: Scope) -> tuple[Problem, dict[str, str]]:
    """The problem document and extra headers describing `exc`."""
    rid = request_id_of(scope)
    instance = scope.get("path")
    if isinstance(exc, ProblemException):
        return (
            Problem(
                type=TYPE_PREFIX + exc.kind,
                title=exc.title,
                status=exc.status,
                detail=exc.detail,
                instance=instance,
                request_id=rid,
            ),
            exc.headers,
        )
    if isinstance(exc, WriteTimedOut):
        # The store's own words, which name no record and quote no data (issue 23).
        detail = f"{exc}; send the request again (with the same Idempotency-Key it runs once)"
        problem = Problem(
            type=TYPE_PREFIX + "write-timed-out",
            title="The ledger is busy",
            status=503,
            detail=detail,
            instance=instance,
            request_id=rid,
        )
        return problem, {"Retry-After": "1"}
    if database_unavailable(exc):
        # The driver's message may name hosts and ports, never data; it is not echoed anyway.
        logger.warning(
            "database unavailable (%s) on %s %s (request %s)",
            type(exc).__name__,
            scope.get("method", "-"),
            scope.get("path_template") or "-",
            rid,
        )
        problem = Problem(
            type=TYPE_PREFIX + "database-unavailable",
            title="The ledger's database is unavailable",
            status=503,
            detail=(
                "the database could not be reached or dropped the connection (its server may "
                "be failing over to its standby); send the request again in a moment, with "
                "the same Idempotency-Key, and it runs once"
            ),
            instance=instance,
            request_id=rid,
        )
        return problem, {"Retry-After": "1"}
    if isinstance(exc, DomainError):
        status = status_of(exc)
        return (
            Problem(
                type=TYPE_PREFIX + exc.kind,
                title=exc.title,
                status=status,
                detail=exc.detail,
                instance=instance,
                request_id=rid,
                errors=(
                    [FieldError(field=exc.field, source="body", message=exc.detail)]
                    if exc.field
                    else None
                ),
            ),
            {},
        )
    if isinstance(exc, ValidationException):
        errors = _validation_errors(exc, scope)
        return (
            Problem(
                type=TYPE_PREFIX + "validation",
                title="Invalid request",
                status=400,
                detail=_validation_detail(exc, errors),
                instance=instance,
                request_id=rid,
                errors=errors or None,
            ),
            {},
        )
    if isinstance(exc, HTTPException) and exc.status_code < 500:
        kind, title = HTTP_KINDS.get(exc.status_code, ("client-error", "Request refused"))
        headers = {k: str(v) for k, v in (exc.headers or {}).items()}
        return (
            Problem(
                type=TYPE_PREFIX + kind,
                title=title,
                status=exc.status_code,
                detail=_safe(str(exc.detail)) or title,
                instance=instance,
                request_id=rid,
            ),
            headers,
        )
    # Anything else is our fault. Log what happened without the message, which may quote data.
    logger.error(
        "internal error %s on %s %s (request %s)",
        type(exc).__name__,
        scope.get("method", "-"),
        scope.get("path_template") or "-",
        rid,
    )
    return (
        Problem(
            type=TYPE_PREFIX + "internal",
            title="Internal error",
            status=500,
            detail=(
                "the server failed to handle the request and recorded nothing of it; try again, "
                f"and if it persists quote request id {rid} to the system's administrators"
            ),
            instance=instance,
            request_id=rid,
        ),
        {},
    )


def encode_problem(problem: Problem) -> bytes:
    return msgspec.json.encode(problem)


def problem_response(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Litestar exception handler: every error leaves as application/problem+json."""
    problem, headers = problem_for(exc, request.scope)
    headers = {**headers, "X-Request-ID": problem.request_id or ""}
    return Response(
        content=encode_problem(problem),
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def problem_spec(*statuses: int) -> dict[int, Any]:
    """OpenAPI response entries for the problem statuses a route can answer."""
    from litestar.openapi.datastructures import ResponseSpec

    descriptions = {
        400: "Malformed request or invalid field: the problem names the field",
        401: "Missing, expired or invalid bearer token",
        403: "The token's role may not use this route, or the domain refused this actor",
        404: "No such record",
        409: "The record changed concurrently or is in the wrong state",
        413: "Request body too large",
        422: "Refused by validation of the values, by policy, or an idempotency key reused",
        500: "Internal error; the response carries a request id and nothing else",
    }
    return {
        s: ResponseSpec(
            data_container=Problem,
            media_type=PROBLEM_MEDIA_TYPE,
            description=descriptions.get(s, HTTP_KINDS.get(s, ("", "Problem"))[1]),
            generate_examples=False,
        )
        for s in statuses
    }


__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "ProblemException",
    "encode_problem",
    "problem_for",
    "problem_response",
    "problem_spec",
    "request_id_of",
]

"""The building blocks of every body: constrained field types, and the two bases (requests
refuse unknown fields; replies always carry every field)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import Enum
from typing import Annotated, Any

import msgspec
from msgspec import Meta

MAX_IMAGE_BYTES = 10 * 1024 * 1024

# No control characters: they corrupt terminals and CSV exports, and PostgreSQL refuses NUL in
# text. Free text may still hold line breaks and tabs; a name or a reference may not.
ONE_LINE = r"^[^\x00-\x1f\x7f]*$"
LINES = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
Text = Annotated[str, Meta(min_length=1, max_length=2000, pattern=LINES)]
ShortText = Annotated[str, Meta(min_length=1, max_length=200, pattern=ONE_LINE)]
OptionalText = Annotated[str, Meta(max_length=2000, pattern=LINES)]
Ident = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
AwareDateTime = Annotated[
    datetime, Meta(tz=True, description="ISO 8601 with a UTC offset, between 2000 and 2099")
]
Similarity = Annotated[float, Meta(ge=-1.0, le=1.0)]
Threshold = Annotated[float, Meta(gt=0.0, le=1.0)]
Image = Annotated[bytes, Meta(max_length=MAX_IMAGE_BYTES, description="base64, at most 10 MB")]


class Struct(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Request bodies refuse unknown fields, so a misspelt field is an error, not a no-op."""


class Reply(msgspec.Struct, omit_defaults=False):
    """Response bodies."""


class FieldError(msgspec.Struct, omit_defaults=True):
    """One field the request got wrong."""

    message: Annotated[
        str, Meta(description="What is wrong with the value, and what would be accepted")
    ]
    field: Annotated[str | None, Meta(description="The field, parameter or header at fault")] = None
    source: Annotated[
        str | None,
        Meta(description="Where it was sent: body, query, header, path or cookie"),
    ] = None


class Problem(msgspec.Struct, omit_defaults=True):
    """RFC 9457 problem details: the shape of every error this API returns, as
    application/problem+json. It says what was refused and what would make the request
    acceptable; it never quotes the request body."""

    type: Annotated[
        str,
        Meta(
            description="A URN naming the kind of problem, urn:lfr-ledger:problem:<kind> (e.g. "
            "validation, purpose-required, forbidden, no-such-route): clients branch on this, "
            "not on the title"
        ),
    ]
    title: Annotated[str, Meta(description="A short, fixed summary of the kind")]
    status: Annotated[int, Meta(description="The HTTP status code, repeated")]
    detail: Annotated[
        str, Meta(description="This occurrence: what was refused and how to put it right")
    ]
    instance: Annotated[str | None, Meta(description="The request's path")] = None
    request_id: Annotated[
        str | None,
        Meta(
            description="The request's id, also in the X-Request-ID header: quote it to the "
            "system's administrators"
        ),
    ] = None
    errors: Annotated[
        list[FieldError] | None,
        Meta(description="Each field at fault, for a request that failed validation"),
    ] = None


def one_of(
    values: type[Enum] | Iterable[str], *, nullable: bool = False, items: bool = False
) -> dict[str, Any]:
    """`extra_json_schema` listing a closed vocabulary as the schema's `enum`, for a reply
    field typed `str` (or `list[str]` with `items=True`) that holds an enum's values: the
    OpenAPI document then names every value a client can receive. `nullable` adds null."""
    listed: list[Any] = [
        v.value if isinstance(v, Enum) else v
        for v in (values if not isinstance(values, type) else list(values))
    ]
    if nullable:
        listed.append(None)
    if items:
        return {"extra": {"items": {"type": "string", "enum": listed}}}
    return {"extra": {"enum": listed}}


def items_schema(item: Any) -> dict[str, Any]:
    """The OpenAPI of a constrained item type, for a list of them: Litestar documents a list's
    own bounds but drops its items' (pattern, length), which clients need to see."""
    meta = next(m for m in getattr(item, "__metadata__", ()) if isinstance(m, Meta))
    schema: dict[str, Any] = {"type": "string"}
    for name, key in (
        ("min_length", "minLength"),
        ("max_length", "maxLength"),
        ("pattern", "pattern"),
    ):
        value = getattr(meta, name)
        if value is not None:
            schema[key] = value
    return {"extra": {"items": schema}}

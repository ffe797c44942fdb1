"""The building blocks of every body: constrained field types, and the two bases (requests
refuse unknown fields; replies always carry every field)."""

from __future__ import annotations

from datetime import datetime
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
    message: str
    field: str | None = None
    source: str | None = None


class Problem(msgspec.Struct, omit_defaults=True):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    request_id: str | None = None
    errors: list[FieldError] | None = None


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

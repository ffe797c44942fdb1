"""What makes a retried request exactly-once: a canonical form of the request to compare, and
the reply a recorded request earned, rebuilt from what it changed.

The ledger records a request in the same transaction as its first change (`domain/requests.py`),
so after any crash a retry finds either that record (the command ran: its reply is given again)
or nothing (the command did not run: it runs now, once). The reply is normally kept by the
idempotency store; when a crash came between the commit and keeping it, it is rebuilt here.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode
from uuid import UUID

import msgspec
from litestar.handlers import HTTPRouteHandler
from litestar.types import Scope

from lfr_ledger.api.schemas.common import Created, Done
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.requests import Request

_UUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")


def canonical_route(method: str, path: str) -> str:
    """`POST /alerts/<id>/adjudication` with ids in lower case: one record, however spelled."""
    return f"{method} {_UUID.sub(lambda m: m.group(0).lower(), path)}"


def canonical_query(query_string: bytes) -> bytes:
    """The query as parsed, pairs in key order (a key's values keep theirs), re-encoded: the
    order of keys and the spelling of escapes do not make another request."""
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True, errors="replace")
    return urlencode(sorted(pairs, key=lambda pair: pair[0])).encode()


def canonical_body_hash(route: str, body: bytes, query_string: bytes = b"") -> str:
    """The digest of what was asked: the query (`dry_run=false` is another request than
    `dry_run=true`) and the body, as parsed JSON in a canonical form (key order and white space
    do not make another request), or the bytes themselves when they are not JSON. Without a
    query the digest is what it was before the query counted, so replies kept then still
    match."""
    try:
        document: Any = json.loads(body) if body else None
    except ValueError:
        canonical = body
    else:
        canonical = json.dumps(
            document, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()
    digest = hashlib.sha256()
    for part in (route.encode(), b"\0", canonical):
        digest.update(part)
    query = canonical_query(query_string)
    if query:
        digest.update(b"\0?" + query)
    return digest.hexdigest()


def rebuilt_reply(scope: Scope, ledger: CaseLedger, request: Request) -> tuple[int, bytes] | None:
    """The reply `request` earned, from the records it changed: a `Created` names the record it
    created, a `Done` the state it left the path's record in. None for other replies."""
    handler = scope.get("route_handler")
    if not isinstance(handler, HTTPRouteHandler):
        return None
    reply_type = handler.parsed_fn_signature.return_type.annotation
    if reply_type is Created and request.created is not None:
        return handler.status_code, msgspec.json.encode(Created(id=request.created))
    if reply_type is Done:
        for value in scope.get("path_params", {}).values():
            record_id = value if isinstance(value, UUID) else None
            version = None if record_id is None else request.version_of(record_id)
            if record_id is not None and version is not None:
                record = ledger.repository.get(record_id, version=version)
                reply = Done(id=record_id, status=str(record.status))
                return handler.status_code, msgspec.json.encode(reply)
    return None

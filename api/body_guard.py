"""Refuses a JSON body that is not UTF-8 or nests deeper than any request of ours, before a
parser can fail on it in a way that would answer 500. Bodies are already bounded in size."""

from __future__ import annotations

import re
from array import array
from itertools import accumulate
from typing import Any

from litestar.types import ASGIApp, Receive, Scope, Send

from lfr_ledger.api.problems import ProblemException, too_large

# The deepest request body the API defines nests four levels; 32 leaves room, not recursion.
MAX_DEPTH = 32
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
# Opening brackets become +1 and closing ones -1 (as signed bytes); everything else vanishes.
_BRACKETS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[{]}")


def json_depth(body: bytes) -> int:
    """How deep the body's arrays and objects nest (strings may hold brackets of their own)."""
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS).translate(_BRACKETS)
    return max(accumulate(array("b", brackets)), default=0)


async def read_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    """The whole request body, refused with 413 as soon as it exceeds `limit` bytes."""
    length = dict(scope["headers"]).get(b"content-length", b"")
    if length.isdigit() and int(length) > limit:
        raise too_large(limit)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = bytes(message.get("body", b""))
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _bad_body(detail: str) -> ProblemException:
    return ProblemException(400, "validation", "Invalid request", detail)


class BodyGuardMiddleware:
    """Reads a request body once, checks it, and hands the same bytes on."""

    def __init__(self, app: ASGIApp, *, max_body_size: int) -> None:
        self.app = app
        self.max_body_size = max_body_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        body = await read_body(scope, receive, self.max_body_size)
        if body:
            try:
                body.decode("utf-8")
            except UnicodeDecodeError as error:
                raise _bad_body(
                    f"the request body is not valid UTF-8 (byte {error.start})"
                ) from None
            if json_depth(body) > MAX_DEPTH:
                raise _bad_body(f"the JSON body nests deeper than {MAX_DEPTH} levels")
        delivered = False

        async def replay_receive() -> Any:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # what follows the body: the client's disconnect

        await self.app(scope, replay_receive, send)

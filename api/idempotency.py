"""Idempotency-Key on every POST: a retried request gets the first reply and runs nothing twice.

Exactly once: the ledger records the request (`domain/requests.py`) in the same transaction as
its first change, so after any crash a retry finds either that record, and gets the first reply
again, or nothing, and runs for the first time. The idempotency store only serialises concurrent
copies of one request and keeps replies for replay:
- embedded default (SQLite): a separate file `data_dir/idempotency.sqlite`;
- PostgreSQL: the table `idempotency_keys` in the ledger's schema.

Rules: keys are scoped per actor (the token's `sub`) and cover the route (ids in any case), the
query (parsed, in key order) and the body (as canonical JSON: key order and white space do not
matter); the same key with another request is refused (422); a key still being processed
answers 409 with Retry-After. Only a 2xx reply is kept and replayed (header
`Idempotency-Replayed: true`); a refusal or a failure keeps nothing, so the corrected request
may reuse the key and a transient conflict is not replayed. Replies are kept 24 hours; a claim
older than ten seconds (a crashed process) may be taken over, which is safe: if the first
execution did commit, the second is refused by the store.
"""

from __future__ import annotations

import re
from typing import Any

import anyio.to_thread
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from lfr_ledger.api.body_guard import read_body
from lfr_ledger.api.exactly_once import canonical_body_hash, canonical_route, rebuilt_reply
from lfr_ledger.api.guards import role_may_call
from lfr_ledger.api.idempotency_store import IdempotencyStore, Replay, key_reused
from lfr_ledger.api.problems import (
    ProblemException,
    database_unavailable,
    logger,
)
from lfr_ledger.domain.actors import Actor
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.errors import AlreadyDone
from lfr_ledger.domain.requests import Request, RequestScope

HEADER = "idempotency-key"
KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"
_KEY_RE = re.compile(KEY_PATTERN)


class IdempotencyMiddleware:
    """ASGI middleware on POST routes; must run after authentication (it needs the actor)."""

    def __init__(
        self, app: ASGIApp, *, store: IdempotencyStore, ledger: CaseLedger, max_body_size: int
    ) -> None:
        self.app = app
        self.store = store
        self.ledger = ledger
        self.max_body_size = max_body_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        key = _header(scope, HEADER)
        actor = scope.get("user")
        if (
            key is None
            or not isinstance(actor, Actor)
            or not role_may_call(actor.role, "POST", str(scope.get("path_template", "")))
        ):
            # Nothing to make exactly-once; a role the route is closed to hears so from the
            # role guard, never about its key.
            await self.app(scope, receive, send)
            return
        if not _KEY_RE.match(key):
            raise ProblemException(
                400,
                "validation",
                "Invalid request",
                "header Idempotency-Key must be 1 to 255 visible ASCII characters",
            )
        body = await read_body(scope, receive, self.max_body_size)
        route = canonical_route("POST", scope["path"])
        digest = canonical_body_hash(route, body, bytes(scope.get("query_string", b"")))
        recorded = await anyio.to_thread.run_sync(self.ledger.recorded_request, actor.id, key)
        if recorded is not None:
            await self._answer_recorded(scope, send, recorded, actor.id, key, route, digest)
            return
        outcome = await anyio.to_thread.run_sync(self.store.claim, actor.id, key, route, digest)
        if isinstance(outcome, Replay):
            await _send_replay(send, outcome)
            return
        request = RequestScope(actor=actor, key=key, route=route, body_hash=digest)
        await self._run(scope, body, send, request)

    async def _answer_recorded(
        self,
        scope: Scope,
        send: Send,
        recorded: Request,
        actor: str,
        key: str,
        route: str,
        digest: str,
    ) -> None:
        """The request ran before (its record and its changes committed together): give its
        reply again, the one kept or, after a crash that lost it, the one rebuilt."""
        if recorded.route != route or recorded.body_hash != digest:
            raise key_reused()
        kept = await anyio.to_thread.run_sync(self.store.kept, actor, key)
        if kept is None:
            rebuilt = await anyio.to_thread.run_sync(rebuilt_reply, scope, self.ledger, recorded)
            if rebuilt is None:
                raise ProblemException(
                    409,
                    "reply-lost",
                    "Request recorded, reply lost",
                    f"this request was recorded as {recorded.id} but its reply was lost in a "
                    "crash; read the record to see its result",
                )
            kept = Replay(status=rebuilt[0], media_type="application/json", body=rebuilt[1])
            await anyio.to_thread.run_sync(
                self.store.complete, actor, key, kept.status, kept.media_type, kept.body
            )
        await _send_replay(send, kept)

    async def _run(self, scope: Scope, body: bytes, send: Send, request: RequestScope) -> None:
        delivered = False

        async def replay_receive() -> Any:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            # The body was consumed; a handler waiting for more sees the client go.
            await anyio.sleep_forever()

        status = 500
        media_type: str | None = None
        held: list[Message] = []

        async def hold(message: Message) -> None:
            # Held until the reply is known, so that a second execution's refusal is never
            # what the client sees: it gets the first execution's reply instead.
            nonlocal status, media_type
            if message["type"] == "http.response.start":
                status = int(message["status"])
                for name, value in message.get("headers", []):
                    if name.lower() == b"content-type":
                        media_type = value.decode("latin-1")
            held.append(message)

        actor, key = request.actor.id, request.key
        try:
            with self.ledger.request(request):
                await self.app(scope, replay_receive, hold)
        except BaseException:
            await anyio.to_thread.run_sync(self.store.release, actor, key)
            raise
        content = b"".join(
            bytes(m.get("body", b"")) for m in held if m["type"] == "http.response.body"
        )
        if status == 409 and AlreadyDone.kind.encode() in content:
            # Another execution of this very request committed first.
            await anyio.to_thread.run_sync(self.store.release, actor, key)
            recorded = await anyio.to_thread.run_sync(self.ledger.recorded_request, actor, key)
            if recorded is not None:
                await self._answer_recorded(
                    scope, send, recorded, actor, key, request.route, request.body_hash
                )
                return
        try:
            if 200 <= status < 300:
                await anyio.to_thread.run_sync(
                    self.store.complete, actor, key, status, media_type, content
                )
            else:
                # A refusal or a failure wrote nothing: the same key may carry the corrected
                # request, and a transient conflict is not replayed for a day.
                await anyio.to_thread.run_sync(self.store.release, actor, key)
        except Exception as error:
            if not database_unavailable(error):
                raise
            # The database failed over after the command's answer was known. Committed, the
            # command's request record holds it, and a retry is given the reply rebuilt; not
            # committed, the key's claim lapses after STALE_PENDING_SECONDS. Either way the
            # client gets this answer now rather than an error after it.
            logger.warning("idempotency key not updated: the database is unavailable")
        for message in held:
            await send(message)


def _header(scope: Scope, name: str) -> str | None:
    wanted = name.encode()
    for key, value in scope.get("headers", []):
        if key.lower() == wanted:
            return str(value.decode("latin-1"))
    return None


async def _send_replay(send: Send, replay: Replay) -> None:
    headers = [
        (b"content-length", str(len(replay.body)).encode()),
        (b"idempotency-replayed", b"true"),
    ]
    if replay.media_type:
        headers.append((b"content-type", replay.media_type.encode()))
    await send({"type": "http.response.start", "status": replay.status, "headers": headers})
    await send({"type": "http.response.body", "body": replay.body, "more_body": False})

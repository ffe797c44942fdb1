"""`Location` on every 201: where the record just created can be read (RFC 9110 §10.2.2)."""

from __future__ import annotations

import json

from litestar.types import ASGIApp, HTTPResponseStartEvent, Message, Receive, Scope, Send

# The route that creates, and the route that reads what it created.
LOCATIONS: dict[str, str] = {
    "POST /operations": "/operations/{id}/summary",
    "POST /deployments": "/deployments/{id}",
    "POST /deployments/{deployment_id}/watchlist/entries": "/watchlist/entries/{id}",
    "POST /deployments/{deployment_id}/alerts": "/alerts/{id}",
    "POST /governance/documents": "/governance/documents/{id}",
}


class LocationHeaderMiddleware:
    """Holds a 201's head until its (small) body names the new record's id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        start: HTTPResponseStartEvent | None = None
        body = b""

        async def send_with_location(message: Message) -> None:
            nonlocal start, body
            if message["type"] == "http.response.start":
                template = f"POST {scope.get('path_template', '')}"
                if message["status"] == 201 and template in LOCATIONS:
                    start = message
                    return
            elif message["type"] == "http.response.body" and start is not None:
                body += message.get("body", b"")
                if message.get("more_body", False):
                    return
                head, start = start, None
                location = _location(scope, body)
                if location:
                    head["headers"] = [*head.get("headers", []), (b"location", location)]
                await send(head)
                await send({"type": "http.response.body", "body": body, "more_body": False})
                return
            await send(message)

        await self.app(scope, receive, send_with_location)


def _location(scope: Scope, body: bytes) -> bytes | None:
    try:
        created = json.loads(body)
    except ValueError:
        return None
    if not isinstance(created, dict) or not created.get("id"):
        return None
    template = LOCATIONS[f"POST {scope.get('path_template', '')}"]
    return template.format(id=created["id"]).encode()

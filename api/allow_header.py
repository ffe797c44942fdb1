"""Answers OPTIONS with every method a path serves.

Litestar 2.25 builds a path's OPTIONS handler with the first route object made for that path;
when handlers for the same path are merged into a new route, the old handler keeps listing the
old route's methods (`POST /deployments/{id}/alerts` was missing from `Allow`). This rewrites
the header from the app's own route table, filled once the app is built.
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.types import ASGIApp, Message, Receive, Scope, Send


def methods_by_path(app: Litestar) -> dict[str, str]:
    """ "/deployments/{deployment_id:uuid}/alerts" -> "GET, OPTIONS, POST", for every route."""
    found: dict[str, set[str]] = {}
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            # Keyed like a request's path template: parameters without their types.
            template = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)
            found.setdefault(template, set()).update(route.methods)
    return {path: ", ".join(sorted(methods)) for path, methods in found.items()}


class AllowHeaderMiddleware:
    def __init__(self, app: ASGIApp, *, allowed: dict[str, str]) -> None:
        self.app = app
        self.allowed = allowed  # filled by create_app once the routes exist

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "OPTIONS":
            await self.app(scope, receive, send)
            return
        allow = self.allowed.get(str(scope.get("path_template", "")))

        async def send_allow(message: Message) -> None:
            if allow is not None and message["type"] == "http.response.start":
                headers: list[Any] = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != b"allow"
                ]
                headers.append((b"allow", allow.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_allow)

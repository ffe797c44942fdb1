"""`lfr witness serve`'s HTTP app: a witness an oversight body runs itself, on its own machine,
with its own data directory and key (`eventlog/witness/store.py` keeps and countersigns; the
protocol is `eventlog/witness/protocol.py`).

It holds no personal data (tree sizes, roots, ids, the ledger's public key), needs no ledger, no
database server and no token: whoever can reach it may submit, and what it countersigns is held
to the ledger's pinned key and to consistency with what it already holds, so a submission can
add a witnessed checkpoint but never change or remove one. Refusals are RFC 9457 problems."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import anyio
from litestar import Litestar, Request, Response, get, post
from litestar.exceptions import HTTPException
from litestar.params import Parameter

from lfr_ledger.eventlog.witness.protocol import MAX_PAGE
from lfr_ledger.eventlog.witness.store import WitnessRefusal, WitnessStore

PROBLEM_PREFIX = "urn:lfr-ledger:witness:problem:"
# A checkpoint and a proof of at most 128 hashes fit in a few kilobytes.
MAX_BODY_BYTES = 64 * 1024


def _problem(status: int, kind: str, detail: str) -> Response[bytes]:
    body = {"type": PROBLEM_PREFIX + kind, "title": kind.replace("-", " "), "status": status}
    body["detail"] = detail
    return Response(
        json.dumps(body).encode(), status_code=status, media_type="application/problem+json"
    )


def _refused(_: Request[Any, Any, Any], exc: WitnessRefusal) -> Response[bytes]:
    return _problem(exc.status, exc.kind, exc.detail)


def _http_error(_: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    status = exc.status_code if exc.status_code < 500 else 500
    return _problem(status, "request-refused" if status < 500 else "internal", str(exc.detail))


def create_witness_app(data_dir: Path, *, pinned: dict[str, str] | None = None) -> Litestar:
    store = WitnessStore(data_dir, pinned=pinned)

    @get("/health", sync_to_thread=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @get("/v1/key", sync_to_thread=False)
    def key() -> dict[str, str]:
        return store.key_document()

    @get("/v1/ledgers/{name:str}", sync_to_thread=True)
    def latest(name: str) -> Any:
        found = store.latest(name)
        if found is None:
            return _problem(404, "not-witnessed", f"no checkpoint of {name} is held here")
        return found.to_dict()

    @get("/v1/ledgers/{name:str}/checkpoints", sync_to_thread=True)
    def listed(
        name: str,
        after_size: Annotated[int, Parameter(ge=-1, le=2**62)] = -1,
        limit: Annotated[int, Parameter(ge=1, le=MAX_PAGE)] = MAX_PAGE,
    ) -> dict[str, Any]:
        page = store.page(name, after_size=after_size, limit=limit)
        return {"ledger": name, "witnessed": [w.to_dict() for w in page]}

    @post("/v1/ledgers/{name:str}/checkpoints")
    async def submit(name: str, request: Request[Any, Any, Any]) -> Response[bytes]:
        raw = await request.body()
        try:
            body = json.loads(raw)
        except ValueError:
            return _problem(400, "malformed", "the body is not JSON")
        # The store writes SQLite and checks signatures: off the event loop.
        status, witnessed = await anyio.to_thread.run_sync(store.submit, name, body)
        reply = {"cosignature": witnessed.cosignature, "witnessed": witnessed.to_dict()}
        return Response(
            json.dumps(reply).encode(), status_code=status, media_type="application/json"
        )

    return Litestar(
        route_handlers=[health, key, latest, listed, submit],
        exception_handlers={WitnessRefusal: _refused, HTTPException: _http_error},
        request_max_body_size=MAX_BODY_BYTES,
        on_shutdown=[store.close],
        openapi_config=None,
    )

"""The HTTP/1.1 protocol `lfr serve` runs: uvicorn's h11 protocol, except that a request it
cannot parse (headers too large, a malformed request line) is answered as a problem, like every
other refusal, instead of uvicorn's plain-text 400."""

from __future__ import annotations

import json

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from lfr_ledger.api.problems import PROBLEM_MEDIA_TYPE, TYPE_PREFIX


class ProblemH11Protocol(H11Protocol):
    def send_400_response(self, msg: str) -> None:
        body = json.dumps(
            {
                "type": TYPE_PREFIX + "bad-request",
                "title": "Malformed request",
                "status": 400,
                # uvicorn's own message says what failed and holds nothing from the request.
                "detail": f"the request could not be read as HTTP ({msg.rstrip('.')}); headers "
                "are limited in size; nothing was recorded",
            }
        ).encode()
        headers = [
            (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        self.transport.write(self.conn.send(h11.Response(status_code=400, headers=headers)))
        self.transport.write(self.conn.send(h11.Data(data=body)))
        self.transport.write(self.conn.send(h11.EndOfMessage()))
        self.transport.close()

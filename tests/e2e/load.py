"""The load the exactly-once tests put on real servers (a node SIGKILLed, a database failed over),
and the one check of what it left: each acknowledged request recorded once, under the id it was
answered with."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from typing import Any

import httpx

from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.operation import OperationTopic
from lfr_ledger.domain.requests import RequestTopic

RETRY_SECONDS = 0.05


class OperationOpener(threading.Thread):
    """Opens operations one by one through `urls[0]`, retrying each with its own
    Idempotency-Key until it is acknowledged (or `seconds` have passed): `requests` of them, or,
    with `until`, one after another until that is set (the request in hand is still seen
    through), so the load lasts as long as what is done to the servers under it."""

    def __init__(
        self,
        number: int,
        urls: list[str],
        headers: dict[str, str],
        *,
        purpose: str,
        seconds: float,
        requests: int | None = None,
        until: threading.Event | None = None,
    ) -> None:
        super().__init__(daemon=True)
        assert (requests is None) != (until is None), "either a number of requests or an end"
        self.number = number
        self.urls = urls
        self.headers = headers
        self.purpose = purpose
        self.requests = requests
        self.until = until
        self.sent: list[str] = []  # the name of each operation asked for, in order
        self.acknowledged: dict[str, tuple[str, float]] = {}  # name: (id, when)
        self.refusals: Counter[int] = Counter()  # the status of each answer that was not 201
        self.attempts = 0
        self.deadline = time.monotonic() + seconds

    def unreachable(self) -> None:
        """No answer: the server is down; retry the same request."""
        time.sleep(RETRY_SECONDS)

    def refused(self, response: httpx.Response) -> None:
        """An answer that was not 201: counted, then the same request again."""
        self.refusals[response.status_code] += 1
        time.sleep(RETRY_SECONDS)

    def _more(self) -> bool:
        if self.requests is not None:
            return len(self.sent) < self.requests
        assert self.until is not None
        return not self.until.is_set()

    def run(self) -> None:
        with httpx.Client(timeout=5) as http:
            while self._more() and time.monotonic() < self.deadline:
                name, key = f"op-{self.number}-{len(self.sent)}", str(uuid.uuid4())
                self.sent.append(name)
                while time.monotonic() < self.deadline:
                    self.attempts += 1
                    try:
                        response = http.post(
                            f"{self.urls[0]}/operations",
                            json={"name": name, "force": "demo", "purpose": self.purpose},
                            headers={**self.headers, "Idempotency-Key": key},
                        )
                    except httpx.HTTPError:
                        self.unreachable()
                        continue
                    if response.status_code == 201:
                        self.acknowledged[name] = (response.json()["id"], time.monotonic())
                        break
                    self.refused(response)


def acknowledged_ids(openers: list[OperationOpener]) -> dict[str, str]:
    """Every request's id as answered; asserts every request asked for was acknowledged."""
    acknowledged = {n: i for o in openers for n, (i, _) in o.acknowledged.items()}
    assert set(acknowledged) == {n for o in openers for n in o.sent}, "a request never succeeded"
    return acknowledged


def assert_each_recorded_once(ledger: CaseLedger, acknowledged: dict[str, str]) -> set[str]:
    """Every acknowledged request opened its operation exactly once, under the id it was
    answered with, and left one request record; nothing lost, nothing duplicated. Returns the
    names of the operations opened."""
    opened: Counter[str] = Counter()
    ids: dict[str, str] = {}
    for n in ledger.recorder.select_notifications(0, 100_000, topics=[OperationTopic.OPENED]):
        event: Any = ledger.mapper.to_domain_event(n)
        opened[event.name] += 1
        ids[event.name] = str(n.originator_id)
    duplicated = sorted(name for name, count in opened.items() if count > 1)
    lost = sorted(set(acknowledged) - set(opened))
    assert (lost, duplicated) == ([], [])
    assert all(ids[name] == acknowledged[name] for name in acknowledged)
    requests = ledger.recorder.select_notifications(0, 100_000, topics=[RequestTopic.RECEIVED])
    assert len(requests) == len(acknowledged)
    return set(opened)

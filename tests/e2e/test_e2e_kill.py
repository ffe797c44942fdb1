"""Issue 10: exactly-once under SIGKILL, on both backends.

A real `lfr serve` is killed with SIGKILL at random moments while four clients open operations,
each retrying its request with the same Idempotency-Key until it is acknowledged. Afterwards
every acknowledged request exists exactly once, nothing acknowledged is lost, the hash chain
verifies and every view equals a replay of the log. Bounded by count: KILLS kills, REQUESTS
requests.
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from lfr_ledger.api.bootstrap import build_ledger
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.operation import OperationTopic
from lfr_ledger.domain.requests import RequestTopic
from lfr_ledger.eventlog.chain.wiring import verify_ledger
from lfr_ledger.projections.catch_up import catch_up, rebuild, view_contents
from tests.e2e.conftest import Server, free_port, postgres_store, start_server, stop_server

KILLS = 20
CLIENTS = 4
REQUESTS_PER_CLIENT = 15
SEED = 20261128


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    if request.param == "sqlite":
        yield {}
        return
    with postgres_store("test_kill") as environment:
        yield environment


class Client(threading.Thread):
    """Opens its operations one by one, retrying each with its own key until acknowledged."""

    def __init__(self, number: int, url: str, headers: dict[str, str]) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.headers = headers
        self.todo = [(f"op-{number}-{i}", str(uuid.uuid4())) for i in range(REQUESTS_PER_CLIENT)]
        self.acknowledged: dict[str, str] = {}
        self.attempts = 0
        self.deadline = time.monotonic() + 240

    def run(self) -> None:
        with httpx.Client(timeout=5) as http:
            for name, key in self.todo:
                while time.monotonic() < self.deadline:
                    self.attempts += 1
                    try:
                        response = http.post(
                            f"{self.url}/operations",
                            json={"name": name, "force": "demo", "purpose": "kill test"},
                            headers={**self.headers, "Idempotency-Key": key},
                        )
                    except httpx.HTTPError:
                        time.sleep(0.05)  # the server is down: retry the same request
                        continue
                    if response.status_code == 201:
                        self.acknowledged[name] = response.json()["id"]
                        break
                    assert response.status_code in (409, 500, 503), response.text
                    time.sleep(0.05)


def _kill(server: Server) -> None:
    os.kill(server.process.pid, signal.SIGKILL)
    server.process.wait(timeout=10)


def test_sigkill_under_load_loses_nothing_and_duplicates_nothing(
    store: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = random.Random(SEED)
    data_dir = tmp_path / "var"
    port = free_port()
    server = start_server(data_dir, port=port, extra_env=store)
    settings = Settings.from_env({**os.environ, **store, "LFR_DATA_DIR": str(data_dir)})
    ledger = build_ledger(settings)
    try:
        from lfr_ledger.api.auth import issue_token

        admin = issue_token(settings, role="admin", sub="ADM-1")
        httpx.post(
            f"{server.url}/policy/adopt", headers={"Authorization": f"Bearer {admin}"}
        ).raise_for_status()
        planner = {"Authorization": f"Bearer {issue_token(settings, role='planner', sub='P-1')}"}
        clients = [Client(n, server.url, planner) for n in range(CLIENTS)]
        for client in clients:
            client.start()
        for _ in range(KILLS):
            time.sleep(rng.uniform(0.05, 0.6))
            _kill(server)
            server = start_server(data_dir, port=port, extra_env=store)
        for client in clients:
            client.join(timeout=240)
        stop_server(server)

        acknowledged = {n: i for c in clients for n, i in c.acknowledged.items()}
        assert len(acknowledged) == CLIENTS * REQUESTS_PER_CLIENT, "a request never succeeded"
        opened: Counter[str] = Counter()
        ids: dict[str, str] = {}
        for n in ledger.recorder.select_notifications(0, 100_000, topics=[OperationTopic.OPENED]):
            event: Any = ledger.mapper.to_domain_event(n)
            opened[event.name] += 1
            ids[event.name] = str(n.originator_id)
        duplicated = sorted(name for name, count in opened.items() if count > 1)
        lost = sorted(set(acknowledged) - set(opened))
        assert (duplicated, lost) == ([], [])
        assert all(ids[name] == acknowledged[name] for name in acknowledged)
        requests = ledger.recorder.select_notifications(0, 100_000, topics=[RequestTopic.RECEIVED])
        assert len(requests) == len(acknowledged)

        report = verify_ledger(settings)
        assert report.ok, report.summary()
        catch_up(settings)
        caught_up = view_contents(settings)
        rebuild(settings)
        assert view_contents(settings) == caught_up
        attempts = sum(c.attempts for c in clients)
        with capsys.disabled():
            print(
                f"\nkill test [{'postgres' if store else 'sqlite'}]: {KILLS} SIGKILLs, "
                f"{len(acknowledged)} requests acknowledged in {attempts} attempts, "
                f"0 lost, 0 duplicated, chain OK ({report.events_checked} events)"
            )
    finally:
        ledger.close()
        if server.process.poll() is None:
            stop_server(server)

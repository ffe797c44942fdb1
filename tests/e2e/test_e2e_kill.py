"""Issue 10: exactly-once under SIGKILL, on both backends.

A real `lfr serve` is killed with SIGKILL at random moments while four clients open operations,
each retrying its request with the same Idempotency-Key until it is acknowledged. Afterwards
every acknowledged request exists exactly once, nothing acknowledged is lost, the hash chain
verifies and every view equals a replay of the log. Bounded by count: KILLS kills, with the
clients opening operations until the last of them is behind, so each kill falls under load.
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from lfr_ledger.api.bootstrap import build_ledger
from lfr_ledger.config.settings import Settings
from lfr_ledger.eventlog.chain.wiring import verify_ledger
from lfr_ledger.projections.catch_up import catch_up, rebuild, view_contents
from tests.e2e.conftest import Server, free_port, postgres_store, start_server, stop_server
from tests.e2e.load import OperationOpener, acknowledged_ids, assert_each_recorded_once

KILLS = 20
CLIENTS = 4
SEED = 20261128


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    if request.param == "sqlite":
        yield {}
        return
    with postgres_store("test_kill") as environment:
        yield environment


class Client(OperationOpener):
    """Opens its operations through the one server, which is killed and restarted under it."""

    def __init__(
        self, number: int, url: str, headers: dict[str, str], until: threading.Event
    ) -> None:
        super().__init__(number, [url], headers, purpose="kill test", seconds=240, until=until)

    def refused(self, response: httpx.Response) -> None:
        assert response.status_code in (409, 500, 503), response.text
        super().refused(response)


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
        # The clients open operations until the last kill is behind them, so every kill falls
        # under load however fast the server answers.
        done = threading.Event()
        clients = [Client(n, server.url, planner, done) for n in range(CLIENTS)]
        for client in clients:
            client.start()
        for _ in range(KILLS):
            time.sleep(rng.uniform(0.05, 0.6))
            _kill(server)
            server = start_server(data_dir, port=port, extra_env=store)
        done.set()
        for client in clients:
            client.join(timeout=240)
        stop_server(server)

        acknowledged = acknowledged_ids(clients)
        assert_each_recorded_once(ledger, acknowledged)
        attempts = sum(c.attempts for c in clients)
        # Requests met a dead server and were retried: the kills fell under load.
        assert attempts > len(acknowledged), "no request met a killed server"

        report = verify_ledger(settings)
        assert report.ok, report.summary()
        catch_up(settings)
        caught_up = view_contents(settings)
        rebuild(settings)
        assert view_contents(settings) == caught_up
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

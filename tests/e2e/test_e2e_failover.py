"""Issue 27: the database's primary dies under load and its streaming standby takes over.

Two private PostgreSQL clusters on this machine, built with PostgreSQL's own tools: a primary
(wal_level=replica, synchronous_standby_names='standby1', synchronous_commit=on) and a standby
made from it by `pg_basebackup -R` that streams from it as `standby1`, so a commit is
acknowledged only once the standby holds it. Two `lfr serve` nodes share the ledger through one
multi-host LFR_DATABASE_URL naming both servers, the standby first, with
`target_session_attrs=read-write`: libpq skips whichever server is not the primary.

Four clients open operations through both nodes, each request under its own Idempotency-Key and
retried with it until acknowledged. Mid-load the primary is stopped as a crash would stop it
(`pg_ctl -m immediate`, no shutdown checkpoint), and the standby is promoted (`pg_ctl promote`).
The nodes are not restarted. Afterwards every acknowledged request exists exactly once, the
requests answered during the outage were 503 problems (retry), the chain verifies from genesis
and extends the checkpoint signed before the failover, and every view equals a replay.

Bounded by count: REQUESTS requests, one failover. The clusters run with fsync=off: the test
kills PostgreSQL's processes, not the machine, so written data survives in the page cache either
way (a machine's crash is what synchronous replication covers, and that needs no disk here).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from lfr_ledger.api.auth import issue_token
from lfr_ledger.api.bootstrap import build_ledger
from lfr_ledger.config.settings import Settings
from lfr_ledger.eventlog.chain.wiring import verify_ledger
from lfr_ledger.projections.catch_up import catch_up, rebuild, view_contents
from lfr_ledger.projections.store import close_stores
from tests.e2e.conftest import Server, start_server, stop_server
from tests.e2e.load import OperationOpener, acknowledged_ids, assert_each_recorded_once
from tests.pg_cluster import Cluster, new_home, require_server_tools

pytestmark = pytest.mark.timeout(180)

LFR = str(Path(sys.executable).parent / "lfr")
CLIENTS = 4
REQUESTS_PER_CLIENT = 12
KILL_AFTER = 12  # acknowledged requests when the primary dies
OUTAGE = 3.0  # seconds between the primary's death and the promotion (detection, in real life)
STANDBY = "standby1"


class Client(OperationOpener):
    """Opens its operations through its node; a node that does not answer is left for the
    other."""

    def __init__(self, number: int, nodes: list[Server], headers: dict[str, str]) -> None:
        urls = [node.url for node in nodes[number % 2 :] + nodes[: number % 2]]
        super().__init__(
            number, urls, headers, purpose="failover test", seconds=90, requests=REQUESTS_PER_CLIENT
        )

    def unreachable(self) -> None:
        self.urls.reverse()  # the node did not answer in time: the other, at once


@pytest.fixture
def clusters() -> Iterator[tuple[Cluster, Cluster]]:
    """A primary with a synchronous streaming standby, both running; removed afterwards."""
    home = new_home("lfr-failover-")
    primary = Cluster(require_server_tools(), home, name="primary")
    standby: Cluster | None = None
    try:
        primary.init()
        primary.configure(
            wal_level="replica",
            synchronous_standby_names=STANDBY,
            synchronous_commit="on",
            fsync="off",
            max_connections="100",
        )
        primary.start()
        standby = primary.standby("standby", STANDBY)
        # Promoted, the standby is a primary with no standby of its own: it must not wait for
        # one (until the old primary is rebuilt as its standby; docs/operations.md).
        standby.configure(synchronous_standby_names="", fsync="off")
        standby.start()
        deadline = time.monotonic() + 20
        while primary.sql("SELECT sync_state FROM pg_stat_replication") != "sync":
            assert time.monotonic() < deadline, "the standby never became synchronous"
            time.sleep(0.1)
        yield primary, standby
    finally:
        close_stores()
        for cluster in (standby, primary):
            if cluster is not None:
                cluster.stop("immediate")
        shutil.rmtree(home, ignore_errors=True)


def ready(node: Server) -> bool:
    """The node reports itself ready within a few seconds: the store answers (a connection
    kept from before the failover fails once and is replaced) and its views are current."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if httpx.get(f"{node.url}/health/ready", timeout=5).status_code == 200:
            return True
        time.sleep(0.2)
    return False


def lfr(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([LFR, *args], env=env, capture_output=True, text=True, timeout=60)


def test_the_standby_takes_over_and_no_acknowledged_write_is_lost_or_doubled(
    clusters: tuple[Cluster, Cluster], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    primary, standby = clusters
    # The standby first: before the failover libpq must pass over it to find the primary.
    url = (
        f"postgresql://postgres@127.0.0.1:{standby.port},127.0.0.1:{primary.port}/postgres"
        "?target_session_attrs=read-write&connect_timeout=2"
    )
    store = {"LFR_DATABASE_URL": url, "LFR_POSTGRES_SCHEMA": "ledger"}
    first = start_server(tmp_path / "node-a" / "var", extra_env=store)
    # The nodes share their keys (token secret, checkpoint key), as a force's nodes would.
    shutil.copytree(first.data_dir / "keys", tmp_path / "node-b" / "var" / "keys")
    kek = first.data_dir.with_name("var.kek")  # the vault's wrapping key, when kept beside
    if kek.exists():
        shutil.copy2(kek, tmp_path / "node-b" / "var.kek")
    second = start_server(tmp_path / "node-b" / "var", extra_env=store)
    nodes = [first, second]
    env = {**os.environ, **store, "LFR_DATA_DIR": str(first.data_dir)}
    settings = Settings.from_env(env)
    try:
        admin = issue_token(settings, role="admin", sub="ADM-1")
        httpx.post(
            f"{first.url}/policy/adopt", headers={"Authorization": f"Bearer {admin}"}
        ).raise_for_status()
        # A checkpoint signed on the old primary: the new primary's log must extend it.
        signed = lfr(env, "audit", "checkpoint")
        assert signed.returncode == 0, signed.stderr
        planner = {"Authorization": f"Bearer {issue_token(settings, role='planner', sub='P-1')}"}
        clients = [Client(n, nodes, planner) for n in range(CLIENTS)]
        for client in clients:
            client.start()
        deadline = time.monotonic() + 30
        while sum(len(c.acknowledged) for c in clients) < KILL_AFTER:
            assert time.monotonic() < deadline, "the load never started"
            time.sleep(0.01)
        primary.kill()
        killed_at = time.monotonic()
        acknowledged_before = {n for c in clients for n in c.acknowledged}
        time.sleep(OUTAGE)
        standby.promote()
        promoted_at = time.monotonic()
        for client in clients:
            client.join(timeout=90)

        acknowledged = acknowledged_ids(clients)
        assert len(acknowledged) == CLIENTS * REQUESTS_PER_CLIENT, "a request never succeeded"
        after = [t for c in clients for _, t in c.acknowledged.values() if t > promoted_at]
        assert after, "nothing was acknowledged after the promotion"
        # The nodes carried on, both of them, without a restart.
        assert all(node.process.poll() is None for node in nodes)
        for node in nodes:
            assert ready(node), node.log()
        refusals = sum((c.refusals for c in clients), Counter())
        # While there was no primary the nodes answered 503 (retry), not an internal error.
        assert refusals[503] > 0 and refusals[500] == 0, (refusals, first.log(), second.log())

        ledger = build_ledger(settings)  # through the same URL: it finds the new primary
        try:
            opened = assert_each_recorded_once(ledger, acknowledged)
        finally:
            ledger.close()
        assert acknowledged_before <= opened

        report = verify_ledger(settings)
        assert report.ok, report.summary()
        # `lfr audit verify` against the new primary: the chain since the checkpoint signed on
        # the old one (whose signed head the new log must still hold), then from genesis.
        for args in (("audit", "verify"), ("audit", "verify", "--full")):
            verified = lfr(env, *args)
            assert verified.returncode == 0, verified.stdout + verified.stderr
        assert lfr(env, "audit", "checkpoint").returncode == 0  # and a new one signs
        catch_up(settings)
        caught_up = view_contents(settings)
        rebuild(settings)
        assert view_contents(settings) == caught_up
        assert standby.sql("SELECT pg_is_in_recovery()") == "f"

        first_after = min(after) - killed_at
        with capsys.disabled():
            print(
                f"\nfailover test: {len(acknowledged)} requests acknowledged "
                f"({len(acknowledged_before)} before the kill) in "
                f"{sum(c.attempts for c in clients)} attempts; 0 lost, "
                "0 duplicated; answers while failing over: "
                f"{dict(sorted(refusals.items()))}; "
                f"kill to promotion {promoted_at - killed_at:.1f} s, "
                f"kill to first acknowledged write after promotion {first_after:.1f} s "
                f"(promotion to it {min(after) - promoted_at:.1f} s); chain OK "
                f"({report.events_checked} events)"
            )
    finally:
        for node in nodes:
            if node.process.poll() is None:
                stop_server(node)

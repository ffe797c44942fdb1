"""Two `lfr serve` nodes on the real PostgreSQL, two matchers posting alerts to them over HTTP,
an operator's alert stream open on one node, and the other node SIGKILLed mid-stream.

The matchers are the real HTTP sink (`matching.sinks.HttpSink`) fed claims with derived alert
ids, as `lfr match --api` sends them; what a load balancer would do is done by hand: a matcher
whose node stops answering sends the same claim to the other node. Afterwards the operator's
stream on the surviving node has delivered every alert, each alert exists exactly once, the
chain verifies and every view equals a replay of the log.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from lfr_ledger.api.bootstrap import build_ledger
from lfr_ledger.api.demo.seed import OPERATOR
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.alert import AlertTopic
from lfr_ledger.eventlog.chain.wiring import verify_ledger
from lfr_ledger.matching.models import SFACE_MODEL_ID
from lfr_ledger.matching.sinks import AlertClaim, HttpSink, SinkUnavailable, alert_id_for
from lfr_ledger.projections.runner import catch_up, rebuild, view_contents
from tests.e2e.conftest import Server, postgres_store, start_server, stop_server
from tests.e2e.flows import adopt_policy, auth, live_deployment, now

pytestmark = pytest.mark.timeout(240)

ALERTS_PER_MATCHER = 12
KILL_AFTER = 4  # alerts the first matcher has had acknowledged when its node dies


@pytest.fixture
def shared_store() -> Iterator[dict[str, str]]:
    with postgres_store("test_nodes") as environment:
        yield environment


class Stream(threading.Thread):
    """An operator's alert stream on one node: every alert id it delivers, in order."""

    def __init__(self, server: Server, deployment_id: str) -> None:
        super().__init__(daemon=True)
        self.server = server
        self.deployment_id = deployment_id
        self.alert_ids: list[str] = []
        self.subscribed = threading.Event()
        self.done = threading.Event()
        self.error: httpx.HTTPError | None = None

    def run(self) -> None:
        try:
            self._read()
        except httpx.HTTPError as error:
            if not self.done.is_set():  # the stream broke while the test still needed it
                self.error = error

    def _read(self) -> None:
        url = f"{self.server.url}/alerts/stream"
        headers = auth(self.server, OPERATOR)
        with (
            httpx.Client(timeout=httpx.Timeout(5, read=60)) as http,
            http.stream(
                "GET", url, params={"deployment_id": self.deployment_id}, headers=headers
            ) as response,
        ):
            response.raise_for_status()
            for line in response.iter_lines():
                if line.startswith(":"):
                    self.subscribed.set()
                elif line.startswith("data:"):
                    self.alert_ids.append(json.loads(line[5:])["id"])
                if self.done.is_set():
                    return


class Matcher(threading.Thread):
    """Raises its alerts through the HTTP sink, moving to the other node when its own stops
    answering (what a load balancer would do for it)."""

    def __init__(self, number: int, nodes: list[Server], live_id: str, entries: list[str]):
        super().__init__(daemon=True)
        self.nodes = nodes
        self.live_id = live_id
        self.entries = entries
        self.number = number
        self.camera = "cam-1"  # the deployment's one camera, seen by two matcher accounts
        self.acknowledged: list[str] = []
        self.by_node = [0, 0]
        self.error: BaseException | None = None
        # Two matcher accounts of the deployment, as two vans' matcher nodes would hold.
        token = nodes[0].token("matcher", f"matcher-van-{number}", deployment_id=live_id)
        self.sinks = [HttpSink(n.url, token, retries=2, backoff_seconds=0.05) for n in nodes]

    def run(self) -> None:
        try:
            started = now() - timedelta(minutes=1)
            gone: set[int] = set()
            for i in range(ALERTS_PER_MATCHER):
                entry = uuid.UUID(self.entries[i % len(self.entries)])
                captured = started + timedelta(seconds=i, milliseconds=100 * self.number)
                claim = AlertClaim(
                    alert_id=alert_id_for(uuid.UUID(self.live_id), self.camera, entry, captured),
                    deployment_id=uuid.UUID(self.live_id),
                    camera_id=self.camera,
                    entry_id=entry,
                    similarity=0.8,
                    captured_at=captured,
                    model_id=SFACE_MODEL_ID,
                    track_id=f"trk-{i}",
                )
                # Round robin over the nodes still answering, as a load balancer would.
                node = (i + self.number) % 2
                while True:
                    if node in gone:
                        node = 1 - node
                    try:
                        self.sinks[node].raise_alert(claim)
                        break
                    except SinkUnavailable:
                        gone.add(node)  # the same claim goes to the other node
                self.acknowledged.append(str(claim.alert_id))
                self.by_node[node] += 1
                time.sleep(0.1)
        except BaseException as error:  # reported by the test, never lost on this thread
            self.error = error


def test_a_node_killed_mid_stream_loses_no_alert_and_duplicates_none(
    shared_store: dict[str, str], tmp_path: Path
) -> None:
    first = start_server(tmp_path / "node-a" / "var", extra_env=shared_store)
    # The nodes share their keys (token secret, checkpoint key), as a force's nodes would.
    shutil.copytree(first.data_dir / "keys", tmp_path / "node-b" / "var" / "keys")
    second = start_server(tmp_path / "node-b" / "var", extra_env=shared_store)
    nodes = [first, second]
    settings = Settings.from_env(
        {**os.environ, **shared_store, "LFR_DATA_DIR": str(first.data_dir)}
    )
    try:
        with first.client() as client:
            policy = adopt_policy(first, client)
            live = live_deployment(
                first, client, policy_version=policy, entries=3, model_id=SFACE_MODEL_ID
            )
        stream = Stream(second, live.deployment_id)  # the operator is on the node that stays
        stream.start()
        assert stream.subscribed.wait(10), "the stream never opened"
        matchers = [Matcher(n, nodes, live.deployment_id, live.entry_ids) for n in (1, 2)]
        for m in matchers:
            m.start()
        deadline = time.monotonic() + 60
        while len(matchers[0].acknowledged) < KILL_AFTER:
            assert time.monotonic() < deadline and matchers[0].error is None
            time.sleep(0.02)
        os.kill(first.process.pid, signal.SIGKILL)
        first.process.wait(timeout=10)
        for m in matchers:
            m.join(timeout=120)
            assert m.error is None, m.error
        acknowledged = [a for m in matchers for a in m.acknowledged]
        assert len(acknowledged) == 2 * ALERTS_PER_MATCHER
        deadline = time.monotonic() + 30
        while set(stream.alert_ids) < set(acknowledged) and time.monotonic() < deadline:
            time.sleep(0.1)
        stream.done.set()

        # Both nodes took alerts before the kill; the operator on the surviving node saw every
        # alert, each once, whichever node recorded it.
        assert all(m.by_node[0] > 0 and m.by_node[1] > 0 for m in matchers)
        assert stream.error is None, stream.error
        assert Counter(stream.alert_ids) == Counter(acknowledged)
        ledger = build_ledger(settings)
        try:
            raised = Counter(
                str(n.originator_id)
                for n in ledger.recorder.select_notifications(
                    0, 100_000, topics=[AlertTopic.RAISED]
                )
            )
        finally:
            ledger.close()
        assert raised == Counter(acknowledged)  # each exactly once, none lost
        report = verify_ledger(settings)
        assert report.ok, report.summary()
        catch_up(settings)
        caught_up = view_contents(settings)
        rebuild(settings)
        assert view_contents(settings) == caught_up
    finally:
        for node in nodes:
            if node.process.poll() is None:
                stop_server(node)

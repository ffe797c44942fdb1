"""Two `lfr serve` nodes on the real PostgreSQL, two `lfr match --api` processes running a
deployment through them (no database access of their own: they read their terms and templates
from the API), an operator's alert stream open on one node, and the other node SIGKILLed
mid-stream.

Each matcher is given both nodes (`--api A,B` and `--api B,A`), as it would be given a load
balancer: when its node stops answering, it sends the same claim to the other. The cameras are
real models on real faces: recorded folders in which two enrolled sample people pass the camera
in turn, replayed at their frame rate. Afterwards the operator's stream on the surviving node has
delivered every alert, each alert exists exactly once, the chain verifies and every view equals
a replay of the log.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import cv2
import httpx
import numpy as np
import pytest

from lfr_ledger.api.bootstrap import build_ledger
from lfr_ledger.api.demo.seed import OPERATOR
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.alert import AlertTopic
from lfr_ledger.eventlog.chain.wiring import verify_ledger
from lfr_ledger.matching.engines.insightface_engine import InsightFaceEngine
from lfr_ledger.matching.engines.model_packs import SFACE_MODEL_ID
from lfr_ledger.matching.packs.samples import sample_identities
from lfr_ledger.projections.catch_up import catch_up, rebuild, view_contents
from tests.e2e.conftest import Server, postgres_store, start_server, stop_server
from tests.e2e.flows import adopt_policy, auth, live_deployment, now

pytestmark = pytest.mark.timeout(300)

LFR = str(Path(sys.executable).parent / "lfr")
PEOPLE = ("t1-1", "t1-4")  # enrolled; they pass the cameras in turn
PASSES = 8  # per camera: one alert each (a new track, the cool-down over)
FPS = 20
# A pass: the face in a few frames, then long enough without it (over the tracker's one-second
# gap) that the next pass is a new track, and past the one-second cool-down.
FACE_FRAMES, EMPTY_FRAMES = 3, 25
KILL_AFTER = 3  # alerts the first matcher has had acknowledged when its node dies


@pytest.fixture
def shared_store() -> Iterator[dict[str, str]]:
    with postgres_store("test_nodes") as environment:
        yield environment


def jpeg(image: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode(".jpg", image)
    assert ok
    return encoded.tobytes()


def recorded_passes(folder: Path, portraits: list[np.ndarray]) -> Path:
    """A camera's recording: the people's portraits pasted in turn on an empty street."""
    folder.mkdir(parents=True)
    empty = np.full((480, 640, 3), 96, np.uint8)
    frame_number = 0
    for n in range(PASSES):
        face = cv2.resize(portraits[n % len(portraits)], (200, 240))
        seen = empty.copy()
        seen[120:360, 220:420] = face
        for image in [seen] * FACE_FRAMES + [empty] * EMPTY_FRAMES:
            frame_number += 1
            cv2.imwrite(str(folder / f"{frame_number:05d}.jpg"), image)
    return folder


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


class Matcher:
    """`lfr match --api` as its own process, with no database in its environment: the alerts
    it has had acknowledged, read from its output as they happen."""

    def __init__(
        self, number: int, nodes: list[Server], live_id: str, source: Path, work: Path
    ) -> None:
        self.data_dir = work / f"matcher-{number}"
        token = nodes[0].token("matcher", f"matcher-van-{number}", deployment_id=live_id)
        # The second matcher's clock is 50 ms behind: its alerts are its own, not resends.
        start = (now() + timedelta(milliseconds=50 * number)).isoformat()
        env = {k: v for k, v in os.environ.items() if not k.startswith("LFR_")}
        env["LFR_DATA_DIR"] = str(self.data_dir)
        order = nodes if number == 1 else nodes[::-1]
        command = [LFR, "match", "--deployment", live_id, "--camera", "cam-1"]
        command += ["--source", str(source), "--fps", str(FPS), "--realtime", "--start", start]
        command += ["--api", ",".join(n.url for n in order), "--token", token]
        command += ["--cooldown", "1", "--heartbeat-every", "1", "--count-interval", "5"]
        self.errors = work / f"matcher-{number}.err"
        with self.errors.open("w") as errors:
            self.process = subprocess.Popen(
                command, env=env, stdout=subprocess.PIPE, stderr=errors, text=True
            )
        self.acknowledged: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("alert "):
                self.acknowledged.append(line.split()[1])

    def finish(self) -> str:
        """Waits for the recording to end; its error output."""
        self.process.wait(timeout=120)
        self.reader.join(timeout=10)  # the one reader of its output
        errors = self.errors.read_text()
        assert self.process.returncode == 0, errors
        return errors


def test_a_node_killed_mid_stream_loses_no_alert_and_duplicates_none(
    shared_store: dict[str, str], tmp_path: Path, sface_engine: InsightFaceEngine
) -> None:
    people = sample_identities(sface_engine)
    portraits = [people[name] for name in PEOPLE]
    source = recorded_passes(tmp_path / "camera", portraits)
    first = start_server(tmp_path / "node-a" / "var", extra_env=shared_store)
    # The nodes share their keys (token secret, checkpoint key) and the vault's KEK (the default
    # key file beside the data folder), as a force's nodes would.
    shutil.copytree(first.data_dir / "keys", tmp_path / "node-b" / "var" / "keys")
    shutil.copy2(tmp_path / "node-a" / "var.kek", tmp_path / "node-b" / "var.kek")
    second = start_server(tmp_path / "node-b" / "var", extra_env=shared_store)
    nodes = [first, second]
    settings = Settings.from_env(
        {**os.environ, **shared_store, "LFR_DATA_DIR": str(first.data_dir)}
    )
    matchers: list[Matcher] = []
    try:
        with first.client() as client:
            policy = adopt_policy(first, client)
            live = live_deployment(
                first,
                client,
                policy_version=policy,
                entries=len(PEOPLE),
                image=[base64.b64encode(jpeg(p)).decode() for p in portraits],
                model_id=SFACE_MODEL_ID,
            )
        stream = Stream(second, live.deployment_id)  # the operator is on the node that stays
        stream.start()
        assert stream.subscribed.wait(10), "the stream never opened"
        matchers = [Matcher(n, nodes, live.deployment_id, source, tmp_path) for n in (1, 2)]
        deadline = time.monotonic() + 90
        while len(matchers[0].acknowledged) < KILL_AFTER:
            assert time.monotonic() < deadline, matchers[0].errors.read_text()
            assert matchers[0].process.poll() is None, matchers[0].finish()
            time.sleep(0.02)
        os.kill(first.process.pid, signal.SIGKILL)
        first.process.wait(timeout=10)
        killed_after = len(matchers[0].acknowledged)
        for m in matchers:
            m.finish()
        acknowledged = [a for m in matchers for a in m.acknowledged]
        # Every pass of an enrolled person raised its alert, before and after the kill.
        assert [len(m.acknowledged) for m in matchers] == [PASSES, PASSES]
        assert killed_after < PASSES
        deadline = time.monotonic() + 30
        while set(stream.alert_ids) < set(acknowledged) and time.monotonic() < deadline:
            time.sleep(0.1)
        stream.done.set()

        # The operator on the surviving node saw every alert, each once, whichever node
        # recorded it; and the matchers kept nothing of the ledger (no database, no vault).
        assert stream.error is None, stream.error
        assert Counter(stream.alert_ids) == Counter(acknowledged)
        for m in matchers:
            assert {p.name for p in m.data_dir.iterdir()} == {"matchers"}
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
        for m in matchers:
            if m.process.poll() is None:
                m.process.kill()
        for node in nodes:
            if node.process.poll() is None:
                stop_server(node)

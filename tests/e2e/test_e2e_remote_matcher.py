"""`lfr match --api … --wait`: a remote matcher node as a service, with no database in its
environment. It waits while the deployment is only authorised, matches once an operator starts
it, stops matching on a pause and exits when the deployment ends; everything it knows comes
from the real HTTP server (real models, real faces)."""

from __future__ import annotations

import base64
import os
import subprocess
import threading
import time
from pathlib import Path
from typing import IO, Any

import pytest

from lfr_ledger.api.demo.seed import OPERATOR
from lfr_ledger.matching.engines.insightface_engine import InsightFaceEngine
from lfr_ledger.matching.engines.model_packs import SFACE_MODEL_ID
from lfr_ledger.matching.packs.samples import sample_identities
from tests.e2e.conftest import Server
from tests.e2e.flows import adopt_policy, auth, live_deployment, ok
from tests.e2e.test_e2e_multinode import FPS, LFR, PEOPLE, jpeg, recorded_passes

pytestmark = pytest.mark.timeout(240)


def test_a_waiting_remote_node_follows_its_deployment_through_the_api(
    server: Server, tmp_path: Path, sface_engine: InsightFaceEngine
) -> None:
    people = sample_identities(sface_engine)
    portraits = [people[name] for name in PEOPLE]
    source = recorded_passes(tmp_path / "camera", portraits)
    with server.client() as client:
        live = live_deployment(
            server,
            client,
            policy_version=adopt_policy(server, client),
            entries=len(PEOPLE),
            image=[base64.b64encode(jpeg(p)).decode() for p in portraits],
            model_id=SFACE_MODEL_ID,
            start=False,
        )
        operator = auth(server, OPERATOR)
        path = f"/deployments/{live.deployment_id}"

        def alerts() -> list[dict[str, Any]]:
            return list(ok(client.get(f"{path}/alerts", headers=operator))["alerts"])

        node_dir = tmp_path / "van"
        env = {k: v for k, v in os.environ.items() if not k.startswith("LFR_")}
        env["LFR_DATA_DIR"] = str(node_dir)
        env["LFR_MATCHER_TOKEN"] = server.token(
            "matcher", "matcher-van-3", deployment_id=live.deployment_id
        )
        node = subprocess.Popen(
            [LFR, "match", "--wait", "--api", server.url, "--deployment", live.deployment_id,
             "--camera", "cam-1", "--source", str(source), "--fps", str(FPS), "--realtime",
             "--cooldown", "1"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        # What the node says, read as it says it: each run ends with a "stopped (why)" line,
        # printed once everything the run found has been sent.
        said: dict[str, list[str]] = {"out": [], "err": []}

        def keep(stream: IO[str] | None, lines: list[str]) -> None:
            for line in stream or ():
                lines.append(line)

        readers = [
            threading.Thread(target=keep, args=(stream, said[name]), daemon=True)
            for name, stream in (("out", node.stdout), ("err", node.stderr))
        ]
        for reader in readers:
            reader.start()

        def runs_stopped() -> int:
            return sum(1 for line in list(said["out"]) if line.startswith("stopped ("))

        try:
            time.sleep(5)
            assert node.poll() is None, said["err"]
            assert alerts() == [], "nothing may be matched before the deployment is live"

            ok(client.post(f"{path}/start", headers=operator), 200)
            deadline = time.monotonic() + 90
            while not alerts():
                assert node.poll() is None, said["err"]
                assert time.monotonic() < deadline, "the waiting node never began"
                time.sleep(0.2)

            stopped_before = runs_stopped()
            ok(client.post(f"{path}/pause", headers=operator, json={"reason": "crowd"}), 200)
            # The node's next check of the terms stops its run.
            deadline = time.monotonic() + 60
            while runs_stopped() == stopped_before:
                assert node.poll() is None, said["err"]
                assert time.monotonic() < deadline, "the pause never stopped the node's run"
                time.sleep(0.1)
            paused = alerts()
            time.sleep(3)
            assert alerts() == paused, "no alert while paused"
            for alert in paused:
                decided = client.post(
                    f"/alerts/{alert['id']}/adjudication",
                    headers=operator,
                    json={"decision": "match", "reason": "same face on screen"},
                )
                ok(decided, 200)
            ok(client.post(f"{path}/end", headers=operator), 200)
            node.wait(timeout=60)
        finally:
            if node.poll() is None:
                node.kill()
        for reader in readers:
            reader.join(10)
        out, err = "".join(said["out"]), "".join(said["err"])
    assert node.returncode == 0, err
    assert "is over for camera cam-1" in out
    assert {a["entry_id"] for a in paused} <= set(live.entry_ids)
    # The node kept its journal and its index, and nothing of the ledger.
    assert {p.name for p in node_dir.iterdir()} == {"matchers"}

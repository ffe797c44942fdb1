"""`lfr match` as a remote matcher node against a real server: a token of the wrong role is one
line, not a traceback; the right one gives a JSON summary with `--json`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2

from lfr_ledger.matching.engines.model_packs import SFACE_MODEL_ID
from lfr_ledger.matching.packs.samples import astronaut_bgr
from tests.e2e.conftest import Server
from tests.e2e.flows import adopt_policy, live_deployment

LFR = str(Path(sys.executable).parent / "lfr")


def test_lfr_match_refuses_a_wrong_token_in_one_line_and_reports_as_json(
    server: Server, tmp_path: Path
) -> None:
    with server.client() as client:
        live = live_deployment(
            server, client, policy_version=adopt_policy(server, client), model_id=SFACE_MODEL_ID
        )
    frames = tmp_path / "frames"
    frames.mkdir()
    cv2.imwrite(str(frames / "0001.jpg"), astronaut_bgr())
    env = {k: v for k, v in os.environ.items() if not k.startswith("LFR_")}
    env["LFR_DATA_DIR"] = str(server.data_dir)
    base = [LFR, "match", "--deployment", live.deployment_id, "--camera", "cam-1"]
    base += ["--source", str(frames), "--api", server.url, "--max-frames", "1"]

    wrong = server.token("analyst", "AN-9")
    refused = subprocess.run(
        [*base, "--token", wrong], capture_output=True, text=True, env=env, timeout=180
    )
    assert refused.returncode != 0
    assert "Traceback" not in refused.stderr, refused.stderr
    assert "lfr match:" in refused.stderr and "403" in refused.stderr

    matcher = server.token("matcher", "van-9", deployment_id=live.deployment_id)
    done = subprocess.run(
        [*base, "--token", matcher, "--json"], capture_output=True, text=True, env=env, timeout=180
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["frames"], summary["faces"], summary["alerts"]) == (1, 1, [])

"""What `lfr serve` says when it starts (issue 26), from a real `lfr serve` process.

Once it listens it names where the console, the API's documents, the metrics and the probes
are, each of which answers; the scheduler's per-job lines are gone from its output. On a busy
port it prints one line before anything starts (it used to print "Application startup
complete" first, then uvicorn's error) and exits non-zero.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.e2e.conftest import free_port

LFR = str(Path(sys.executable).parent / "lfr")


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LFR_")}
    return {**env, "LFR_DATA_DIR": str(data_dir)}


def test_serve_says_where_it_serves_and_not_what_its_scheduler_does(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [LFR, "serve", "--port", str(port)],
            env=_env(tmp_path / "var"),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while "lfr serve: serving on" not in log.read_text():
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        time.sleep(0.5)  # the startup sweep and the first jobs' runs, had they anything to say
        text = log.read_text()
        base = f"http://127.0.0.1:{port}"
        urls = {
            line.split()[0]: line.split()[-1]
            for line in text.splitlines()
            if line.startswith("  ") and base in line
        }
        assert urls == {
            "console": f"{base}/console",
            "API": f"{base}/schema",
            "metrics": f"{base}/metrics",
            "health": f"{base}/health/ready)",
        }, text
        assert f"  health      {base}/health (readiness: {base}/health/ready)" in text
        with httpx.Client(timeout=30) as client:
            assert client.get(f"{base}/schema").status_code == 200
            assert client.get(f"{base}/metrics").status_code == 200
            assert client.get(f"{base}/health").json()["status"] == "ok"
            assert client.get(f"{base}/health/ready").status_code == 200
            console = client.get(
                f"{base}/console", headers={"Accept": "text/html"}, follow_redirects=True
            )
            assert console.status_code == 200 and console.url.path == "/console/sign-in"
        assert "apscheduler" not in text, text
        assert "Added job" not in text and "Running job" not in text
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_a_busy_port_is_one_line_before_anything_starts(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.monotonic()
        done = subprocess.run(
            [LFR, "serve", "--port", str(port)],
            env=_env(tmp_path / "var"),
            capture_output=True,
            text=True,
            timeout=60,
        )
        seconds = time.monotonic() - started
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        f"lfr serve: port {port} on 127.0.0.1 is in use by another program: stop it, or start "
        "with --port N"
    ]
    assert seconds < 10
    # Nothing was started, so nothing was made: no store, no keys.
    assert not (tmp_path / "var" / "events.sqlite").exists()

"""The README's walk-through and its image snippet, run as a newcomer would copy them: the shell
block against a real `lfr serve`, the Python block as it stands. Docs that cannot rot."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from tests.e2e.conftest import REPO, Server

README = (REPO / "README.md").read_text()


def block(name: str, language: str) -> str:
    found = re.search(
        rf"<!-- {name}:start -->\n```{language}\n(.*?)```\n<!-- {name}:end -->", README, re.S
    )
    assert found, f"README.md lost its {name} block"
    return found.group(1)


def test_the_walk_through_runs_against_a_real_server(server: Server) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LFR_")}
    env.update(
        LFR_DATA_DIR=str(server.data_dir),
        API=server.url,
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    )
    started = time.perf_counter()
    run = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block("walkthrough", "sh")],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    seconds = time.perf_counter() - started
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    replies = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    summary = next(r for r in replies if "totals" in r or ("alerts" in r and "arrests" in r))
    figures = summary.get("totals", summary)
    assert (figures["alerts"], figures["true_alerts"], figures["arrests"]) == (1, 1, 1)
    history = next(r for r in replies if "events" in r)
    topics = [e["topic"].rsplit(".", 1)[-1] for e in history["events"]]
    for step in ("Proposed", "Authorised", "Reviewed", "Started", "Adjudicated"):
        assert any(t.startswith(step) or t.endswith(step) for t in topics), (step, topics)
    assert replies[-1]["ok"] is True  # audit verify
    print(f"README walk-through: {seconds:.1f} s")


def test_the_analyse_snippet_finds_the_astronauts_face() -> None:
    run = subprocess.run(
        [sys.executable, "-c", block("analyse", "python")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    (line,) = run.stdout.splitlines()  # one face: hers
    assert line.endswith("(128,)") and " 0.9" in line

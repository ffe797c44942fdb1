"""Issue 26: the live path tried by hand. `lfr demo` writes its sample watchlist (CSV and
portraits) beside its street video and prints the steps; the README's "Try the live path
yourself" block, run verbatim after the walk-through against a real `lfr serve`, enrols from that
CSV and matches that video as if live, and the alerts are where the console reads them. Every
command the demo prints runs from a fresh shell, where no virtualenv is active."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import REPO, Server, start_server, stop_server
from tests.e2e.test_e2e_readme import block

pytestmark = pytest.mark.timeout(240)
LFR = Path(sys.executable).parent / "lfr"
# A new terminal: the system's PATH, no virtualenv, no LFR_* settings.
FRESH_SHELL = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """`lfr demo` run once, as `make demo` runs it from the repository root."""
    folder = tmp_path_factory.mktemp("demo") / "demo"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LFR_")}
    done = subprocess.run(
        [str(LFR.relative_to(REPO)), "demo", "--dir", str(folder)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return folder, done.stdout


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A ledger of one's own, served; the walk-through runs on it once."""
    server = start_server(tmp_path_factory.mktemp("own") / "var")
    try:
        yield server
    finally:
        stop_server(server)
    assert "Traceback" not in server.log(), server.log()


def test_the_demo_writes_its_sample_watchlist_beside_its_video(demo: tuple[Path, str]) -> None:
    folder, out = demo
    sample = folder / "sample-watchlist"
    assert sorted(p.name for p in sample.iterdir()) == [
        "LIVE-001.jpg",
        "LIVE-002.jpg",
        "watchlist.csv",
    ]
    assert (folder / "demo-street.avi").stat().st_size > 100_000
    assert f"{sample / 'watchlist.csv'}" in out and f"{folder / 'demo-street.avi'}" in out


def printed_commands(out: str) -> list[str]:
    """Every command the demo prints: in backticks, or on a line of its own, naming lfr."""
    spans = re.findall(r"`([^`]+)`", out)
    lines = [line.strip() for line in out.splitlines() if line.startswith("  .venv/bin/lfr ")]
    return [c for c in [*spans, *lines] if re.search(r"(^|[ /])lfr ", c)]


def test_every_command_the_demo_prints_runs_in_a_fresh_shell(demo: tuple[Path, str]) -> None:
    _, out = demo
    commands = printed_commands(out)
    assert len(commands) >= 8, commands
    assert not [c for c in commands if c.startswith("lfr ")], "not found without the venv"
    checked = set()
    for command in commands:
        # The command itself up to its first option, asked for its help: found, and a real
        # sub-command, from the repository root in a new terminal.
        words = command.split()
        head = words[: next((i for i, w in enumerate(words) if w[:1] in '-$"'), None)]
        if " ".join(head) in checked:
            continue
        checked.add(" ".join(head))
        done = subprocess.run(
            ["bash", "-c", " ".join([*head, "--help"])],
            cwd=REPO,
            env=FRESH_SHELL,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0 and done.stdout.startswith("usage: lfr"), (head, done.stderr)
    assert any(h.endswith("lfr serve") and "LFR_DATA_DIR=" in h for h in checked), checked
    # The link command runs for real and gives a link to the demo's console.
    (link,) = {c for c in commands if "console-link" in c}
    done = subprocess.run(
        ["bash", "-c", link], cwd=REPO, env=FRESH_SHELL, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "/console/sign-in/" in done.stdout


def test_the_readme_live_recipe_runs_after_the_walk_through(
    demo: tuple[Path, str], own_server: Server
) -> None:
    folder, _ = demo
    env = {k: v for k, v in os.environ.items() if not k.startswith("LFR_")}
    env.update(
        LFR_DATA_DIR=str(own_server.data_dir),
        API=own_server.url,
        DEMO=str(folder),
        PATH=f"{LFR.parent}{os.pathsep}{env.get('PATH', '')}",
    )
    script = block("walkthrough", "sh") + block("liverecipe", "sh")
    started = time.perf_counter()
    run = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=200,
    )
    seconds = time.perf_counter() - started
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    enrolled = re.findall(r"^line \d+: enrolled ([0-9a-f-]{36})$", run.stdout, re.M)
    assert len(enrolled) == 2, run.stdout[-3000:]
    assert "2 enrolled, 0 already enrolled (unchanged), 0 refused" in run.stdout
    alerts = json.loads(run.stdout.strip().splitlines()[-1])["alerts"]
    assert alerts, run.stdout[-3000:] + run.stderr[-3000:]
    assert {a["entry_id"] for a in alerts} <= set(enrolled)
    print(f"README walk-through and live recipe: {seconds:.1f} s")

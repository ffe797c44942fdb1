"""`lfr demo` tells the press release's story and says what it made up: the release's figures
beside the ledger's for the operation and the force's whole 2025 (equal, the live
demonstration standing apart in 2026), every invented value labelled, the equality table as an
analyst reads it; and retention as part of the story: the seed is a year old, so what `lfr
serve` would destroy at start-up is destroyed in the demo, said plainly, and subject access
still answers afterwards."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lfr_ledger.api.bootstrap import build_ledger
from lfr_ledger.api.cli.demo import _retention_story
from lfr_ledger.api.demo.seed import DemoClock, record_seed_operation
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.watchlist import WatchlistEntryTopic

LFR = str(Path(sys.executable).parent / "lfr")


@pytest.fixture(scope="module")
def demo_output(tmp_path_factory: pytest.TempPathFactory, sface_model_dir: Path) -> str:
    """`lfr demo` as `make demo` runs it, live part included, in a directory of its own."""
    data_dir = tmp_path_factory.mktemp("demo") / "demo"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LFR_")}
    env["LFR_MODEL_DIR"] = str(sface_model_dir)
    done = subprocess.run(
        [LFR, "demo", "--dir", str(data_dir)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def section(output: str, title: str) -> list[str]:
    """The lines of the output's section whose heading contains `title`."""
    lines = output.splitlines()
    (start,) = [i for i, line in enumerate(lines) if line.startswith("== ") and title in line]
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("== ")), None)
    return lines[start + 1 : end]


def test_the_demo_prints_the_release_beside_the_whole_2025_and_they_are_equal(
    demo_output: str,
) -> None:
    check = section(demo_output, "The press release beside the ledger")
    assert check[0].split() == ["release", "operation", "period", "2025", "publication", "2025"]
    rows = {" ".join(line.split()[:-4]): line.split()[-4:] for line in check[1:5]}
    assert rows == {
        "deployments": ["4"] * 4,
        "positive alerts": ["13"] * 4,
        "arrests": ["6"] * 4,
        "compliance checks": ["7"] * 4,
    }
    assert any("equal to the release's" in line and "NOT" not in line for line in check)
    assert not any("DIFFERS" in line for line in check)
    # The live part stands apart, dated 2026 on the force's own van, and says so.
    (apart,) = [line for line in check if line.strip().startswith("demonstration")]
    assert "2026" in apart and "own van" in apart and "none of the figures above" in apart
    assert "== DEMONSTRATION, not in the press release" in demo_output


def test_the_demo_labels_what_it_invented_and_shows_the_equality_table(demo_output: str) -> None:
    invented = "\n".join(section(demo_output, "What the seed invents (ILLUSTRATIVE"))
    for value in (
        "nec-neoface-v4",
        "0.64",
        "0.66 to 0.88",
        "24 entries",
        "09:00",
        "LFR-POL-2025.1",
    ):
        assert value in invented, value
    equality = section(demo_output, "Equality monitoring, as an analyst reads it")
    (sex,) = [line for line in equality if line.strip().startswith("perceived_sex")]
    # A man and three women: each cell under the policy's minimum, withheld.
    assert "female <10" in sex and "male <10" in sex
    assert "a man and three women" in " ".join(equality)


def test_the_demo_destroys_what_is_due_and_says_so(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "demo")
    clock = DemoClock()
    ledger = build_ledger(settings, clock=clock)
    try:
        record_seed_operation(ledger, clock.set)
        story = _retention_story(ledger, clock, settings)
        destroyed = ledger.recorder.select_notifications(
            0, 10_000, topics=[WatchlistEntryTopic.DESTROYED]
        )
    finally:
        ledger.close()
    assert "destroyed 4 watchlist(s) (96 entries)" in story
    assert len(destroyed) == 96  # every entry of the four 2025 watchlists, each an event
    assert "Subject access still answers for SEED-0-000: 1 watchlist entry (1 destroyed" in story
    assert "destroys nothing more today" in story

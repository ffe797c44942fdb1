"""The demo tells retention as part of its story: the seed is a year old, so what `lfr serve`
would destroy at start-up is destroyed in the demo, said plainly, and subject access still
answers afterwards."""

from __future__ import annotations

from pathlib import Path

from lfr_ledger.api.bootstrap import build_ledger
from lfr_ledger.api.cli.demo import _retention_story
from lfr_ledger.api.demo.seed import DemoClock, record_seed_operation
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.watchlist import WatchlistEntryTopic


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

"""A matcher restarted mid-deployment on a live camera: the same passer-by is still in view, but
the new run first sights them at a new moment, so alert ids alone cannot recognise the repeat.
The journal does: no second alert, and a claim written just before a crash is raised, once."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from uuid import UUID

import numpy as np
import pytest

from lfr_ledger.api.demo.sample_deployment import matcher_for
from lfr_ledger.api.demo.street.script import Walker, render_frames
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.alert import AlertClaim
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.matching.engines.insightface_engine import InsightFaceEngine
from lfr_ledger.matching.index.follower import WatchlistIndex
from lfr_ledger.matching.node.sinks import LedgerSink
from lfr_ledger.matching.pipeline.config import RunnerConfig
from lfr_ledger.matching.pipeline.journal import AlertJournal
from lfr_ledger.matching.pipeline.runner import MatchRunner
from lfr_ledger.matching.pipeline.sources import Frame
from tests.conftest import Clock
from tests.test_runner import make_runner, raised_alerts
from tests.test_tracking import (
    ENROLLED,
    FPS,
    SIZE,
    T0,
    enrolment_photo,  # noqa: F401
    live_with_one_entry,
    looks,  # noqa: F401
)

sqlite_only = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)

CONFIG = RunnerConfig(cooldown=timedelta(seconds=30), count_interval=timedelta(seconds=5))
# Walking slowly across: in view for most of six seconds, long after the first alert.
SCRIPT = (Walker(ENROLLED, 0.0, 6.0, height=170),)


def frames_from(frames: Sequence[np.ndarray], first: int) -> Iterator[Frame]:
    for n in range(first, len(frames)):
        yield Frame(frames[n], T0 + n * timedelta(seconds=1 / FPS))


def runner_until_first_alert(
    ledger: CaseLedger,
    engine: InsightFaceEngine,
    settings: Settings,
    deployment: UUID,
    journal: AlertJournal | None,
) -> tuple[MatchRunner, WatchlistIndex, list[int]]:
    """A runner that stops at the first frame after its first alert (as a crash would), its
    index, and the index of the frame it had reached."""
    reached: list[int] = []
    runner, index = make_runner(
        ledger,
        engine,
        settings,
        deployment,
        CONFIG,
        journal=journal,
        on_alert=lambda _claim: runner.stop(),
        on_frame=lambda frame: reached.append(frame_index(frame)),
    )
    return runner, index, reached


def frame_index(frame: Frame) -> int:
    return round((frame.captured_at - T0).total_seconds() * FPS)


@sqlite_only
@pytest.mark.parametrize("journal_kept", [False, True])
def test_a_restart_with_its_journal_raises_no_second_alert(
    ledger: CaseLedger,
    settings: Settings,
    clock: Clock,
    sface_engine: InsightFaceEngine,
    looks: dict[str, np.ndarray],  # noqa: F811
    enrolment_photo: bytes,  # noqa: F811
    tmp_path: Path,
    journal_kept: bool,
) -> None:
    deployment, entry = live_with_one_entry(ledger, sface_engine, enrolment_photo, clock)
    frames = render_frames(looks, SCRIPT, fps=FPS, size=SIZE)
    journal = AlertJournal(tmp_path / "cam-1.jsonl") if journal_kept else None

    first, index, reached = runner_until_first_alert(
        ledger, sface_engine, settings, deployment, journal
    )
    with index:
        assert len(first.run(frames_from(frames, 0)).alerts) == 1
    # The restart misses a few frames, then sees the same person still crossing.
    second, index = make_runner(ledger, sface_engine, settings, deployment, CONFIG, journal=journal)
    with index:
        again = second.run(frames_from(frames, reached[-1] + 5))
    alerts = raised_alerts(ledger)
    if journal_kept:
        assert again.alerts == [] and len(alerts) == 1
    else:  # what the journal is for: without it the restart alerts on the same passer-by
        assert len(again.alerts) == 1 and len(alerts) == 2
    assert {ledger.alert(a).entry_id for a in alerts} == {entry}


class DiesOnFirstAlert(LedgerSink):
    """The process dies after writing its journal line and before the ledger hears of it."""

    def raise_alert(self, claim: AlertClaim) -> UUID:
        raise KeyboardInterrupt("the matcher's host lost power")


@sqlite_only
def test_a_claim_journaled_just_before_a_crash_is_raised_once_on_restart(
    ledger: CaseLedger,
    settings: Settings,
    clock: Clock,
    sface_engine: InsightFaceEngine,
    looks: dict[str, np.ndarray],  # noqa: F811
    enrolment_photo: bytes,  # noqa: F811
    tmp_path: Path,
) -> None:
    deployment, entry = live_with_one_entry(ledger, sface_engine, enrolment_photo, clock)
    frames = render_frames(looks, SCRIPT, fps=FPS, size=SIZE)
    journal = AlertJournal(tmp_path / "cam-1.jsonl")
    dying, index = make_runner(
        ledger,
        sface_engine,
        settings,
        deployment,
        CONFIG,
        sink=DiesOnFirstAlert(ledger, matcher_for(deployment)),
        journal=journal,
    )
    with index, pytest.raises(KeyboardInterrupt):
        dying.run(frames_from(frames, 0))
    assert raised_alerts(ledger) == []
    (claimed,) = journal.claims_since(deployment, "cam-1", T0)

    restarted, index = make_runner(
        ledger, sface_engine, settings, deployment, CONFIG, journal=journal
    )
    with index:
        summary = restarted.run(frames_from(frames, 30))
    assert summary.alerts == []  # nothing new: the journaled claim was sent again instead
    assert raised_alerts(ledger) == [claimed.alert_id]
    alert = ledger.alert(claimed.alert_id)
    assert alert.entry_id == entry and alert.captured_at == claimed.captured_at
    assert ledger.reveal_face_crop(claimed.alert_id) is None  # the crop died with the process


def test_a_line_cut_short_by_a_crash_is_skipped(tmp_path: Path) -> None:
    journal = AlertJournal(tmp_path / "cam.jsonl")
    deployment = UUID(int=1)
    claim = AlertClaim(
        alert_id=UUID(int=2),
        deployment_id=deployment,
        camera_id="cam-1",
        entry_id=UUID(int=3),
        similarity=0.71,
        captured_at=T0,
        model_id="sface-2021dec",
        track_id="trk-1",
        face_crop=b"\xff\xd8\xff never written",
    )
    journal.write(claim)
    with journal.path.open("a") as stream:
        stream.write('{"alert_id": "00000000-0000-0000-0000-0000000')  # the power went
    (kept,) = journal.claims_since(deployment, "cam-1", T0)
    assert kept.alert_id == claim.alert_id and kept.face_crop is None
    assert b"\xff\xd8\xff" not in journal.path.read_bytes()  # no image is ever journaled
    assert journal.claims_since(deployment, "cam-2", T0) == []
    assert journal.claims_since(deployment, "cam-1", T0 + timedelta(seconds=1)) == []

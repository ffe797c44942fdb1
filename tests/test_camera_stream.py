"""Each camera's state pushed (issue 25): the feed behind GET /deployments/{id}/cameras/stream
sends the state on subscribing, nothing while it holds, and again when a heartbeat arrives, a
camera's bound runs out, or the deployment ends, when nothing is `overdue` any more."""

from __future__ import annotations

from lfr_ledger.api.camera_health import accept_heartbeat
from lfr_ledger.api.camera_stream import CameraFeed
from lfr_ledger.api.demo.sample_deployment import OPERATOR, matcher_for
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.commands.camera_health import HeartbeatReport
from lfr_ledger.projections.catch_up import catch_up
from tests.conftest import Clock
from tests.test_camera_health import CAMERAS, SILENT_AFTER, live


def states(feed: CameraFeed) -> dict[str, str] | None:
    sent = feed.poll()
    return None if sent is None else {c.camera_id: c.state for c in sent.cameras}


def test_the_feed_sends_the_state_when_it_changes_and_only_then(
    ledger: CaseLedger, settings: Settings, clock: Clock
) -> None:
    deployment = live(ledger, clock)
    feed = CameraFeed(ledger, settings, deployment, lambda: catch_up(settings))
    every = {c.id: "never_reported" for c in CAMERAS}
    assert states(feed) == every  # the first look always sends
    assert states(feed) is None  # nothing moved: nothing sent
    clock.advance(seconds=5)
    report = HeartbeatReport(
        deployment_id=deployment,
        camera_id="cam-1",
        frames_per_second=12.5,
        faces_seen=4,
        frames_dropped=0,
        interval_seconds=5.0,
        last_error=None,
    )
    accept_heartbeat(ledger, settings, matcher_for(deployment), report)
    assert states(feed) == {**every, "cam-1": "reporting"}
    assert states(feed) is None
    # No write at all: the clock alone turns cam-1 overdue, and the feed says so.
    clock.advance(seconds=SILENT_AFTER + 1)
    assert states(feed) == {**every, "cam-1": "overdue"}
    # An ended deployment expects nothing of its cameras: none is overdue or awaited.
    ledger.end_deployment(OPERATOR, deployment)
    assert states(feed) == {c.id: "not_live" for c in CAMERAS}
    assert states(feed) is None


def test_a_new_subscription_starts_from_the_state_as_it_is(
    ledger: CaseLedger, settings: Settings, clock: Clock
) -> None:
    """A reconnection is a new feed: it sends the whole state first, so nothing is missed."""
    deployment = live(ledger, clock)
    first = CameraFeed(ledger, settings, deployment, lambda: catch_up(settings))
    assert states(first) is not None
    clock.advance(seconds=3)
    report = HeartbeatReport(
        deployment_id=deployment,
        camera_id="cam-2",
        frames_per_second=10.0,
        faces_seen=0,
        frames_dropped=1,
        interval_seconds=3.0,
        last_error=None,
    )
    accept_heartbeat(ledger, settings, matcher_for(deployment), report)
    again = CameraFeed(ledger, settings, deployment, lambda: catch_up(settings))
    assert (states(again) or {})["cam-2"] == "reporting"

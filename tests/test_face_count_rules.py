"""Issue 23, item 6: a face count is no longer taken on trust. Its period lies inside the
deployment's live time (started to ended, or now, give or take the clock skew alerts are
allowed), compared as aware instants in UTC; it does not overlap another count of the same
camera; and the count is plausible for a camera (the policy's `max_faces_per_second` and
`max_faces_per_frame`). A refusal writes nothing; a matcher's resend of the same count is still
the same count. Old counts are facts and replay as recorded. Domain and HTTP, both backends."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import pytest
from litestar.testing import TestClient

from lfr_ledger.api.app import create_app
from lfr_ledger.api.auth import issue_token
from lfr_ledger.api.demo.sample_deployment import (
    AO,
    AUTHORITY,
    COMPILER,
    OPERATOR,
    SIGNAGE,
    matcher_for,
    proposed,
    subject,
)
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.errors import (
    ConcurrentWrite,
    InvalidInput,
    InvalidTransition,
    PolicyViolation,
)
from lfr_ledger.domain.policy import Policy
from lfr_ledger.domain.records import FaceCount, FaceCountTopic
from lfr_ledger.domain.values import Camera
from lfr_ledger.matching.node.sinks import LedgerSink
from lfr_ledger.matching.pipeline.face_counts import FaceCountPeriods
from lfr_ledger.matching.pipeline.ports import DeploymentCamera
from lfr_ledger.matching.pipeline.summary import RunSummary
from lfr_ledger.projections.catch_up import catch_up
from lfr_ledger.projections.readers.statistics import StatisticsReader
from tests.conftest import Clock
from tests.test_invariants import refused

STARTED = datetime(2025, 6, 2, 11, 0, tzinfo=UTC)  # inside the 10:00-17:00 window
SKEW = timedelta(minutes=5)


def started(ledger: CaseLedger, clock: Clock, *, start: bool = True) -> UUID:
    """A deployment with two cameras, live since 11:00 (or only reviewed)."""
    deployment = proposed(ledger, cameras=(Camera("cam-1", "mast"), Camera("cam-2", "tripod")))
    ledger.authorise_deployment(AO, deployment, authority_ref="AUTH-1", **AUTHORITY)
    ledger.enrol(COMPILER, deployment, subject(1))
    ledger.review_watchlist(AO, deployment, confirmed_count=1, not_excessive=True)
    clock.now = STARTED
    if start:
        ledger.confirm_signage(OPERATOR, deployment, **SIGNAGE)
        ledger.start_deployment(OPERATOR, deployment)
    return deployment


def count(
    ledger: CaseLedger,
    deployment: UUID,
    start: datetime,
    end: datetime,
    faces: int = 40,
    camera: str = "cam-1",
) -> UUID:
    return ledger.report_faces_counted(
        matcher_for(deployment),
        deployment,
        camera_id=camera,
        period_start=start,
        period_end=end,
        count=faces,
    )


def faces_counted(ledger: CaseLedger) -> int:
    return len(
        ledger.recorder.select_notifications(0, 10_000, topics=[FaceCountTopic.FACES_COUNTED])
    )


@pytest.mark.parametrize("bound", ["max_faces_per_second", "max_faces_per_frame"])
def test_a_policy_without_a_positive_bound_is_refused(bound: str) -> None:
    text = re.sub(rf"(?m)^{bound} = .*$", f"{bound} = 0", Policy.load().text)
    assert f"{bound} = 0" in text
    with pytest.raises(InvalidInput, match="max_faces_per"):
        Policy.parse(text)


# The probe's periods, each at 12:00 on a deployment live since 11:00.
OUTSIDE = {
    "97 years": (datetime(2000, 1, 1, tzinfo=UTC), datetime(2097, 1, 1, tzinfo=UTC)),
    "days ahead": (STARTED + timedelta(days=2), STARTED + timedelta(days=2, minutes=1)),
    "before the start": (STARTED - timedelta(hours=1), STARTED + timedelta(minutes=30)),
    # 11:00 at +23:59 is 11:01 the day before; 11:00 at -23:59 is 10:59 the day after.
    "48 hours by offsets": (
        datetime(2025, 6, 2, 11, 0, tzinfo=timezone(timedelta(hours=23, minutes=59))),
        datetime(2025, 6, 2, 11, 0, tzinfo=timezone(-timedelta(hours=23, minutes=59))),
    ),
    "after now": (STARTED + timedelta(minutes=50), STARTED + timedelta(hours=1, minutes=6)),
}


@pytest.mark.parametrize("case", sorted(OUTSIDE))
def test_a_period_outside_the_live_time_is_refused(
    ledger: CaseLedger, clock: Clock, case: str
) -> None:
    deployment = started(ledger, clock)
    clock.now = STARTED + timedelta(hours=1)
    start, end = OUTSIDE[case]
    with refused(ledger, InvalidTransition, match="live time"):
        count(ledger, deployment, start, end)


def test_a_deployment_that_never_went_live_counts_no_faces(
    ledger: CaseLedger, clock: Clock
) -> None:
    deployment = started(ledger, clock, start=False)
    with refused(ledger, InvalidTransition, match="not gone live"):
        count(ledger, deployment, STARTED - timedelta(minutes=1), STARTED)


def test_the_clock_skew_alerts_are_allowed_applies_at_both_ends(
    ledger: CaseLedger, clock: Clock
) -> None:
    deployment = started(ledger, clock)
    clock.now = STARTED + timedelta(minutes=10)
    with refused(ledger, InvalidTransition, match="live time"):
        count(ledger, deployment, STARTED - SKEW - timedelta(seconds=1), STARTED)
    count(ledger, deployment, STARTED - SKEW, STARTED)
    with refused(ledger, InvalidTransition, match="live time"):
        count(ledger, deployment, STARTED, clock.now + SKEW + timedelta(seconds=1))
    count(ledger, deployment, STARTED, clock.now + SKEW)


def test_counts_after_the_end_must_lie_before_it(ledger: CaseLedger, clock: Clock) -> None:
    deployment = started(ledger, clock)
    clock.now = STARTED + timedelta(hours=1)
    ledger.end_deployment(OPERATOR, deployment)
    ended = clock.now
    clock.now = ended + timedelta(hours=2)  # a matcher that reports late reports what it saw
    count(ledger, deployment, ended - timedelta(minutes=1), ended)
    with refused(ledger, InvalidTransition, match="live time"):
        count(ledger, deployment, ended + SKEW, ended + SKEW + timedelta(minutes=1))


def test_counts_of_one_camera_do_not_overlap(ledger: CaseLedger, clock: Clock) -> None:
    deployment = started(ledger, clock)
    clock.now = STARTED + timedelta(minutes=30)
    minute = timedelta(minutes=1)
    count(ledger, deployment, STARTED, STARTED + 5 * minute)
    with refused(ledger, ConcurrentWrite, match="overlap"):
        count(ledger, deployment, STARTED + 4 * minute, STARTED + 9 * minute)
    with refused(ledger, ConcurrentWrite, match="overlap"):
        count(ledger, deployment, STARTED - minute, STARTED + minute)
    # Another camera counts its own faces over the same time.
    count(ledger, deployment, STARTED + 4 * minute, STARTED + 9 * minute, camera="cam-2")
    # Periods that touch do not overlap.
    count(ledger, deployment, STARTED + 5 * minute, STARTED + 10 * minute)
    # A camera's counts follow one another: one wholly before the last is refused too.
    with refused(ledger, ConcurrentWrite, match="overlap"):
        count(ledger, deployment, STARTED - 2 * minute, STARTED - minute)


def test_a_count_must_be_plausible_for_a_camera(ledger: CaseLedger, clock: Clock) -> None:
    deployment = started(ledger, clock)
    clock.now = STARTED + timedelta(minutes=30)
    period = timedelta(minutes=10)
    with refused(ledger, PolicyViolation, match="max_faces_per_second"):
        count(ledger, deployment, STARTED, STARTED + period, faces=1_000_001_700)
    policy = ledger.policy
    most = math.floor(period.total_seconds() * policy.max_faces_per_second) + (
        policy.max_faces_per_frame
    )
    with refused(ledger, PolicyViolation, match="max_faces_per_second"):
        count(ledger, deployment, STARTED, STARTED + period, faces=most + 1)
    count(ledger, deployment, STARTED, STARTED + period, faces=most)
    # A partial period of one frame may hold one frame's faces.
    tick = timedelta(milliseconds=100)
    count(ledger, deployment, STARTED + period, STARTED + period + tick, faces=12)


def test_a_resend_of_the_same_count_is_the_same_count(ledger: CaseLedger, clock: Clock) -> None:
    deployment = started(ledger, clock)
    clock.now = STARTED + timedelta(minutes=30)
    minute = timedelta(minutes=1)
    first = count(ledger, deployment, STARTED, STARTED + minute, faces=7)
    assert count(ledger, deployment, STARTED, STARTED + minute, faces=7) == first
    count(ledger, deployment, STARTED + minute, STARTED + 2 * minute)
    # A resend after later counts, even after the end, is recognised as the same count.
    ledger.end_deployment(OPERATOR, deployment)
    clock.advance(days=1)
    assert count(ledger, deployment, STARTED, STARTED + minute, faces=7) == first
    with refused(ledger, ConcurrentWrite, match="already reported as 7"):
        count(ledger, deployment, STARTED, STARTED + minute, faces=8)
    assert faces_counted(ledger) == 2


def test_old_counts_are_facts_and_replay_as_recorded(
    ledger: CaseLedger, settings: Settings, clock: Clock
) -> None:
    """A count an earlier release accepted on trust (the probe's 97-year period of a billion
    faces) still loads and is projected as recorded: the rules apply to new commands."""
    deployment = started(ledger, clock)
    old = FaceCount(
        id=FaceCount.id_for(deployment, "cam-1", datetime(2000, 1, 1, tzinfo=UTC)),
        deployment_id=deployment,
        camera_id="cam-1",
        period_start=datetime(2000, 1, 1, tzinfo=UTC),
        period_end=datetime(2097, 1, 1, tzinfo=UTC),
        count=1_000_001_700,
        actor=matcher_for(deployment),
        occurred_at=STARTED,
    )
    ledger.save(old)
    clock.now = STARTED + timedelta(minutes=2)
    count(ledger, deployment, STARTED, STARTED + timedelta(minutes=1), faces=3)
    assert ledger.repository.get(old.id).count == 1_000_001_700
    catch_up(settings)
    summary = StatisticsReader(settings).deployment_summary(deployment)
    assert summary is not None and summary.totals.faces_processed == 1_000_001_703


def test_a_matcher_whose_count_is_refused_notes_it_and_goes_on_counting(
    ledger: CaseLedger, clock: Clock
) -> None:
    """A camera whose clock runs 20 minutes slow stamps frames before the deployment went live:
    its count is refused, and the runner notes it (as it notes a refused alert) instead of
    dying, so matching goes on; the next period, stamped right, is recorded."""
    deployment = started(ledger, clock)
    clock.now = STARTED + timedelta(minutes=30)
    errors: list[str] = []
    summary = RunSummary()
    periods = FaceCountPeriods(
        DeploymentCamera(deployment, "cam-1"),
        timedelta(minutes=1),
        LedgerSink(ledger, matcher_for(deployment)),
        summary,
        errors.append,
    )
    slow = STARTED - timedelta(minutes=20)
    periods.count(slow, 3)
    periods.count(slow + timedelta(seconds=30), 2)
    periods.count(STARTED + timedelta(minutes=1), 4)  # closes the slow period; it is refused
    [error] = errors
    assert error.startswith("faces count refused: InvalidTransition: faces counted from")
    periods.flush()
    assert [(c.period_start, c.count) for c in summary.counts] == [
        (STARTED + timedelta(minutes=1), 4)
    ]
    assert faces_counted(ledger) == 1


# --- over HTTP --------------------------------------------------------------------------------


@pytest.fixture
def client(settings: Settings, ledger: CaseLedger) -> Iterator[TestClient]:
    with TestClient(create_app(settings, ledger=ledger)) as test_client:
        yield test_client


def _post(
    client: TestClient,
    settings: Settings,
    deployment: UUID,
    body: dict[str, Any],
    key: str | None = None,
) -> Any:
    token = issue_token(settings, role="matcher", sub="matcher-1", deployment_id=str(deployment))
    headers = {"Authorization": f"Bearer {token}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post(f"/deployments/{deployment}/faces-counted", json=body, headers=headers)


def test_over_http_each_rule_is_a_problem_that_names_it_and_writes_nothing(
    client: TestClient,
    settings: Settings,
    ledger: CaseLedger,
    clock: Clock,
) -> None:
    deployment = started(ledger, clock)
    clock.now = STARTED + timedelta(hours=1)
    body = {"camera_id": "cam-1", "period_start": "2025-06-02T11:00:00Z", "count": 40}
    first = _post(client, settings, deployment, {**body, "period_end": "2025-06-02T11:10:00Z"})
    assert first.status_code == 201, first.text
    head = ledger.recorder.max_notification_id()
    refusals = {
        # (period_start, period_end, count): (status, problem kind, words of the rule)
        ("2000-01-01T00:00:00Z", "2097-01-01T00:00:00Z", 40): (409, "invalid-transition", "live"),
        ("2025-06-04T11:00:00Z", "2025-06-04T11:01:00Z", 40): (409, "invalid-transition", "live"),
        ("2025-06-02T11:00:00+23:59", "2025-06-02T11:00:00-23:59", 40): (
            409,
            "invalid-transition",
            "live time",
        ),
        ("2025-06-02T11:05:00Z", "2025-06-02T11:15:00Z", 40): (409, "conflict", "overlap"),
        ("2025-06-02T11:10:00Z", "2025-06-02T11:40:00Z", 1_000_000_000): (
            422,
            "policy-violation",
            "max_faces_per_second",
        ),
    }
    for (start, end, faces), (status, kind, words) in refusals.items():
        answer = _post(
            client,
            settings,
            deployment,
            {"camera_id": "cam-1", "period_start": start, "period_end": end, "count": faces},
        )
        assert answer.status_code == status, (start, answer.text)
        problem = answer.json()
        assert problem["type"] == f"urn:lfr-ledger:problem:{kind}", problem
        assert words in problem["detail"], problem
    assert ledger.recorder.max_notification_id() == head, "a refusal writes nothing"
    # The same count sent again, with or without a key, is the same count.
    again = _post(client, settings, deployment, {**body, "period_end": "2025-06-02T11:10:00Z"})
    assert (again.status_code, again.json()["id"]) == (201, first.json()["id"])
    later = {**body, "period_start": "2025-06-02T11:10:00Z", "period_end": "2025-06-02T11:20:00Z"}
    sent = _post(client, settings, deployment, later, key="count-2")
    resent = _post(client, settings, deployment, later, key="count-2")
    assert sent.status_code == resent.status_code == 201, resent.text
    assert sent.json()["id"] == resent.json()["id"]
    assert faces_counted(ledger) == 2

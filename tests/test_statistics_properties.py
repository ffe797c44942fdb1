"""Property: whatever valid commands are given, in whatever order, with the views caught up at
any points in between, every projected count equals the count taken straight from the log."""

from __future__ import annotations

import contextlib
import math
import statistics
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from lfr_ledger.api.demo.sample_deployment import (
    AUTHORITY,
    SIGNAGE,
    register_documents,
    register_evaluation,
    train,
)
from lfr_ledger.api.demo.seed import (
    ADMIN,
    AUTHORISING_OFFICER,
    OFFICER,
    OPERATOR,
    PLANNER,
    WATCHLIST_MANAGER,
    seed_subject,
)
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.actors import Actor, Role
from lfr_ledger.domain.alert import AlertClaim, Outcome
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.errors import DomainError
from lfr_ledger.domain.values import (
    Camera,
    ComplianceResult,
    Confirmation,
    Decision,
    DeploymentPlan,
    Location,
    OutcomeType,
    PublicNotice,
)
from lfr_ledger.projections.catch_up import catch_up
from lfr_ledger.projections.readers.statistics import StatisticsReader
from lfr_ledger.projections.statistics import COUNTS
from lfr_ledger.projections.store import close_stores
from tests.conftest import Clock

MODEL = "nec-neoface-v4"
CAMERAS = ("cam-a", "cam-b")
CATEGORIES = ("wanted_by_courts", "subject_to_court_order", "suspected_offender")
ENTRIES = 4
THRESHOLDS = (0.6, 0.62, 0.66, 0.7)
OUTCOMES = (
    Outcome(OutcomeType.ARREST, offences=("theft",), reference="C-1"),
    Outcome(OutcomeType.COMPLIANCE_CHECK, conditions=("curfew",), result=ComplianceResult.COMPLIED),
    Outcome(OutcomeType.COMPLIANCE_CHECK, conditions=("curfew",), result=ComplianceResult.BREACH),
    Outcome(OutcomeType.WORDS_OF_ADVICE),
    Outcome(OutcomeType.NO_FURTHER_ACTION),
    Outcome(OutcomeType.NOT_LOCATED),
    Outcome(OutcomeType.OTHER, note="referred to partner agency"),
    # Issue 24: a charge and a bail follow an arrest or a voluntary attendance (else refused).
    Outcome(OutcomeType.CHARGE, offences=("theft",)),
    Outcome(OutcomeType.BAIL, conditions=("curfew",)),
    Outcome(OutcomeType.VOLUNTARY_ATTENDANCE),
    Outcome(OutcomeType.SAFEGUARDING, note="referred to the street triage team"),
)
CONFIRMATIONS = tuple(Confirmation)
DECISIONS = tuple(Decision)

index = st.integers(min_value=0, max_value=50)
# An alert taken as far as the domain allows: raise, adjudicate, engage, outcomes, close.
story = st.tuples(
    st.just("story"),
    index,
    index,
    index,
    st.floats(0, 1),
    st.integers(0, 600),
    st.sampled_from(DECISIONS),
    st.integers(1, 300),
    st.booleans(),
    st.sampled_from(CONFIRMATIONS),
    st.lists(st.sampled_from(OUTCOMES), max_size=2),
    st.booleans(),
)
other_commands = st.one_of(
    st.tuples(st.just("raise"), index, index, index, st.floats(0, 1), st.integers(0, 600)),
    st.tuples(st.just("adjudicate"), index, st.sampled_from(DECISIONS), st.integers(1, 300)),
    st.tuples(st.just("engage"), index, st.booleans(), st.sampled_from(CONFIRMATIONS)),
    st.tuples(st.just("outcome"), index, st.sampled_from(OUTCOMES)),
    st.tuples(st.just("close"), index),
    st.tuples(st.just("faces"), index, index, st.integers(0, 5000)),
    st.tuples(st.just("withdraw"), index, index),
    st.tuples(st.just("threshold"), index, st.sampled_from(THRESHOLDS)),
    st.tuples(st.just("pause"), index),
    st.tuples(st.just("resume"), index),
    st.tuples(st.just("end"), index),
    st.tuples(st.just("start"), index),
    st.tuples(st.just("catch_up")),
    st.tuples(st.just("later"), st.integers(1, 24 * 60)),
)
# Every alert story is followed by up to two other commands, so each example has alerts in
# many states between deployments being paused, ended, re-thresholded and counted.
scripts = st.lists(
    st.tuples(story, st.lists(other_commands, max_size=2)), min_size=1, max_size=12
).map(lambda steps: [c for first, then in steps for c in (first, *then)])


@pytest.fixture(autouse=True)
def _close_projection_connections() -> Iterator[None]:
    yield
    close_stores()


@dataclass
class Example:
    """One operation of two deployments (the second waits for a command to start it)."""

    operation_id: UUID
    deployments: list[UUID]
    entries: dict[UUID, list[UUID]]
    matchers: dict[UUID, Actor]
    alerts: list[UUID] = field(default_factory=list)


def set_up(ledger: CaseLedger, clock: Clock, number: int) -> Example:
    ledger.adopt_policy(ADMIN)
    register_documents(ledger)
    train(ledger, OPERATOR.id, "adjudicate")
    train(ledger, OFFICER.id, "engage")
    operation_id = ledger.open_operation(
        PLANNER, name=f"Property {number}", force="demo", purpose="P"
    )
    now = clock()
    example = Example(operation_id, [], {}, {})
    for d in range(2):
        deployment_id = ledger.propose_deployment(
            PLANNER,
            DeploymentPlan(
                operation_id=str(operation_id),
                location=Location(f"Street {d}", f"Town {d}", "town_centre"),
                starts_at=now - timedelta(hours=1),
                ends_at=now + timedelta(days=60),
                purpose="Locate wanted people",
                intelligence_case="IC",
                watchlist_categories=CATEGORIES,
                cameras=tuple(Camera(c, f"camera {c}") for c in CAMERAS),
                controlling_force="demo",
                equipment_owner_force="demo",
                dpia_ref="DPIA-1",
                eia_ref="EIA-1",
                policy_ref=ledger.policy.version,
                public_notice=PublicNotice("signage", now - timedelta(days=2)),
                model_id=MODEL,
            ),
            threshold=0.64,
        )
        ledger.authorise_deployment(
            AUTHORISING_OFFICER, deployment_id, authority_ref="A", **AUTHORITY
        )
        entries = [
            ledger.enrol(WATCHLIST_MANAGER, deployment_id, seed_subject(d, i))
            for i in range(ENTRIES)
        ]
        ledger.review_watchlist(
            AUTHORISING_OFFICER, deployment_id, confirmed_count=ENTRIES, not_excessive=True
        )
        if d == 0:
            ledger.confirm_signage(OPERATOR, deployment_id, **SIGNAGE)
            ledger.start_deployment(OPERATOR, deployment_id)
        example.deployments.append(deployment_id)
        example.entries[deployment_id] = entries
        example.matchers[deployment_id] = Actor(
            f"matcher-{d}", Role.MATCHER, deployment_id=str(deployment_id)
        )
    return example


def run(ledger: CaseLedger, clock: Clock, settings: Settings, ex: Example, command: Any) -> None:
    kind, *args = command
    pick = lambda items, i: items[i % len(items)]  # noqa: E731
    clock.advance(seconds=7)
    if kind == "catch_up":
        catch_up(settings, batch_size=13)
    elif kind == "later":
        clock.advance(minutes=args[0])
    elif kind == "raise":
        d = pick(ex.deployments, args[0])
        threshold = ledger.deployment(d).threshold
        alert_id = ledger.raise_alert(
            ex.matchers[d],
            AlertClaim(
                d,
                camera_id=pick(CAMERAS, args[1]),
                entry_id=pick(ex.entries[d], args[2]),
                similarity=round(threshold + args[3] * (1 - threshold), 3),
                captured_at=clock() - timedelta(seconds=args[4]),
                model_id=MODEL,
            ),
        )
        ex.alerts.append(alert_id)
    elif kind == "story":
        raised, rest = ("raise", *args[:5]), args[5:]
        run(ledger, clock, settings, ex, raised)
        decision, wait, engaged, confirmed, outcomes, close = rest
        alert = len(ex.alerts) - 1
        steps = [("adjudicate", alert, decision, wait), ("engage", alert, engaged, confirmed)]
        steps += [("outcome", alert, o) for o in outcomes]
        steps += [("close", alert)] if close else []
        for step in steps:
            with contextlib.suppress(DomainError):
                run(ledger, clock, settings, ex, step)
    elif kind == "faces":
        d = pick(ex.deployments, args[0])
        ledger.report_faces_counted(
            ex.matchers[d],
            d,
            camera_id=pick(CAMERAS, args[1]),
            period_start=clock() - timedelta(minutes=5),
            period_end=clock(),
            count=args[2],
        )
    elif kind == "withdraw":
        d = pick(ex.deployments, args[0])
        ledger.withdraw_entry(WATCHLIST_MANAGER, pick(ex.entries[d], args[1]), "no longer wanted")
    elif kind == "threshold":
        d = pick(ex.deployments, args[0])
        ledger.change_threshold(
            AUTHORISING_OFFICER,
            d,
            args[1],
            "review of false alerts",
            evaluation_ref=register_evaluation(ledger),
        )
    elif kind in ("pause", "resume", "end", "start"):
        d = pick(ex.deployments, args[0])
        if kind == "start":  # on the day, before going live, the operator confirms the signs
            ledger.confirm_signage(OPERATOR, d, **SIGNAGE)
        action = {
            "pause": ledger.pause_deployment,
            "resume": ledger.resume_deployment,
            "end": ledger.end_deployment,
            "start": ledger.start_deployment,
        }[kind]
        action(OPERATOR, d)
    elif not ex.alerts:
        return
    elif kind == "adjudicate":
        clock.advance(seconds=args[2])
        factors = ("environment.lighting",) if args[1] == Decision.NO_MATCH else ()
        ledger.adjudicate(OPERATOR, pick(ex.alerts, args[0]), args[1], "checked on screen", factors)
    elif kind == "engage":
        # An engagement is timed, lasting 60 to 180 s by the alert's index; a refused one is not.
        lasted = timedelta(seconds=60 + 30 * (args[0] % 5))
        times = {"engaged_from": clock() - lasted, "engaged_until": clock()} if args[1] else {}
        ledger.record_engagement(
            OFFICER,
            pick(ex.alerts, args[0]),
            engaged=args[1],
            confirmed=args[2],
            false_alert_factors=("subject",) if args[2] == Confirmation.NOT_CONFIRMED else (),
            **times,
        )
    elif kind == "outcome":
        ledger.record_outcome(OFFICER, pick(ex.alerts, args[0]), args[1])
    elif kind == "close":
        ledger.close_alert(OFFICER, pick(ex.alerts, args[0]))


# --- the same numbers, counted straight from the event log -----------------------------------


def _day(moment: datetime) -> str:
    return moment.astimezone(UTC).date().isoformat()


def counted_from_log(ledger: CaseLedger, ex: Example) -> dict[str, Any]:
    deployments = {str(d) for d in ex.deployments}
    alerts: dict[str, dict[str, Any]] = {}
    faces: list[tuple[str, str, str, int]] = []
    started: set[str] = set()
    entries: dict[str, dict[str, Any]] = {}
    position = 0
    while True:
        page = ledger.recorder.select_notifications(position, 500, inclusive_of_start=False)
        if not page:
            break
        position = page[-1].id
        for n in page:
            e: Any = ledger.mapper.to_domain_event(n)
            key = str(e.originator_id)
            if n.topic == "lfr/Deployment.Started":
                started.add(key)
            elif n.topic == "lfr/WatchlistEntry.Enrolled" and str(e.deployment_id) in deployments:
                entries[key] = {"deployment": str(e.deployment_id), "cat": e.category, "in": True}
            elif n.topic == "lfr/WatchlistEntry.Withdrawn" and key in entries:
                if entries[key]["deployment"] not in started:
                    entries[key]["in"] = False
            elif n.topic == "lfr/FaceCount.FacesCounted" and str(e.deployment_id) in deployments:
                faces.append((str(e.deployment_id), e.camera_id, _day(e.period_start), e.count))
            elif n.topic == "lfr/Alert.Raised" and str(e.deployment_id) in deployments:
                alerts[key] = {
                    "deployment": str(e.deployment_id),
                    "camera": e.camera_id,
                    "cat": e.category,
                    "day": _day(e.captured_at),
                    "raised": e.occurred_at,
                    "decision": None,
                    "wait": None,
                    "engaged": False,
                    "confirmed": None,
                    "outcomes": [],
                    "factors": (),
                    "refuted_factors": (),
                    "engaged_ms": None,
                }
            elif key in alerts:
                a = alerts[key]
                if n.topic == "lfr/Alert.Adjudicated":
                    a["decision"] = e.decision
                    a["wait"] = (e.occurred_at - a["raised"]) / timedelta(milliseconds=1)
                    a["factors"] = tuple(e.false_alert_factors)
                elif n.topic == "lfr/Alert.EngagementRecorded":
                    a["engaged"], a["confirmed"] = e.engaged, e.confirmed
                    a["refuted_factors"] = tuple(e.false_alert_factors)
                    if e.engaged_from is not None:
                        a["engaged_ms"] = (e.engaged_until - e.engaged_from) / timedelta(
                            milliseconds=1
                        )
                elif n.topic == "lfr/Alert.OutcomeRecorded":
                    a["outcomes"].append(e.outcome)
    return {"alerts": list(alerts.values()), "faces": faces, "entries": list(entries.values())}


def by_factor(named: list[tuple[str, ...]]) -> list[dict[str, Any]]:
    """Each false alert once under each factor and each "factor.reason" it names."""
    counts: dict[str, int] = {}
    for codes in named:
        keys = {c.partition(".")[0] for c in codes} | {c for c in codes if "." in c}
        for key in keys or {"not_recorded"}:
            counts[key] = counts.get(key, 0) + 1
    return [{"factor": k, "alerts": v} for k, v in sorted(counts.items())]


def expected_counts(alerts: list[dict[str, Any]], faces: list[int] | None) -> dict[str, Any]:
    outcomes = [o for a in alerts for o in a["outcomes"]]
    compliance = [o for o in outcomes if o.type == OutcomeType.COMPLIANCE_CHECK]
    waits = [a["wait"] for a in alerts if a["wait"] is not None]
    lasted = sorted(a["engaged_ms"] for a in alerts if a["engaged_ms"] is not None)
    kinds = {
        kind: sum(1 for o in outcomes if o.type == kind)
        for kind in (
            OutcomeType.CHARGE,
            OutcomeType.BAIL,
            OutcomeType.VOLUNTARY_ATTENDANCE,
            OutcomeType.SAFEGUARDING,
        )
    }
    return {
        "faces_processed": None if faces is None else sum(faces),
        "alerts": len(alerts),
        "adjudicated": sum(1 for a in alerts if a["decision"] is not None),
        "true_alerts": sum(1 for a in alerts if a["decision"] == "match"),
        "false_alerts": sum(1 for a in alerts if a["decision"] == "no_match"),
        "inconclusive": sum(1 for a in alerts if a["decision"] == "inconclusive"),
        "unadjudicated": sum(1 for a in alerts if a["decision"] is None),
        "engagements": sum(1 for a in alerts if a["engaged"]),
        "confirmed_true": sum(1 for a in alerts if a["confirmed"] == "true"),
        "confirmed_false": sum(1 for a in alerts if a["confirmed"] == "false"),
        "arrests": sum(1 for o in outcomes if o.type == OutcomeType.ARREST),
        "compliance_checks": len(compliance),
        "compliance_complied": sum(1 for o in compliance if o.result == "complied"),
        "compliance_breach": sum(1 for o in compliance if o.result == "breach"),
        "other_outcomes": len(outcomes)
        - len(compliance)
        - sum(1 for o in outcomes if o.type == OutcomeType.ARREST)
        - sum(kinds.values()),
        "charges": kinds[OutcomeType.CHARGE],
        "bails": kinds[OutcomeType.BAIL],
        "voluntary_attendances": kinds[OutcomeType.VOLUNTARY_ATTENDANCE],
        "safeguarding": kinds[OutcomeType.SAFEGUARDING],
        "timed_engagements": len(lasted),
        "median_adjudication_seconds": statistics.median(waits) / 1000 if waits else None,
        "median_engagement_seconds": statistics.median(lasted) / 1000 if lasted else None,
        # Nearest rank: the smallest duration at least 90% of them did not exceed.
        "p90_engagement_seconds": lasted[math.ceil(0.9 * len(lasted)) - 1] / 1000
        if lasted
        else None,
        "false_alerts_by_factor": by_factor(
            [a["factors"] for a in alerts if a["decision"] == "no_match"]
        ),
        "confirmed_false_by_factor": by_factor(
            [a["refuted_factors"] for a in alerts if a["confirmed"] == "false"]
        ),
    }


def projected(tally: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "faces_processed",
        *COUNTS,
        "median_adjudication_seconds",
        "median_engagement_seconds",
        "p90_engagement_seconds",
        "false_alerts_by_factor",
        "confirmed_false_by_factor",
    )
    return {k: tally[k] for k in keys}


def check(reader: StatisticsReader, ledger: CaseLedger, ex: Example) -> None:
    log = counted_from_log(ledger, ex)
    operation = msgspec.to_builtins(reader.operation_summary(ex.operation_id))
    assert operation is not None
    assert projected(operation["totals"]) == expected_counts(
        log["alerts"], [f[3] for f in log["faces"]]
    )
    assert operation["watchlist_size"] == sum(1 for e in log["entries"] if e["in"])
    for d in map(str, ex.deployments):
        summary = msgspec.to_builtins(reader.deployment_summary(UUID(d)))
        assert summary is not None
        mine = [a for a in log["alerts"] if a["deployment"] == d]
        my_faces = [f for f in log["faces"] if f[0] == d]
        assert projected(summary["totals"]) == expected_counts(mine, [f[3] for f in my_faces])
        assert summary["watchlist_size"] == sum(
            1 for e in log["entries"] if e["deployment"] == d and e["in"]
        )
        for row in summary["by_camera"]:
            cam = row["camera_id"]
            assert projected(row) == expected_counts(
                [a for a in mine if a["camera"] == cam], [f[3] for f in my_faces if f[1] == cam]
            )
        for row in summary["by_category"]:
            cat = row["category"]
            assert projected(row) == expected_counts([a for a in mine if a["cat"] == cat], None)
            assert row["watchlist_size"] == sum(
                1 for e in log["entries"] if e["deployment"] == d and e["cat"] == cat and e["in"]
            )
        days = {a["day"] for a in mine} | {f[2] for f in my_faces}
        assert [r["day"] for r in summary["by_day"]] == sorted(days)
        for row in summary["by_day"]:
            day = row["day"]
            assert projected(row) == expected_counts(
                [a for a in mine if a["day"] == day], [f[3] for f in my_faces if f[2] == day]
            )
        alerts = msgspec.to_builtins(reader.deployment_alerts(UUID(d)))
        assert sorted(a["decision"] or "" for a in alerts) == sorted(
            a["decision"] or "" for a in mine
        )
        sensitivity = msgspec.to_builtins(reader.threshold_sensitivity(UUID(d)))
        assert sensitivity is not None
        assert sensitivity["rows"][0]["alerts"] == len(mine)
        last = sensitivity["rows"][-1]
        # The table stops once no alert remains, or at 1.0, where a perfect score still alerts.
        assert last["alerts"] == sum(1 for a in alerts if a["similarity"] >= last["threshold"])
        assert last["alerts"] == 0 or last["threshold"] == 1.0


@hypothesis_settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(script=scripts)
def test_projected_counts_equal_counts_from_the_event_log(
    ledger: CaseLedger, clock: Clock, settings: Settings, script: list[Any]
) -> None:
    # The ledger outlives the examples, so each example has its own operation and clock day.
    clock.advance(days=3)
    ex = set_up(ledger, clock, number=len(script))
    for command in script:
        # A command the domain refuses records nothing, as a real user would see.
        with contextlib.suppress(DomainError):
            run(ledger, clock, settings, ex, command)
    catch_up(settings)
    check(StatisticsReader(settings), ledger, ex)

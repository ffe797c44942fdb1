"""Issue 24, the start gates: the public notice comes at least the policy's lead time before the
window; the operator confirms the signs on the day before going live; each active watchlist
entry was enrolled or re-confirmed close enough to go-live. Each rule refuses with what to do,
and a refused command writes nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from litestar.testing import TestClient

from lfr_ledger.api.app import create_app
from lfr_ledger.api.auth import issue_token
from lfr_ledger.api.bootstrap import build_ledger
from lfr_ledger.api.cli import main as lfr
from lfr_ledger.api.demo.sample_deployment import (
    ADMIN,
    AO,
    AUTHORITY,
    COMPILER,
    OFFICER,
    OPERATOR,
    PLANNER,
    SIGNAGE,
    WINDOW_START,
    plan,
    proposed,
    reviewed,
    subject,
)
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.actors import Actor, Role
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.errors import InvalidInput, InvalidTransition, NotPermitted, PolicyViolation
from lfr_ledger.domain.policy import Policy
from lfr_ledger.domain.sealing import is_sealed_text
from lfr_ledger.domain.values import DeploymentStatus, PublicNotice
from lfr_ledger.domain.watchlist import WatchlistEntryTopic
from tests.conftest import Clock
from tests.test_invariants import event_count, refused
from tests.test_lawful_authority import cli_env

SQLITE = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
CHECKED = "Warrants checked on the PNC at 07:30: all still outstanding"


def _with(ledger: CaseLedger, **changes: object) -> Policy:
    """The default policy with some keys of its TOML replaced, under a version of its own."""
    text = ledger.policy.text
    for key, value in {"version": '"TEST-GATES-1"', **changes}.items():
        old = next(line for line in text.splitlines() if line.startswith(f"{key} ="))
        text = text.replace(old, f"{key} = {value}")
    return Policy.parse(text)


def _unconfirmed(ledger: CaseLedger, entries: int = 2, **changes: object) -> UUID:
    """Authorised, watchlist compiled and reviewed: everything but the signs."""
    deployment = proposed(ledger, **changes)
    ledger.authorise_deployment(AO, deployment, authority_ref="AUTH-1", **AUTHORITY)
    for i in range(entries):
        ledger.enrol(COMPILER, deployment, subject(i))
    ledger.review_watchlist(AO, deployment, confirmed_count=entries, not_excessive=True)
    return deployment


def _operation(ledger: CaseLedger) -> UUID:
    """An open operation of the sample's force (the sample proposes one deployment in it)."""
    return UUID(ledger.deployment(proposed(ledger)).plan.operation_id)


# --- the notice's lead time -------------------------------------------------------------------


@SQLITE
def test_a_notice_shorter_than_the_policys_lead_time_is_refused(ledger: CaseLedger) -> None:
    assert ledger.policy.minimum_notice_hours == 24
    operation = _operation(ledger)
    version = ledger.policy.version
    short = PublicNotice("force website", WINDOW_START - timedelta(hours=23, minutes=59))
    with refused(ledger, PolicyViolation, "24.0 h|at least 24 h notice: issue it by 2025-06-01T10"):
        ledger.propose_deployment(PLANNER, plan(operation, version, public_notice=short))
    on_time = PublicNotice("force website", WINDOW_START - timedelta(hours=24))
    ledger.propose_deployment(PLANNER, plan(operation, version, public_notice=on_time))
    # Short notice with its reason recorded, or no notice with an exemption: the exemption path.
    urgent = PublicNotice("press release", short.issued_at, exemption="missing child at risk")
    ledger.propose_deployment(PLANNER, plan(operation, version, public_notice=urgent))
    none = PublicNotice("none", None, exemption="covert: notice would defeat the purpose")
    ledger.propose_deployment(PLANNER, plan(operation, version, public_notice=none))


@SQLITE
def test_a_force_may_set_its_own_lead_time(ledger: CaseLedger) -> None:
    ledger.adopt_policy(ADMIN, _with(ledger, minimum_notice_hours=0))
    operation = _operation(ledger)
    same_hour = PublicNotice("force website", WINDOW_START - timedelta(minutes=5))
    ledger.propose_deployment(PLANNER, plan(operation, "TEST-GATES-1", public_notice=same_hour))
    with pytest.raises(InvalidInput, match="must not be negative"):
        _with(ledger, minimum_notice_hours=-1)


# --- the signs on the day ---------------------------------------------------------------------


@SQLITE
def test_the_start_needs_the_signs_confirmed_that_day(ledger: CaseLedger, clock: Clock) -> None:
    deployment = _unconfirmed(ledger)
    clock.now = WINDOW_START + timedelta(minutes=5)
    with refused(ledger, PolicyViolation, "signage has not been confirmed today.*/signage"):
        ledger.start_deployment(OPERATOR, deployment)
    with refused(ledger, NotPermitted):
        ledger.confirm_signage(OFFICER, deployment, **SIGNAGE)
    with refused(ledger, InvalidInput, "states locations"):
        ledger.confirm_signage(OPERATOR, deployment, signs="two A-boards", locations=" ")
    ledger.confirm_signage(OPERATOR, deployment, **SIGNAGE)
    ledger.start_deployment(OPERATOR, deployment)
    assert ledger.deployment(deployment).signage_confirmed_at == clock.now
    # Once live, the signs were confirmed already: a confirmation is for before going live.
    with refused(ledger, InvalidTransition, "deployment .* is live"):
        ledger.confirm_signage(OPERATOR, deployment, **SIGNAGE)


@SQLITE
def test_signs_are_confirmed_on_the_uk_day_the_deployment_goes_live(
    ledger: CaseLedger, clock: Clock
) -> None:
    # 23:30 UTC on 1 June is 00:30 BST on 2 June: the window's day is 2 June in the UK.
    opens = datetime(2025, 6, 1, 23, 30, tzinfo=UTC)
    clock.now = datetime(2025, 5, 30, 9, 0, tzinfo=UTC)
    deployment = _unconfirmed(
        ledger,
        starts_at=opens,
        ends_at=opens + timedelta(days=1, hours=6),  # to 06:30 BST on 3 June
        public_notice=PublicNotice("force website", opens - timedelta(days=2)),
    )
    clock.now = datetime(2025, 6, 1, 22, 59, tzinfo=UTC)  # 23:59 BST on 1 June
    with refused(ledger, InvalidTransition, r"goes live \(2025-06-02 to 2025-06-03, UK"):
        ledger.confirm_signage(OPERATOR, deployment, **SIGNAGE)
    clock.now = datetime(2025, 6, 1, 23, 0, tzinfo=UTC)  # 00:00 BST on 2 June
    ledger.confirm_signage(OPERATOR, deployment, **SIGNAGE)
    # The operator starts the next UK day: yesterday's confirmation does not count.
    clock.now = datetime(2025, 6, 2, 23, 10, tzinfo=UTC)  # 00:10 BST on 3 June
    with refused(ledger, PolicyViolation, "not been confirmed today \\(last confirmed 2025-06-01"):
        ledger.start_deployment(OPERATOR, deployment)
    ledger.confirm_signage(OPERATOR, deployment, **SIGNAGE)
    ledger.reconfirm_entries(COMPILER, deployment, still_in_force=True, checked=CHECKED)
    ledger.start_deployment(OPERATOR, deployment)


@SQLITE
def test_a_force_may_turn_the_signage_gate_off(ledger: CaseLedger, clock: Clock) -> None:
    ledger.adopt_policy(ADMIN, _with(ledger, signage_confirmed_before_start="false"))
    deployment = _unconfirmed(ledger)
    clock.now = WINDOW_START
    ledger.start_deployment(OPERATOR, deployment)
    assert ledger.deployment(deployment).status == DeploymentStatus.LIVE
    with pytest.raises(InvalidInput, match="signage_confirmed_before_start must be true or false"):
        _with(ledger, signage_confirmed_before_start='"no"')


# --- a watchlist compiled close to go-live ----------------------------------------------------


def _days_ahead(ledger: CaseLedger, clock: Clock, entries: int = 3) -> tuple[UUID, list[UUID]]:
    """A window three days after the list was compiled (entries enrolled at 08:00 on 2 June,
    window 10:00-17:00 on 5 June), its signs confirmed on the day, at 09:00."""
    opens = WINDOW_START + timedelta(days=3)
    deployment = proposed(ledger, starts_at=opens, ends_at=opens + timedelta(hours=7))
    ledger.authorise_deployment(AO, deployment, authority_ref="AUTH-1", **AUTHORITY)
    ids = [ledger.enrol(COMPILER, deployment, subject(i)) for i in range(entries)]
    ledger.review_watchlist(AO, deployment, confirmed_count=entries, not_excessive=True)
    clock.now = opens - timedelta(hours=1)
    ledger.confirm_signage(OPERATOR, deployment, **SIGNAGE)
    return deployment, ids


def test_a_stale_watchlist_is_refused_until_its_entries_are_reconfirmed(
    ledger: CaseLedger, clock: Clock
) -> None:
    deployment, ids = _days_ahead(ledger, clock)
    ledger.withdraw_entry(COMPILER, ids[2], "arrested on the warrant")  # withdrawn: not checked
    clock.advance(hours=1, minutes=5)
    before = event_count(ledger)
    with pytest.raises(PolicyViolation, match="2 active watchlist entries") as refusal:
        ledger.start_deployment(OPERATOR, deployment)
    assert event_count(ledger) == before
    detail = refusal.value.detail
    assert f"{ids[0]}, {ids[1]}." in detail and str(ids[2]) not in detail
    assert "more than 48 h" in detail and "/watchlist/reconfirmation" in detail
    assert "Quentin" not in detail and "PNC-" not in detail

    ledger.reconfirm_entries(COMPILER, deployment, still_in_force=True, checked=CHECKED)
    assert ledger.watchlist_entry(ids[0]).confirmed_at == clock.now
    ledger.start_deployment(OPERATOR, deployment)
    assert ledger.deployment(deployment).status == DeploymentStatus.LIVE


@SQLITE
def test_one_entry_reconfirmed_leaves_the_other_stale(ledger: CaseLedger, clock: Clock) -> None:
    deployment, ids = _days_ahead(ledger, clock, entries=2)
    clock.advance(hours=1)
    ledger.reconfirm_entries(
        COMPILER, deployment, still_in_force=True, checked=CHECKED, entry_ids=[ids[1], ids[1]]
    )
    with refused(ledger, PolicyViolation, f"1 active watchlist entry .* was .*: {ids[0]}\\."):
        ledger.start_deployment(OPERATOR, deployment)


@SQLITE
def test_a_force_may_turn_the_freshness_gate_off(ledger: CaseLedger, clock: Clock) -> None:
    ledger.adopt_policy(ADMIN, _with(ledger, reconfirm_within_hours=0))
    deployment, _ = _days_ahead(ledger, clock)
    clock.advance(hours=1)
    ledger.start_deployment(OPERATOR, deployment)
    assert ledger.deployment(deployment).status == DeploymentStatus.LIVE


def test_a_reconfirmation_states_the_reason_still_holds_all_or_nothing(
    ledger: CaseLedger, clock: Clock
) -> None:
    _, others = reviewed(ledger, entries=1)  # another deployment's entry
    deployment, ids = _days_ahead(ledger, clock)
    ledger.withdraw_entry(COMPILER, ids[2], "arrested on the warrant")
    with refused(ledger, InvalidInput, "withdraw the entry instead"):
        ledger.reconfirm_entries(COMPILER, deployment, still_in_force=False, checked=CHECKED)
    with refused(ledger, InvalidInput, "says what was checked"):
        ledger.reconfirm_entries(COMPILER, deployment, still_in_force=True, checked="  ")
    with refused(ledger, InvalidTransition, f"entry {ids[2]} is withdrawn"):
        ledger.reconfirm_entries(
            COMPILER, deployment, still_in_force=True, checked=CHECKED, entry_ids=ids
        )
    with refused(ledger, InvalidInput, f"not on deployment {deployment}'s watchlist: {others[0]}"):
        ledger.reconfirm_entries(
            COMPILER, deployment, still_in_force=True, checked=CHECKED, entry_ids=others
        )
    with refused(ledger, NotPermitted):
        ledger.reconfirm_entries(AO, deployment, still_in_force=True, checked=CHECKED)
    # Whoever reviewed the list as an authorising officer does not also keep it.
    reviewer = Actor(AO.id, Role.WATCHLIST_MANAGER)
    with refused(ledger, NotPermitted, "forbids the same person to 'compile_watchlist'"):
        ledger.reconfirm_entries(reviewer, deployment, still_in_force=True, checked=CHECKED)
    done = ledger.reconfirm_entries(COMPILER, deployment, still_in_force=True, checked=CHECKED)
    assert done == ids[:2]
    # What was checked may name the subject: sealed under each entry's key, as its withdrawal.
    notes = list(ledger._scan((WatchlistEntryTopic.RECONFIRMED,)))
    assert len(notes) == 2 and all(CHECKED.encode() not in n.state for n in notes)
    for note in notes:
        stored = ledger.mapper.to_domain_event(note).checked
        assert is_sealed_text(stored)
        assert ledger.reveal_text(note.originator_id, "reconfirmation_checked", stored) == CHECKED


# --- over HTTP, the CLI and the history -------------------------------------------------------


@SQLITE
def test_over_http_the_operator_confirms_signs_and_the_manager_reconfirms(
    settings: Settings, clock: Clock
) -> None:
    ledger = build_ledger(settings, clock=clock)
    with TestClient(create_app(settings, ledger=ledger)) as client:
        deployment, ids = _days_ahead(ledger, clock, entries=2)
        clock.advance(hours=1)

        def post(path: str, role: str, body: object = None) -> object:
            token = issue_token(settings, role=role, sub=f"{role}-9")
            return client.post(
                f"/deployments/{deployment}{path}",
                headers={"Authorization": f"Bearer {token}"},
                json=body,
            )

        start = post("/start", "operator")
        assert start.status_code == 422, start.text  # type: ignore[attr-defined]
        detail = start.json()["detail"]  # type: ignore[attr-defined]
        assert str(ids[0]) in detail and "re-confirms" in detail
        assert post("/signage", "watchlist_manager", SIGNAGE).status_code == 403  # type: ignore[attr-defined]
        wrong = post("/watchlist/reconfirmation", "watchlist_manager", {"checked": CHECKED})
        assert wrong.status_code == 400  # type: ignore[attr-defined]  # still_in_force missing
        done = post(
            "/watchlist/reconfirmation",
            "watchlist_manager",
            {"still_in_force": True, "checked": CHECKED},
        )
        assert done.status_code == 200, done.text  # type: ignore[attr-defined]
        assert done.json()["reconfirmed"] == [str(i) for i in ids]  # type: ignore[attr-defined]
        assert post("/start", "operator").json()["status"] == "live"  # type: ignore[attr-defined]

        token = issue_token(settings, role="oversight", sub="ico-1")
        history = client.get(
            f"/deployments/{deployment}/history",
            headers={"Authorization": f"Bearer {token}", "X-Purpose": "audit"},
        ).json()
        shown = {e["topic"]: e["data"] for e in history["events"]}
        assert shown["lfr/Deployment.SignageConfirmed"] == SIGNAGE
        assert shown["lfr/WatchlistEntry.Reconfirmed"] == {
            "still_in_force": True,
            "checked": "[sealed]",
        }


@SQLITE
def test_the_cli_confirms_signs_and_reconfirms_entries(
    settings: Settings, clock: Clock, ledger: CaseLedger, capsys: pytest.CaptureFixture[str]
) -> None:
    deployment, _ = _days_ahead(ledger, clock, entries=2)
    # The CLI runs on the wall clock: a window around now, notice given well before.
    now = datetime.now(UTC)
    ledger.clock = lambda: now - timedelta(minutes=1)
    current = proposed(
        ledger,
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(hours=2),
        public_notice=PublicNotice("force website", now - timedelta(days=2)),
    )
    ledger.authorise_deployment(AO, current, authority_ref="AUTH-2", **AUTHORITY)
    entry = ledger.enrol(COMPILER, current, subject(7))
    with pytest.MonkeyPatch.context() as mp:
        for name, value in cli_env(settings).items():
            mp.setenv(name, value)
        signs = ["deployments", "confirm-signage", str(current), "--signs", "A-boards"]
        assert lfr([*signs, "--where", "both ends", "--actor", "PC-9", "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["id"] == str(current)
        assert lfr([*signs, "--where", "both ends", "--actor", "PC-9"]) == 0
        capsys.readouterr()
        past = ["deployments", "confirm-signage", str(deployment), "--signs", "x", "--where", "y"]
        assert lfr(past) == 2 and "goes live" in capsys.readouterr().err
        base = ["watchlist", "reconfirm", "--deployment", str(current), "--actor-id", "SGT-1"]
        assert lfr([*base, "--checked", CHECKED]) == 2
        assert "withdraw the entry instead" in capsys.readouterr().err
        again = [*base, "--checked", CHECKED, "--still-in-force", "--entry", str(entry), "--json"]
        assert lfr(again) == 0
        assert json.loads(capsys.readouterr().out)["reconfirmed"] == [str(entry)]


def test_policies_without_the_new_keys_read_the_defaults(tmp_path: Path) -> None:
    text = Policy.load().text
    for key in ("minimum_notice_hours", "signage_confirmed_before_start", "reconfirm_within_hours"):
        text = "\n".join(line for line in text.splitlines() if not line.startswith(f"{key} ="))
    old = Policy.parse(text)
    assert (
        old.minimum_notice_hours,
        old.signage_confirmed_before_start,
        old.reconfirm_within_hours,
    ) == (24, True, 48)

"""Subject access: the same answer before and after destruction, from the pseudonymous digest;
personal fields read [erased] once shredded; exports log a disclosure. Both backends."""

from __future__ import annotations

import json
import unicodedata
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

import lfr_ledger.api.cli
from lfr_ledger.api.bootstrap import build_retention
from lfr_ledger.api.demo.sample_deployment import COMPILER, OVERSIGHT, authorised, subject
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.values import ERASED, Confirmation
from lfr_ledger.oversight.access_review import access_review
from lfr_ledger.oversight.subject_access import subject_access, write_subject_access_export
from tests.conftest import Clock
from tests.test_retention import cli_env, ran_deployment  # noqa: F401

SUBJECT = "PNC-0000"  # builders.subject(0): entry 0 of each deployment, which the alerts hit


def day(clock: Clock) -> datetime:
    return clock.now.replace(hour=0, minute=0, second=0, microsecond=0)


def test_answers_before_and_after_destruction(
    ledger: CaseLedger, settings: Settings, clock: Clock
) -> None:
    first = ran_deployment(ledger, clock, alerts=2, seed=1)
    june_2 = day(clock)
    clock.advance(days=10)
    second = ran_deployment(ledger, clock, alerts=1, seed=2, confirmed=Confirmation.UNKNOWN)
    whole = (june_2, june_2 + timedelta(days=30))

    before = subject_access(ledger, SUBJECT, start=whole[0], end=whole[1])
    assert before.on_watchlist and before.in_alert
    assert [e.entry_id for e in before.entries] == [first.entry_ids[0], second.entry_ids[0]]
    entry = before.entries[0]
    assert (entry.name, entry.subject_ref, entry.status) == (
        "Quentin Zebedee-Marlowe 0",
        SUBJECT,
        "active",
    )
    assert entry.category == "wanted_by_courts" and entry.image == "held"
    assert entry.location == "Abington Street, Northampton"
    assert [a.alert_id for a in entry.alerts] == first.alert_ids
    assert all(a.decision == "match" and a.confirmed == "true" for a in entry.alerts)
    assert all(a.image == "held" for a in entry.alerts)

    # A period reaching only the first deployment; a subject never alerted; a stranger.
    only_first = subject_access(ledger, SUBJECT, start=june_2, end=june_2 + timedelta(days=1))
    assert [e.deployment_id for e in only_first.entries] == [first.deployment_id]
    quiet = subject_access(ledger, "PNC-0001", start=whole[0], end=whole[1])
    assert quiet.on_watchlist and not quiet.in_alert
    stranger = subject_access(ledger, "PNC-9999", start=whole[0], end=whole[1])
    assert not stranger.on_watchlist and not stranger.in_alert and stranger.entries == []

    # Retention destroys both watchlists and every image; the answer stands, minus the data.
    assert second.ended_at is not None
    clock.now = second.ended_at + timedelta(days=40)
    build_retention(ledger, settings).run()
    after = subject_access(ledger, SUBJECT, start=whole[0], end=whole[1])
    assert after.on_watchlist and after.in_alert
    assert [e.entry_id for e in after.entries] == [e.entry_id for e in before.entries]
    for finding in after.entries:
        assert finding.status == "destroyed" and finding.destroyed_at is not None
        assert finding.destruction_rule and "watchlist_hours_after_end" in finding.destruction_rule
        assert (finding.name, finding.subject_ref, finding.rationale, finding.image) == (
            ERASED,
            ERASED,
            ERASED,
            ERASED,
        )
        assert all(a.image == "erased" for a in finding.alerts)
    assert [len(e.alerts) for e in after.entries] == [2, 1]
    assert after.entries[0].alerts[0].decision == "match"
    assert after.to_dict()["entries"][0]["category"] == "wanted_by_courts"


def test_export_withholds_crops_that_may_show_someone_else_and_logs_the_disclosure(
    ledger: CaseLedger, clock: Clock, tmp_path: Path
) -> None:
    confirmed = ran_deployment(ledger, clock, alerts=1, seed=1)
    clock.advance(days=2)
    unsure = ran_deployment(ledger, clock, alerts=1, seed=2, confirmed=Confirmation.UNKNOWN)
    report = subject_access(
        ledger, SUBJECT, start=clock.now - timedelta(days=5), end=clock.now + timedelta(days=1)
    )
    files = write_subject_access_export(
        ledger,
        report,
        tmp_path / "sar",
        actor=OVERSIGHT,
        recipient="the data subject",
        legal_basis="DPA 2018 s.45",
    )
    names = {p.name for p in files}
    assert f"alert-{confirmed.alert_ids[0]}.bin" in names
    assert f"alert-{unsure.alert_ids[0]}.bin" not in names
    assert (tmp_path / "sar" / f"alert-{confirmed.alert_ids[0]}.bin").read_bytes() == (
        confirmed.crops[confirmed.alert_ids[0]]
    )
    assert f"entry-{confirmed.entry_ids[0]}.bin" in names
    answer = json.loads((tmp_path / "sar" / "subject_access.json").read_text())
    withheld = answer["entries"][1]["alerts"][0]
    assert withheld["image_file"] is None and "third party" in withheld["image_withheld"]
    [disclosure] = access_review(ledger, record="subject_access:").records
    assert disclosure.recipient == "the data subject"
    assert disclosure.record == f"subject_access:{report.subject_digest}"
    assert SUBJECT not in disclosure.record, "the log names the subject by digest only"


def test_cli_subject_access_logs_the_read(
    ledger: CaseLedger,
    clock: Clock,
    cli_env: None,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    ran_deployment(ledger, clock, alerts=1)
    start, end = day(clock).isoformat(), (day(clock) + timedelta(days=1)).isoformat()
    argv = ["subject-access", "--subject", SUBJECT, "--from", start, "--to", end]
    assert (
        lfr_ledger.api.cli.main([*argv, "--purpose", "SAR 2025/17", "--actor", "DPO-1", "--json"])
        == 0
    )
    answer = json.loads(capsys.readouterr().out)
    assert answer["on_watchlist"] and answer["in_alert"]
    [read] = access_review(ledger, actor_id="DPO-1").records
    assert (read.kind, read.purpose) == ("consultation", "SAR 2025/17")
    assert (
        lfr_ledger.api.cli.main([*argv, "--purpose", "x", "--out", "/tmp/never"]) == 2
    )  # no recipient


JOSE_NFC = unicodedata.normalize("NFC", "PNC-José-77")
SPELLINGS = {
    "nfd": unicodedata.normalize("NFD", JOSE_NFC),
    "upper": JOSE_NFC.upper(),
    "lower": JOSE_NFC.lower(),
    "full-width": "ＰＮＣ－Ｊｏｓé－７７",
    "padded": f"  {JOSE_NFC}\t",
}


def _enrol_jose(ledger: CaseLedger) -> tuple[datetime, datetime]:
    deployment = authorised(ledger)
    ledger.enrol(COMPILER, deployment, replace(subject(0), subject_ref=JOSE_NFC))
    window = ledger.deployment(deployment).plan
    return window.starts_at, window.ends_at


@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
def test_a_subject_is_found_whatever_unicode_form_case_or_width_they_are_typed_in(
    ledger: CaseLedger, spelling: str
) -> None:
    start, end = _enrol_jose(ledger)
    report = subject_access(ledger, SPELLINGS[spelling], start=start, end=end)
    assert [e.subject_ref for e in report.entries] == [JOSE_NFC]
    assert subject_access(ledger, "PNC-Jose-77", start=start, end=end).entries == []


def test_records_pseudonymised_before_normalisation_are_still_found(
    ledger: CaseLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An entry as an earlier release recorded it: the digest of the reference as typed.
    vault = ledger.vault
    with monkeypatch.context() as old_release:
        old_release.setattr(vault, "subject_digest", lambda ref: vault._pseudonym(ref.strip()))
        start, end = _enrol_jose(ledger)
    for spelling in (JOSE_NFC, SPELLINGS["nfd"], SPELLINGS["padded"]):
        report = subject_access(ledger, spelling, start=start, end=end)
        assert [e.subject_ref for e in report.entries] == [JOSE_NFC], spelling
    # The mixed case it was typed in cannot be recovered from another case: documented limit.
    assert subject_access(ledger, SPELLINGS["upper"], start=start, end=end).entries == []

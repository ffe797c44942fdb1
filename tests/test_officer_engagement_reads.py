"""Issue 25: the officer sent to engage on a match sees who to look for, and nothing more.

Over the real app: the officer reads the entry an alert matched (category, offence, the new
sealed description) and its enrolled image only once an operator decided the alert is a match,
each read logged as a consultation of the entry "engaging on alert <id>"; never an undecided
or no-match alert's entry, never an entry through the watchlist's own routes. The description
is sealed under the entry's key and erased with it, and entries enrolled by a release before
the field existed still load (the release-r2 log).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from litestar.testing import TestClient

import tests.test_human_review as human_review
from lfr_ledger.api.app import create_app
from lfr_ledger.api.bootstrap import build_ledger
from lfr_ledger.api.personal_data import PersonalData
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.actors import Actor, Role
from lfr_ledger.domain.application import CaseLedger, Enrolment
from lfr_ledger.domain.sealing import SEALED_TEXT
from lfr_ledger.domain.values import ERASED
from lfr_ledger.domain.watchlist import WatchlistEntry, WatchlistEntryTopic
from lfr_ledger.oversight.access_review import access_review
from tests.test_api import Api, assert_problem
from tests.test_previous_release import release_dir  # noqa: F401

DESCRIPTION = "Male, about 1.80 m, slim; swallow tattoo on the left hand. Warning: violent"
OPERATOR = Actor("operator-1", Role.OPERATOR)


@pytest.fixture
def scene(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Api, Any]]:
    """A live deployment whose entries carry a description and an image; alert 0 decided a
    match, alert 1 left undecided, alert 2 (entry 1) decided no match."""
    enrolled = human_review.subject

    def described(n: int = 1, category: str = "wanted_by_courts") -> Enrolment:
        return dataclasses.replace(enrolled(n, category=category), description=DESCRIPTION)

    monkeypatch.setattr(human_review, "subject", described)
    settings = Settings(data_dir=tmp_path / "var")
    with TestClient(create_app(settings)) as client:
        api = Api(client, settings)
        ledger, _, entries, alerts = human_review.http_scene(api)
        ledger.adjudicate(OPERATOR, alerts[0], "match", "same scar")
        ledger.adjudicate(OPERATOR, alerts[2], "no_match", "different ears", ("subject",))
        yield api, {"ledger": ledger, "entries": entries, "alerts": alerts}


def consultations(ledger: CaseLedger) -> list[tuple[str, str, str | None]]:
    return [
        (r.actor_id, r.record, r.purpose)
        for r in access_review(ledger).records
        if r.kind == "consultation"
    ]


def test_the_officer_reads_who_to_look_for_on_a_match_and_each_read_is_logged(
    scene: tuple[Api, Any],
) -> None:
    api, s = scene
    alert, entry = s["alerts"][0], s["entries"][0]
    reply = api.get(f"/alerts/{alert}/entry", "officer")
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["description"] == DESCRIPTION
    assert (body["category"], body["offence"]) == ("subject_to_court_order", "failing to appear")
    assert (body["entry_id"], body["has_image"], body["erased"]) == (str(entry), True, False)
    # The name, to confirm identity on engaging; nothing the officer has no use for: no
    # reference, rationale or legal basis.
    assert body["name"] == s["ledger"].reveal_entry(entry, images=False).name != ""
    assert not {"subject_ref", "rationale", "legal_basis"} & set(body)
    image = api.get(f"/alerts/{alert}/entry/image", "officer")
    assert image.status_code == 200
    assert image.headers["cache-control"] == "no-store"
    assert image.content.startswith(b"\xff\xd8\xff")
    purpose = f"engaging on alert {alert}"
    assert consultations(s["ledger"])[-2:] == [
        ("officer-1", f"watchlist_entry:{entry}", purpose),
        ("officer-1", f"watchlist_image:{entry}", purpose),
    ]


def test_no_entry_for_an_alert_not_decided_a_match_nor_through_the_watchlist_routes(
    scene: tuple[Api, Any],
) -> None:
    api, s = scene
    before = consultations(s["ledger"])
    undecided, no_match = s["alerts"][1], s["alerts"][2]
    for alert, said in ((undecided, "not decided yet"), (no_match, "no_match")):
        for path in (f"/alerts/{alert}/entry", f"/alerts/{alert}/entry/image"):
            problem = assert_problem(api.get(path, "officer"), 403, "not-permitted")
            assert said in problem["detail"] and "decided is a match" in problem["detail"]
    entry = s["entries"][0]
    for path in (f"/watchlist/entries/{entry}", f"/watchlist/entries/{entry}/image"):
        assert_problem(api.get(path, "officer", params={"purpose": "curious"}), 403)
    # Only the officer engaging reads through the alert (an operator uses the entry's route).
    assert_problem(api.get(f"/alerts/{s['alerts'][0]}/entry", "operator"), 403)
    assert consultations(s["ledger"]) == before


def test_the_description_is_sealed_under_the_entrys_key_and_erased_with_it(
    scene: tuple[Api, Any],
) -> None:
    api, s = scene
    ledger: CaseLedger = s["ledger"]
    entry_id: UUID = s["entries"][0]
    (enrolled,) = [
        n
        for n in ledger.recorder.select_notifications(1, 10_000)
        if n.topic == WatchlistEntryTopic.ENROLLED and n.originator_id == entry_id
    ]
    assert DESCRIPTION.encode() not in enrolled.state
    assert ledger.watchlist_entry(entry_id).description.startswith(SEALED_TEXT)
    # The watchlist manager reads it with the rest of the entry.
    read = api.get(f"/watchlist/entries/{entry_id}", "watchlist_manager", params={"purpose": "t"})
    assert read.json()["description"] == DESCRIPTION
    deployment = ledger.watchlist_entry(entry_id).deployment_id
    ledger.adjudicate(OPERATOR, s["alerts"][1], "inconclusive", "too far away")
    ledger.end_deployment(OPERATOR, deployment)
    ledger.destroy_watchlist(deployment, rule="test")
    reply = api.get(f"/alerts/{s['alerts'][0]}/entry", "officer").json()
    assert (reply["description"], reply["offence"], reply["erased"]) == (ERASED, ERASED, True)
    assert reply["name"] == ERASED
    assert reply["has_image"] is False
    image = api.get(f"/alerts/{s['alerts'][0]}/entry/image", "officer")
    assert_problem(image, 404, "image-destroyed")


def test_an_enrolment_over_http_takes_an_optional_description(scene: tuple[Api, Any]) -> None:
    api, _ = scene
    too_long = {"description": "x" * 2001}
    # Refused by the schema before anything is written (no deployment needed to say so).
    reply = api.post(
        "/deployments/5f0c3a52-8d1e-4c6f-9b7a-2e4d6f8a0b1c/watchlist/entries",
        "watchlist_manager",
        {
            "subject_ref": "PNC 98/123456X",
            "name": "A",
            "category": "wanted_by_courts",
            "legal_basis": "b",
            "rationale": "r",
            "offence": "o",
            "image_source": "s",
            **too_long,
        },
    )
    problem = assert_problem(reply, 400)
    assert "description" in problem["detail"]


def test_entries_enrolled_before_the_description_existed_still_load(
    release_dir: Path,  # noqa: F811
) -> None:
    ledger = build_ledger(Settings(data_dir=release_dir))
    try:
        entries = [
            ledger.repository.get(n.originator_id)
            for n in ledger.recorder.select_notifications(1, 10_000)
            if n.topic == WatchlistEntryTopic.ENROLLED
        ]
        assert entries and all(isinstance(e, WatchlistEntry) for e in entries)
        assert all(e.description is None for e in entries)
        reads = PersonalData(ledger, Actor("WM-1", Role.WATCHLIST_MANAGER))
        assert reads.entry(entries[0].id, purpose="release check").description is None
    finally:
        ledger.close()

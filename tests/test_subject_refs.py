"""Issue 23, item 5: one subject enrolled once per watchlist, whatever invisible or look-alike
characters a reference is typed with. A subject reference is a police identifier: after NFKC it
may hold only Latin letters, digits and a few separators (`domain/subject_ref.py`), so a zero-
width space, a soft hyphen, a no-break space, a combining grapheme joiner, a right-to-left mark
or a Cyrillic look-alike is refused, in enrolment (domain, HTTP, `lfr watchlist import`) and in
subject access (domain, HTTP, CLI) alike, naming the code point and never the reference. Both
backends."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from uuid import UUID

import cv2
import pytest
from litestar.testing import TestClient

import lfr_ledger.api.cli
from lfr_ledger.api.app import create_app
from lfr_ledger.api.auth import issue_token
from lfr_ledger.api.cli.watchlist import REQUIRED_COLUMNS, import_rows
from lfr_ledger.api.demo.sample_deployment import COMPILER, authorised, subject
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.errors import InvalidInput
from lfr_ledger.matching.engines.insightface_engine import InsightFaceEngine
from lfr_ledger.matching.packs.samples import sample_identities
from lfr_ledger.oversight.subject_access import subject_access
from tests.conftest import Clock
from tests.test_invariants import refused
from tests.test_retention import cli_env  # noqa: F401

# "QZ" is in no id, hex or request id a reply carries: where it appears, the reference leaked.
PLAIN = "PNC-QZ-7734"
PERSON = replace(subject(1), subject_ref=PLAIN)
# Each variant looks like PLAIN (or is invisible in it) and used to enrol the same person again.
VARIANTS = {
    "zero-width space": ("PNC-QZ-\u200b7734", "U+200B"),
    "soft hyphen": ("PNC-QZ-77\u00ad34", "U+00AD"),
    "no-break space": ("PNC-QZ\u00a0-7734", "U+00A0"),
    "combining grapheme joiner": ("PNC-QZ-7\u034f734", "U+034F"),
    "right-to-left mark": ("PNC-QZ-7734\u200f", "U+200F"),
    "Cyrillic look-alike": ("PNC-QZ-7734".replace("C", "\u0421"), "U+0421"),
    "Cyrillic capital A": ("\u0410PNC-QZ-7734", "U+0410"),
}


def _window(ledger: CaseLedger, deployment: UUID) -> tuple[datetime, datetime]:
    plan = ledger.deployment(deployment).plan
    return plan.starts_at, plan.ends_at


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_a_look_alike_reference_is_refused_naming_the_code_point_not_the_reference(
    ledger: CaseLedger, variant: str
) -> None:
    reference, code_point = VARIANTS[variant]
    deployment = authorised(ledger)
    first = ledger.enrol(COMPILER, deployment, PERSON)
    with refused(ledger, InvalidInput, match=f"subject_ref .*{re.escape(code_point)}"):
        ledger.enrol(COMPILER, deployment, replace(PERSON, subject_ref=reference))
    assert [e.id for e in ledger.watchlist(deployment)] == [first]
    # The plain form finds the one entry; the variant is refused, not answered "not found".
    start, end = _window(ledger, deployment)
    report = subject_access(ledger, PLAIN, start=start, end=end)
    assert [e.entry_id for e in report.entries] == [first]
    with pytest.raises(InvalidInput, match=re.escape(code_point)) as error:
        subject_access(ledger, reference, start=start, end=end)
    assert error.value.field == "subject_ref"
    assert "QZ" not in str(error.value), "the reference itself is personal data"


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_a_look_alike_enrolled_first_leaves_no_trace_for_the_plain_form_to_miss(
    ledger: CaseLedger, variant: str
) -> None:
    reference, _ = VARIANTS[variant]
    deployment = authorised(ledger)
    with refused(ledger, InvalidInput, match="subject_ref"):
        ledger.enrol(COMPILER, deployment, replace(PERSON, subject_ref=reference))
    entry = ledger.enrol(COMPILER, deployment, PERSON)
    start, end = _window(ledger, deployment)
    report = subject_access(ledger, PLAIN, start=start, end=end)
    assert [(e.entry_id, e.subject_ref) for e in report.entries] == [(entry, PLAIN)]


@pytest.mark.parametrize(
    "typed",
    [
        "PNC 98/123456X",
        "01YE/12345/25",
        "pnc-0001",
        " PNC-0001\t",
        "ＰＮＣ－０００１",
        "PNC-José-77",
    ],
)
def test_police_identifiers_as_typed_are_accepted(typed: str) -> None:
    from lfr_ledger.domain.subject_ref import SubjectRef

    ref = SubjectRef.parse(typed)
    assert ref.text == ref.text.strip() and ref.text


def test_an_empty_reference_is_refused() -> None:
    from lfr_ledger.domain.subject_ref import SubjectRef

    with pytest.raises(InvalidInput, match="subject_ref"):
        SubjectRef.parse(" \t ")


@pytest.fixture
def client(settings: Settings, ledger: CaseLedger) -> Iterator[TestClient]:
    with TestClient(create_app(settings, ledger=ledger)) as test_client:
        yield test_client


def _headers(settings: Settings, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(settings, role=role, sub=f'{role}-1')}"}


def test_over_http_enrolment_and_subject_access_refuse_a_look_alike_with_a_422(
    client: TestClient,
    settings: Settings,
    ledger: CaseLedger,
) -> None:
    deployment = authorised(ledger)
    body = {
        "name": "Jordan Prentice",
        "category": "wanted_by_courts",
        "legal_basis": "DPA 2018 s.35",
        "rationale": "Wanted on warrant for failing to appear",
        "offence": "failing to appear",
        "image_source": "custody image",
    }
    path = f"/deployments/{deployment}/watchlist/entries"
    manager = _headers(settings, "watchlist_manager")
    first = client.post(path, json={**body, "subject_ref": PLAIN}, headers=manager)
    assert first.status_code == 201, first.text
    head = ledger.recorder.max_notification_id()
    start, end = _window(ledger, deployment)
    for reference, code_point in VARIANTS.values():
        again = client.post(path, json={**body, "subject_ref": reference}, headers=manager)
        assert again.status_code == 422, again.text
        problem = again.json()
        assert code_point in problem["detail"] and "subject_ref" in problem["detail"]
        assert [e["field"] for e in problem["errors"]] == ["subject_ref"]
        assert reference not in again.text and "QZ" not in again.text
        sar = client.get(
            "/subject-access",
            params={"subject_ref": reference, "from": str(start), "to": str(end), "purpose": "S"},
            headers=_headers(settings, "oversight"),
        )
        assert sar.status_code == 422, sar.text
        assert code_point in sar.json()["detail"] and "QZ" not in sar.text
    assert ledger.recorder.max_notification_id() == head, "a refusal writes nothing"
    found = client.get(
        "/subject-access",
        params={"subject_ref": PLAIN, "from": str(start), "to": str(end), "purpose": "SAR 1"},
        headers=_headers(settings, "oversight"),
    )
    assert found.status_code == 200, found.text
    assert [e["entry_id"] for e in found.json()["entries"]] == [first.json()["id"]]


def test_cli_subject_access_refuses_a_look_alike(
    ledger: CaseLedger,
    clock: Clock,
    cli_env: None,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    deployment = authorised(ledger)
    ledger.enrol(COMPILER, deployment, PERSON)
    start, end = (t.isoformat() for t in _window(ledger, deployment))
    argv = ["subject-access", "--from", start, "--to", end, "--purpose", "SAR 1", "--json"]
    capsys.readouterr()
    assert lfr_ledger.api.cli.main([*argv, "--subject", VARIANTS["zero-width space"][0]]) != 0
    err = capsys.readouterr().err
    assert "U+200B" in err and "QZ" not in err
    assert lfr_ledger.api.cli.main([*argv, "--subject", PLAIN]) == 0
    assert json.loads(capsys.readouterr().out)["on_watchlist"] is True


def test_watchlist_import_refuses_the_look_alike_row_and_enrols_the_subject_once(
    ledger: CaseLedger,
    tmp_path: Path,
    sface_engine: InsightFaceEngine,
) -> None:
    deployment = authorised(ledger)
    image = next(iter(sample_identities(sface_engine).values()))
    ok, encoded = cv2.imencode(".jpg", image)
    assert ok
    (tmp_path / "face.jpg").write_bytes(encoded.tobytes())
    row = {
        "name": "Jordan Prentice",
        "category": "wanted_by_courts",
        "legal_basis": "DPA 2018 s.35",
        "rationale": "Wanted on warrant for failing to appear",
        "offence": "failing to appear",
        "image_source": "custody image",
        "image_path": "face.jpg",
    }
    lines = [",".join(REQUIRED_COLUMNS)]
    for reference in (PLAIN, VARIANTS["soft hyphen"][0], VARIANTS["Cyrillic capital A"][0]):
        values = {**row, "subject_ref": reference}
        lines.append(",".join(values[c] for c in REQUIRED_COLUMNS))
    csv_path = tmp_path / "watchlist.csv"
    csv_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    outcomes = import_rows(ledger, sface_engine, "SGT-1", "sergeant", deployment, csv_path)
    assert [o.entry_id is not None for o in outcomes] == [True, False, False]
    assert "U+00AD" in (outcomes[1].refused or "") and "U+0410" in (outcomes[2].refused or "")
    assert all("QZ" not in (o.refused or "") for o in outcomes)
    assert [e.id for e in ledger.watchlist(deployment)] == [outcomes[0].entry_id]

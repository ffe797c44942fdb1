"""Issue 23, item 4: the one query layer (`api/personal_data/`) is the only way to personal data.

What an import contract cannot see (a method of the ledger every route holds) is checked here:
no module of `api/` outside the layer touches the ledger's unsealing methods, the consultation
command, or the log readers behind the layer's reads. The layer refuses a reader its table does
not admit, before anything is logged or read. And the CLI's reads are consultations too. Both
backends where the store is touched.
"""

from __future__ import annotations

import ast
import json
from datetime import timedelta
from pathlib import Path
from uuid import UUID

import pytest

import lfr_ledger.api.cli
from lfr_ledger.api.demo.sample_deployment import OPERATOR, matcher_for
from lfr_ledger.api.personal_data import READERS, PersonalData, Read
from lfr_ledger.domain.actors import Actor, Role
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.errors import NotPermitted
from lfr_ledger.oversight.access_review import AccessRecord, access_review
from tests.conftest import Clock
from tests.test_retention import cli_env, ran_deployment  # noqa: F401

API = Path(__file__).resolve().parent.parent / "api"
LAYER = API / "personal_data"
# The SSE machinery: it defines the feed and polls the log for it; only the layer opens one.
STREAM = API / "stream.py"

# Names only the layer may touch in `api/`: the ledger's methods that unseal personal data, the
# consultation command (a read logged by hand can be forgotten), and the readers of the log and
# of the read models behind the layer's reads.
LAYER_ONLY = {
    "unseal",
    "record_consultation",
    "deployment_alerts",
    "AlertFeed",
    "LedgerFeed",
    "event_store",
    "to_domain_event",
    "select_notifications",
}


def reaches_around_the_layer(source: str) -> list[tuple[int, str]]:
    """Where `source` names something only the layer may touch: (line, name)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute):
            name = node.attr
        elif isinstance(node, ast.Name):
            name = node.id
        elif isinstance(node, ast.alias):
            name = node.name.rsplit(".", 1)[-1]
        else:
            continue
        if name in LAYER_ONLY or name.startswith("reveal_"):
            found.append((getattr(node, "lineno", 0), name))
    return sorted(found)


def test_no_module_of_the_api_reaches_personal_data_around_the_layer() -> None:
    offences = {}
    for module in sorted(API.rglob("*.py")):
        if LAYER in module.parents or module == STREAM:
            continue
        found = reaches_around_the_layer(module.read_text())
        if found:
            offences[str(module.relative_to(API))] = found
    assert offences == {}, "read personal data through api/personal_data (PersonalData)"


def test_the_check_sees_a_route_that_opens_or_logs_personal_data_itself() -> None:
    route = (
        "def face_crop(ledger, actor, alert_id):\n"
        "    ledger.record_consultation(actor, record='x', purpose='y')\n"
        "    crop = ledger.reveal_face_crop(alert_id)\n"
        "    key = ledger.vault.unseal(alert_id, 'face_crop', b'')\n"
        "    return list(ledger.repository.event_store.get(alert_id))\n"
    )
    assert [name for _, name in reaches_around_the_layer(route)] == [
        "record_consultation",
        "reveal_face_crop",
        "unseal",
        "event_store",
    ]


def test_every_read_of_the_layer_has_its_readers() -> None:
    assert set(READERS) == set(Read)
    # Analysts, admins and planners read no personal data; a matcher only its templates.
    for read, roles in READERS.items():
        assert not roles & {Role.ANALYST, Role.ADMIN, Role.PLANNER}, read
        assert Role.MATCHER not in roles or roles == {Role.MATCHER}, read


def consultations_since(ledger: CaseLedger, after: int) -> list[AccessRecord]:
    return [r for r in access_review(ledger, after=after).records if r.kind == "consultation"]


def test_a_reader_the_table_does_not_admit_is_refused_before_anything_is_logged(
    ledger: CaseLedger, clock: Clock
) -> None:
    scene = ran_deployment(ledger, clock, alerts=1, end=False)
    [alert] = scene.alert_ids
    before = int(ledger.recorder.max_notification_id() or 0)
    analyst = Actor("AN-1", Role.ANALYST)
    with pytest.raises(NotPermitted):
        PersonalData(ledger, analyst).face_crop(alert, purpose="curious")
    with pytest.raises(NotPermitted):
        PersonalData(ledger, OPERATOR).history(scene.deployment_id, purpose="curious")
    other = Actor("matcher-2", Role.MATCHER, deployment_id=str(UUID(int=2)))
    with pytest.raises(NotPermitted):
        PersonalData(ledger, other).watchlist_templates(scene.deployment_id, 0, 10)
    assert consultations_since(ledger, before) == []
    # The same reads by readers the table admits are logged, once each.
    assert PersonalData(ledger, OPERATOR).face_crop(alert, purpose="adjudication")
    page = PersonalData(ledger, matcher_for(scene.deployment_id)).watchlist_templates(
        scene.deployment_id, 0, 100
    )
    assert page.changes
    assert [(c.actor_id, c.record) for c in consultations_since(ledger, before)] == [
        (OPERATOR.id, f"alert_face_crop:{alert}"),
        ("matcher-1", f"watchlist_templates:{scene.deployment_id}"),
    ]


def test_the_cli_reads_of_personal_data_are_consultations(
    ledger: CaseLedger,
    clock: Clock,
    cli_env: None,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    scene = ran_deployment(ledger, clock, alerts=1)
    dep = scene.deployment_id
    day = clock.now.replace(hour=0, minute=0, second=0, microsecond=0)
    period = ["--from", day.isoformat(), "--to", (day + timedelta(days=1)).isoformat()]
    as_dpo = ["--actor", "DPO-7"]
    before = int(ledger.recorder.max_notification_id() or 0)
    main = lfr_ledger.api.cli.main
    sar = ["subject-access", "--subject", "PNC-0000", *period, "--purpose", "SAR 2025/31"]
    assert main([*sar, *as_dpo, "--json"]) == 0
    digest = json.loads(capsys.readouterr().out)["subject_digest"]
    equality = ["equality", "--deployment", str(dep), "--audience", "oversight"]
    assert main([*equality, "--purpose", "annual equality review", *as_dpo, "--json"]) == 0
    trend = ["stats", "equality-trend", "--purpose", "trend check", *as_dpo, "--json"]
    assert main(trend) == 0
    out = tmp_path / "bundle"
    export = ["audit", "export", "--deployment", str(dep), "--out", str(out)]
    assert main([*export, "--recipient", "IOPC", *as_dpo, "--json"]) == 0
    # The suppressed analyst tables and the access log itself are read without a consultation.
    assert main(["equality", "--deployment", str(dep), "--json"]) == 0
    assert main(["access-review", "--by", "DPO-7", *as_dpo, "--json"]) == 0
    capsys.readouterr()
    found = [
        (c.actor_id, c.actor_role, c.record, c.purpose) for c in consultations_since(ledger, before)
    ]
    assert found == [
        ("DPO-7", "oversight", f"subject_access:{digest}", "SAR 2025/31"),
        ("DPO-7", "oversight", f"equality:{dep}", "annual equality review"),
        ("DPO-7", "oversight", "equality_trend:all", "trend check"),
        (
            "DPO-7",
            "oversight",
            f"oversight_bundle:deployment:{dep}",
            "disclosure to IOPC: oversight of law enforcement processing (DPA 2018 Part 3)",
        ),
    ]
    # A refused read (no purpose for the oversight view) logs nothing either.
    assert main([*equality, *as_dpo]) == 2
    assert len(consultations_since(ledger, before)) == 4

"""Issue 23, items 1–2: every tamper kind of the probe is reported, at the right row and kind,
by `lfr audit verify` (text and `--json`, exit 1) and by `GET /audit/verify` (200, `ok: false`),
never as a traceback or a 500; every step's findings are reported, the chain's first.

The kinds: alter a payload, delete a row, insert a forged row, swap two adjacent rows' payloads
(an `Alert.Closed` and an `Alert.Raised`: the probe's crash), reorder (swap two rows' ids), cut
the tail, a payload under the wrong topic, edit a chain row, delete a vault key the log says
exists. A cut tail leaves a log that chains from its first event to its (new) last one, so it is
detectable only against a signed checkpoint that covered the cut events: that case signs one.

Each kind runs with no checkpoint kept (the default check then starts at the first event) and
with a checkpoint signed before the tampered rows (the default check re-hashes only the events
after it). Real ledger, both backends.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import cv2
import numpy as np
import pytest
from litestar.testing import TestClient

import lfr_ledger.api.cli
from lfr_ledger.api.app import create_app
from lfr_ledger.api.auth import issue_token
from lfr_ledger.api.demo.sample_deployment import OPERATOR
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.alert import AlertTopic
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.values import Decision
from lfr_ledger.eventlog.chain.wiring import resolve_events_table
from lfr_ledger.eventlog.checkpoint import read_checkpoint, sign_if_moved
from tests.conftest import Clock
from tests.test_audit_chain import RawDB, _pg_conninfo
from tests.test_invariants import live, send_alert

CHAIN_KINDS = (
    "altered",
    "deleted",
    "inserted",
    "reordered",
    "chain_altered",
    "chain_missing",
    "checkpoint_mismatch",
)


def _crop(shade: int) -> bytes:
    """A real (tiny) JPEG, so the story holds if face crops come to be checked as images."""
    ok, encoded = cv2.imencode(".jpg", np.full((8, 8, 3), shade, np.uint8))
    assert ok
    return bytes(encoded)


class LedgerDB(RawDB):
    """Direct SQL on the case ledger's own tables, as an insider with database access."""

    def __init__(self, settings: Settings) -> None:
        import sqlite3

        import psycopg

        table = resolve_events_table(settings)
        assert table is not None
        self.pg = settings.uses_postgres
        self.conn: Any
        if self.pg:
            schema = settings.postgres_schema
            self.events, self.chain = f'"{schema}".{table}', f'"{schema}".{table}_chain'
            self.id = "notification_id"
            self.conn = psycopg.connect(_pg_conninfo(), autocommit=True)
        else:
            self.events, self.chain, self.id = table, f"{table}_chain", "rowid"
            self.conn = sqlite3.connect(settings.events_path, isolation_level=None)

    def topics(self) -> list[tuple[int, str]]:
        return [(r[0], r[1]) for r in self.run("SELECT {id}, topic FROM {events} ORDER BY {id}")]

    def state(self, nid: int) -> bytes:
        return bytes(self.run("SELECT state FROM {events} WHERE {id} = ?", (nid,))[0][0])


@dataclass
class Story:
    """A live deployment, then alert a raised, adjudicated and closed, then alert b raised right
    after a's Closed (adjacent rows, as in the probe), adjudicated and closed."""

    ledger: CaseLedger
    settings: Settings
    db: LedgerDB
    a: UUID
    b: UUID
    a_raised: int
    a_adjudicated: int
    a_closed: int
    b_raised: int
    last: int


@pytest.fixture
def lfr(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Any:
    """`lfr` on the test's ledger, as an oversight body runs it."""
    monkeypatch.setenv("LFR_DATA_DIR", str(settings.data_dir))
    if settings.uses_postgres:
        monkeypatch.setenv("LFR_DATABASE_URL", str(settings.database_url))
        monkeypatch.setenv("LFR_POSTGRES_SCHEMA", settings.postgres_schema or "")
    else:
        monkeypatch.delenv("LFR_DATABASE_URL", raising=False)
        monkeypatch.delenv("LFR_POSTGRES_SCHEMA", raising=False)
    # Sibling command modules are written concurrently; only load the ones that exist.
    present = tuple(m for m in lfr_ledger.api.cli.COMMAND_MODULES if importlib.util.find_spec(m))
    monkeypatch.setattr(lfr_ledger.api.cli, "COMMAND_MODULES", present)
    return lfr_ledger.api.cli.main


@pytest.fixture(params=["no checkpoint", "checkpoint before"])
def story(
    request: pytest.FixtureRequest, ledger: CaseLedger, settings: Settings, clock: Clock
) -> Iterator[Story]:
    deployment, entries = live(ledger, clock)
    if request.param == "checkpoint before":
        assert sign_if_moved(settings) is not None  # every tampered row lies after it
    a = send_alert(ledger, deployment, entries[0], clock, face_crop=_crop(40))
    ledger.adjudicate(OPERATOR, a, Decision.NO_MATCH, "a different person", ("subject",))
    ledger.close_alert(OPERATOR, a)
    b = send_alert(ledger, deployment, entries[1], clock, face_crop=_crop(200))
    ledger.adjudicate(OPERATOR, b, Decision.NO_MATCH, "not the person sought", ("subject",))
    ledger.close_alert(OPERATOR, b)
    db = LedgerDB(settings)
    rows = db.topics()
    raised = [nid for nid, topic in rows if topic == AlertTopic.RAISED]
    adjudicated = [nid for nid, topic in rows if topic == AlertTopic.ADJUDICATED]
    closed = [nid for nid, topic in rows if topic == AlertTopic.CLOSED]
    assert closed[0] + 1 == raised[1], rows  # the probe's pair: a's Closed, then b's Raised
    try:
        yield Story(
            ledger, settings, db, a, b, raised[0], adjudicated[0], closed[0], raised[1], rows[-1][0]
        )
    finally:
        db.close()


# --- the tamper kinds: each does it and returns (first bad notification id, kind) ------------


def alter(s: Story) -> tuple[int, str]:
    """A payload edited in place: a's adjudication turned from no match into a match."""
    state = s.db.state(s.a_adjudicated)
    forged = state.replace(b'"decision":"no_match"', b'"decision":"match"')
    assert forged != state
    s.db.run("UPDATE {events} SET state = ? WHERE {id} = ?", (forged, s.a_adjudicated))
    return s.a_adjudicated, "altered"


def delete(s: Story) -> tuple[int, str]:
    """A row removed, event and link (a's closure)."""
    s.db.run("DELETE FROM {events} WHERE {id} = ?", (s.a_closed,))
    s.db.run("DELETE FROM {chain} WHERE notification_id = ?", (s.a_closed,))
    return s.a_closed, "deleted"


def insert(s: Story) -> tuple[int, str]:
    """A forged row appended: a copy of a's Raised for an alert that never was."""
    (topic, state) = s.db.run("SELECT topic, state FROM {events} WHERE {id} = ?", (s.a_raised,))[0]
    s.db.run(
        "INSERT INTO {events} (originator_id, originator_version, topic, state) VALUES (?,?,?,?)",
        (s.db.originator(uuid4()), 1, topic, bytes(state)),
    )
    forged = s.db.ids()[-1]
    assert forged > s.last
    return forged, "inserted"


def swap(s: Story) -> tuple[int, str]:
    """The probe's crash: the payloads of a's Closed and b's Raised swapped, topics left."""
    closed, raised = s.db.state(s.a_closed), s.db.state(s.b_raised)
    s.db.run("UPDATE {events} SET state = ? WHERE {id} = ?", (raised, s.a_closed))
    s.db.run("UPDATE {events} SET state = ? WHERE {id} = ?", (closed, s.b_raised))
    return s.a_closed, "reordered"


def reorder(s: Story) -> tuple[int, str]:
    """Two rows' positions swapped (a's Adjudicated and b's Raised trade notification ids)."""
    first, second = s.a_adjudicated, s.b_raised
    s.db.run("UPDATE {events} SET {id} = -1 WHERE {id} = ?", (first,))
    s.db.run("UPDATE {events} SET {id} = ? WHERE {id} = ?", (first, second))
    s.db.run("UPDATE {events} SET {id} = ? WHERE {id} = -1", (second,))
    return first, "reordered"


def truncate(s: Story) -> tuple[int, str]:
    """The last two events and their links cut, after a checkpoint signed their head."""
    path = sign_if_moved(s.settings)
    assert path is not None and read_checkpoint(path)["last_id"] == s.last
    for nid in s.db.ids()[-2:]:
        s.db.run("DELETE FROM {events} WHERE {id} = ?", (nid,))
        s.db.run("DELETE FROM {chain} WHERE notification_id = ?", (nid,))
    return s.last, "deleted"


def wrong_topic(s: Story) -> tuple[int, str]:
    """A payload filed under another topic: a's Closed relabelled as an Alert.Raised."""
    s.db.run("UPDATE {events} SET topic = ? WHERE {id} = ?", (AlertTopic.RAISED, s.a_closed))
    return s.a_closed, "altered"


def chain_row(s: Story) -> tuple[int, str]:
    """The stored link of a's Adjudicated overwritten."""
    s.db.run("UPDATE {chain} SET hash = ? WHERE notification_id = ?", (bytes(32), s.a_adjudicated))
    return s.a_adjudicated, "chain_altered"


def vault_key(s: Story) -> tuple[int, str]:
    """b's image key deleted from the vault with no erasure recorded: a silent erasure."""
    assert s.ledger.vault.shred(s.b)
    return s.b_raised, "key_missing"


KINDS: dict[str, Callable[[Story], tuple[int, str]]] = {
    f.__name__: f
    for f in (alter, delete, insert, swap, reorder, truncate, wrong_topic, chain_row, vault_key)
}


def _verify_http(settings: Settings, ledger: CaseLedger, *queries: str) -> list[dict[str, Any]]:
    """`GET /audit/verify` with each query, as oversight, from one app (its shutdown closes
    the ledger)."""
    token = issue_token(settings, role="oversight", sub="ICO-1")
    bodies = []
    with TestClient(app=create_app(settings, ledger=ledger)) as client:
        for query in queries:
            reply = client.get(
                f"/audit/verify{query}", headers={"Authorization": f"Bearer {token}"}
            )
            assert reply.status_code == 200, (query, reply.text)
            bodies.append(reply.json())
    return bodies


def _first(report: dict[str, Any]) -> tuple[Any, ...]:
    first = report["findings"][0]
    return (report["ok"], report["first_bad_id"], report["reason"]), (
        first["notification_id"],
        first["kind"],
    )


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_tamper_kind_is_reported_at_its_row_and_kind(
    story: Story, lfr: Any, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    nid, reason = KINDS[kind](story)
    expected = ((False, nid, reason), (nid, reason))
    capsys.readouterr()

    assert lfr(["audit", "verify"]) == 1
    out = capsys.readouterr().out.splitlines()
    if reason in CHAIN_KINDS:
        assert out[0] == f"TAMPERED: first bad notification id {nid} ({reason})", out
    else:  # the chain's own report first, then the vault's finding
        assert out[0].startswith("OK: "), out
        [line] = [line for line in out if line.startswith("TAMPERED:")]
        assert line.startswith(f"TAMPERED: the key of alert images of {story.b} is missing"), out
        assert line.endswith(f"(created at notification {nid})"), out

    variants = [["--json"], ["--full", "--json"]]
    if kind != "truncate":  # a clean cut chains from first to last: only a checkpoint sees it
        variants.append(["--no-checkpoint", "--json"])
    for flags in variants:
        assert lfr(["audit", "verify", *flags]) == 1, flags
        assert _first(json.loads(capsys.readouterr().out)) == expected, flags

    queries = ("", "?full=true")
    bodies = _verify_http(story.settings, story.ledger, *queries)
    for query, body in zip(queries, bodies, strict=True):
        assert _first(body) == expected, query


@pytest.mark.parametrize("kind", ["swap", "wrong_topic"])
def test_the_vault_check_names_a_row_it_cannot_decode_instead_of_crashing(
    story: Story, lfr: Any, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    """Run first or alone, the vault check meets the payload that no longer fits its topic."""
    from lfr_ledger.eventlog.key_audit import audit_vault

    KINDS[kind](story)
    undecodable = story.b_raised if kind == "swap" else story.a_closed
    findings = audit_vault(story.ledger)
    assert [(f.notification_id, f.kind) for f in findings] == [(undecodable, "undecodable")]
    capsys.readouterr()
    assert lfr(["audit", "verify", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    steps = [(f["step"], f["notification_id"], f["kind"]) for f in report["findings"]]
    assert ("vault", undecodable, "undecodable") in steps[1:], steps  # after the chain's


def test_a_chain_finding_and_a_missing_key_are_both_reported_chain_first(
    story: Story, lfr: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    altered, _ = alter(story)
    keyed, _ = vault_key(story)
    expected = [("chain", altered, "altered"), ("vault", keyed, "key_missing")]
    capsys.readouterr()
    assert lfr(["audit", "verify"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"TAMPERED: first bad notification id {altered} (altered)"
    assert any(f"the key of alert images of {story.b} is missing" in line for line in out[1:])
    assert lfr(["audit", "verify", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False
    assert [(f["step"], f["notification_id"], f["kind"]) for f in report["findings"]] == expected
    [body] = _verify_http(story.settings, story.ledger, "")
    assert [(f["step"], f["notification_id"], f["kind"]) for f in body["findings"]] == expected
    assert body["missing_keys"] == [str(story.b)]


# --- what was verified is said, so a default check cannot read as a full one ---------------


def test_the_report_says_which_events_were_re_hashed(
    story: Story, lfr: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    path = sign_if_moved(story.settings)
    assert path is not None
    covered = int(read_checkpoint(path)["last_id"])
    assert covered == story.last
    story.ledger.record_consultation(OPERATOR, record="test:after", purpose="after the checkpoint")
    last = story.db.ids()[-1]
    since = f"events {covered + 1}–{last} re-hashed since checkpoint {path.name} (id {covered})"
    capsys.readouterr()

    assert lfr(["audit", "verify"]) == 0
    assert since in capsys.readouterr().out
    assert lfr(["audit", "verify", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["ok"], report["rehashed_from"], report["rehashed_to"]) == (
        True,
        covered + 1,
        last,
    )
    assert since in report["verified"]
    assert lfr(["audit", "verify", "--full"]) == 0
    assert f"events 1–{last} re-hashed" in capsys.readouterr().out

    body, full = _verify_http(story.settings, story.ledger, "", "?full=true")
    assert (body["rehashed_from"], body["rehashed_to"]) == (covered + 1, last)
    assert since in body["verified"]
    assert (full["rehashed_from"], full["rehashed_to"]) == (1, last)
    assert full["verified"].startswith(f"events 1–{last} re-hashed")


# --- payloads no step can read: still reported, never a crash -------------------------------


@pytest.mark.parametrize("damage", ["policy", "garbage", "originator"])
def test_a_row_no_step_can_read_is_reported_not_raised(
    story: Story, lfr: Any, capsys: pytest.CaptureFixture[str], damage: str
) -> None:
    """The first event (the policy, which the ledger replays to open) emptied, a payload that is
    not JSON, an originator that is no UUID (SQLite stores text)."""
    db = story.db
    if damage == "policy":
        nid = db.ids()[0]
        db.run("UPDATE {events} SET state = ? WHERE {id} = ?", (b"{}", nid))
    elif damage == "garbage":
        nid = story.a_raised
        db.run("UPDATE {events} SET state = ? WHERE {id} = ?", (b"\x00not json", nid))
    else:
        if db.pg:
            pytest.skip("PostgreSQL stores originator ids as uuid: no other value can be written")
        nid = story.a_raised
        db.run("UPDATE {events} SET originator_id = ? WHERE {id} = ?", ("not-a-uuid", nid))
    # Event 1 lies under the checkpoint, when one was signed: only the full check re-hashes it.
    full = ["--full"] if damage == "policy" else []
    capsys.readouterr()
    assert lfr(["audit", "verify", *full]) == 1
    assert capsys.readouterr().out.splitlines()[0] == (
        f"TAMPERED: first bad notification id {nid} (altered)"
    )
    assert lfr(["audit", "verify", *full, "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert (report["ok"], report["first_bad_id"], report["reason"]) == (False, nid, "altered")
    [body] = _verify_http(story.settings, story.ledger, "?full=true" if full else "")
    assert (body["ok"], body["first_bad_id"], body["reason"]) == (False, nid, "altered")
    if damage == "policy":  # the CLI's ledger cannot open, so its vault step says it did not run
        assert ("vault", "vault_unchecked") in [(f["step"], f["kind"]) for f in report["findings"]]

"""The tamper-evident log on both backends: chain written with each event, tampering detected and
named, signed checkpoints, and the `lfr audit` commands."""

from __future__ import annotations

import importlib.util
import json
import os
import sqlite3
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import IntegrityError

import lfr_ledger.api.cli
from lfr_ledger.config.settings import Settings
from lfr_ledger.eventlog.chain.hashing import GENESIS, chain_hash
from lfr_ledger.eventlog.chain.recorders import (
    ChainedPostgresApplicationRecorder,
    ChainedSQLiteApplicationRecorder,
)
from lfr_ledger.eventlog.chain.verify import verify_chain
from lfr_ledger.eventlog.chain.wiring import verify_ledger
from lfr_ledger.eventlog.checkpoint import (
    CheckpointReport,
    key_path,
    latest_checkpoint_path,
    load_or_create_signing_key,
    make_checkpoint,
    read_checkpoint,
    sign_if_moved,
    verify_checkpoint,
    write_checkpoint,
)
from lfr_ledger.eventlog.checkpoint_signature import key_id

PG_URL = os.environ.get("LFR_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


class Note(Aggregate):
    @event("Written")
    def __init__(self, text: str) -> None:
        self.text = text

    @event("Edited")
    def edit(self, text: str) -> None:
        self.text = text


class Notebook(Application):
    """Stands in for the domain application: the chain sits below any Application."""


def _pg_conninfo() -> str:
    s = Settings(database_url=PG_URL).postgres_params()
    return (
        f"host={s['host']} port={s['port']} dbname={s['dbname']} user={s['user']} "
        f"password={s['password']} connect_timeout=5"
    )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ledger_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    if request.param == "sqlite":
        yield Settings(data_dir=tmp_path / "data")
        return
    try:
        admin = psycopg.connect(_pg_conninfo(), autocommit=True)
    except psycopg.OperationalError as e:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL unreachable in CI: {e}")
        pytest.skip(f"PostgreSQL unreachable: {e}")
    schema = f"test_audit_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield Settings(data_dir=tmp_path / "data", database_url=PG_URL, postgres_schema=schema)
    finally:
        admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        admin.close()


def _open_app(settings: Settings, **extra: str) -> Notebook:
    return Notebook(env={**settings.eventsourcing_env(), **extra})


@pytest.fixture
def notebook(ledger_settings: Settings) -> Iterator[Notebook]:
    app = _open_app(ledger_settings)
    yield app
    app.close()


class RawDB:
    """Direct SQL on the ledger's tables, as a tamperer with database access would use."""

    def __init__(self, settings: Settings) -> None:
        self.pg = settings.uses_postgres
        self.conn: Any
        if self.pg:
            schema = settings.postgres_schema
            self.events = f'"{schema}".notebook_events'
            self.chain = f'"{schema}".notebook_events_chain'
            self.id = "notification_id"
            self.conn = psycopg.connect(_pg_conninfo(), autocommit=True)
        else:
            self.events, self.chain, self.id = "stored_events", "stored_events_chain", "rowid"
            self.conn = sqlite3.connect(settings.events_path, isolation_level=None)

    def run(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        sql = sql.format(events=self.events, chain=self.chain, id=self.id)
        if self.pg:
            sql = sql.replace("?", "%s")
        cur = self.conn.execute(sql, params)
        return list(cur.fetchall()) if cur.description else []

    def ids(self) -> list[int]:
        return [r[0] for r in self.run("SELECT {id} FROM {events} ORDER BY {id}")]

    def originator(self, value: uuid.UUID) -> Any:
        return value if self.pg else value.hex

    def recompute_head(self) -> bytes:
        head = GENESIS
        rows = self.run(
            "SELECT {id}, topic, originator_id, originator_version, state "
            "FROM {events} ORDER BY {id}"
        )
        for nid, topic, originator, version, state in rows:
            head = chain_hash(head, nid, topic, str(uuid.UUID(str(originator))), version, state)
        return head

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def raw(ledger_settings: Settings, notebook: Notebook) -> Iterator[RawDB]:
    db = RawDB(ledger_settings)  # after `notebook`, which creates the tables
    yield db
    db.close()


@pytest.fixture
def ids(notebook: Notebook, raw: RawDB) -> list[int]:
    """Twelve events from six notes, each written then edited, interleaved."""
    notes = [Note(text=f"note {i}") for i in range(6)]
    for note in notes:
        notebook.save(note)
    for note in notes:
        note.edit(f"{note.text} (edited)")
        notebook.save(note)
    found = raw.ids()
    assert len(found) == 12
    return found


# --- the chain as written -----------------------------------------------------------------------


def test_recorder_selected_through_environment(notebook: Notebook) -> None:
    assert isinstance(
        notebook.recorder, ChainedSQLiteApplicationRecorder | ChainedPostgresApplicationRecorder
    )


def test_untouched_log_verifies_and_head_matches_independent_recomputation(
    ledger_settings: Settings, raw: RawDB, ids: list[int]
) -> None:
    report = verify_ledger(ledger_settings)
    assert report.ok, report
    assert report.events_checked == 12
    assert report.last_id == ids[-1]
    assert report.first_bad_id is None
    # On PostgreSQL the links are hashed by the database: this cross-checks both encodings.
    assert report.head == raw.recompute_head().hex()
    links = raw.run("SELECT notification_id, prev_id FROM {chain} ORDER BY notification_id")
    assert [r[0] for r in links] == ids
    assert [r[1] for r in links] == [0, *ids[:-1]]


def test_empty_ledger_verifies(ledger_settings: Settings) -> None:
    report = verify_ledger(ledger_settings)
    assert report.ok
    assert report.events_checked == 0


def test_several_events_in_one_transaction_are_chained(
    ledger_settings: Settings, notebook: Notebook
) -> None:
    notes = [Note(text=str(i)) for i in range(5)]
    for note in notes:
        note.edit(note.text + "!")
    notebook.save(*notes)  # ten events, one INSERT, one transaction
    report = verify_ledger(ledger_settings)
    assert report.ok, report
    assert report.events_checked == 10


def test_two_writers_on_one_ledger_keep_one_chain(
    ledger_settings: Settings, notebook: Notebook
) -> None:
    other = _open_app(ledger_settings)
    try:
        for i in range(4):
            notebook.save(Note(text=f"a{i}"))
            other.save(Note(text=f"b{i}"))
    finally:
        other.close()
    notebook.save(Note(text="after"))  # its remembered head is stale: must re-read it
    report = verify_ledger(ledger_settings)
    assert report.ok, report
    assert report.events_checked == 9


def test_concurrent_write_to_same_version_raises_integrity_error_and_leaves_no_link(
    ledger_settings: Settings, notebook: Notebook
) -> None:
    note = Note(text="v1")
    notebook.save(note)
    other = _open_app(ledger_settings)
    try:
        mine = notebook.repository.get(note.id)
        theirs = other.repository.get(note.id)
        mine.edit("mine")
        theirs.edit("theirs")
        notebook.save(mine)
        with pytest.raises(IntegrityError):
            other.save(theirs)
        other.save(Note(text="later"))  # on PostgreSQL after a burnt sequence value (a gap)
    finally:
        other.close()
    report = verify_ledger(ledger_settings)
    assert report.ok, report
    assert report.events_checked == 3


@pytest.mark.parametrize(
    "ledger_settings", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_insert_through_db_function_is_chained(ledger_settings: Settings) -> None:
    app = _open_app(ledger_settings, POSTGRES_ENABLE_DB_FUNCTIONS="yes")
    try:
        for i in range(3):
            app.save(Note(text=str(i)))
    finally:
        app.close()
    assert verify_ledger(ledger_settings).events_checked == 3


def test_chain_hash_encoding_is_unambiguous() -> None:
    a = chain_hash(GENESIS, 1, "ab", "c", 1, b"s")
    assert a != chain_hash(GENESIS, 1, "a", "bc", 1, b"s")
    assert a != chain_hash(GENESIS, 2, "ab", "c", 1, b"s")
    assert a != chain_hash(GENESIS, 1, "ab", "c", 2, b"s")
    assert a != chain_hash(a, 1, "ab", "c", 1, b"s")
    assert len(a) == 32
    with pytest.raises(ValueError):
        chain_hash(b"short", 1, "t", "o", 1, b"")


# --- tampering ----------------------------------------------------------------------------------


def _assert_bad(settings: Settings, first_bad: int, reason: str, **kwargs: Any) -> None:
    report = verify_ledger(settings, **kwargs)
    assert not report.ok
    assert (report.first_bad_id, report.reason) == (first_bad, reason), report


def test_altered_state_is_named(ledger_settings: Settings, raw: RawDB, ids: list[int]) -> None:
    raw.run("UPDATE {events} SET state = ? WHERE {id} = ?", (b'{"text":"forged"}', ids[4]))
    _assert_bad(ledger_settings, ids[4], "altered")


def test_altered_state_found_across_batches(notebook: Notebook, raw: RawDB, ids: list[int]) -> None:
    raw.run("UPDATE {events} SET topic = ? WHERE {id} = ?", ("forged:Topic", ids[10]))
    report = verify_chain(notebook.recorder, batch_size=3)  # type: ignore[arg-type]
    assert (report.first_bad_id, report.reason, report.events_checked) == (ids[10], "altered", 10)


def test_deleted_event_row_is_named(ledger_settings: Settings, raw: RawDB, ids: list[int]) -> None:
    raw.run("DELETE FROM {events} WHERE {id} = ?", (ids[5],))
    _assert_bad(ledger_settings, ids[5], "deleted")


def test_deleted_event_and_link_is_named(
    ledger_settings: Settings, raw: RawDB, ids: list[int]
) -> None:
    raw.run("DELETE FROM {events} WHERE {id} = ?", (ids[5],))
    raw.run("DELETE FROM {chain} WHERE notification_id = ?", (ids[5],))
    _assert_bad(ledger_settings, ids[5], "deleted")


def test_swapped_state_and_topic_is_named(
    ledger_settings: Settings, raw: RawDB, ids: list[int]
) -> None:
    a, b = ids[3], ids[8]
    (ta, sa), (tb, sb) = (
        raw.run("SELECT topic, state FROM {events} WHERE {id} = ?", (i,))[0] for i in (a, b)
    )
    raw.run("UPDATE {events} SET topic = ?, state = ? WHERE {id} = ?", (tb, sb, a))
    raw.run("UPDATE {events} SET topic = ?, state = ? WHERE {id} = ?", (ta, sa, b))
    _assert_bad(ledger_settings, a, "reordered")


def test_swapped_notification_ids_are_named(
    ledger_settings: Settings, raw: RawDB, ids: list[int]
) -> None:
    a, b = ids[2], ids[9]
    raw.run("UPDATE {events} SET {id} = -1 WHERE {id} = ?", (a,))
    raw.run("UPDATE {events} SET {id} = ? WHERE {id} = ?", (a, b))
    raw.run("UPDATE {events} SET {id} = ? WHERE {id} = -1", (b,))
    _assert_bad(ledger_settings, a, "reordered")


def test_forged_event_without_link_is_named(
    ledger_settings: Settings, raw: RawDB, ids: list[int]
) -> None:
    raw.run(
        "INSERT INTO {events} (originator_id, originator_version, topic, state) VALUES (?,?,?,?)",
        (raw.originator(uuid.uuid4()), 1, "tests:Forged", b"{}"),
    )
    forged = raw.ids()[-1]
    assert forged > ids[-1]
    _assert_bad(ledger_settings, forged, "inserted")


def test_forged_event_with_forged_link_is_named(
    ledger_settings: Settings, raw: RawDB, ids: list[int]
) -> None:
    # Make room after ids[6] (as a renumbering forger would), then insert a perfectly hashed
    # forged event there: its own link checks out, but the next genuine link skips over it.
    k = ids[6]
    raw.run("UPDATE {events} SET {id} = {id} + 1000 WHERE {id} > ?", (k,))
    raw.run(
        "UPDATE {chain} SET notification_id = notification_id + 1000 WHERE notification_id > ?",
        (k,),
    )
    (prev_hash,) = raw.run("SELECT hash FROM {chain} WHERE notification_id = ?", (k,))[0]
    originator, topic, state = uuid.uuid4(), "tests:Forged", b'{"text":"forged"}'
    forged = k + 1
    raw.run(
        "INSERT INTO {events} ({id}, originator_id, originator_version, topic, state) "
        "VALUES (?,?,?,?,?)",
        (forged, raw.originator(originator), 1, topic, state),
    )
    link = chain_hash(bytes(prev_hash), forged, topic, str(originator), 1, state)
    raw.run("INSERT INTO {chain} VALUES (?,?,?)", (forged, k, link))
    _assert_bad(ledger_settings, forged, "inserted")


def test_altered_link_is_named(ledger_settings: Settings, raw: RawDB, ids: list[int]) -> None:
    raw.run("UPDATE {chain} SET hash = ? WHERE notification_id = ?", (bytes(32), ids[7]))
    _assert_bad(ledger_settings, ids[7], "chain_altered")


def test_deleted_link_is_named(ledger_settings: Settings, raw: RawDB, ids: list[int]) -> None:
    raw.run("DELETE FROM {chain} WHERE notification_id = ?", (ids[7],))
    _assert_bad(ledger_settings, ids[7], "chain_missing")


def test_dropped_chain_table_is_reported(
    ledger_settings: Settings, raw: RawDB, ids: list[int]
) -> None:
    raw.run("DROP TABLE {chain}")
    report = verify_ledger(ledger_settings)
    assert (report.ok, report.reason) == (False, "chain_missing")


# --- checkpoints --------------------------------------------------------------------------------


def test_checkpoint_signs_head_and_is_extended_by_later_events(
    ledger_settings: Settings, notebook: Notebook, ids: list[int], tmp_path: Path
) -> None:
    checkpoint = make_checkpoint(ledger_settings)
    assert checkpoint["last_id"] == ids[-1]
    assert checkpoint["head"] == verify_ledger(ledger_settings).head
    path = tmp_path / "cp.json"
    write_checkpoint(path, checkpoint)
    notebook.save(Note(text="later"))
    report = verify_checkpoint(ledger_settings, read_checkpoint(path))
    assert report.ok and report.signature_ok and report.extends, report
    assert report.chain is not None and report.chain.events_checked == 13


def test_signing_key_is_private_and_reused(ledger_settings: Settings) -> None:
    first = load_or_create_signing_key(ledger_settings)
    assert stat.S_IMODE(key_path(ledger_settings).stat().st_mode) == 0o600
    again = load_or_create_signing_key(ledger_settings)
    assert key_id(first.public_key()) == key_id(again.public_key())


def test_forged_checkpoints_are_refused(ledger_settings: Settings, ids: list[int]) -> None:
    genuine = make_checkpoint(ledger_settings)
    edited = {**genuine, "last_id": ids[3]}
    report = verify_checkpoint(ledger_settings, edited)
    assert (report.ok, report.signature_ok, report.reason) == (False, False, "bad signature")

    stranger = Ed25519PrivateKey.generate()
    foreign = make_checkpoint(ledger_settings, stranger)
    report = verify_checkpoint(ledger_settings, foreign)
    assert not report.ok and report.reason is not None and "unknown key" in report.reason
    # Claiming the ledger's key id does not help a stranger's signature.
    report = verify_checkpoint(ledger_settings, {**foreign, "key_id": genuine["key_id"]})
    assert (report.ok, report.reason) == (False, "bad signature")
    # The stranger's checkpoint is fine against the stranger's own key.
    assert verify_checkpoint(ledger_settings, foreign, stranger.public_key()).ok


def test_consistently_rewritten_chain_is_caught_by_checkpoint(
    ledger_settings: Settings, raw: RawDB, ids: list[int]
) -> None:
    checkpoint = make_checkpoint(ledger_settings)
    # A thorough forger alters an event and recomputes every later link: the chain alone agrees.
    raw.run("UPDATE {events} SET state = ? WHERE {id} = ?", (b'{"text":"forged"}', ids[2]))
    rows = raw.run(
        "SELECT {id}, topic, originator_id, originator_version, state FROM {events} ORDER BY {id}"
    )
    head = GENESIS
    for nid, topic, originator, version, state in rows:
        head = chain_hash(head, nid, topic, str(uuid.UUID(str(originator))), version, state)
        raw.run("UPDATE {chain} SET hash = ? WHERE notification_id = ?", (head, nid))
    assert verify_ledger(ledger_settings).ok
    report = verify_checkpoint(ledger_settings, checkpoint)
    assert (report.ok, report.signature_ok, report.extends) == (False, True, False)
    assert report.reason == "checkpoint_mismatch"


def test_truncated_tail_is_caught_by_checkpoint(
    ledger_settings: Settings, raw: RawDB, ids: list[int]
) -> None:
    checkpoint = make_checkpoint(ledger_settings)
    for nid in ids[-2:]:
        raw.run("DELETE FROM {events} WHERE {id} = ?", (nid,))
        raw.run("DELETE FROM {chain} WHERE notification_id = ?", (nid,))
    assert verify_ledger(ledger_settings).ok  # a clean cut is invisible without a checkpoint
    report = verify_checkpoint(ledger_settings, checkpoint)
    assert not report.ok
    assert report.chain is not None
    assert (report.chain.first_bad_id, report.reason) == (ids[-1], "deleted")


def test_checkpoint_of_broken_log_is_refused(
    ledger_settings: Settings, raw: RawDB, ids: list[int]
) -> None:
    from lfr_ledger.eventlog.checkpoint_signature import CheckpointError

    raw.run("DELETE FROM {events} WHERE {id} = ?", (ids[0],))
    with pytest.raises(CheckpointError, match="TAMPERED"):
        make_checkpoint(ledger_settings)


# --- the CLI ------------------------------------------------------------------------------------


@pytest.fixture
def lfr(ledger_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("LFR_DATA_DIR", str(ledger_settings.data_dir))
    if ledger_settings.uses_postgres:
        monkeypatch.setenv("LFR_DATABASE_URL", PG_URL)
        monkeypatch.setenv("LFR_POSTGRES_SCHEMA", ledger_settings.postgres_schema or "")
    else:
        monkeypatch.delenv("LFR_DATABASE_URL", raising=False)
        monkeypatch.delenv("LFR_POSTGRES_SCHEMA", raising=False)
    # Sibling command modules are written concurrently; only load the ones that exist.
    present = tuple(m for m in lfr_ledger.api.cli.COMMAND_MODULES if importlib.util.find_spec(m))
    monkeypatch.setattr(lfr_ledger.api.cli, "COMMAND_MODULES", present)
    return lfr_ledger.api.cli.main


def test_cli_verify_exit_codes(
    lfr: Any, raw: RawDB, ids: list[int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert lfr(["audit", "verify"]) == 0
    assert capsys.readouterr().out.startswith("OK: 12 events verified")

    cp = tmp_path / "cp.json"
    assert lfr(["audit", "checkpoint", "--out", str(cp)]) == 0
    assert json.loads(cp.read_text())["last_id"] == ids[-1]
    capsys.readouterr()
    assert lfr(["audit", "verify", "--checkpoint", str(cp)]) == 0
    capsys.readouterr()

    raw.run("UPDATE {events} SET state = ? WHERE {id} = ?", (b"{}", ids[6]))
    # Before the checkpoint: the default verify starts after it (its signed head vouches for
    # ids[6]), the full one recomputes from the first event and names it.
    assert lfr(["audit", "verify"]) == 0
    assert capsys.readouterr().out.startswith("OK: verified 0 events since checkpoint")
    assert lfr(["audit", "verify", "--full"]) == 1
    assert (
        capsys.readouterr().out.strip() == f"TAMPERED: first bad notification id {ids[6]} (altered)"
    )
    assert lfr(["audit", "verify", "--full", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert (report["ok"], report["first_bad_id"], report["reason"]) == (False, ids[6], "altered")
    assert report["full"] is True
    assert lfr(["audit", "verify", "--no-checkpoint"]) == 1
    assert lfr(["audit", "verify", "--checkpoint", str(cp), "--full"]) == 1
    assert f"first bad notification id {ids[6]}" in capsys.readouterr().out
    assert lfr(["audit", "checkpoint", "--full"]) == 1


def test_cli_checkpoint_with_exported_public_key(
    lfr: Any, ids: list[int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert lfr(["audit", "public-key"]) == 0
    pem = capsys.readouterr().out
    assert pem.startswith("-----BEGIN PUBLIC KEY-----")
    key_file = tmp_path / "ledger.pub"
    key_file.write_text(pem)
    assert lfr(["audit", "checkpoint"]) == 0
    cp = tmp_path / "cp.json"
    cp.write_text(capsys.readouterr().out)
    args = ["audit", "verify", "--checkpoint", str(cp), "--public-key", str(key_file)]
    assert lfr(args) == 0
    other = tmp_path / "other.pub"
    from lfr_ledger.eventlog.checkpoint_signature import public_key_pem

    other.write_text(public_key_pem(Ed25519PrivateKey.generate().public_key()))
    assert lfr(["audit", "verify", "--checkpoint", str(cp), "--public-key", str(other)]) == 1
    assert "unknown key" in capsys.readouterr().out
    assert lfr(["audit", "verify", "--checkpoint", str(tmp_path / "missing.json")]) == 2


# --- automatic checkpoints (issue 10, defect 7) ---------------------------------------------


def test_checkpoints_are_signed_only_when_the_log_moved_and_verify_uses_the_latest(
    lfr: Any,
    ledger_settings: Settings,
    notebook: Notebook,
    raw: RawDB,
    ids: list[int],
    capsys: pytest.CaptureFixture[str],
) -> None:
    first = sign_if_moved(ledger_settings)
    assert first is not None and latest_checkpoint_path(ledger_settings) == first
    assert sign_if_moved(ledger_settings) is None  # nothing new: nothing signed
    notebook.save(Note(text="one more"))
    second = sign_if_moved(ledger_settings)
    assert second is not None and second != first and first.exists()
    assert read_checkpoint(second)["last_id"] == raw.ids()[-1]

    # A forger rewrites an event and every later link: the chain alone agrees, but the
    # default verify holds the log to the latest checkpoint and refuses it.
    raw.run("UPDATE {events} SET state = ? WHERE {id} = ?", (b'{"text":"forged"}', ids[2]))
    head = GENESIS
    for nid, topic, originator, version, state in raw.run(
        "SELECT {id}, topic, originator_id, originator_version, state FROM {events} ORDER BY {id}"
    ):
        head = chain_hash(head, nid, topic, str(uuid.UUID(str(originator))), version, state)
        raw.run("UPDATE {chain} SET hash = ? WHERE notification_id = ?", (head, nid))
    capsys.readouterr()
    assert lfr(["audit", "verify", "--no-checkpoint"]) == 0
    assert lfr(["audit", "verify"]) == 1
    out = capsys.readouterr().out
    last = read_checkpoint(second)["last_id"]
    assert f"TAMPERED: first bad notification id {last} (checkpoint_mismatch)" in out, out


@pytest.mark.parametrize("points_to", [2, 8, 0])
def test_an_edited_prev_id_is_named_at_its_own_row(
    ledger_settings: Settings, raw: RawDB, ids: list[int], points_to: int
) -> None:
    """Issue 10, defect 7: editing a link's prev_id used to be reported as an insertion at
    another row."""
    target = 0 if points_to == 0 else ids[points_to]
    raw.run("UPDATE {chain} SET prev_id = ? WHERE notification_id = ?", (target, ids[5]))
    _assert_bad(ledger_settings, ids[5], "chain_altered")


# --- verification since the latest checkpoint (issue 15) --------------------------------------


def _checkpoint_then(notebook: Notebook, settings: Settings, more: int) -> tuple[Path, list[Note]]:
    """Keeps a checkpoint of the log as it is, then records `more` notes after it."""
    path = sign_if_moved(settings)
    assert path is not None
    notes = [Note(text=f"after {i}") for i in range(more)]
    for note in notes:
        notebook.save(note)
    return path, notes


def _since(settings: Settings, path: Path, *, full: bool = False) -> CheckpointReport:
    return verify_checkpoint(settings, read_checkpoint(path), full=full, name=path.name)


def test_verify_since_checkpoint_checks_only_the_new_events(
    ledger_settings: Settings, notebook: Notebook, raw: RawDB, ids: list[int]
) -> None:
    path, _ = _checkpoint_then(notebook, ledger_settings, 3)
    report = _since(ledger_settings, path)
    assert report.ok and report.extends and not report.full, report
    assert report.chain is not None
    assert (report.chain.events_checked, report.chain.since_id) == (3, ids[-1])
    assert report.chain.head == raw.recompute_head().hex()
    assert report.summary().startswith(
        f"OK: verified 3 events since checkpoint {path.name} (id {ids[-1]})"
    )
    full = _since(ledger_settings, path, full=True).chain
    assert full is not None and full.events_checked == 15


def test_verify_since_checkpoint_catches_tampering_after_it_not_before(
    ledger_settings: Settings, notebook: Notebook, raw: RawDB, ids: list[int]
) -> None:
    path, _ = _checkpoint_then(notebook, ledger_settings, 3)
    new = raw.ids()[-2]
    raw.run("UPDATE {events} SET state = ? WHERE {id} = ?", (b'{"text":"forged"}', new))
    report = _since(ledger_settings, path)
    assert report.chain is not None
    assert (report.ok, report.extends, report.chain.first_bad_id, report.reason) == (
        False,
        True,
        new,
        "altered",
    )
    raw.run("UPDATE {events} SET state = ? WHERE {id} = ?", (b'{"text":"forged"}', ids[3]))
    # By design the checkpoint vouches for ids[3]; the full verify still names it.
    full = _since(ledger_settings, path, full=True)
    assert full.chain is not None and (full.chain.first_bad_id, full.reason) == (ids[3], "altered")


def test_verify_since_checkpoint_catches_a_cut_tail(
    ledger_settings: Settings, notebook: Notebook, raw: RawDB, ids: list[int]
) -> None:
    path, _ = _checkpoint_then(notebook, ledger_settings, 2)
    for nid in raw.ids()[-4:]:  # the two new events and two the checkpoint covers
        raw.run("DELETE FROM {events} WHERE {id} = ?", (nid,))
        raw.run("DELETE FROM {chain} WHERE notification_id = ?", (nid,))
    assert verify_ledger(ledger_settings).ok  # a clean cut: the chain alone agrees
    report = _since(ledger_settings, path)
    assert report.chain is not None
    assert (report.ok, report.extends, report.chain.first_bad_id, report.reason) == (
        False,
        False,
        ids[-1],
        "deleted",
    )


@pytest.mark.parametrize("what", ["link", "event"])
def test_tampering_exactly_at_the_checkpoint_id_is_caught(
    ledger_settings: Settings, notebook: Notebook, raw: RawDB, ids: list[int], what: str
) -> None:
    path, _ = _checkpoint_then(notebook, ledger_settings, 1)
    if what == "link":
        raw.run("UPDATE {chain} SET hash = ? WHERE notification_id = ?", (bytes(32), ids[-1]))
    else:  # the link keeps the signed head, but the event no longer hashes to it
        raw.run("UPDATE {events} SET state = ? WHERE {id} = ?", (b'{"text":"x"}', ids[-1]))
    report = _since(ledger_settings, path)
    assert report.chain is not None
    expected = "checkpoint_mismatch" if what == "link" else "altered"
    assert (report.ok, report.extends, report.chain.first_bad_id, report.reason) == (
        False,
        False,
        ids[-1],
        expected,
    )


def test_a_checkpoint_extends_its_predecessor(
    ledger_settings: Settings, notebook: Notebook, raw: RawDB, ids: list[int]
) -> None:
    from lfr_ledger.eventlog.checkpoint_signature import (
        check_checkpoint_chain,
        checkpoint_digest,
        reference,
    )

    first_path, _ = _checkpoint_then(notebook, ledger_settings, 2)
    first = read_checkpoint(first_path)
    # Version 3: the checkpoint also signs the Merkle tree over the 12 links (issue 23).
    assert (first["version"], first["previous"], first["events"]) == (3, None, 12)
    assert first["tree_size"] == 12 and len(first["root"]) == 64
    assert make_checkpoint(ledger_settings)["last_id"] == raw.ids()[-1]
    second_path = sign_if_moved(ledger_settings)
    assert second_path is not None
    second = read_checkpoint(second_path)
    assert second["previous"] == reference(first)
    assert second["previous"]["digest"] == checkpoint_digest(first)
    assert (second["events"], second["head"]) == (14, raw.recompute_head().hex())
    assert make_checkpoint(ledger_settings) == second  # nothing new: the latest covers the head
    public = load_or_create_signing_key(ledger_settings).public_key()
    assert check_checkpoint_chain([first, second], public) is None
    problem = check_checkpoint_chain([second], public)
    assert problem is not None and "not among them" in problem
    # The reference is signed: pointing a checkpoint elsewhere breaks its signature.
    rewired = {**second, "previous": None}
    assert verify_checkpoint(ledger_settings, rewired).reason == "bad signature"


def test_a_checkpoint_refuses_to_extend_one_whose_head_no_longer_matches(
    ledger_settings: Settings, notebook: Notebook, raw: RawDB, ids: list[int]
) -> None:
    from lfr_ledger.eventlog.checkpoint_signature import CheckpointError

    _checkpoint_then(notebook, ledger_settings, 1)
    # A consistent rewrite: the chain alone agrees, but link ids[-1] is no longer the signed head.
    raw.run("UPDATE {events} SET state = ? WHERE {id} = ?", (b'{"text":"forged"}', ids[2]))
    head = GENESIS
    for nid, topic, originator, version, state in raw.run(
        "SELECT {id}, topic, originator_id, originator_version, state FROM {events} ORDER BY {id}"
    ):
        head = chain_hash(head, nid, topic, str(uuid.UUID(str(originator))), version, state)
        raw.run("UPDATE {chain} SET hash = ? WHERE notification_id = ?", (head, nid))
    assert verify_ledger(ledger_settings).ok
    with pytest.raises(CheckpointError, match=f"refusing to extend checkpoint id {ids[-1]}"):
        make_checkpoint(ledger_settings)
    with pytest.raises(CheckpointError, match="checkpoint_mismatch"):
        make_checkpoint(ledger_settings, full=True)


def test_a_version_1_checkpoint_stays_readable_and_is_extended_as_a_first_one(
    ledger_settings: Settings, notebook: Notebook, ids: list[int]
) -> None:
    from lfr_ledger.eventlog.checkpoint import save_checkpoint
    from lfr_ledger.eventlog.checkpoint_signature import previous_of, reference, sign

    key = load_or_create_signing_key(ledger_settings)
    v1 = {k: v for k, v in make_checkpoint(ledger_settings).items() if k != "previous"}
    v1["version"] = 1
    v1["signature"] = sign(v1, key)  # signed as a release before issue 15 signed them
    save_checkpoint(ledger_settings, v1)
    assert previous_of(v1) is None
    assert verify_checkpoint(ledger_settings, v1, full=False).ok
    notebook.save(Note(text="after"))
    extended = make_checkpoint(ledger_settings)
    assert extended["previous"] == reference(v1)
    assert verify_checkpoint(ledger_settings, extended).ok


def test_cli_verify_since_checkpoint_and_full(
    lfr: Any,
    ledger_settings: Settings,
    notebook: Notebook,
    raw: RawDB,
    ids: list[int],
    capsys: pytest.CaptureFixture[str],
) -> None:
    path, _ = _checkpoint_then(notebook, ledger_settings, 2)
    capsys.readouterr()
    assert lfr(["audit", "verify"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"OK: verified 2 events since checkpoint {path.name} (id {ids[-1]})")
    assert lfr(["audit", "verify", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["events_checked"], report["since_id"], report["full"]) == (2, ids[-1], False)
    assert lfr(["audit", "verify", "--full", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["events_checked"], report["since_id"], report["full"]) == (14, 0, True)

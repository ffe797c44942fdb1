"""Issue 23: witnessed checkpoints. A real `lfr witness serve` process on a loopback port; the
ledger's signed checkpoints reach it (with consistency proofs), a witness that is down is caught
up later, and the insider test: an old event rewritten in the database, every chain link after
it recomputed (the plain chain check passes) and every kept checkpoint re-signed with the
ledger's own key; `lfr audit verify --witness URL` exits 1 naming the first checkpoint that no
longer matches, and the witness refuses the next checkpoint. Real ledger, both backends."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from litestar.testing import TestClient

from lfr_ledger.api.app import create_app
from lfr_ledger.api.auth import issue_token
from lfr_ledger.api.bootstrap import build_ledger
from lfr_ledger.api.demo.sample_deployment import OPERATOR
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.alert import AlertTopic
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.domain.values import Decision
from lfr_ledger.eventlog import merkle
from lfr_ledger.eventlog.chain.hashing import GENESIS, chain_hash
from lfr_ledger.eventlog.chain.wiring import open_chain_reader
from lfr_ledger.eventlog.checkpoint import (
    kept_checkpoints,
    load_or_create_signing_key,
    write_checkpoint,
)
from lfr_ledger.eventlog.checkpoint_signature import key_id, public_key_pem, reference, sign
from lfr_ledger.eventlog.merkle import Frontier
from lfr_ledger.eventlog.tree import BlockTable, grow
from lfr_ledger.eventlog.witness.client import deliver, read_state, sign_and_send
from lfr_ledger.eventlog.witness.protocol import check_cosignature
from lfr_ledger.eventlog.witness.store import WitnessRefusal, WitnessStore
from tests.conftest import Clock
from tests.test_invariants import live, send_alert
from tests.test_tamper_kinds import LedgerDB

LFR = str(Path(sys.executable).parent / "lfr")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Witness:
    """`lfr witness serve` in its own process, with its own data directory."""

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        self.port = port or _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [LFR, "witness", "serve", "--data-dir", str(data_dir), "--port", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
            if self.process.poll() is not None:
                raise RuntimeError(
                    self.process.stderr.read().decode() if self.process.stderr else ""
                )
        self.stop()
        raise RuntimeError("the witness did not start")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="module")
def witness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Witness]:
    running = Witness(tmp_path_factory.mktemp("witness"))
    yield running
    running.stop()


@pytest.fixture
def witnessed(settings: Settings, witness: Witness) -> Settings:
    """The test's ledger, sending to the witness under a name of its own."""
    return dataclasses.replace(
        settings, witnesses=(witness.url,), ledger_name=f"force-{uuid.uuid4().hex[:8]}"
    )


def _env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LFR_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("LFR_LEDGER_NAME", settings.ledger_name)
    monkeypatch.setenv("LFR_WITNESSES", ",".join(settings.witnesses))
    if settings.uses_postgres:
        monkeypatch.setenv("LFR_DATABASE_URL", str(settings.database_url))
        monkeypatch.setenv("LFR_POSTGRES_SCHEMA", settings.postgres_schema or "")
    else:
        monkeypatch.delenv("LFR_DATABASE_URL", raising=False)
        monkeypatch.delenv("LFR_POSTGRES_SCHEMA", raising=False)


def _lfr(*args: str) -> tuple[int, str, str]:
    from lfr_ledger.api.cli import main

    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = io.StringIO(), io.StringIO()
    try:
        code = main(list(args))
        return code, sys.stdout.getvalue(), sys.stderr.getvalue()
    finally:
        sys.stdout, sys.stderr = out, err


def _alert(ledger: CaseLedger, deployment: Any, entry: Any, clock: Clock) -> None:
    alert = send_alert(ledger, deployment, entry, clock)
    ledger.adjudicate(OPERATOR, alert, Decision.NO_MATCH, "a different person", ("subject",))
    clock.advance(minutes=1)


def _held(witness: Witness, name: str) -> list[dict[str, Any]]:
    reply = httpx.get(f"{witness.url}/v1/ledgers/{name}/checkpoints", timeout=5)
    reply.raise_for_status()
    return list(reply.json()["witnessed"])


def _three_checkpoints(ledger: CaseLedger, settings: Settings, clock: Clock) -> list[int]:
    deployment, entries = live(ledger, clock)
    ids = []
    for _ in range(3):
        _alert(ledger, deployment, entries[0], clock)
        path = sign_and_send(settings)
        assert path is not None
        ids.append(json.loads(path.read_text())["last_id"])
    return ids


def test_each_checkpoint_reaches_the_witness_and_is_countersigned(
    ledger: CaseLedger, witnessed: Settings, witness: Witness, clock: Clock
) -> None:
    ids = _three_checkpoints(ledger, witnessed, clock)
    held = _held(witness, witnessed.ledger_name)
    assert [h["last_id"] for h in held] == ids
    assert read_state(witnessed, witness.url)["acknowledged_last_id"] == ids[-1]
    kept = sorted((witnessed.data_dir / "witnesses").glob("*/cosignature-*.json"))
    assert len(kept) == 3


def _insider_rewrites(settings: Settings) -> int:
    """Edits the first alert's adjudication, recomputes every link after it, rebuilds the
    tree's blocks and re-signs every kept checkpoint with the ledger's key; returns the id."""
    db = LedgerDB(settings)
    try:
        rows = db.topics()
        target = next(nid for nid, topic in rows if topic == AlertTopic.ADJUDICATED)
        state = db.state(target)
        forged = state.replace(b'"decision":"no_match"', b'"decision":"match"')
        assert forged != state
        db.run("UPDATE {events} SET state = ? WHERE {id} = ?", (forged, target))
        head, links = GENESIS, {}
        for row_id, topic, originator, version, blob in db.run(
            "SELECT {id}, topic, originator_id, originator_version, state FROM {events} "
            "ORDER BY {id}"
        ):
            head = chain_hash(
                head, row_id, topic, str(uuid.UUID(str(originator))), version, bytes(blob)
            )
            links[row_id] = head
            if row_id >= target:
                db.run("UPDATE {chain} SET hash = ? WHERE notification_id = ?", (head, row_id))
    finally:
        db.close()
    key = load_or_create_signing_key(settings)
    previous = None
    for path, checkpoint in list(kept_checkpoints(settings)):
        tree = Frontier()
        for nid in sorted(links)[: checkpoint["tree_size"]]:
            tree.append(links[nid])
        forged_cp = {k: v for k, v in checkpoint.items() if k not in ("signature", "frontier")}
        forged_cp.update(
            head=links[checkpoint["last_id"]].hex(),
            root=tree.root().hex(),
            previous=reference(previous) if previous is not None else None,
        )
        forged_cp["signature"] = sign(forged_cp, key)
        forged_cp["frontier"] = tree.to_hex()
        write_checkpoint(path, forged_cp)
        previous = forged_cp
    with open_chain_reader(settings, checkpoint["events_table"]) as reader:
        blocks, _ = grow(reader, Frontier(), 0, 2**62)
        BlockTable(reader).write(blocks)
    return target


def test_the_insider_test(
    ledger: CaseLedger,
    witnessed: Settings,
    witness: Witness,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ids = _three_checkpoints(ledger, witnessed, clock)
    _env(witnessed, monkeypatch)
    assert _lfr("audit", "verify", "--witness", witness.url)[0] == 0
    target = _insider_rewrites(witnessed)
    assert target <= ids[0]  # under the first witnessed checkpoint
    # The ledger's own checks are defeated: the chain verifies, the checkpoints verify.
    code, out, _ = _lfr("audit", "verify", "--full")
    assert code == 0, out
    code, out, err = _lfr("audit", "verify", "--witness", witness.url)
    print(out)
    assert code == 1, (out, err)
    assert (
        f"TAMPERED: witness: checkpoint id {ids[0]} (tree size {ids[0]}), witnessed by "
        f"{witness.url}"
    ) in out
    assert "no longer matches" in out
    code, out, _ = _lfr("audit", "verify", "--witness", witness.url, "--json")
    report = json.loads(out)
    assert code == 1 and not report["ok"]
    found = [f for f in report["findings"] if f["step"] == "witness"]
    assert found[0]["kind"] == "witness_mismatch" and found[0]["notification_id"] == ids[0]
    # The oversight page's route says the same.
    token = issue_token(witnessed, role="oversight", sub="ICO-1")
    with TestClient(app=create_app(witnessed, ledger=ledger)) as client:
        reply = client.get("/audit/witnesses", headers={"Authorization": f"Bearer {token}"})
    assert reply.status_code == 200, reply.text
    status = reply.json()
    assert status["ok"] is False
    assert status["witnesses"][0]["first_mismatch"]["last_id"] == ids[0]
    # The next checkpoint cannot be witnessed: its tree does not extend the witnessed one.
    restarted = build_ledger(witnessed)  # the insider restarts the service on the new log
    try:
        restarted.record_consultation(OPERATOR, record="after:rewrite", purpose="moving on")
    finally:
        restarted.close()
    sign_and_send(witnessed)
    refused = read_state(witnessed, witness.url)["refused"]
    assert "does not extend the one witnessed" in refused["detail"]
    assert [h["last_id"] for h in _held(witness, witnessed.ledger_name)] == ids


def test_a_witness_that_is_down_never_blocks_and_is_caught_up(
    ledger: CaseLedger, settings: Settings, clock: Clock, tmp_path: Path
) -> None:
    port = _free_port()  # nothing listens yet: a real refused connection
    down = dataclasses.replace(
        settings, witnesses=(f"http://127.0.0.1:{port}",), ledger_name="force-late"
    )
    deployment, entries = live(ledger, clock)
    _alert(ledger, deployment, entries[0], clock)
    started = time.monotonic()
    assert sign_and_send(down) is not None
    assert time.monotonic() - started < 5
    _alert(ledger, deployment, entries[0], clock)
    assert sign_and_send(down) is not None
    late = Witness(tmp_path / "late-witness", port)
    try:
        delivery = deliver(down, late.url)
        assert (delivery.sent, delivery.pending, delivery.error) == (2, 0, None)
        assert len(_held(late, "force-late")) == 2
    finally:
        late.stop()


# --- the witness's rule, on its store ---------------------------------------------------------


def _signed(key: Any, links: list[bytes], *, version: int = 3) -> dict[str, Any]:
    checkpoint: dict[str, Any] = {
        "type": "lfr-ledger/checkpoint",
        "version": version,
        "events_table": "stored_events",
        "last_id": len(links),
        "head": links[-1].hex(),
        "events": len(links),
        "created_at": "2025-06-01T12:00:00+00:00",
        "key_id": key_id(key.public_key()),
        "previous": None,
    }
    if version == 3:
        checkpoint.update(tree_size=len(links), root=merkle.root_of(links).hex())
    checkpoint["signature"] = sign(checkpoint, key)
    return checkpoint


def _proof(links: list[bytes], first: int) -> list[str]:
    def subtree(start: int, end: int) -> bytes:
        return merkle.root_of(links[start:end])

    return [h.hex() for h in merkle.consistency_proof(first, len(links), subtree)]


def test_the_witness_store_keeps_append_only_and_refuses_what_it_cannot_vouch_for(
    tmp_path: Path,
) -> None:
    store = WitnessStore(tmp_path / "w")
    key, stranger = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    pem = public_key_pem(key.public_key())
    links = [hashlib.sha256(bytes([i])).digest() for i in range(40)]

    def submit(checkpoint: Any, *, with_pem: str = pem, from_size: int = 0, proof: Any = ()) -> Any:
        body = {
            "checkpoint": checkpoint,
            "public_key_pem": with_pem,
            "from_size": from_size,
            "consistency": list(proof),
        }
        return store.submit("force-a", body)

    def refused(kind: str, *args: Any, **kwargs: Any) -> str:
        with pytest.raises(WitnessRefusal) as caught:
            submit(*args, **kwargs)
        assert caught.value.kind == kind, caught.value.detail
        return caught.value.detail

    try:
        first = _signed(key, links[:10])
        status, held = submit(first)
        assert status == 201 and check_cosignature(held.cosignature, store.public_key) is None
        assert submit(first)[1].cosignature == held.cosignature  # again: what it holds
        with pytest.raises(WitnessRefusal, match="JSON object"):
            store.submit("force-a", ["not", "an", "object"])
        refused("bad-checkpoint", {**first, "root": merkle.root_of(links[:9]).hex()})
        refused("bad-checkpoint", _signed(key, links[:12], version=2))
        other = public_key_pem(stranger.public_key())
        refused("wrong-key", _signed(stranger, links[:12]), with_pem=other)
        refused("stale", _signed(key, links[:20]), from_size=5, proof=_proof(links[:20], 5))
        # A past rewritten under the witnessed tree cannot be proven to extend it.
        rewritten = [bytes(32), *links[1:20]]
        detail = refused(
            "inconsistent", _signed(key, rewritten), from_size=10, proof=_proof(rewritten, 10)
        )
        assert "does not extend the one witnessed at size 10" in detail
        assert (
            submit(_signed(key, links[:20]), from_size=10, proof=_proof(links[:20], 10))[0] == 201
        )
        refused("superseded", _signed(key, links[:15]), from_size=20)
        refused("inconsistent", _signed(key, rewritten[:10]), from_size=20)  # re-signed, held
        assert [w.tree_size for w in store.page("force-a")] == [10, 20]
        with pytest.raises(WitnessRefusal, match="ledger name"):
            store.page("../etc")
        conn = sqlite3.connect(tmp_path / "w" / "witness.sqlite")
        try:
            for statement in ("UPDATE witnessed SET root = 'x'", "DELETE FROM witnessed"):
                with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                    conn.execute(statement)
        finally:
            conn.close()
    finally:
        store.close()


def test_the_witness_answers_bad_requests_with_problems(witness: Witness) -> None:
    reply = httpx.post(
        f"{witness.url}/v1/ledgers/force-x/checkpoints", content=b"{not json", timeout=5
    )
    assert reply.status_code == 400 and reply.json()["detail"] == "the body is not JSON"
    assert reply.headers["content-type"].startswith("application/problem+json")
    reply = httpx.get(f"{witness.url}/v1/ledgers/bad%20name", timeout=5)
    assert reply.status_code == 400
    assert httpx.get(f"{witness.url}/v1/ledgers/nobody", timeout=5).status_code == 404


def test_lfr_audit_checkpoint_sends_to_the_witnesses(
    ledger: CaseLedger,
    witnessed: Settings,
    witness: Witness,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    deployment, entries = live(ledger, clock)
    _alert(ledger, deployment, entries[0], clock)
    _env(witnessed, monkeypatch)
    code, _, err = _lfr("audit", "checkpoint", "--out", str(tmp_path / "cp.json"))
    assert code == 0, err
    assert f"witness {witness.url}: countersigned 1 checkpoint(s)" in err
    held = _held(witness, witnessed.ledger_name)
    assert [h["last_id"] for h in held] == [
        json.loads((tmp_path / "cp.json").read_text())["last_id"]
    ]

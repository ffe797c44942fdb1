"""Oversight bundles: written from either backend, verified offline from the files alone, and
any line altered, removed, reordered or inserted is detected and named."""

from __future__ import annotations

import argparse
import json
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from lfr_ledger.api.bootstrap import build_ledger
from lfr_ledger.api.cli.oversight import register_audit_subcommands
from lfr_ledger.api.demo.sample_deployment import OVERSIGHT
from lfr_ledger.config.settings import Settings
from lfr_ledger.domain.actors import Actor, Role
from lfr_ledger.domain.application import CaseLedger
from lfr_ledger.eventlog.chain.hashing import chain_hash, link_hash
from lfr_ledger.eventlog.checkpoint import load_or_create_signing_key
from lfr_ledger.eventlog.checkpoint_signature import public_key_pem
from lfr_ledger.oversight.access_review import access_review
from lfr_ledger.oversight.bundles.format import (
    CHAIN_FILE,
    CHECKPOINT_FILE,
    EVENTS_FILE,
    KEY_FILE,
    MANIFEST_FILE,
    BundleError,
)
from lfr_ledger.oversight.bundles.verify import verify_bundle
from lfr_ledger.oversight.bundles.write import export_bundle
from tests.conftest import Clock
from tests.test_retention import cli_env, ran_deployment  # noqa: F401

ICO = Actor("ICO-7", Role.OVERSIGHT)


def export(ledger: CaseLedger, settings: Settings, out: Path, deployment: UUID | None) -> Any:
    return export_bundle(
        ledger,
        settings,
        out,
        actor=ICO,
        recipient="Information Commissioner's Office",
        legal_basis="DPA 2018 Part 3 oversight",
        deployment_id=deployment,
    )


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_link_hash_is_chain_hash_over_the_state_digest() -> None:
    import hashlib

    prev, state = bytes(range(32)), b'{"a": 1}'
    assert link_hash(prev, 7, "t", "o", 3, hashlib.sha256(state).digest()) == chain_hash(
        prev, 7, "t", "o", 3, state
    )


def test_the_offline_verifier_loads_no_database_or_ledger_code() -> None:
    """An outside body runs the verifier on its own machine: importing it must not pull in a
    database driver, the recorders, the ledger or its domain (a fresh interpreter, since this
    one has them all loaded)."""
    import subprocess
    import sys

    probe = "import sys, lfr_ledger.oversight.bundles.verify;print('\\n'.join(sorted(sys.modules)))"
    loaded = set(
        subprocess.run(
            [sys.executable, "-c", probe], check=True, capture_output=True, text=True
        ).stdout.split()
    )
    forbidden = (
        "psycopg",
        "sqlite3",
        "eventsourcing.postgres",
        "eventsourcing.sqlite",
        "eventsourcing.application",
        "lfr_ledger.domain",
        "lfr_ledger.config",
        "lfr_ledger.eventlog.checkpoint",
        "lfr_ledger.eventlog.vault",
        "lfr_ledger.eventlog.chain.recorders",
        "lfr_ledger.eventlog.chain.readers",
        "lfr_ledger.eventlog.chain.wiring",
        "lfr_ledger.oversight.bundles.write",
    )
    found = sorted(m for m in loaded if any(m == f or m.startswith(f + ".") for f in forbidden))
    assert found == []


def test_deployment_bundle_holds_its_events_and_verifies_offline(
    ledger: CaseLedger, settings: Settings, clock: Clock, tmp_path: Path
) -> None:
    mine = ran_deployment(ledger, clock, alerts=2, seed=1)
    other = ran_deployment(ledger, clock, alerts=1, seed=2, first_subject=10)
    ledger.record_consultation(
        OVERSIGHT, record=f"deployment_history:{mine.deployment_id}", purpose="review"
    )
    out = tmp_path / "bundle"
    manifest = export(ledger, settings, out, mine.deployment_id)

    events = lines(out / EVENTS_FILE)
    chain = lines(out / CHAIN_FILE)
    originators = {e["originator_id"] for e in events}
    members = {str(i) for i in [mine.deployment_id, *mine.entry_ids, *mine.alert_ids]}
    assert members <= originators
    assert not originators & {str(i) for i in [other.deployment_id, *other.alert_ids]}
    topics = {e["topic"] for e in events}
    assert {"lfr/Consultation.Recorded", "lfr/Disclosure.Recorded"} <= topics
    assert manifest["disclosure_id"] in originators, "the bundle carries its own disclosure"
    # The whole chain, so the deployment's links verify against the signed head.
    assert [c["id"] for c in chain] == list(range(1, manifest["last_id"] + 1))
    assert manifest["exported_ids"] == [e["id"] for e in events]
    # No clear personal data: the names exist only sealed.
    assert b"Zebedee" not in (out / EVENTS_FILE).read_bytes()

    trusted = load_or_create_signing_key(settings).public_key()
    offline = tmp_path / "elsewhere"
    shutil.copytree(out, offline)
    report = verify_bundle(offline, trusted)
    assert report.ok, report.summary()
    assert report.trusted_key and report.events_verified == len(events)
    assert report.links_verified == manifest["last_id"]
    assert report.scope == {"deployment_id": str(mine.deployment_id)}

    # The export was logged as a disclosure: recipient and what.
    disclosed = access_review(ledger, record="audit_export:")
    assert [(r.kind, r.recipient, r.actor_id) for r in disclosed.records] == [
        ("disclosure", "Information Commissioner's Office", "ICO-7")
    ]
    assert disclosed.records[0].record == f"audit_export:deployment:{mine.deployment_id}"


def test_whole_log_bundle(
    ledger: CaseLedger, settings: Settings, clock: Clock, tmp_path: Path
) -> None:
    ran_deployment(ledger, clock, alerts=1)
    manifest = export(ledger, settings, tmp_path / "all", None)
    assert manifest["exported_ids"] == "all"
    assert manifest["events"] == manifest["links"] == manifest["last_id"]
    report = verify_bundle(tmp_path / "all")
    assert report.ok and not report.trusted_key, report.summary()
    with pytest.raises(BundleError, match="not empty"):
        export(ledger, settings, tmp_path / "all", None)


# --- tampering: one bundle, many copies -----------------------------------------------------


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Any]]:
    base = tmp_path_factory.mktemp("pristine")
    settings = Settings(data_dir=base / "var")
    clock = Clock(datetime(2025, 6, 2, 8, 0, tzinfo=UTC))
    ledger = build_ledger(settings, clock=clock)
    try:
        first = ran_deployment(ledger, clock, alerts=2, seed=1)
        ran_deployment(ledger, clock, alerts=1, seed=2, first_subject=10)
        export(ledger, settings, base / "bundle", first.deployment_id)
        key = load_or_create_signing_key(settings).public_key()
    finally:
        ledger.close()
        ledger.vault.close()  # type: ignore[attr-defined]
    yield base / "bundle", key


@pytest.fixture
def copy(pristine: tuple[Path, Any], tmp_path: Path) -> Callable[[], Path]:
    counter = iter(range(10_000))

    def make() -> Path:
        target = tmp_path / f"b{next(counter)}"
        shutil.copytree(pristine[0], target)
        return target

    return make


def rewrite(path: Path, change: Callable[[list[str]], list[str]]) -> None:
    path.write_text("".join(line + "\n" for line in change(path.read_text().splitlines())))


def edit_line(line: str, key: str) -> str:
    data = json.loads(line)
    value = data[key]
    if isinstance(value, int):
        data[key] = value + 1
    elif key in ("hash", "prev_hash", "state_sha256"):
        data[key] = ("0" if value[0] != "0" else "1") + value[1:]
    elif key == "state":
        data[key] = value.replace('"', "'", 1) if '"' in value else value + " "
    else:
        data[key] = value + "x"
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


Change = Callable[[list[str]], list[str]]


def altered(i: int, key: str) -> Change:
    return lambda ls: [*ls[:i], edit_line(ls[i], key), *ls[i + 1 :]]


def removed(i: int) -> Change:
    return lambda ls: ls[:i] + ls[i + 1 :]


def moved(i: int) -> Change:
    return lambda ls: [*ls[:i], ls[i + 1], ls[i], *ls[i + 2 :]]


@pytest.mark.parametrize("name", [EVENTS_FILE, CHAIN_FILE])
def test_every_line_altered_removed_or_moved_is_detected(
    name: str, pristine: tuple[Path, Any], copy: Callable[[], Path]
) -> None:
    bundle, key = pristine
    originals = (bundle / name).read_text().splitlines()
    fields = (
        ["state", "hash", "prev_hash", "topic", "originator_id", "originator_version", "id"]
        if name == EVENTS_FILE
        else ["state_sha256", "hash", "topic", "originator_id", "originator_version", "prev_id"]
    )
    checked = 0
    for i, original in enumerate(originals):
        nid = json.loads(original)["id"]
        key_name = fields[i % len(fields)]
        cases = [("altered", altered(i, key_name)), ("removed", removed(i))]
        if i + 1 < len(originals):
            cases.append(("moved", moved(i)))
        for what, change in cases:
            target = copy()
            rewrite(target / name, change)
            report = verify_bundle(target, key)
            assert not report.ok, f"{what} line {i + 1} of {name} went unnoticed"
            bad = report.first_bad
            assert bad is not None and bad.file in (name, MANIFEST_FILE), report.summary()
            if what == "altered" and key_name != "id":
                assert (bad.line, bad.notification_id) == (i + 1, nid), report.summary()
            if what == "removed" and name == CHAIN_FILE:
                assert bad.notification_id == nid, report.summary()
            shutil.rmtree(target)
            checked += 1
    assert checked >= 3 * len(originals) - 1


def test_inserted_and_whitespace_only_changes_are_detected(
    pristine: tuple[Path, Any], copy: Callable[[], Path]
) -> None:
    key = pristine[1]
    target = copy()
    rewrite(target / EVENTS_FILE, lambda ls: [ls[0], ls[0], *ls[1:]])
    report = verify_bundle(target, key)
    assert report.first_bad is not None and report.first_bad.line == 2

    target = copy()
    rewrite(target / EVENTS_FILE, lambda ls: [ls[0] + " ", *ls[1:]])
    report = verify_bundle(target, key)
    assert report.first_bad is not None
    assert (report.first_bad.file, report.first_bad.reason) == (EVENTS_FILE, "altered")


@pytest.mark.parametrize("name", [MANIFEST_FILE, CHECKPOINT_FILE])
def test_signed_documents_cannot_be_edited(
    name: str, pristine: tuple[Path, Any], copy: Callable[[], Path]
) -> None:
    target = copy()
    data = json.loads((target / name).read_text())
    if name == MANIFEST_FILE:
        data["recipient"] = "someone else"
    else:
        data["last_id"] -= 1
    (target / name).write_text(json.dumps(data))
    report = verify_bundle(target, pristine[1])
    assert report.first_bad is not None
    assert (report.first_bad.file, report.first_bad.reason) == (name, "bad_signature")


def test_a_bundle_resigned_with_another_key_is_refused_by_the_trusted_key(
    pristine: tuple[Path, Any], copy: Callable[[], Path]
) -> None:
    target = copy()
    forger = Ed25519PrivateKey.generate()
    (target / KEY_FILE).write_text(public_key_pem(forger.public_key()))
    report = verify_bundle(target, pristine[1])
    assert report.first_bad is not None and report.first_bad.reason == "untrusted_key"
    # Without a trusted key, the forged key does not match the signatures either.
    assert not verify_bundle(target).ok


def test_cli_export_and_verify_bundle(
    ledger: CaseLedger,
    settings: Settings,
    clock: Clock,
    tmp_path: Path,
    cli_env: None,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    scene = ran_deployment(ledger, clock, alerts=1)
    parser = argparse.ArgumentParser(prog="lfr audit")
    register_audit_subcommands(parser.add_subparsers(dest="audit_command", required=True))

    def run(*argv: str) -> int:
        args = parser.parse_args(list(argv))
        code: int = args.handler(args)
        return code

    out = tmp_path / "bundle"
    export = ["export", "--deployment", str(scene.deployment_id), "--out", str(out)]
    assert run(*export, "--recipient", "PCC ethics panel", "--actor", "PCC-3") == 0
    assert "disclosure" in capsys.readouterr().out
    key = tmp_path / "ledger.pem"
    key.write_text(public_key_pem(load_or_create_signing_key(settings).public_key()))
    assert run("verify-bundle", str(out), "--public-key", str(key)) == 0
    assert capsys.readouterr().out.startswith("OK:")
    rewrite(out / EVENTS_FILE, lambda ls: ls[:2] + ls[3:])
    assert run("verify-bundle", str(out), "--json") == 1
    assert json.loads(capsys.readouterr().out)["first_bad"]["reason"] == "deleted"
    assert run("export", "--all", "--out", str(out), "--recipient", "ICO") == 2

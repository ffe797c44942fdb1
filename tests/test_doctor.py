"""`lfr doctor` on real stores, SQLite and PostgreSQL, healthy and broken (issue 26).

Run in process through `lfr`'s own `main` (the command's parsing, lines and exit code), with
the environment a node would have. Broken: a database that does not exist, a key other users
can read, a key that cannot be read, no model pack, a schema newer than this release, an
event recorded in this machine's future, settings that do not parse. Every broken case also
exits 1, and the healthy ones 0.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lfr_ledger.api.auth import load_or_create_secret, secret_path
from lfr_ledger.api.bootstrap import build_ledger
from lfr_ledger.api.cli import main
from lfr_ledger.api.demo.seed import ADMIN
from lfr_ledger.config.settings import Settings
from lfr_ledger.eventlog.checkpoint import key_path, load_or_create_signing_key
from lfr_ledger.projections.db import connect
from lfr_ledger.projections.schema import latest_version, migrate
from lfr_ledger.projections.store import close_stores
from tests.conftest import PG_URL

CHECKS = [
    "configuration",
    "database",
    "schema",
    "keys",
    "kek",
    "model pack",
    "policy",
    "clock",
    "disk",
]


def env_of(settings: Settings) -> dict[str, str]:
    env = {"LFR_DATA_DIR": str(settings.data_dir)}
    if settings.database_url:
        env["LFR_DATABASE_URL"] = settings.database_url
    if settings.postgres_schema:
        env["LFR_POSTGRES_SCHEMA"] = settings.postgres_schema
    return env


def doctor(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], env: dict[str, str]
) -> tuple[int, dict[str, tuple[bool, str]], str]:
    """Exit code, each check's (ok, detail) from --json, and the plain lines."""
    for name in [k for k in os.environ if k.startswith("LFR_") and k != "LFR_MODEL_DIR"]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code = main(["doctor", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is (code == 0)
    assert main(["doctor"]) == code
    plain = capsys.readouterr().out
    lines = plain.splitlines()
    assert len(lines) == len(report["checks"])
    for line, check in zip(lines, report["checks"], strict=True):
        # One plain line per check, `ok` or `problem` first (the clock's and the disk's
        # figures move between the two runs).
        word = "ok" if check["ok"] else "problem"
        head = f"{word:8} {check['check']:14} "
        same = check["check"] in {"clock", "disk"} or line == head + check["detail"]
        assert line.startswith(head) and same, (line, check)
    return code, {c["check"]: (c["ok"], c["detail"]) for c in report["checks"]}, plain


def started(settings: Settings) -> None:
    """The store and keys as a first `lfr serve` leaves them, with one event recorded."""
    ledger = build_ledger(settings)
    try:
        ledger.adopt_policy(ADMIN)
    finally:
        ledger.close()
    db = connect(settings)
    try:
        migrate(db)
    finally:
        db.close()
        close_stores()
    load_or_create_secret(settings)
    load_or_create_signing_key(settings)


def test_a_fresh_node_passes_and_creates_nothing(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, found, _ = doctor(monkeypatch, capsys, env_of(settings))
    assert code == 0, found
    assert list(found) == CHECKS
    assert found["schema"][1].startswith("not created yet")
    assert "not made yet" in found["keys"][1]
    assert "no store yet" in found["policy"][1]
    if settings.uses_postgres:
        assert "of PostgreSQL's" in found["clock"][1]
    assert not settings.data_dir.exists()  # doctor wrote nothing


def test_a_started_node_passes(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    started(settings)
    code, found, _ = doctor(monkeypatch, capsys, env_of(settings))
    assert code == 0, found
    backend = "postgres" if settings.uses_postgres else "sqlite"
    assert found["schema"][1] == f"v{latest_version(backend)}, as this release expects"
    assert "jwt_secret readable" in found["keys"][1]
    assert "adopted in the log" in found["policy"][1]
    assert "not behind the latest event recorded" in found["clock"][1]


def test_a_key_others_can_read_is_a_problem(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    started(settings)
    key_path(settings).chmod(0o644)
    code, found, plain = doctor(monkeypatch, capsys, env_of(settings))
    assert code == 1
    assert found["keys"] == (
        False,
        f"checkpoint key {key_path(settings)} can be read by other users: "
        f"chmod 600 {key_path(settings)}",
    )
    assert f"problem  keys           checkpoint key {key_path(settings)}" in plain


def test_a_key_that_cannot_be_read_is_a_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """As root every file is readable, so there the secret's path is made a directory (the
    same failure to read); as anyone else it is mode 000."""
    settings = Settings(data_dir=tmp_path / "var")
    started(settings)
    path = secret_path(settings)
    if os.geteuid() == 0:
        path.unlink()
        path.mkdir()
    else:
        path.chmod(0)
    code, found, _ = doctor(monkeypatch, capsys, env_of(settings))
    assert code == 1
    ok, detail = found["keys"]
    assert not ok and detail.startswith(f"token secret {path} cannot be read (")
    assert detail.endswith("make it readable by the user the service runs as (chown, chmod 600)")


def test_no_model_pack_is_a_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {"LFR_DATA_DIR": str(tmp_path / "var"), "LFR_MODEL_DIR": str(tmp_path / "no-models")}
    code, found, _ = doctor(monkeypatch, capsys, env)
    assert code == 1
    assert found["model pack"] == (
        False,
        f"no sface pack in {tmp_path / 'no-models'}: run `lfr models fetch` (or set "
        "LFR_MODEL_DIR to where the packs are)",
    )


def test_a_missing_database_is_a_problem_and_stops_the_checks_that_need_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.conftest import _skip_or_fail_without_postgres

    _skip_or_fail_without_postgres()
    url = PG_URL.rsplit("/", 1)[0] + "/lfr_doctor_absent"
    env = {"LFR_DATA_DIR": str(tmp_path / "var"), "LFR_DATABASE_URL": url}
    code, found, _ = doctor(monkeypatch, capsys, env)
    assert code == 1
    ok, detail = found["database"]
    assert not ok and detail.startswith('database "lfr_doctor_absent" does not exist')
    assert "schema" not in found and "policy" not in found and "clock" not in found
    assert found["keys"][0] and found["disk"][0]  # the rest is still checked


def test_a_newer_schema_is_a_problem(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    started(settings)
    db = connect(settings)
    try:
        newer = latest_version(db.backend) + 1
        db.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
            (newer, "from_a_newer_release", "2027-01-01T00:00:00+00:00"),
        )
    finally:
        db.close()
    code, found, _ = doctor(monkeypatch, capsys, env_of(settings))
    assert code == 1
    assert found["schema"][0] is False
    assert found["schema"][1].endswith("upgrade this node before starting it")


def test_an_event_from_this_machines_future_is_a_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """On SQLite there is no server clock to compare with: the latest event's recorded time is
    what this clock must not be behind. A node whose clock ran an hour fast wrote it: this
    machine's clock cannot be set by a test, so the event library's time source is, while the
    event is recorded (only then)."""
    import eventsourcing.domain

    settings = Settings(data_dir=tmp_path / "var")
    ahead = datetime.now(UTC) + timedelta(hours=1)
    with monkeypatch.context() as fast:
        fast.setattr(eventsourcing.domain, "datetime_now_with_tzinfo", lambda: ahead)
        started(settings)
    code, found, _ = doctor(monkeypatch, capsys, env_of(settings))
    assert code == 1
    ok, detail = found["clock"]
    assert not ok and detail.startswith("the latest event was recorded 3")
    assert "in this machine's future" in detail


def test_settings_that_do_not_parse_are_the_one_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {"LFR_DATA_DIR": str(tmp_path / "var"), "LFR_REVERIFY_PERIOD_HOURS": "daily"}
    code, found, _ = doctor(monkeypatch, capsys, env)
    assert code == 1
    assert found == {
        "configuration": (
            False,
            "LFR_REVERIFY_PERIOD_HOURS must be a number above zero, not 'daily'",
        )
    }

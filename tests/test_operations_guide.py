"""docs/operations.md and deploy/ cannot rot (issue 26).

- The guide's marked shell blocks run verbatim against the real PostgreSQL: create the
  database, `lfr doctor` with the sample settings file, `lfr backup` and `lfr restore`. Only
  the guide's **names** block is replaced by this test's (a fresh database, temporary folders).
- Both systemd units pass `systemd-analyze verify` with no complaint, with ExecStart pointing
  at this checkout's `lfr` (the units name /opt/lfr-ledger/bin/lfr, which verify requires to
  exist). A unit with a misspelt setting does not pass, so the check is real.
- `MemoryDenyWriteExecute=yes` holds for what the units run: face detection and embedding
  (OpenCV, onnxruntime) and a real `lfr serve` work under the kernel's own W^X switch,
  `prctl(PR_SET_MDWE)`. systemd cannot run units in this container; the prctl is the same
  refusal (no mapping both writable and executable, none made executable later).
- Every `LFR_*` variable the code reads is in the guide's table and in deploy/lfr.env, and
  that file parses.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import httpx
import psycopg
import pytest

from lfr_ledger.api.bootstrap import build_ledger
from lfr_ledger.config.settings import Settings
from lfr_ledger.eventlog.checkpoint import load_or_create_signing_key
from lfr_ledger.projections.db import connect
from lfr_ledger.projections.schema import migrate
from lfr_ledger.projections.store import close_stores
from tests.conftest import PG_URL, _skip_or_fail_without_postgres
from tests.e2e.conftest import free_port

REPO = Path(__file__).resolve().parents[1]
GUIDE = (REPO / "docs" / "operations.md").read_text()
ENV_FILE = REPO / "deploy" / "lfr.env"
UNITS = REPO / "deploy" / "systemd"
LFR = Path(sys.executable).parent / "lfr"
# Read by tests and benches only, or not a variable at all (a UUID namespace's name).
NOT_SETTINGS = {"LFR_NAMESPACE", "LFR_CHROMIUM"}
PRODUCTION = ("api", "config", "domain", "eventlog", "matching", "oversight", "projections")


def block(name: str) -> str:
    found = re.search(
        rf"<!-- ops:{name}:start -->\n```sh\n(.*?)```\n<!-- ops:{name}:end -->", GUIDE, re.S
    )
    assert found, f"docs/operations.md lost its {name} block"
    return found.group(1)


def test_the_guides_commands_run(tmp_path: Path) -> None:
    _skip_or_fail_without_postgres()
    name = f"lfr_ops_{uuid.uuid4().hex[:8]}"
    state, backups = tmp_path / "state", tmp_path / "backups"
    settings_file = tmp_path / "lfr.env"
    url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
    model_dir = Settings.from_env().model_dir
    sample = ENV_FILE.read_text()
    sample = re.sub(r"^LFR_DATABASE_URL=.*$", f"LFR_DATABASE_URL={url}", sample, flags=re.M)
    sample = re.sub(r"^LFR_MODEL_DIR=.*$", f"LFR_MODEL_DIR={model_dir}", sample, flags=re.M)
    settings_file.write_text(sample)
    names = textwrap.dedent(f"""\
        DB_HOST=127.0.0.1 DB_PORT=5432 DB_NAME={name} DB_OWNER=postgres PG_ADMIN=postgres
        LFR={LFR} LFR_ENV={settings_file} STATE={state}
        BACKUP_DIR={backups} TOMBSTONES={tmp_path / "tombstones.jsonl"}
        """)
    assert block("names").count("=") == names.count("=")  # the same names, other values
    env = {k: v for k, v in os.environ.items() if not k.startswith("LFR_")}

    def run(script: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", names + script],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done

    try:
        run(block("createdb"))
        doctor = run(block("doctor")).stdout
        assert "problem" not in doctor and "ok       database" in doctor, doctor
        # The first start, as `lfr serve` makes it: the ledger's tables, its keys, an event.
        first = Settings(data_dir=state, database_url=url, model_dir=model_dir)
        ledger = build_ledger(first)
        ledger.close()
        db = connect(first)
        migrate(db)
        db.close()
        close_stores()
        load_or_create_signing_key(first)
        assert "backed up postgresql through id" in run(block("backup")).stdout
        (backup,) = backups.glob("lfr-*")
        listed = subprocess.run(
            ["pg_restore", "--list", str(backup / "database.dump")],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert "TABLE public lfr_events " in listed and "TABLE public vault_keys " in listed
        assert (backup / "keys" / "checkpoint_ed25519.pem").is_file()
        assert "keys/checkpoint_ed25519.pem" in (backup / "manifest.json").read_text()
        restored = run(block("restore")).stdout
        assert restored.strip().endswith("OK") and "chain: OK" in restored, restored
    finally:
        close_stores()
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _verify(units: list[Path]) -> str:
    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *map(str, units)],
        cwd=units[0].parent,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return (done.stdout + done.stderr).strip() + ("" if done.returncode == 0 else " (failed)")


def test_the_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        if os.environ.get("CI"):
            pytest.fail("systemd-analyze is required in CI")
        pytest.skip("systemd-analyze is not installed")
    rendered = []
    for unit in sorted(UNITS.glob("*.service")):
        text = unit.read_text()
        assert "ExecStart=/opt/lfr-ledger/bin/lfr " in text
        target = tmp_path / unit.name.replace("@.", "@camera-1.")  # an instance of a template
        target.write_text(text.replace("/opt/lfr-ledger/bin/lfr", str(LFR)))
        rendered.append(target)
    assert [u.name for u in rendered] == ["lfr-match@camera-1.service", "lfr-serve.service"]
    assert _verify(rendered) == ""
    # The check is real: one misspelt setting and systemd-analyze says so.
    broken = tmp_path / "broken" / "lfr-serve.service"
    broken.parent.mkdir()
    broken.write_text(rendered[1].read_text().replace("ProtectHome=yes", "ProtectHomme=yes"))
    assert "Unknown key 'ProtectHomme'" in _verify([broken])


MDWE = textwrap.dedent("""\
    import ctypes, mmap, sys
    PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 65, 1
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0):
        sys.exit(77)  # the kernel has no W^X switch (before Linux 6.3)
    try:
        mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
        sys.exit("a writable, executable mapping was allowed: W^X is not in force")
    except PermissionError:
        pass
    """)


def _under_mdwe(code: str, **kwargs: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", MDWE + code],
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        **kwargs,  # type: ignore[call-overload]
    )


def test_matching_and_serving_need_no_writable_executable_memory(tmp_path: Path) -> None:
    engine = _under_mdwe(
        "from lfr_ledger.matching.engines.plugins import load_engine\n"
        "from lfr_ledger.matching.packs.samples import astronaut_bgr\n"
        "faces = load_engine().analyse(astronaut_bgr())\n"
        "print(len(faces), faces[0].embedding.shape)\n"
    )
    out, _ = engine.communicate(timeout=120)
    if engine.returncode == 77:
        pytest.skip("this kernel cannot refuse writable, executable memory (PR_SET_MDWE)")
    assert engine.returncode == 0 and out.strip().endswith("1 (128,)"), out
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LFR_")}
    server = _under_mdwe(
        "from lfr_ledger.api.cli import main\n"
        f"sys.exit(main(['serve', '--port', '{port}', '--log-level', 'warning']))\n",
        env={**env, "LFR_DATA_DIR": str(tmp_path / "var")},
    )
    try:
        assert server.stdout is not None
        for line in server.stdout:  # it says where it serves once it listens
            if line.startswith("lfr serve: serving on"):
                break
        else:
            pytest.fail(f"lfr serve under W^X exited with {server.wait()}")
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            assert client.get("/health/ready").status_code == 200
            assert client.get("/schema/openapi.json").status_code == 200
            assert client.get("/metrics").status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_every_setting_is_in_the_guide_and_the_sample_file() -> None:
    read = set()
    for room in PRODUCTION:
        for source in (REPO / room).rglob("*.py"):
            read |= set(re.findall(r"\bLFR_[A-Z0-9_]+\b", source.read_text()))
    settings = read - NOT_SETTINGS
    assert {"LFR_DATABASE_URL", "LFR_DATA_DIR", "LFR_MATCHER_TOKEN"} <= settings
    table = GUIDE.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    in_table = set(re.findall(r"`(LFR_[A-Z0-9_]+)`", table))
    sample = ENV_FILE.read_text()
    in_sample = set(re.findall(r"^#?(LFR_[A-Z0-9_]+)=", sample, re.M))
    assert sorted(settings - in_table) == [], "missing from docs/operations.md's table"
    assert sorted(settings - in_sample) == [], "missing from deploy/lfr.env"
    assert sorted(in_sample - settings) == [], "deploy/lfr.env names what nothing reads"
    # The sample as a node would read it (systemd's EnvironmentFile: KEY=value lines).
    values = dict(re.findall(r"^(LFR_[A-Z0-9_]+)=(.*)$", sample, re.M))
    parsed = Settings.from_env(values)
    assert parsed.postgres_params()["host"] == "db.example.police.uk"
    assert parsed.postgres_schema is None and parsed.trusted_proxies == ("127.0.0.1/32",)

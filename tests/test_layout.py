"""The house's layout: one installed name, layering checked by import-linter, and no module of
the project reachable under a second name."""

from __future__ import annotations

import importlib
import os
import pkgutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import lfr_ledger

ROOT = Path(__file__).resolve().parent.parent
ROOMS = (
    "domain",
    "config",
    "eventlog",
    "projections",
    "matching",
    "oversight",
    "api",
    "migrations",
)


def test_every_room_is_linked_under_the_one_installed_name() -> None:
    for room in ROOMS:
        link = ROOT / "lfr_ledger" / room
        assert link.is_symlink() and link.resolve() == ROOT / room, room


def test_the_project_is_imported_under_one_name_only() -> None:
    # Importing a room under its bare name as well would load every aggregate twice.
    for module in pkgutil.walk_packages(lfr_ledger.__path__, "lfr_ledger."):
        importlib.import_module(module.name)
    assert not [name for name in sys.modules if name.split(".")[0] in ROOMS]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    [built] = out.glob("lfr_ledger-*.whl")
    return built


def test_the_wheel_installs_one_top_level_package(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    tops = {n.split("/")[0] for n in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"lfr_ledger"}
    assert "lfr_ledger/domain/policy.toml" in names
    assert "lfr_ledger/migrations/sqlite/001_projection_tracking.sql" in names


def test_the_wheel_works_beside_packages_named_api_and_domain(wheel: Path, tmp_path: Path) -> None:
    """Installed into a folder that already holds other packages called `api` and `domain`
    (which refuse to be imported), lfr-ledger imports its app and CLI from its own name."""
    site = tmp_path / "site"
    for other in ("api", "domain"):
        (site / other).mkdir(parents=True)
        (site / other / "__init__.py").write_text(f"raise ImportError('the other {other}')\n")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    probe = (
        "import sys, lfr_ledger.api.app, lfr_ledger.api.cli;"
        "assert lfr_ledger.__file__.startswith(sys.argv[1]), lfr_ledger.__file__;"
        "assert 'api' not in sys.modules and 'domain' not in sys.modules;"
        "print('ok')"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    result = subprocess.run(
        [sys.executable, "-c", probe, str(site)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-2000:]

"""The size rule `make lint` checks: no production module over the limit, tests excepted, and an
exception only where pyproject names it."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHECK = ROOT / "tools" / "module_size.py"


def house(tmp_path: Path, exceptions: str = "{}") -> Path:
    (tmp_path / "pyproject.toml").write_text(
        f"[tool.lfr.module-size]\nmax-lines = 5\nexceptions = {exceptions}\n"
    )
    (tmp_path / "domain").mkdir()
    (tmp_path / "domain" / "small.py").write_text("x = 1\n" * 5)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_long.py").write_text("x = 1\n" * 50)
    return tmp_path


def check(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(CHECK), str(root)], capture_output=True, text=True, check=False
    )


def test_a_tree_within_the_limit_passes_and_tests_are_not_counted(tmp_path: Path) -> None:
    result = check(house(tmp_path))
    assert result.returncode == 0, result.stdout
    assert result.stdout.strip() == "Module size: 1 modules kept."


def test_a_module_one_line_over_the_limit_fails_naming_it(tmp_path: Path) -> None:
    root = house(tmp_path)
    (root / "domain" / "big.py").write_text("x = 1\n" * 6)
    result = check(root)
    assert result.returncode == 1
    assert result.stdout.splitlines()[0].startswith(
        "domain/big.py: 6 lines, over the limit of 5: split it by concern"
    )


def test_a_named_exception_passes_and_a_stale_one_fails(tmp_path: Path) -> None:
    root = house(tmp_path, exceptions='{ "domain/big.py" = "generated" }')
    (root / "domain" / "big.py").write_text("x = 1\n" * 6)
    assert check(root).returncode == 0
    (root / "domain" / "big.py").unlink()
    result = check(root)
    assert result.returncode == 1
    assert "named as an exception in pyproject.toml but not found" in result.stdout


@pytest.mark.parametrize("room", ["domain", "matching", "api", "projections", "oversight"])
def test_the_projects_own_rooms_are_checked(room: str) -> None:
    spec = importlib.util.spec_from_file_location("module_size", CHECK)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    names = {p.relative_to(ROOT).parts[0] for p in module.production_modules(ROOT)}
    assert room in names and "tests" not in names and "lfr_ledger" in names

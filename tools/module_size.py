"""The size rule `make lint` checks beside the import contracts: no production module (every
Python file outside `tests/`) over the limit in `pyproject.toml`'s `[tool.lfr.module-size]`.

A module that grows past it holds more than one concern; the cure is to split it by concern
before adding more, not to raise the limit. The one kind of exception the table allows is a
generated file, each named with its reason.

    python tools/module_size.py [ROOT]
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

SKIPPED_DIRS = {"tests", "build", "node_modules", "__pycache__"}


def production_modules(root: Path) -> list[Path]:
    found = []
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).parts
        if any(part.startswith(".") or part in SKIPPED_DIRS for part in parts[:-1]):
            continue
        # `lfr_ledger/` holds links to the rooms: each module is counted once, where it lives.
        if parts[0] == "lfr_ledger" and len(parts) > 2:
            continue
        found.append(path)
    return found


def oversized(root: Path) -> list[str]:
    config = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["lfr"]["module-size"]
    limit: int = config["max-lines"]
    exceptions: dict[str, str] = config.get("exceptions", {})
    problems = []
    for path in production_modules(root):
        name = path.relative_to(root).as_posix()
        with path.open("rb") as module:
            lines = sum(1 for _ in module)
        if lines > limit and name not in exceptions:
            problems.append(
                f"{name}: {lines} lines, over the limit of {limit}: split it by concern "
                "(ARCHITECTURE.md, 'Where to add')"
            )
    for name in exceptions:
        if not (root / name).is_file():
            problems.append(f"{name}: named as an exception in pyproject.toml but not found")
    return problems


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else Path.cwd()
    problems = oversized(root)
    for problem in problems:
        print(problem)
    count = len(production_modules(root))
    if problems:
        print(f"Module size: {len(problems)} of {count} modules broken.")
        return 1
    print(f"Module size: {count} modules kept.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

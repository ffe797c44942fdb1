"""How every `lfr` command speaks: data on stdout (as JSON with `--json`), everything else
(progress, notes, errors) on stderr, so `lfr … --json | jq` always reads clean JSON."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

import msgspec

EXIT_ERROR = 2
T = TypeVar("T")


def json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def print_json(value: Any) -> None:
    """Any result (structs, dataclasses' dicts, dates, UUIDs) as indented JSON on stdout."""
    json.dump(msgspec.to_builtins(value, enc_hook=str), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def note(message: str) -> None:
    """Something for the person at the terminal, never part of the data."""
    print(message, file=sys.stderr)


def fail(command: str, message: str, code: int = EXIT_ERROR) -> int:
    print(f"lfr {command}: {message}", file=sys.stderr)
    return code


def lfr_command() -> str:
    """How a fresh shell in this directory runs this very `lfr`: a new terminal has no
    virtualenv active, so printed commands name the executable (`.venv/bin/lfr` from the
    repository root), and plain `lfr` only when no such file sits beside this Python."""
    import shlex
    from pathlib import Path

    beside = Path(sys.executable).parent / "lfr"
    if not beside.is_file():
        return "lfr"
    try:
        return shlex.quote(str(beside.absolute().relative_to(Path.cwd())))
    except ValueError:
        return shlex.quote(str(beside.absolute()))


def progress(items: Iterable[T], *, total: int | None, what: str) -> Iterator[T]:
    """A progress bar on stderr while a person watches; nothing when output is piped."""
    from tqdm import tqdm

    yield from tqdm(
        items, total=total, desc=what, unit="", file=sys.stderr, disable=None, leave=False
    )

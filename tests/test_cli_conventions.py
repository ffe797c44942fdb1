"""`lfr` follows the conventions of gh and kubectl: `--version`, `--json` on every command that
prints data, options before or after the sub-command, no traceback for a user's mistake, quiet
when its reader goes away, and a token mismatch that names both keys."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from litestar.exceptions import NotAuthorizedException

from lfr_ledger.api.auth import TokenVerifier, issue_token, key_id, load_or_create_secret
from lfr_ledger.api.cli import build_parser, main
from lfr_ledger.config.settings import Settings

LFR = str(Path(sys.executable).parent / "lfr")
# Commands that print no data of their own: a server, a long-running loop, the demo's story.
NO_DATA = {"serve", "witness serve", "projections run", "demo"}


def leaves(parser: argparse.ArgumentParser, prefix: str = "") -> dict[str, argparse.ArgumentParser]:
    found: dict[str, argparse.ArgumentParser] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                found.update(leaves(child, f"{prefix} {name}".strip()))
            return found
    return {prefix: parser}


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LFR, *args], capture_output=True, text=True, env=env or dict(os.environ), timeout=120
    )


def test_version() -> None:
    done = run("--version")
    assert done.returncode == 0 and done.stdout.startswith("lfr 0.")


def test_every_command_that_prints_data_takes_json() -> None:
    commands = leaves(build_parser())
    assert len(commands) > 30
    missing = [
        name
        for name, parser in commands.items()
        if name not in NO_DATA
        and "--json" not in {o for a in parser._actions for o in a.option_strings}
    ]
    assert missing == []


def test_options_work_before_or_after_the_sub_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv in (
        ["models", "--model-dir", str(tmp_path), "list", "--json"],
        ["models", "list", "--model-dir", str(tmp_path), "--json"],
    ):
        assert main(argv) == 0
        assert json.loads(capsys.readouterr().out) == {"model_dir": str(tmp_path), "packs": []}
    # Without the option anywhere, the default applies (the copy does not erase it).
    assert main(["models", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["model_dir"] != str(tmp_path)


def test_a_users_mistake_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    env = {**os.environ, "LFR_DATA_DIR": str(tmp_path)}
    done = run("audit", "verify-bundle", str(tmp_path / "no-such-bundle"), env=env)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr and done.stderr.startswith("lfr ")
    done = run("projections", "rebuild", "no_such_view", "--json", env=env)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "no projection named 'no_such_view'" in done.stderr


def test_a_reader_that_goes_away_is_not_an_error(tmp_path: Path) -> None:
    """`lfr … --json | head`: the reader may close the pipe before lfr writes."""
    env = {**os.environ, "LFR_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        ["bash", "-c", f"{LFR} models list --json | true; echo status ${{PIPESTATUS[0]}}"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.stdout.strip() == "status 0", done.stdout
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr


def test_a_token_from_another_data_directory_names_both_keys(tmp_path: Path) -> None:
    here = Settings(data_dir=tmp_path / "here")
    there = Settings(data_dir=tmp_path / "there")
    token = issue_token(there, role="analyst", sub="AN-1")
    with pytest.raises(NotAuthorizedException) as refused:
        TokenVerifier.from_settings(here).actor(token)
    detail = str(refused.value.detail)
    theirs, ours = key_id(load_or_create_secret(there)), key_id(load_or_create_secret(here))
    assert theirs != ours
    assert f"signed with key {theirs}" in detail and f"verifies with key {ours}" in detail
    assert str(here.data_dir) in detail and load_or_create_secret(here) not in detail
    # And `lfr token` says which key it used.
    done = run(
        "token",
        "--role",
        "analyst",
        "--sub",
        "AN-1",
        env={
            **os.environ,
            "LFR_DATA_DIR": str(there.data_dir),
        },
    )
    assert done.returncode == 0 and f"signed with key {theirs}" in done.stderr
    assert done.stdout.count(".") == 2  # the token alone on stdout

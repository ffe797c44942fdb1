"""Issue 26: "options go before or after the sub-command" (README, Using it), both ways: a
command's own option such as `--json` before the sub-command (`lfr --json stats publication`,
`lfr stats --json publication`) as well as a group's option after it. An option the command does
not take is still refused, in that command's words. Real commands on a real (empty) ledger."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lfr_ledger.api.cli import build_parser, main
from lfr_ledger.api.cli.option_order import options_to_their_command


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("LFR_DATABASE_URL", "LFR_POSTGRES_SCHEMA", "LFR_JWT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LFR_DATA_DIR", str(tmp_path / "var"))
    return tmp_path / "var"


def printed(capsys: pytest.CaptureFixture[str], *argv: str) -> object:
    assert main(list(argv)) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(
    "command",
    [
        ("audit", "public-key"),
        ("deployments", "list"),
        ("stats", "publication", "--year", "2025"),
        ("projections", "status"),
    ],
    ids=lambda c: " ".join(c[:2]),
)
def test_json_before_the_command_before_the_sub_command_or_after_it(
    command: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    group, sub, *rest = command
    after = printed(capsys, group, sub, *rest, "--json")
    assert printed(capsys, "--json", group, sub, *rest) == after
    assert printed(capsys, group, "--json", sub, *rest) == after


def test_options_with_values_travel_with_their_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    models = str(tmp_path / "models")
    expected = {"model_dir": models, "packs": []}
    assert printed(capsys, "--json", "--model-dir", models, "models", "list") == expected
    assert printed(capsys, "--model-dir", models, "models", "--json", "list") == expected
    assert printed(capsys, "stats", "--year", "2025", "--json", "publication") == printed(
        capsys, "stats", "publication", "--year", "2025", "--json"
    )
    parser = build_parser()
    assert options_to_their_command(
        parser, ["--json", "audit", "--public-key", "k.pem", "verify-bundle", "b.zip"]
    ) == ["audit", "verify-bundle", "--json", "--public-key", "k.pem", "b.zip"]
    # After `--`, nothing is an option, so nothing moves.
    assert options_to_their_command(parser, ["--", "--json", "stats"]) == ["--", "--json", "stats"]


@pytest.mark.parametrize(
    ("argv", "command", "unknown"),
    [
        (["--json", "serve"], "lfr serve", "--json"),
        (["token", "--json", "--role", "analyst", "--sub", "A-1"], "lfr token", None),
        (["--bogus", "stats", "publication"], "lfr stats publication", "--bogus"),
        (["stats", "publication", "--bogus"], "lfr stats publication", "--bogus"),
    ],
)
def test_an_option_the_command_does_not_take_is_refused_by_that_command(
    argv: list[str], command: str, unknown: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    if unknown is None:  # `lfr token` takes --json: accepted wherever it stands
        assert main(argv) == 0
        assert "token" in json.loads(capsys.readouterr().out)
        return
    with pytest.raises(SystemExit) as refused:
        main(argv)
    assert refused.value.code == 2
    err = capsys.readouterr().err
    assert f"{command}: error: unrecognized arguments: {unknown}" in err

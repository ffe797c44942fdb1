"""Options before the sub-command: `lfr --json stats deployment ID` and `lfr stats --json
deployment ID` mean `lfr stats deployment ID --json`, as the README promises ("options go before
or after the sub-command"). argparse gives each level its own options, so the command line is
reordered before it is parsed: an option a group does not know is carried down, with the values
that follow it, to just after the next sub-command, until the command that takes it. An option
the command does not take still fails, in that command's own words (`lfr serve: error:
unrecognized arguments: --json`).
"""

from __future__ import annotations

import argparse


def options_to_their_command(parser: argparse.ArgumentParser, argv: list[str]) -> list[str]:
    """`argv` with every option given before a sub-command moved to just after it."""
    choices = _sub_commands(parser)
    if choices is None:
        return argv
    known = parser._option_string_actions
    kept: list[str] = []
    carried: list[str] = []
    index = 0
    while index < len(argv):
        token = argv[index]
        if token == "--":
            break
        if token in choices:
            rest = [*carried, *argv[index + 1 :]]
            return [*kept, token, *options_to_their_command(choices[token], rest)]
        if token.startswith("-") and token.split("=", 1)[0] in known:
            taken = 1 + _values_taken(known[token.split("=", 1)[0]], token, argv[index + 1 :])
            kept.extend(argv[index : index + taken])
            index += taken
            continue
        if token.startswith("-") or carried:
            # Not this level's: an option for a command below, or the value of one.
            carried.append(token)
        else:
            kept.append(token)
        index += 1
    return [*kept, *carried, *argv[index:]]


def parse(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """`argv` reordered and parsed; what no level takes is refused by the command it reached."""
    ordered = options_to_their_command(parser, argv)
    args, unknown = parser.parse_known_args(ordered)
    if unknown:
        _command_reached(parser, ordered).error(f"unrecognized arguments: {' '.join(unknown)}")
    return args


def _command_reached(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.ArgumentParser:
    for token in argv:
        choices = _sub_commands(parser)
        if choices is None:
            break
        if token in choices:
            parser = choices[token]
    return parser


def _sub_commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser] | None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return None


def _values_taken(action: argparse.Action, token: str, following: list[str]) -> int:
    """How many of the next tokens are this option's values (a group's own options are few and
    simple: flags and single values)."""
    if "=" in token or action.nargs == 0:
        return 0
    if action.nargs is None:
        return 1 if following else 0
    if action.nargs == "?":
        return 1 if following and not following[0].startswith("-") else 0
    if isinstance(action.nargs, int):
        return min(action.nargs, len(following))
    return 0

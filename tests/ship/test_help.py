"""``ledger COMMAND --help`` helps: every command and subcommand ends with an example,
every example is a command line the parser accepts, and every positional argument says
what it is."""

from __future__ import annotations

import argparse
import re
import shlex
from collections.abc import Iterator

import pytest

from entrypoints.cli import EXAMPLES, build_parser


def _commands(
    parser: argparse.ArgumentParser, prefix: str = ""
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield f"{prefix}{name}", sub
                yield from _commands(sub, f"{prefix}{name} ")


COMMANDS = dict(_commands(build_parser()))


def test_every_command_is_covered() -> None:
    assert {"submit", "demo", "serve", "ingest", "feed", "rebuild", "restore", "token add"} <= set(COMMANDS)
    assert set(COMMANDS) <= set(EXAMPLES), sorted(set(COMMANDS) - set(EXAMPLES))


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_the_help_ends_with_an_example_the_parser_accepts(command: str) -> None:
    help_text = COMMANDS[command].format_help()
    assert "\nexample:\n  " in help_text, help_text
    example = help_text.split("\nexample:\n  ", 1)[1].splitlines()[0]
    words = shlex.split(re.split(r"\s+(?:&&|\|)|\s{2,}\(", example)[0])
    while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):  # VAR=value prefixes
        words.pop(0)
    assert words[0] == "ledger", example
    assert words[1 : 1 + len(command.split())] == command.split(), example
    args = build_parser().parse_args(words[1:])  # SystemExit on anything it does not accept
    assert args is not None


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_positional_argument_has_help(command: str) -> None:
    for action in COMMANDS[command]._actions:
        if action.option_strings or isinstance(action, argparse._SubParsersAction):
            continue
        assert action.help, f"ledger {command}: positional {action.dest!r} has no help"

"""Every command's `--help` ends with examples of real use, and every example is one.

An example parses as the command it documents (its options, choices and arguments
exist), and the names it uses (hosts, services, networks, roles) are ones the shell
would complete from the repository's inventory.
"""

from __future__ import annotations

import shlex

import click
import pytest
from click.core import ParameterSource

from infragen.cli import main
from infragen.cli.command import Command, Group

from conftest import ROOT

SHELL = {"|", ">", ">>", "&&", ";"}
COMMAND_LINE = ParameterSource.COMMANDLINE


def commands(group: click.Group = main, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [path]
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found += commands(command, (*path, name))
        else:
            found.append((*path, name))
    return found


def every_example() -> list[str]:
    found = []
    for path in commands():
        command: click.Command = main
        for name in path:
            command = command.commands[name]  # type: ignore[attr-defined]
        found += command.examples  # type: ignore[attr-defined]
    return found


def words_of(example: str) -> list[str]:
    """The arguments infragen gets: the words after `infragen`, up to a pipe or redirect."""
    words = shlex.split(example, comments=True)
    assert words[0] == "infragen"
    cut = next((i for i, word in enumerate(words) if word in SHELL), len(words))
    return words[1:cut]


@pytest.mark.parametrize("path", commands(), ids=lambda path: " ".join(path) or "infragen")
def test_every_command_shows_examples_of_itself(runner, path):
    result = runner.invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    shown = result.stdout.split("\nExamples:\n", 1)[1].splitlines()
    assert shown, f"infragen {' '.join(path)} has no example"
    assert all(line.strip().startswith(" ".join(("infragen", *path))) for line in shown), shown


def test_every_command_is_an_infragen_command():
    """Commands made with plain click would miss the global options and the examples."""
    for path in commands()[1:]:
        command: click.Command = main
        for name in path:
            command = command.commands[name]  # type: ignore[attr-defined]
        assert isinstance(command, Command | Group), path


@pytest.mark.parametrize("example", every_example())
def test_every_example_parses_and_names_what_the_inventory_has(example, monkeypatch):
    monkeypatch.chdir(ROOT)
    words = words_of(example)
    command: click.Command = main
    name = "infragen"
    while isinstance(command, click.Group) and words and words[0] in command.commands:
        name = words.pop(0)
        command = command.commands[name]
    with command.make_context(name, words) as ctx:  # a usage error fails the test
        for param in command.params:
            name = param.name or ""
            if name in ctx.params and ctx.get_parameter_source(name) == COMMAND_LINE:
                for value in _given(ctx.params[name]):
                    _assert_offered(ctx, param, value)


def _given(value: object) -> list[str]:
    if isinstance(value, tuple):
        return [str(v) for v in value]
    return [] if value is None or isinstance(value, bool) else [str(value)]


def _assert_offered(ctx: click.Context, param: click.Parameter, value: str) -> None:
    """Where the shell would offer names for `param`, the example's value is one of them."""
    offered = [item.value for item in param.shell_complete(ctx, "") if item.type == "plain"]
    if offered:
        matching = {item.value for item in param.shell_complete(ctx, value)}
        assert value in matching, f"{param.name}={value!r} is none of {offered}"
